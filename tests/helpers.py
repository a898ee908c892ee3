"""Helpers shared by the tests: the command line run in-process, the arguments of a run against
the fake model (local corpus or online sources), and reading a run's folder."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest

from synth.agents import planner
from synth.agents.schemas import PlanDraft
from synth.model import prompts
from synth.model.llm import Model
from tests.fake_model import FakeModel

CORPUS = Path(__file__).parent / "corpus"


def isolate(monkeypatch: pytest.MonkeyPatch, root: Path) -> Path:
    """User folders under `root` (SYNTH_HOME, honoured on every platform), no synth setting or
    key from the environment, and a working folder with fast retries; returns that folder."""
    for var in list(os.environ):
        if var.startswith("SYNTH_") or var in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
            monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("SYNTH_HOME", str(root / "home"))
    work = root / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    # Fast retries, and no spacing between requests to the (mocked) literature sources.
    (work / "synth.toml").write_text(
        'retry_max_wait = 0.01\nmax_retries = 2\ncontact = "team@example.org"\n'
        '[host_intervals]\n"export.arxiv.org" = 0.0\n"arxiv.org" = 0.0\n'
        '"api.semanticscholar.org" = 0.0\n'
    )
    return work


# Headless Chromium as root on a machine with no network but loopback (the browser tests
# and bench/serve.py).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


QUESTION = "Does learning-rate warmup stabilise training of small transformers?"


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    from synth.cli import main

    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def runs_in(runs: Path) -> list[Path]:
    """The run folders under `runs`, oldest first (ids sort by time)."""
    return sorted(p for p in runs.iterdir() if p.is_dir())


def only_run(runs: Path) -> Path:
    folders = runs_in(runs)
    assert len(folders) == 1, folders
    return folders[0]


def transcript(run: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run / "transcript.jsonl").read_text().splitlines()]


def reasked_calls(entries: list[dict[str, Any]], agent: str) -> list[int]:
    """What the transcript says, counted here without synth's code: the numbers of `agent`'s
    calls whose answer failed validation and whose item that agent asked about again later."""
    return [
        n
        for n, e in enumerate(entries, start=1)
        if e["agent"] == agent
        and e.get("error")
        and any((later["agent"], later["item"]) == (agent, e["item"]) for later in entries[n:])
    ]


def run_args(corpus: Path, fake: FakeModel, *extra: str) -> list[str]:
    """`synth run` on the test corpus against the fake model server."""
    return [
        "run",
        QUESTION,
        "--corpus",
        str(corpus),
        "--base-url",
        fake.url,
        "--model",
        "m",
        *extra,
    ]


def online_args(fake: FakeModel, *extra: str) -> list[str]:
    return [
        "run",
        QUESTION,
        "--sources",
        "arxiv,openalex,s2",
        "--base-url",
        fake.url,
        "--model",
        "m",
        *extra,
    ]


def ask(model: Model):
    template = prompts.load("planner")
    return asyncio.run(
        model.ask(
            agent="planner",
            item="plan",
            prompt=template,
            messages=template.messages(question="Q?", task=planner.SEARCHES),
            schema=PlanDraft,
            max_tokens=100,
        )
    )


def identity_head(**fields: Any):
    """A judge head on the answer words that gives back their probabilities (identity
    weights, no bias), for model "m"; `fields` override any of its fields."""
    from synth.agents import judge

    names = list(judge.STANCES)
    values: dict[str, Any] = {
        "model": "m",
        "prompt_hash": "h",
        "dataset": "d",
        "pairs": 3,
        "features": names,
        "labels": names,
        "weights": [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0]],
        "fitted": "",
    }
    return judge.Head(**(values | fields))
