"""Embeddings from an OpenAI-compatible /v1/embeddings endpoint: batching, order, shape checks
and retries (respx), then ingest and a run through the CLI against a fake server."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from synth.domain.errors import BadInput, Unreachable
from synth.store.remote_embeddings import RemoteEmbedder
from tests.helpers import CORPUS, only_run, run_args, run_cli

URL = "http://embed.test/v1"


def answer(texts: list[str], dims: int = 3, order: str = "reversed") -> httpx.Response:
    data = [
        {"index": i, "embedding": [float(len(t))] + [0.5] * (dims - 1)} for i, t in enumerate(texts)
    ]
    return httpx.Response(200, json={"data": data[::-1] if order == "reversed" else data})


def embedder(**kw) -> RemoteEmbedder:
    return RemoteEmbedder(URL, "e5", retry_max_wait=0.01, **kw)


@respx.mock
def test_batches_in_order_with_the_model_named():
    seen: list[dict] = []

    def reply(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append(body)
        return answer(body["input"])

    respx.post(f"{URL}/embeddings").mock(side_effect=reply)
    texts = ["a", "bb", "ccc", "dddd", "eeeee"]
    vectors = embedder(batch_size=2).embed(texts)
    assert [len(b["input"]) for b in seen] == [2, 2, 1]
    assert {b["model"] for b in seen} == {"e5"}
    assert [v[0] for v in vectors] == [1.0, 2.0, 3.0, 4.0, 5.0]


@respx.mock
def test_a_429_is_retried_after_its_retry_after():
    route = respx.post(f"{URL}/embeddings")
    route.side_effect = [
        httpx.Response(429, headers={"Retry-After": "0"}),
        answer(["x"]),
    ]
    assert embedder().embed(["x"]) == [[1.0, 0.5, 0.5]]
    assert route.call_count == 2


@respx.mock
def test_a_vector_of_another_dimension_is_refused():
    respx.post(f"{URL}/embeddings").mock(side_effect=[answer(["a"], dims=3), answer(["b"], dims=4)])
    client = embedder(batch_size=1)
    with pytest.raises(Unreachable, match="4 dimensions, not 3"):
        client.embed(["a", "b"])


@respx.mock
def test_too_few_vectors_and_non_json_are_errors():
    respx.post(f"{URL}/embeddings").mock(return_value=answer(["a"]))
    with pytest.raises(Unreachable, match="returned 1 vectors for 2 texts"):
        embedder().embed(["a", "b"])
    respx.post(f"{URL}/embeddings").mock(return_value=httpx.Response(200, text="<html>"))
    with pytest.raises(Unreachable, match="other than JSON"):
        embedder().embed(["a"])


@respx.mock
def test_a_refused_key_or_model_is_bad_input():
    respx.post(f"{URL}/embeddings").mock(return_value=httpx.Response(401))
    with pytest.raises(BadInput, match="refused the key"):
        embedder(api_key="k").embed(["a"])
    respx.post(f"{URL}/embeddings").mock(return_value=httpx.Response(404))
    with pytest.raises(BadInput, match="refused e5"):
        embedder().embed(["a"])


def test_ingest_and_run_with_remote_embeddings(capsys, fake, isolated, corpus):
    flags = ["--embeddings", fake.url, "--embedding-model", "bag-of-words"]
    code, out, err = run_cli(capsys, "ingest", str(CORPUS), *flags)
    assert code == 0, err
    assert "7 new passages embedded" in " ".join(out.split())
    sent = fake.embedded
    assert sent >= 7
    code, _, err = run_cli(capsys, *run_args(corpus, fake, *flags))
    assert code == 0, err
    run = only_run(isolated / "runs")
    report = json.loads((run / "report.json").read_text())
    assert report["stats"]["claims"] > 0 and report["references"]
    settings = json.loads((run / "run.json").read_text())["settings"]
    assert settings["embeddings"] == fake.url and settings["embedding_model"] == "bag-of-words"
    # The passages were embedded by the ingest; the run embedded only its queries and claims.
    assert fake.embedded > sent
    code, _, err = run_cli(capsys, "replay", str(run))
    assert code == 0, err


def test_embeddings_without_a_model_name_is_refused(capsys, isolated, corpus):
    code, _, err = run_cli(capsys, "ingest", str(CORPUS), "--embeddings", URL)
    assert code == 2
    assert "embedding_model" in err and "Traceback" not in err
