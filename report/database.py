"""A run as an SQLite database, one table per kind of record, so `sqlite3` or Datasette can
query every call: runs, calls, messages, damaged transcript lines, papers, passages, claims,
judgements, findings, reviews with their scores, and the bibliography.

Every table carries `run_id`, so one file can gather many runs: exporting a run into a file
that already holds it replaces that run's rows and leaves the others alone.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synth.domain.records import Paper, Passage, Report
from synth.report.call_index import index
from synth.store.transcript import Line

SCHEMA = {
    "runs": "run_id TEXT PRIMARY KEY, question TEXT, created TEXT, status TEXT, error TEXT, "
    "model TEXT, settings JSON, endpoints JSON, timings JSON, warnings JSON",
    "calls": "run_id TEXT, call INTEGER, line INTEGER, agent TEXT, stage TEXT, item TEXT, "
    "attempt INTEGER, status TEXT, model TEXT, prompt TEXT, prompt_hash TEXT, "
    "request_hash TEXT, schema TEXT, dialect TEXT, cache_hit INTEGER, finish_reason TEXT, "
    "error TEXT, raw TEXT, parsed JSON, params JSON, tokens_estimate INTEGER, "
    "tokens_in INTEGER, tokens_out INTEGER, latency_s REAL, retries INTEGER, started REAL, "
    "PRIMARY KEY (run_id, call)",
    "messages": "run_id TEXT, call INTEGER, position INTEGER, role TEXT, content TEXT, "
    "PRIMARY KEY (run_id, call, position)",
    "damaged_lines": "run_id TEXT, line INTEGER, text TEXT, PRIMARY KEY (run_id, line)",
    "papers": "run_id TEXT, paper_id TEXT, ref INTEGER, title TEXT, authors JSON, year INTEGER, "
    "venue TEXT, url TEXT, doi TEXT, arxiv_id TEXT, source TEXT, full_text_available INTEGER, "
    "PRIMARY KEY (run_id, paper_id)",
    "passages": "run_id TEXT, passage_id TEXT, paper_id TEXT, section TEXT, char_start INTEGER, "
    "char_end INTEGER, text TEXT, PRIMARY KEY (run_id, passage_id)",
    "claims": "run_id TEXT, claim_id TEXT, ref INTEGER, paper_id TEXT, passage_id TEXT, "
    "text TEXT, quote TEXT, quote_found INTEGER, kind TEXT, label TEXT, confidence REAL, "
    "rationale TEXT, PRIMARY KEY (run_id, claim_id)",
    "judgements": "run_id TEXT, claim_id TEXT, passage_id TEXT, stance TEXT, "
    "evidence INTEGER, PRIMARY KEY (run_id, claim_id, passage_id)",
    "findings": "run_id TEXT, finding INTEGER, statement TEXT, strength TEXT, answer TEXT, "
    "PRIMARY KEY (run_id, finding)",
    "finding_claims": "run_id TEXT, finding INTEGER, claim_id TEXT, side TEXT, "
    "PRIMARY KEY (run_id, finding, claim_id)",
    "reviews": "run_id TEXT, review INTEGER, reviewer TEXT, round INTEGER, overall REAL, "
    "counted INTEGER, PRIMARY KEY (run_id, review)",
    "scores": "run_id TEXT, review INTEGER, criterion TEXT, score REAL, justification TEXT, "
    "PRIMARY KEY (run_id, review, criterion)",
    "bibliography": "run_id TEXT, n INTEGER, paper_id TEXT, title TEXT, authors JSON, "
    "year INTEGER, venue TEXT, url TEXT, doi TEXT, arxiv_id TEXT, PRIMARY KEY (run_id, n)",
}


@dataclass
class RunRecords:
    """What a run folder holds, read by the caller; the report is None for an unfinished run."""

    run_id: str
    record: dict[str, Any]
    lines: Sequence[Line]
    report: Report | None = None
    passages: Sequence[Passage] = ()
    papers: Sequence[Paper] = ()


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def rows_of(run: RunRecords) -> dict[str, list[tuple[Any, ...]]]:
    """Each table's rows for this run, in the columns' order."""
    rid, record = run.run_id, run.record
    settings = record.get("settings") or {}
    rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name in SCHEMA}
    rows["runs"].append(
        (
            rid,
            record.get("question"),
            record.get("created"),
            record.get("status"),
            record.get("error"),
            settings.get("model"),
            _json(settings),
            _json(record.get("endpoints")),
            _json(record.get("timings")),
            _json(record.get("warnings")),
        )
    )
    for line, row in zip(run.lines, index(run.lines), strict=True):
        if line.entry is None or row.damaged:
            text = line.text if line.entry is None else _json(line.entry)
            rows["damaged_lines"].append((rid, line.line, text))
            continue
        e = line.entry
        rows["calls"].append(
            (
                rid,
                line.call,
                line.line,
                row.agent,
                row.stage,
                row.item,
                row.attempt,
                row.status,
                row.model,
                e.get("prompt"),
                e.get("prompt_hash"),
                e.get("request_hash"),
                e.get("schema"),
                e.get("dialect"),
                int(bool(e.get("cache_hit"))),
                e.get("finish_reason"),
                row.error or None,
                e.get("raw"),
                _json(e.get("parsed")),
                _json(e.get("params")),
                e.get("tokens_estimate"),
                row.tokens_in,
                row.tokens_out,
                row.latency_s,
                row.retries,
                e.get("started"),
            )
        )
        for position, message in enumerate(e.get("messages") or []):
            content = message.get("content")
            text = content if isinstance(content, str) else _json(content)
            rows["messages"].append((rid, line.call, position, message.get("role"), text))
    rows["passages"] = [
        (rid, p.id, p.paper_id, p.section, p.char_start, p.char_end, p.text) for p in run.passages
    ]
    report = run.report
    refs = {r.id: r.n for r in report.references} if report else {}
    rows["papers"] = [
        (
            rid,
            p.id,
            refs.get(p.id),
            p.title,
            _json(p.authors),
            p.year,
            p.venue,
            p.url,
            p.doi,
            p.arxiv_id,
            p.source,
            int(p.full_text_available),
        )
        for p in run.papers
    ]
    if report is not None:
        _report_rows(rid, report, rows)
    return rows


def _report_rows(rid: str, report: Report, rows: dict[str, list[tuple[Any, ...]]]) -> None:
    for c in report.claims:
        rows["claims"].append(
            (
                rid,
                c.id,
                c.ref,
                c.paper_id,
                c.passage_id,
                c.text,
                c.quote,
                int(c.quote_found),
                c.kind,
                c.label.value,
                c.confidence,
                c.rationale,
            )
        )
        rows["judgements"] += [
            (rid, c.id, pid, stance or None, int(pid in c.evidence))
            for pid, stance in sorted(c.judged().items())
        ]
    for n, f in enumerate(report.findings, start=1):
        rows["findings"].append((rid, n, f.statement, f.strength, f.answer))
        sides = {cid: "for" for cid in f.claim_ids}
        sides |= {cid: "against" for cid in f.against_claim_ids}
        rows["finding_claims"] += [(rid, n, cid, side) for cid, side in sides.items()]
    for n, review in enumerate(report.reviews, start=1):
        rows["reviews"].append(
            (rid, n, review.reviewer, review.round, review.overall, int(review.counted))
        )
        rows["scores"] += [
            (rid, n, criterion, s.score, s.justification) for criterion, s in review.scores.items()
        ]
    rows["bibliography"] = [
        (rid, r.n, r.id, r.title, _json(r.authors), r.year, r.venue, r.url, r.doi, r.arxiv_id)
        for r in report.references
    ]
    if not rows["papers"]:  # a run folder without its corpus checkpoint: the cited papers
        rows["papers"] = [
            (
                rid,
                r.id,
                r.n,
                r.title,
                _json(r.authors),
                r.year,
                r.venue,
                r.url,
                r.doi,
                r.arxiv_id,
                None,
                int(r.full_text_available),
            )
            for r in report.references
        ]


def write_database(path: Path, run: RunRecords) -> dict[str, int]:
    """Put the run into the database at `path` (created if absent) in one transaction,
    replacing rows an earlier export of the same run left; returns the rows per table."""
    rows = rows_of(run)
    db = sqlite3.connect(path)
    try:
        with db:
            for table, columns in SCHEMA.items():
                db.execute(f"CREATE TABLE IF NOT EXISTS {table} ({columns})")
                db.execute(f"DELETE FROM {table} WHERE run_id = ?", (run.run_id,))
                if rows[table]:
                    marks = ", ".join("?" * len(rows[table][0]))
                    db.executemany(f"INSERT INTO {table} VALUES ({marks})", rows[table])
    finally:
        db.close()
    return {table: len(found) for table, found in rows.items()}
