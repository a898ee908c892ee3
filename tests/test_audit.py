"""`synth audit`, `synth runs`, `synth diff` and the price table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synth.domain.settings import Price
from synth.model.cost import cost_of, price_for
from synth.report.audit import audit, percentile
from tests.helpers import QUESTION, only_run, run_args, run_cli

HOSTED = {"base_url": "https://api.openai.com/v1", "model": "gpt-4o-mini"}
LOCAL = {"base_url": "http://127.0.0.1:8080/v1", "model": "local-model"}


def entry(agent: str, item: str, attempt: int = 0, **fields) -> dict:
    """One transcript line as llm.py writes it."""
    return {
        "agent": agent,
        "item": item,
        "attempt": attempt,
        "request_hash": f"{agent}-{item}-{attempt}",
        "model": fields.pop("model", HOSTED["model"]),
        "endpoint": fields.pop("endpoint", HOSTED),
        "usage": {"prompt_tokens": 1000, "completion_tokens": 100},
        "cache_hit": False,
        "retries": 0,
        "error": None,
        **fields,
    }


# A recorded run: the extractor re-asked once for p1 and gave up on p2; one verifier call was
# retried twice after 429s; one writer call came from the cache.
RECORDED = [
    entry("extractor", "p1", 0, latency_s=1.0, error="claims.0.text: too short"),
    entry("extractor", "p1", 1, latency_s=2.0),
    entry("extractor", "p2", 0, latency_s=3.0, error="bad"),
    entry("extractor", "p2", 1, latency_s=4.0, error="bad"),
    entry("verifier", "c1", 0, latency_s=0.5, retries=2),
    entry("verifier", "c2", 0, latency_s=0.7),
    entry("writer", "frame", 0, cache_hit=True, usage={"prompt_tokens": 0}),
    entry("reviewer", "r1", 0, latency_s=9.0, model=LOCAL["model"], endpoint=LOCAL),
]


def test_audit_of_a_recorded_run_has_exact_figures():
    rows = {r.agent: r for r in audit(RECORDED, {})}
    ex = rows["extractor"]
    assert (ex.calls, ex.sent, ex.cache_hits) == (4, 4, 0)
    assert (ex.invalid, ex.reasks, ex.dropped) == (3, 2, 1)
    assert (ex.tokens_in, ex.tokens_out) == (4000, 400)
    # gpt-4o-mini: $0.15 in and $0.60 out per million tokens.
    assert ex.cost_usd == pytest.approx(4000 * 0.15e-6 + 400 * 0.60e-6)
    assert (ex.latency_p50_s, ex.latency_p95_s) == (2.0, 4.0)
    ve = rows["verifier"]
    assert (ve.calls, ve.retries, ve.invalid, ve.dropped) == (2, 2, 0, 0)
    assert rows["writer"].cache_hits == 1 and rows["writer"].sent == 0
    assert rows["writer"].cost_usd == 0 and rows["writer"].latency_p50_s is None
    assert rows["reviewer"].cost_usd == 0  # a model on this machine is free


def test_prices_come_from_the_table_config_or_nowhere():
    assert price_for(entry("x", "i"), {}) == Price(input=0.15, output=0.60)
    dated = entry("x", "i", model="gpt-4o-mini-2024-07-18")
    assert price_for(dated, {}) == Price(input=0.15, output=0.60)
    mine = entry("x", "i", model="my-hosted-model")
    assert price_for(mine, {}) is None
    assert price_for(mine, {"my-hosted-model": Price(input=1, output=2)}) == Price(
        input=1, output=2
    )
    total, unpriced = cost_of([mine, entry("x", "j")], {})
    assert unpriced == ["my-hosted-model"] and total == pytest.approx(1000 * 0.15e-6 + 100 * 0.6e-6)


def test_percentiles_use_the_nearest_rank():
    assert percentile([], 50) is None
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([float(i) for i in range(1, 101)], 95) == 95.0


@pytest.fixture
def run(capsys, corpus, fake, isolated) -> Path:
    code, _, err = run_cli(capsys, *run_args(corpus, fake, "--no-cache"))
    assert code == 0, err
    return only_run(isolated / "runs")


def test_audit_cli_tables_calls_and_claims(capsys, run, fake):
    code, out, err = run_cli(capsys, "audit", str(run), "--json")
    assert code == 0, err
    rows = {r["agent"]: r for r in json.loads(out)}
    # Every call sent reached the server; the rest were answered within the run (the same
    # check asked twice) and are counted as cache hits.
    assert sum(r["sent"] for r in rows.values()) == sum(fake.calls.values())
    assert sum(r["calls"] - r["sent"] for r in rows.values()) == sum(
        r["cache_hits"] for r in rows.values()
    )
    assert rows["verifier"]["tokens_in"] == 100 * rows["verifier"]["sent"]  # the fake's usage

    code, out, _ = run_cli(capsys, "audit", str(run), "--call", "1", "--json")
    first = json.loads(out)
    assert code == 0 and first["call"] == 1 and first["agent"] == "planner"
    code, out, _ = run_cli(capsys, "audit", str(run), "--call", "1")
    assert "--- system ---" in out and "--- answer (stop) ---" in out

    report = json.loads((run / "report.json").read_text())
    cited = next(c for c in report["claims"] if c["ref"])
    code, out, err = run_cli(capsys, "audit", str(run), "--claim", cited["id"], "--json")
    assert code == 0, err
    trail = json.loads(out)
    assert trail["claim"]["quote"] in trail["passage"]["text"]
    assert trail["passage"]["char_end"] > trail["passage"]["char_start"]
    assert trail["paper"]["n"] == cited["ref"]
    assert all(e["id"] in cited["evidence"] for e in trail["evidence"])
    findings = [f for f in report["findings"] if cited["id"] in f["claim_ids"]]
    assert len(trail["cited_in"]) >= len(findings)

    code, _, err = run_cli(capsys, "audit", str(run), "--claim", "C999")
    assert code == 2 and "no claim C999" in err
    code, _, err = run_cli(capsys, "audit", str(run), "--call", "100000")
    assert code == 2 and "no call 100000" in err


def test_runs_lists_the_history(capsys, run, monkeypatch):
    code, out, err = run_cli(capsys, "runs", "--json")
    assert code == 0, err
    (only,) = json.loads(out)
    assert only["id"] == run.name and only["question"] == QUESTION
    assert only["status"] == "complete" and only["claims"] > 0 and only["model"] == "m"


def test_diff_of_two_known_runs(capsys, corpus, fake, isolated):
    assert run_cli(capsys, *run_args(corpus, fake))[0] == 0
    first = only_run(isolated / "runs")
    (corpus / "warmup_disagrees.md").unlink()
    assert run_cli(capsys, *run_args(corpus, fake))[0] == 0
    second = next(p for p in (isolated / "runs").iterdir() if p != first)

    code, out, err = run_cli(capsys, "diff", str(first), str(second), "--json")
    assert code == 0, err
    changes = json.loads(out)
    a = json.loads((first / "report.json").read_text())
    b = json.loads((second / "report.json").read_text())
    gone = {c["text"] for c in a["claims"]} - {c["text"] for c in b["claims"]}
    assert set(changes["claims_removed"]) == gone and gone
    assert changes["stats"]["papers_included"] == [4, 3]
    titles_a = {r["title"] for r in a["references"]}
    titles_b = {r["title"] for r in b["references"]}
    assert set(changes["papers_removed"]) == titles_a - titles_b
    code, out, _ = run_cli(capsys, "diff", str(first), str(first))
    assert code == 0 and "verdicts changed: 0" in out and "counts changed: none" in out


def test_each_call_gets_one_status_and_a_stage_even_from_an_old_transcript():
    from synth.report.call_index import index, stage_of
    from synth.store.transcript import Line

    lines = [Line(n, n, e, "") for n, e in enumerate(RECORDED, start=1)]
    statuses = [row.status for row in index(lines)]
    assert statuses == [
        "re-asked",  # p1's first answer, asked again
        "valid",
        "re-asked",
        "dropped",  # p2's last try failed
        "valid",
        "valid",
        "cache hit",
        "valid",
    ]
    # Transcripts written before calls carried their stage: inferred from agent and item.
    assert stage_of({"agent": "verifier", "item": "p#1.1|question"}) == "stance"
    assert stage_of({"agent": "verifier", "item": "p#1.1|q#2"}) == "verify"
    assert stage_of({"agent": "verifier", "item": "abstract-1a2b"}) == "write"
    assert stage_of({"agent": "verifier", "item": "finding-3|C4"}) == "write"
    assert stage_of({"agent": "extractor", "item": "p#1"}) == "extract"
    assert stage_of({"agent": "verifier", "item": "x", "stage": "findings"}) == "findings"
