"""`synth export RUN --format sqlite`: a table per record kind, rows that match the run's
files, one file that gathers several runs, and what a run without a report still gives."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

from synth.domain.records import Report
from synth.domain.stages import Stage
from synth.report.call_index import stage_of
from synth.report.database import SCHEMA
from tests.helpers import only_run, run_args, run_cli, runs_in, transcript


def export(capsys, run: Path, target: Path) -> str:
    code, out, err = run_cli(capsys, "export", str(run), "--format", "sqlite", "-o", str(target))
    assert code == 0, err
    return out


def test_every_record_kind_is_a_table_whose_rows_match_the_run(capsys, recorded_runs, tmp_path):
    run = runs_in(recorded_runs)[0]
    target = tmp_path / "logs.sqlite"
    out = export(capsys, run, target)
    entries = transcript(run)
    report = Report.model_validate_json((run / "report.json").read_text())
    assert f"{len(entries)} rows in calls" in out
    db = sqlite3.connect(target)
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == set(SCHEMA)

    def one(sql: str, *args: object) -> object:
        return db.execute(sql, args).fetchone()[0]

    assert one("SELECT count(*) FROM calls") == len(entries)
    assert one("SELECT count(*) FROM messages") == sum(len(e["messages"]) for e in entries)
    assert one("SELECT count(*) FROM claims") == len(report.claims)
    assert one("SELECT count(*) FROM bibliography") == len(report.references)
    assert one("SELECT count(*) FROM findings") == len(report.findings)
    assert one("SELECT question FROM runs") == report.question
    # Queries an auditor would write: the re-asked verifier calls, a claim's judgements.
    reasked = db.execute(
        "SELECT call, item, error FROM calls WHERE agent = 'verifier' AND status = 're-asked'"
    ).fetchall()
    assert len(reasked) == 2 and all(error for _, _, error in reasked)
    assert {stage for (stage,) in db.execute("SELECT DISTINCT stage FROM calls")} <= {
        s.value for s in Stage
    }
    claim = report.claims[0]
    judged = db.execute(
        "SELECT passage_id, stance, evidence FROM judgements WHERE claim_id = ?", (claim.id,)
    ).fetchall()
    assert {p for p, _, _ in judged} == set(claim.judgements) | set(claim.evidence)
    messages = db.execute(
        "SELECT role, content FROM messages WHERE call = 1 ORDER BY position"
    ).fetchall()
    assert messages == [(m["role"], m["content"]) for m in entries[0]["messages"]]
    parsed = one("SELECT parsed FROM calls WHERE call = 1")
    assert json.loads(str(parsed)) == entries[0]["parsed"]


def test_one_file_gathers_runs_and_a_second_export_replaces_a_runs_rows(
    capsys, recorded_runs, tmp_path
):
    first, second = runs_in(recorded_runs)
    target = tmp_path / "logs.sqlite"
    export(capsys, first, target)
    export(capsys, second, target)
    export(capsys, first, target)  # again: no row twice
    db = sqlite3.connect(target)
    counted = dict(db.execute("SELECT run_id, count(*) FROM calls GROUP BY run_id").fetchall())
    assert counted == {first.name: len(transcript(first)), second.name: len(transcript(second))}


def test_a_run_without_a_report_still_exports_its_calls(capsys, recorded_runs, tmp_path):
    run = tmp_path / "runs" / "unfinished"
    shutil.copytree(runs_in(recorded_runs)[0], run)
    (run / "report.json").unlink()
    out = export(capsys, run, tmp_path / "u.sqlite")
    assert "the run has no report yet" in out
    db = sqlite3.connect(tmp_path / "u.sqlite")
    assert db.execute("SELECT count(*) FROM calls").fetchone()[0] == len(transcript(run))
    assert db.execute("SELECT count(*) FROM claims").fetchone()[0] == 0
    # Without -o the database goes into the run folder, as the other formats do.
    code, _, err = run_cli(capsys, "export", str(run), "--format", "sqlite")
    assert code == 0, err
    assert (run / "run.sqlite").is_file()


def test_sqlite_to_standard_output_or_onto_a_non_database_is_a_clear_error(
    capsys, recorded_runs, tmp_path
):
    run = runs_in(recorded_runs)[0]
    code, _, err = run_cli(capsys, "export", str(run), "--format", "sqlite", "-o", "-")
    assert code == 2 and "cannot go to standard output" in err
    text = tmp_path / "notes.txt"
    text.write_text("not a database, but my notes\n" * 100)
    code, _, err = run_cli(capsys, "export", str(run), "--format", "sqlite", "-o", str(text))
    assert code == 2 and f"cannot write the database {text}" in err
    assert text.read_text().startswith("not a database")  # left as it was
    assert len(err.strip().splitlines()) == 1


def test_every_call_records_the_stage_it_was_made_in(capsys, corpus, fake, isolated):
    code, _, err = run_cli(capsys, *run_args(corpus, fake))
    assert code == 0, err
    entries = transcript(only_run(isolated / "runs"))
    assert all(e["stage"] in {s.value for s in Stage} for e in entries)
    expected = {"planner": "plan", "extractor": "extract", "reviewer": "review"}
    for e in entries:
        if e["agent"] in expected:
            assert e["stage"] == expected[e["agent"]], e["item"]
        about_claim = "#" in e["item"].split("|", 1)[0]  # a provisional id: paper#003.1
        if e["agent"] == "verifier" and about_claim:
            reading = "|question" in e["item"] or "|read-" in e["item"]
            assert e["stage"] == ("stance" if reading else "verify")
    # The checks of the report's own statements come after the reviews, but are writing.
    checks = [e for e in entries if e["agent"] == "verifier" and "#" not in e["item"]]
    assert checks and {e["stage"] for e in checks} <= {"findings", "write"}
    # Transcripts written before lines carried a stage get the same from agent and item.
    for e in entries:
        inferred = stage_of({k: v for k, v in e.items() if k != "stage"})
        if e["agent"] != "writer" and e["stage"] not in ("findings", "write"):
            assert inferred == e["stage"], (e["agent"], e["item"])


def test_lines_that_are_no_calls_go_to_damaged_lines(capsys, recorded_runs, tmp_path):
    run = tmp_path / "runs" / "odd"
    shutil.copytree(runs_in(recorded_runs)[0], run)
    path = run / "transcript.jsonl"
    lines = path.read_text().splitlines()
    odd = '{"agent": "verifier", "messages": "not a list", "retries": "x"}'
    path.write_text("\n".join([lines[0], "{cut sho", odd, *lines[1:]]) + "\n")
    export(capsys, run, tmp_path / "odd.sqlite")
    db = sqlite3.connect(tmp_path / "odd.sqlite")
    damaged = db.execute("SELECT line, text FROM damaged_lines ORDER BY line").fetchall()
    assert [n for n, _ in damaged] == [2, 3]
    assert damaged[0][1] == "{cut sho" and json.loads(damaged[1][1])["retries"] == "x"
    assert db.execute("SELECT count(*) FROM calls").fetchone()[0] == len(lines)
