"""Budgets: a run stops before a call that could pass its limit, exit 4, with a partial report,
and resumes with a larger budget without paying twice."""

from __future__ import annotations

import json

import pytest

from synth.domain.errors import BudgetReached
from synth.domain.settings import Price
from synth.model.budget import Budget
from tests.helpers import only_run, run_args, run_cli, transcript


def test_a_call_that_could_pass_the_limit_is_not_made():
    budget = Budget(max_tokens=1000)
    held = budget.hold("m", "http://127.0.0.1:1/v1", 300, 250)
    with pytest.raises(BudgetReached, match="token budget of 1000"):
        budget.hold("m", "http://127.0.0.1:1/v1", 300, 250)  # 550 held + 550 > 1000
    budget.release(held)
    budget.spend({"model": "m", "usage": {"prompt_tokens": 300, "completion_tokens": 50}})
    budget.hold("m", "http://127.0.0.1:1/v1", 300, 250)  # 350 used + 550 fits


def test_cost_budgets_need_a_price():
    budget = Budget(max_cost=0.01, prices={"paid": Price(input=10, output=10)})
    hosted = "https://api.example.com/v1"
    budget.hold("paid", hosted, 500, 400)  # $0.009
    with pytest.raises(BudgetReached, match="cost budget"):
        budget.hold("paid", hosted, 100, 100)
    with pytest.raises(BudgetReached, match="has no price"):
        Budget(max_cost=1.0).hold("unknown-model", hosted, 1, 1)


def test_budget_stops_with_exit_4_and_resume_finishes_without_paying_twice(
    capsys, corpus, fake, isolated
):
    code, _, err = run_cli(capsys, *run_args(corpus, fake, "--no-cache", "--budget-tokens", "6000"))
    assert code == 4, err
    line = err.strip().splitlines()[-1]
    assert "token budget of 6000 is reached" in line and "synth resume" in line
    run = only_run(isolated / "runs")
    record = json.loads((run / "run.json").read_text())
    assert record["status"] == "budget reached"
    partial = (run / "report.md").read_text()
    assert partial.startswith("# Partial report: the run stopped at its budget")
    assert "| Planning searches | 1 of 1 | 0 |" in partial and "not started" in partial
    spent = sum((e.get("usage") or {}).get("prompt_tokens", 0) for e in transcript(run))
    assert spent <= 6000
    first = [e["request_hash"] for e in transcript(run)]

    code, _, err = run_cli(capsys, "resume", str(run), "--budget-tokens", "10000000")
    assert code == 0, err
    sent = [e["request_hash"] for e in transcript(run) if not e["cache_hit"]]
    assert len(sent) == len(set(sent)) and set(first) <= set(sent)  # nothing paid for twice
    assert sum(fake.calls.values()) == len(sent)
    assert not (run / "report.md").read_text().startswith("# Partial report")


def test_dry_run_estimates_and_spends_nothing(capsys, corpus, fake, isolated, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    code, out, err = run_cli(capsys, *run_args(corpus, fake, "--dry-run"))
    assert code == 0, err
    assert sum(fake.calls.values()) == 0 and not (isolated / "runs").exists()
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if line.count("│") > 3}
    stages = {"plan", "answers", "extract", "verify", "findings", "write", "review", "total"}
    assert stages <= set(rows)
    assert "screen" not in rows  # a local folder is not screened
    extract_calls = int(rows["extract"].split("│")[2])
    verify_calls = int(rows["verify"].split("│")[2])
    # claims per passage × evidence per claim
    assert verify_calls == extract_calls * 3 * 4
    # result sentences per paper, and each claim's quote
    assert int(rows["answers"].split("│")[2]) == 4 * 4 + extract_calls * 3
