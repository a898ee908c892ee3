"""SIGKILL after each stage's first checkpoint, then `synth resume`: the report equals an
uninterrupted run's, and no answer the run had received is asked for again."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest

from synth.domain.records import Report
from synth.domain.stages import Stage
from tests.fake_model import FakeModel
from tests.helpers import CORPUS, isolate, run_args, run_cli, transcript

pytestmark = pytest.mark.slow  # runs killed with SIGKILL in subprocesses

STAGES = [
    Stage.PLAN,
    Stage.EXTRACT,
    Stage.STANCE,
    Stage.VERIFY,
    Stage.FINDINGS,
    Stage.WRITE,
    Stage.REVIEW,
]


def outcome(report: Report) -> dict:
    """What must not change across an interruption (timings and ids of runs aside)."""
    return {
        "claims": [(c.text, c.label, c.confidence, c.evidence) for c in report.claims],
        "findings": [(f.statement, f.claim_ids, f.refs) for f in report.findings],
        "references": [r.id for r in report.references],
        "reviews": [(r.reviewer, r.round, r.overall) for r in report.reviews],
    }


def messages_key(messages: list[dict]) -> str:
    return json.dumps(messages, sort_keys=True)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> dict:
    """The uninterrupted run, once for every stage's test, isolated as every test is."""
    from synth.cli import main

    with pytest.MonkeyPatch.context() as monkeypatch:
        work = isolate(monkeypatch, tmp_path_factory.mktemp("baseline"))
        with FakeModel() as fake:
            assert main(run_args(CORPUS, fake, "--no-cache")) == 0
        run = next((work / "runs").iterdir())
        return outcome(Report.model_validate_json((run / "report.json").read_text()))


@pytest.mark.parametrize("stage", STAGES)
def test_sigkill_after_the_first_checkpoint_then_resume(
    capsys, corpus, fake, isolated, stage, baseline
):
    fake.delay = 0.15  # calls in flight when the kill comes are still waiting on the server
    process = subprocess.Popen(
        ["synth", *run_args(corpus, fake, "--no-cache")],
        cwd=isolated,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if list((isolated / "runs").glob(f"*/checkpoints/{stage}/*.json")):
            break
        time.sleep(0.02)
    assert process.poll() is None, f"the run ended before a {stage} checkpoint appeared"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    run = next((isolated / "runs").iterdir())
    received = {messages_key(e["messages"]) for e in transcript(run) if not e["cache_hit"]}
    asked_before = len(fake.requests)

    fake.delay = 0.0
    code, _, err = run_cli(capsys, "resume", str(run), "--no-cache")
    assert code == 0, err
    report = Report.model_validate_json((run / "report.json").read_text())
    assert outcome(report) == baseline
    # No answer the killed run had received was asked for again.
    asked_after = [messages_key(r["messages"]) for r in fake.requests[asked_before:]]
    assert not received & set(asked_after)
