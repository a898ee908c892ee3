"""Bad input: one clear line, the right exit code, no traceback, no run folder."""

from __future__ import annotations

import json
import socket

import pytest

from tests.conftest import QUESTION, only_run, run_cli


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "", "--corpus", "{corpus}", "--base-url", "http://127.0.0.1:1/v1"], "empty"),
        (["run", "   ", "--corpus", "{corpus}", "--base-url", "http://127.0.0.1:1/v1"], "empty"),
        (
            ["run", "x" * 2500, "--corpus", "{corpus}", "--base-url", "http://127.0.0.1:1/v1"],
            "2500 characters",
        ),
        (["run", QUESTION, "--corpus", "{corpus}", "--base-url", "not a url"], "not an http"),
        (["run", QUESTION, "--corpus", "{corpus}", "--base-url", "ftp://host/v1"], "not an http"),
        (["run", QUESTION, "--corpus", "{corpus}", "--base-url", "http://h:port/v1"], "bad port"),
        (
            ["run", QUESTION, "--corpus", "{missing}", "--base-url", "http://127.0.0.1:1/v1"],
            "does not exist",
        ),
        (
            ["run", QUESTION, "--corpus", "{empty}", "--base-url", "http://127.0.0.1:1/v1"],
            "no readable paper",
        ),
        (["run", QUESTION, "--sources", "local"], "no folder"),
        (["run", QUESTION, "--offline"], "--offline refuses the online sources"),
        (["run", QUESTION, "--corpus", "{corpus}", "--sources", "arxiv"], "--corpus is read"),
        (["run", QUESTION, "--since", "2023", "--until", "2020"], "since 2023 is after"),
        (["run", QUESTION, "--since", "last year"], "is not a year"),
        (["run", QUESTION, "--max-papers", "0"], "max_papers"),
        (["run", QUESTION, "--arxiv-category", "cs LG!"], "not an arXiv category"),
        (["ingest", "no such words", "--sources", "local"], "no online source"),
        (["run", QUESTION, "--corpus", "{corpus}", "--sources", "gopher"], "unknown source"),
        (["run", QUESTION, "--corpus", "{corpus}", "--agent-model", "nobody=x"], "AGENT=NAME"),
        (["run", QUESTION, "--corpus", "{corpus}", "--concurrency", "0"], "concurrency"),
        (["run", QUESTION, "--corpus", "{corpus}", "--model", "gpt-4o", "--offline"], "--offline"),
        (["run"], "required"),
        (["resume", "no-such-run"], "no run found"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_no_run_folder(
    capsys, corpus, tmp_path, isolated, args, message
):
    (tmp_path / "empty").mkdir()
    filled = [
        a.format(corpus=corpus, missing=tmp_path / "nope", empty=tmp_path / "empty") for a in args
    ]
    code, out, err = run_cli(capsys, *filled)
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("synth: "), err
    assert message in err
    assert "Traceback" not in err + out
    assert not (isolated / "runs").exists()


def test_unreachable_server_is_exit_3_and_leaves_a_resumable_run(capsys, corpus, isolated):
    url = f"http://127.0.0.1:{_free_port()}/v1"
    code, _, err = run_cli(
        capsys, "run", QUESTION, "--corpus", str(corpus), "--base-url", url, "--model", "m"
    )
    assert code == 3
    lines = [line for line in err.splitlines() if line.startswith("synth:")]
    assert len(lines) == 1 and "did not answer" in lines[0] and "synth resume" in lines[0]
    assert "Traceback" not in err
    run = only_run(isolated / "runs")
    record = json.loads((run / "run.json").read_text())
    assert record["status"] == "failed" and record["question"] == QUESTION
    assert (run / "checkpoints").is_dir()


def test_models_detects_each_endpoints_capabilities(capsys, isolated, monkeypatch):
    from tests.fake_model import FakeModel

    monkeypatch.setenv("COLUMNS", "200")
    with FakeModel(models=("m",)) as strict, FakeModel(json_schema=False) as plain:
        code, out, err = run_cli(capsys, "models", "--base-url", strict.url, "--model", "m")
        assert code == 0, err
        assert "model listed" in out and "JSON schema" in out and "free" in out
        code, out, err = run_cli(capsys, "models", "--base-url", plain.url, "--model", "m")
        assert code == 0, err
        assert "model NOT listed" in out and "JSON mode only" in out
    code, out, _ = run_cli(capsys, "models", "--base-url", "http://127.0.0.1:1/v1", "--model", "m")
    assert code == 0 and "unreachable" in out
