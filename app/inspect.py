"""Commands that read finished runs and change nothing in them: runs, audit, diff, export and
replay (which writes only into the run's replay/ folder)."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

from synth.app import config
from synth.app.ui import out_console
from synth.domain.errors import BadInput
from synth.domain.records import Report
from synth.domain.settings import RunSettings
from synth.domain.stages import Stage
from synth.domain.text import plural
from synth.report import render
from synth.store.runs import RunFolder, write_atomic
from synth.store.transcript import read_transcript

EXPORTS = {
    "md": "report.md",
    "json": "report.json",
    "csv": "claims.csv",
    "bib": "references.bib",
    "html": "report.html",
    "pdf": "report.pdf",
    "sqlite": "run.sqlite",
}


def read_report(run: RunFolder) -> Report:
    from synth.pipeline.saved import SavedRun, UnreadableReport

    try:
        report = SavedRun(run).report()
    except UnreadableReport as error:
        raise BadInput(
            f"{error} is not a report this version of synth can read",
            "run the question again to make a new one",
        ) from None
    if report is None:
        raise BadInput(
            f"run {run.id} has no report yet", f"finish it first: synth resume {run.path}"
        )
    return report


def export(run_ref: str, runs_dir: str | None, fmt: str, output: str | None) -> int:
    from synth.pipeline.checkpoints import Passages
    from synth.report.html import to_html

    run = RunFolder.find(run_ref, config.runs_dir(runs_dir))
    if fmt == "sqlite":
        return export_database(run, output)
    report = read_report(run)
    text: str | bytes
    if fmt == "html":
        saved = run.load(Stage.LIBRARY, "passages", Passages)
        text = to_html(report, {p.id: p for p in saved.passages} if saved else {})
    elif fmt == "pdf":
        from synth.report.pdf import to_pdf

        text = to_pdf(report)
    else:
        text = render.outputs(report)[EXPORTS[fmt]]
    if output == "-":
        if isinstance(text, bytes):
            sys.stdout.buffer.write(text)
        else:
            sys.stdout.write(text)
        return 0
    target = Path(output) if output else run.path / EXPORTS[fmt]
    try:
        write_atomic(target, text)
    except OSError as error:
        raise BadInput(
            f"cannot write {target}: {error.strerror}", "pass -o with a writable path"
        ) from None
    print(f"wrote {target}")
    return 0


def export_database(run: RunFolder, output: str | None) -> int:
    """The run's records as SQLite tables; into a file that holds other runs, this run's
    rows are replaced and theirs kept."""
    from synth.pipeline.saved import SavedRun
    from synth.report.database import RunRecords, write_database

    if output == "-":
        raise BadInput(
            "an SQLite database cannot go to standard output", "pass -o with a file path"
        )
    saved = SavedRun(run)
    report = read_report(run) if (run.path / "report.json").exists() else None
    target = Path(output) if output else run.path / EXPORTS["sqlite"]
    records = RunRecords(
        run_id=run.id,
        record=saved.record(),
        lines=saved.lines(),
        report=report,
        passages=saved.passages(),
        papers=saved.papers(),
    )
    try:
        counted = write_database(target, records)
    except sqlite3.Error as error:
        raise BadInput(
            f"cannot write the database {target}: {error}",
            "pass -o with a new file, or an SQLite file synth wrote",
        ) from None
    shown = ", ".join(f"{plural(n, 'row')} in {t}" for t, n in counted.items() if n)
    print(f"wrote {target}: {shown}")
    if report is None:
        print("the run has no report yet: its claims, findings and reviews are not in it")
    return 0


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    from rich.table import Table

    shown = Table(title=title)
    for column in columns:
        shown.add_column(column, overflow="fold")
    for row in rows:
        shown.add_row(*("" if v is None else str(v) for v in row))
    out_console.print(shown)


def list_runs(runs_dir: str | None, as_json: bool) -> int:
    from synth.report.audit import run_history

    folder = config.runs_dir(runs_dir)
    history = run_history(folder)
    if as_json:
        print_json([r.model_dump() for r in history])
        return 0
    if not history:
        print(f"no runs in {folder}")
        return 0
    table(
        f"synth runs in {folder}",
        ["run", "question", "model", "status", "papers", "claims", "S/C/I", "tokens", "cost"],
        [
            [
                r.id,
                r.question,
                r.model,
                r.status,
                r.papers,
                r.claims,
                r.verdicts,
                r.tokens,
                None if r.cost_usd is None else f"${r.cost_usd:.4f}",
            ]
            for r in history
        ],
    )
    return 0


def audit_run(
    run_ref: str, runs_dir: str | None, call: int | None, claim: str | None, as_json: bool
) -> int:
    from synth.pipeline.checkpoints import Passages
    from synth.report.audit import audit, call_detail, call_text, claim_trail, trail_text

    run = RunFolder.find(run_ref, config.runs_dir(runs_dir))
    entries = read_transcript(run.transcript)
    if call is not None:
        try:
            detail = call_detail(entries, call)
        except IndexError as error:
            raise BadInput(f"no call {call} in {run.id}: {error}", "pick another --call") from None
        if as_json:
            print_json(detail)
        else:
            print(call_text(detail))
        return 0
    if claim is not None:
        report = read_report(run)
        saved = run.load(Stage.LIBRARY, "passages", Passages)
        try:
            trail = claim_trail(report, {p.id: p for p in saved.passages} if saved else {}, claim)
        except KeyError as error:
            raise BadInput(str(error.args[0]), "pick a claim id from the claims table") from None
        if as_json:
            print_json(trail.model_dump())
        else:
            print(trail_text(trail))
        return 0
    settings = RunSettings.model_validate(run.read_record().get("settings", {}))
    rows = audit(entries, settings.budget.prices)
    if as_json:
        print_json([r.model_dump() for r in rows])
        return 0
    table(
        f"synth audit {run.id} ({plural(len(entries), 'call')})",
        [
            "agent",
            "calls",
            "sent",
            "cache hits",
            "tokens in",
            "tokens out",
            "cost",
            "p50 s",
            "p95 s",
            "retries",
            "invalid",
            "re-asks",
            "dropped",
        ],
        [
            [
                r.agent,
                r.calls,
                r.sent,
                r.cache_hits,
                r.tokens_in,
                r.tokens_out,
                "unpriced" if r.cost_usd is None else f"${r.cost_usd:.4f}",
                r.latency_p50_s,
                r.latency_p95_s,
                r.retries,
                r.invalid,
                r.reasks,
                r.dropped,
            ]
            for r in rows
        ],
    )
    return 0


def diff_runs(run_a: str, run_b: str, runs_dir: str | None, as_json: bool) -> int:
    from synth.report.audit import diff_reports, diff_text

    folder = config.runs_dir(runs_dir)
    a, b = (read_report(RunFolder.find(r, folder)) for r in (run_a, run_b))
    changes = diff_reports(a, b)
    if as_json:
        print_json(changes.model_dump())
        return 0
    print(diff_text(a.run_id, b.run_id, changes))
    return 0


def replay(run_ref: str, runs_dir: str | None) -> int:
    from synth.app.replay import replay_run

    run = RunFolder.find(run_ref, config.runs_dir(runs_dir))
    folder, calls = replay_run(run)
    print(
        f"replay: {folder.path / 'report.md'} is byte-identical to the run's report "
        f"({plural(calls, 'model call')} answered from the transcript)"
    )
    return 0
