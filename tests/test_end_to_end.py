"""`synth run` through the CLI against the fake model server, asserting on every output."""

from __future__ import annotations

import csv
import json
import re

import pytest

from synth.domain.records import Report
from synth.domain.stages import Stage
from synth.store.chunking import locate_quote
from synth.store.embeddings import MiniLM
from synth.store.library import Library
from tests.fake_model import FakeModel
from tests.helpers import QUESTION, only_run, run_args, run_cli, transcript

SECRET = "sk-test-do-not-leak-0123456789"


def test_run_writes_a_complete_cited_report(capsys, corpus, fake, monkeypatch, isolated):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    code, out, err = run_cli(capsys, *run_args(corpus, fake))
    assert code == 0, err
    run = only_run(isolated / "runs")
    for name in (
        "run.json",
        "report.md",
        "report.json",
        "claims.csv",
        "references.bib",
        "transcript.jsonl",
    ):
        assert (run / name).is_file(), name
    assert (run / "checkpoints" / "extract").is_dir()
    # One vocabulary of stages: every checkpoint folder and every timing is a Stage.
    stages = {stage.value for stage in Stage}
    assert {p.name for p in (run / "checkpoints").iterdir()} <= stages
    assert set(json.loads((run / "run.json").read_text())["timings"]) <= stages

    report = Report.model_validate_json((run / "report.json").read_text())
    markdown = (run / "report.md").read_text()
    # The question in full, in both renderings.
    assert report.question == QUESTION
    assert f"**Research question:** {QUESTION}" in markdown

    # Counts equal the checkpoints.
    verified = list((run / "checkpoints" / "verify").glob("*.json"))
    kept = [json.loads(p.read_text()) for p in verified]
    assert report.stats.claims == len([v for v in kept if v["verdict"]]) == len(report.claims)
    assert report.stats.papers_included == 4
    assert report.stats.papers_cited == len(report.references)
    assert {c.label.value for c in report.claims} >= {"SUPPORTED", "CONTRADICTED"}

    # Every [n] in the markdown resolves; references are numbered by first citation.
    cited = {
        int(n) for group in re.findall(r"\[(\d+(?:, \d+)*)\]", markdown) for n in group.split(", ")
    }
    assert cited == {r.n for r in report.references}
    first = [r for f in report.findings for r in f.refs]
    assert first[0] == 1

    # Every claim's quote is located in its stored passage.
    passages = json.loads((run / "checkpoints" / "library" / "passages.json").read_text())
    texts = {p["id"]: p["text"] for p in passages["passages"]}
    for claim in report.claims:
        assert claim.quote_found and locate_quote(claim.quote, texts[claim.passage_id])
    # No meta-claim reached the report (the corpus has one: "The paper presents a table …").
    assert not any("table" in c.text.lower() for c in report.claims)
    assert all(line.startswith("pass") for line in report.lint), report.lint

    # claims.csv mirrors report.json.
    rows = list(csv.DictReader((run / "claims.csv").open()))
    assert [r["id"] for r in rows] == [c.id for c in report.claims]
    assert {r["quote_found"] for r in rows} == {"true"}

    # Transcript: one line per attempt, no key anywhere in the run folder.
    lines = transcript(run)
    # Every line sent reached the server; a question asked twice in the run (a check after a
    # revision that left its sentence as it was) is answered once and recorded as reused.
    assert len([e for e in lines if not e.get("reused")]) == sum(fake.calls.values())
    assert {"planner", "extractor", "verifier", "writer", "reviewer"} <= {e["agent"] for e in lines}
    # The papers are the user's own: the planner is asked for sub-questions, not searches.
    (plan,) = [e for e in lines if e["agent"] == "planner"]
    assert (
        plan["schema"] == "SubQuestionsDraft"
        and "no search queries" in plan["messages"][1]["content"]
    )
    for path in run.rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_text(errors="ignore"), path
    sent = [{k.lower(): v for k, v in h.items()} for h in fake.headers]
    assert all(h.get("authorization") == f"Bearer {SECRET}" for h in sent), sent[0]

    # The library holds the passages, retrievable by meaning.
    with Library(isolated.parent / "home" / "data" / "library", MiniLM()) as library:
        hits = library.search("warmup divergence", paper_ids=None, k=3)
    assert hits and all(h.passage_id in texts for h in hits)

    # The one-screen summary names the report.
    assert "report.md" in out and "supported" in out


def test_identical_rerun_is_served_from_the_cache(capsys, corpus, fake, isolated):
    args = run_args(corpus, fake)
    assert run_cli(capsys, *args)[0] == 0
    first_calls = sum(fake.calls.values())
    assert run_cli(capsys, *args)[0] == 0
    assert sum(fake.calls.values()) == first_calls
    runs = sorted(p for p in (isolated / "runs").iterdir())
    second = Report.model_validate_json((runs[-1] / "report.json").read_text())
    assert second.stats.calls == 0 and second.stats.tokens_in == 0
    assert all(e["cache_hit"] for e in transcript(runs[-1]))


def test_resume_after_failure_repeats_no_successful_call(capsys, corpus, fake, isolated):
    fake.faults.fail_always["writer"] = 503
    code, _, err = run_cli(capsys, *run_args(corpus, fake, "--no-cache"))
    assert code == 3
    assert "synth resume" in err and "Traceback" not in err
    run = only_run(isolated / "runs")
    assert json.loads((run / "run.json").read_text())["status"] == "failed"
    before = dict(fake.calls)
    assert before["extractor"] > 0 and before["verifier"] > 0 and before.get("writer", 0) == 0

    fake.faults.fail_always.clear()
    code, _, err = run_cli(capsys, "resume", str(run))
    assert code == 0, err
    assert fake.calls["extractor"] == before["extractor"]
    assert fake.calls["planner"] == before["planner"] == 1
    assert fake.calls["writer"] > 0
    assert json.loads((run / "run.json").read_text())["status"] == "complete"
    assert (run / "report.md").is_file()


def test_references_bib_has_one_entry_per_reference(capsys, corpus, fake, isolated):
    assert run_cli(capsys, *run_args(corpus, fake))[0] == 0
    run = only_run(isolated / "runs")
    report = Report.model_validate_json((run / "report.json").read_text())
    bib = (run / "references.bib").read_text()
    assert bib.count("@") == len(report.references)
    for ref in report.references:
        assert ref.title.split()[0] in bib


@pytest.mark.slow
def test_installed_console_script_runs(corpus, fake, isolated):
    import subprocess

    result = subprocess.run(
        ["synth", *run_args(corpus, fake)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=isolated,
    )
    assert result.returncode == 0, result.stderr
    assert (only_run(isolated / "runs") / "report.md").is_file()


@pytest.mark.slow
def test_ctrl_c_exits_130_and_the_run_resumes_without_repeating_calls(
    capsys, corpus, fake, isolated
):
    import signal
    import subprocess
    import time

    fake.delay = 0.4
    process = subprocess.Popen(
        ["synth", *run_args(corpus, fake, "--no-cache", "--concurrency", "1")],
        cwd=isolated,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A shell that starts jobs in the background (`cmd &`) makes them ignore SIGINT, and
        # the child would inherit that: give it the default, as a terminal would.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 120
    extract = None
    while time.monotonic() < deadline:
        found = list((isolated / "runs").glob("*/checkpoints/extract/*.json"))
        if found:
            extract = found[0].parent
            break
        time.sleep(0.05)
    assert extract is not None, "no extraction checkpoint appeared"
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "synth resume" in err and "Traceback" not in err
    run = extract.parent.parent
    assert json.loads((run / "run.json").read_text())["status"] == "interrupted"
    done = len(list(extract.glob("*.json")))
    selected = len(
        json.loads((run / "checkpoints/select/selection.json").read_text())["passage_ids"]
    )

    time.sleep(fake.delay + 0.3)  # calls in flight at the interrupt finish on the server first
    fake.delay = 0.0
    before = fake.calls["extractor"]
    code, _, err = run_cli(capsys, "resume", run.name)
    assert code == 0, err
    assert fake.calls["extractor"] - before == selected - done
    assert fake.calls["planner"] == 1


def test_a_server_with_json_mode_only_is_detected_and_used(capsys, corpus, isolated):

    with FakeModel(json_schema=False) as plain:
        code, _, err = run_cli(capsys, *run_args(corpus, plain, "--no-cache"))
        assert code == 0, err
    # Refused once (the planner's first call), then JSON mode for every agent.
    assert plain.refused == 1
    run = only_run(isolated / "runs")
    report = Report.model_validate_json((run / "report.json").read_text())
    assert report.claims and all(line.startswith("pass") for line in report.lint)
    endpoints = json.loads((run / "run.json").read_text())["endpoints"]
    assert {e["dialect"] for e in endpoints.values()} == {"json_object"}
    # Every structured call carries the schema in its system prompt; the judge's one-word
    # questions have none.
    structured = [e for e in transcript(run) if e["dialect"] != "choice"]
    assert all("JSON schema" in e["messages"][0]["content"] for e in structured)
    # The replay asks in JSON mode too, and matches.
    code, _, err = run_cli(capsys, "replay", str(run))
    assert code == 0, err
