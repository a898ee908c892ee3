"""The offline defaults: embedded model server, weights check, embeddings, tokenizer."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path

import httpx
import pytest

from synth.domain.errors import BadInput, Unreachable
from synth.domain.records import Passage
from synth.model import local_model, tokens
from synth.model.endpoint import Endpoint
from synth.model.llm import Model
from synth.store.embeddings import MiniLM
from synth.store.library import Library
from synth.store.transcript import Recorder
from tests.helpers import ask


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory) -> Path:
    """The weights joined once for the whole test session."""
    folder = tmp_path_factory.mktemp("models")
    local_model.assemble(local_model.DEFAULT, folder)
    return folder


def test_weights_with_a_wrong_hash_are_refused_and_removed(tmp_path):
    weights = local_model.Weights("tiny", local_model.DEFAULT.packages, "0" * 64)
    (tmp_path / "tiny.gguf").write_bytes(b"GGUF not the pinned model")
    with pytest.raises(BadInput, match="sha256"):
        local_model.assemble(weights, tmp_path)
    assert not (tmp_path / "tiny.gguf").exists()


def test_missing_weight_packages_are_named():
    weights = local_model.Weights("x", ("no_such_weights_package",), "0" * 64)
    with pytest.raises(BadInput, match="no_such_weights_package"):
        weights.parts()


@pytest.mark.slow
def test_local_server_answers_with_schema_json_and_stops(models_dir):
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    server = local_model.LocalServer(models_dir=models_dir, ctx=2048, parallel=1)
    endpoint = server.start()
    try:
        assert endpoint.base_url.startswith("http://127.0.0.1:")
        # It picks a free port of its own, whatever else is listening.
        assert f":{busy.getsockname()[1]}/" not in endpoint.base_url
        assert endpoint.revision == local_model.DEFAULT.sha256
        schema = {
            "type": "object",
            "properties": {"word": {"type": "string", "maxLength": 20}},
            "required": ["word"],
        }
        response = httpx.post(
            f"{endpoint.base_url}/chat/completions",
            json={
                "model": endpoint.model,
                "max_tokens": 30,
                "temperature": 0,
                "messages": [{"role": "user", "content": "Give one word."}],
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": "w", "schema": schema},
                },
            },
            timeout=120,
        )
        assert response.status_code == 200
        assert isinstance(
            json.loads(response.json()["choices"][0]["message"]["content"])["word"], str
        )
        process = server._process
    finally:
        server.stop()
        busy.close()
    assert process is not None and process.poll() is not None


@pytest.mark.slow
def test_the_hidden_state_server_gives_the_last_token_state_the_probe_reads(models_dir, tmp_path):
    from synth.agents import judge

    server = local_model.LocalServer(models_dir=models_dir, ctx=2048, parallel=1, states=True)
    server.start()
    try:
        endpoint = Endpoint(server.address + "/v1", "m", states_url=server.address)
        model = Model(
            endpoint,
            recorder=Recorder(tmp_path / "t.jsonl"),
            cache=None,
            semaphore=asyncio.Semaphore(1),
        )
        asked = {"premise": "Warmup did not help.", "hypothesis": "Warmup helps."}

        async def both() -> list[list[float] | None]:
            return [
                await judge.entailment_state(model, item="a", **asked),
                await judge.entailment_state(
                    model, item="c", premise="Cats purr.", hypothesis="Dogs bark."
                ),
            ]

        state, other = asyncio.run(both())
    finally:
        server.stop()
    # The width of the shipped probe's input; another question, another state.
    assert state is not None and other is not None and len(state) == 1536
    assert state != other


@pytest.mark.slow
def test_a_server_that_dies_mid_run_is_exit_3(models_dir, tmp_path):
    server = local_model.LocalServer(models_dir=models_dir, ctx=2048, parallel=1)
    endpoint = server.start()
    assert server._process is not None
    server._process.kill()
    server._process.wait()
    model = Model(
        endpoint,
        recorder=Recorder(tmp_path / "t.jsonl"),
        cache=None,
        semaphore=asyncio.Semaphore(1),
        max_retries=1,
        retry_max_wait=0.01,
    )
    with pytest.raises(Unreachable) as error:
        ask(model)
    assert error.value.exit_code == 3
    server.stop()


def test_embeddings_are_offline_normalised_and_meaningful():
    embedder = MiniLM()
    a, b, c = embedder.embed(
        [
            "Learning-rate warmup prevents divergence.",
            "Warmup of the learning rate stops training from diverging.",
            "The recipe needs two eggs and flour.",
        ]
    )
    dot = lambda x, y: sum(i * j for i, j in zip(x, y, strict=True))  # noqa: E731
    assert abs(dot(a, a) - 1) < 1e-3
    assert dot(a, b) > dot(a, c) + 0.2


def test_embedding_weights_with_another_hash_are_refused(tmp_path):
    fake = tmp_path / "model.onnx"
    fake.write_bytes(b"not the model")
    with pytest.raises(BadInput, match="sha256"):
        MiniLM(model_path=fake).embed(["x"])


def test_a_library_built_with_other_weights_is_refused(tmp_path):
    class Other(MiniLM):
        sha256 = "f" * 64

    with Library(tmp_path / "lib", MiniLM()):
        pass
    other = Other()
    other.name = MiniLM.name
    with pytest.raises(BadInput, match="other embedding weights"):
        Library(tmp_path / "lib", other)


def test_the_library_embeds_a_passage_once_and_again_only_when_its_text_changed(tmp_path):
    def passage(text: str) -> Passage:
        return Passage(
            id="doi:10.1/x#001",
            paper_id="doi:10.1/x",
            section="S",
            text=text,
            char_start=0,
            char_end=len(text),
        )

    abstract = passage("Warmup was studied in an abstract that says little else at all.")
    full = passage("Learning-rate warmup prevented divergence in every small transformer run.")
    with Library(tmp_path / "lib", MiniLM()) as library:
        assert library.add([abstract]) == 1
        assert library.add([abstract]) == 0  # never embedded twice
        assert library.add([full]) == 1  # the full text replaces the abstract under its id
        hits = library.search("warmup prevented divergence", paper_ids=None, k=1)
    assert hits[0].text == full.text


def test_tiktoken_works_offline_from_the_shipped_encodings(tmp_path, monkeypatch):
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "tk"))
    tokens._encoding.cache_clear()
    # No network: any download attempt would fail the test.
    monkeypatch.setattr("tiktoken.load.read_file", lambda *_: pytest.fail("tried to download"))
    assert tokens.count_text("hello world", "gpt-4o-mini") == 2
    assert tokens.count_text("hello world") == 2
    tokens._encoding.cache_clear()


def test_tokenizer_falls_back_to_an_estimate(monkeypatch):
    tokens._encoding.cache_clear()
    monkeypatch.setattr(tokens, "_encoding", lambda name: None)
    assert tokens.count_text("x" * 40) == 40 // tokens.CHARS_PER_TOKEN
