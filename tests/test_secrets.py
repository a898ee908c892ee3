"""Planted secrets never reach a file synth writes: run folder, library, paper store, caches."""

from __future__ import annotations

from tests.fake_model import FakeModel
from tests.fake_sources import FakeSources
from tests.helpers import QUESTION, only_run, run_cli

MODEL_KEY = "sk-planted-model-key-7f3a9c"
OPENALEX_KEY = "oa-planted-source-key-51d2"
S2_KEY = "s2-planted-source-key-88e0"
URL_PASSWORD = "planted-url-password-c0ffee"


def test_no_planted_secret_reaches_any_file(
    capsys, corpus, fake: FakeModel, sources: FakeSources, isolated, monkeypatch
):
    monkeypatch.setenv("OPENAI_API_KEY", MODEL_KEY)
    monkeypatch.setenv("OPENALEX_API_KEY", OPENALEX_KEY)
    monkeypatch.setenv("S2_API_KEY", S2_KEY)
    url = fake.url.replace("http://", f"http://synth-user:{URL_PASSWORD}@")
    args = ["run", QUESTION, "--corpus", str(corpus), "--sources", "local,arxiv,openalex,s2"]
    code, out, err = run_cli(capsys, *args, "--base-url", url, "--model", "m")
    assert code == 0, err
    run = only_run(isolated / "runs")
    for verb in (
        ["audit", str(run)],
        ["export", str(run), "--format", "html"],
        ["replay", str(run)],
    ):
        more = run_cli(capsys, *verb)
        assert more[0] == 0, more[2]
        out, err = out + more[1], err + more[2]

    secrets = [MODEL_KEY, OPENALEX_KEY, S2_KEY, URL_PASSWORD]
    written = [p for p in isolated.parent.rglob("*") if p.is_file() and "corpus" not in p.parts]
    assert any(p.name == "transcript.jsonl" for p in written)
    assert any(p.name == "http.sqlite3" for p in written)
    assert any(p.name == "chroma.sqlite3" for p in written)
    for path in written:
        data = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in data, f"{secret} in {path}"
    for secret in secrets:
        assert secret not in out + err
    # The keys did go where they belong.
    assert all(
        r.headers.get("x-api-key") == S2_KEY for r in sources.requests("api.semanticscholar.org")
    )


EMBEDDINGS_KEY = "emb-planted-key-4411"


def test_the_embeddings_key_reaches_the_server_and_no_file(
    capsys, corpus, fake: FakeModel, isolated, monkeypatch
):
    monkeypatch.setenv("SYNTH_EMBEDDINGS_API_KEY", EMBEDDINGS_KEY)
    args = ["run", QUESTION, "--corpus", str(corpus), "--base-url", fake.url, "--model", "m"]
    code, out, err = run_cli(capsys, *args, "--embeddings", fake.url, "--embedding-model", "e")
    assert code == 0, err
    written = [p for p in isolated.parent.rglob("*") if p.is_file() and "corpus" not in p.parts]
    for path in written:
        data = path.read_bytes()
        assert EMBEDDINGS_KEY.encode() not in data, path
    assert EMBEDDINGS_KEY not in out + err
    sent = [h for h in fake.headers if h.get("Authorization") == f"Bearer {EMBEDDINGS_KEY}"]
    assert sent, "the key was not sent with the embeddings requests"


def test_an_embeddings_url_keeps_no_password_in_run_json():
    from synth.app.config import settings_record
    from synth.domain.settings import RunSettings

    url = f"http://user:{URL_PASSWORD}@gpu.example:8080/v1"
    record = settings_record(RunSettings(embeddings=url, embedding_model="e"))
    assert URL_PASSWORD not in str(record) and record["embeddings"].startswith("http://")
