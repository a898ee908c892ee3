"""`synth replay`: a finished run again from its transcript, with no model server."""

from __future__ import annotations

import json
from pathlib import Path

from tests.fake_model import FakeModel
from tests.helpers import QUESTION, online_args, only_run, run_args, run_cli


def finished_run(capsys, args: list[str], runs: Path) -> Path:
    code, _, err = run_cli(capsys, *args)
    assert code == 0, err
    return only_run(runs)


def rewrite_transcript(run: Path, change) -> None:
    path = run / "transcript.jsonl"
    entries = [json.loads(line) for line in path.read_text().splitlines()]
    path.write_text("".join(json.dumps(e) + "\n" for e in change(entries)))


def test_replay_needs_no_server_and_matches_byte_for_byte(capsys, corpus, isolated):
    with FakeModel() as fake:
        run = finished_run(capsys, run_args(corpus, fake, "--no-cache"), isolated / "runs")
    # The server is gone now: every answer must come from the transcript.
    code, out, err = run_cli(capsys, "replay", run.name)
    assert code == 0, err
    replayed = run / "replay" / "report.md"
    assert replayed.read_bytes() == (run / "report.md").read_bytes()
    for name in ("report.json", "claims.csv", "references.bib"):
        assert (run / "replay" / name).read_bytes() == (run / name).read_bytes(), name
    assert "byte-identical" in out
    replay_lines = (run / "replay" / "transcript.jsonl").read_text().splitlines()
    assert replay_lines and all(json.loads(line)["replayed"] for line in replay_lines)


def test_replay_of_an_online_run_uses_its_papers(capsys, fake, sources, isolated):
    run = finished_run(capsys, online_args(fake, "--no-cache"), isolated / "runs")
    before = len(sources.router.calls)
    code, _, err = run_cli(capsys, "replay", str(run))
    assert code == 0, err
    assert len(sources.router.calls) == before  # nothing searched or fetched again


def test_an_altered_answer_is_found(capsys, corpus, fake, isolated):
    run = finished_run(capsys, run_args(corpus, fake, "--no-cache"), isolated / "runs")

    def alter(entries):
        # The last review feeds no later call, so only the report can show the change.
        last = next(e for e in reversed(entries) if e["agent"] == "reviewer" and e["parsed"])
        answer = json.loads(last["raw"])
        first = next(iter(answer["scores"]))
        answer["scores"][first]["justification"] = "An altered justification never given."
        last["raw"] = json.dumps(answer)
        return entries

    rewrite_transcript(run, alter)
    code, _, err = run_cli(capsys, "replay", str(run))
    assert code == 1
    line = err.strip().splitlines()[-1]
    assert "report.md differs from the run's at line" in line and "Traceback" not in err


def test_a_missing_call_is_named(capsys, corpus, fake, isolated):
    run = finished_run(capsys, run_args(corpus, fake, "--no-cache"), isolated / "runs")
    dropped = {}

    def drop(entries):
        victim = next(e for e in entries if e["agent"] == "verifier")
        dropped.update(victim)
        return [e for e in entries if e is not victim]

    rewrite_transcript(run, drop)
    code, _, err = run_cli(capsys, "replay", str(run))
    assert code == 1
    assert f"the verifier call for {dropped['item']}" in err
    assert dropped["request_hash"][:12] in err and "is not in the transcript" in err


def test_an_added_call_is_named(capsys, corpus, fake, isolated):
    run = finished_run(capsys, run_args(corpus, fake, "--no-cache"), isolated / "runs")

    def add(entries):
        extra = dict(entries[0], request_hash="f" * 64, item="an-invented-item")
        return [*entries, extra]

    rewrite_transcript(run, add)
    code, _, err = run_cli(capsys, "replay", str(run))
    assert code == 1 and "an-invented-item" in err and "never asked for" in err


def test_an_unfinished_run_cannot_be_replayed(capsys, corpus, fake, isolated):
    fake.faults.fail_always["writer"] = 503
    code, _, _ = run_cli(capsys, *run_args(corpus, fake, "--no-cache"))
    assert code == 3
    run = only_run(isolated / "runs")
    code, _, err = run_cli(capsys, "replay", str(run))
    assert code == 2 and "is not complete" in err and f"synth resume {run}" in err
    assert QUESTION  # the run folder stays for resume
