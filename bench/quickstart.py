"""Benchmark the README quick start on the embedded local model.

Runs the quick-start line (or reads an existing run with --run), then writes to
bench/RESULTS.md: wall time against the 10-minute target (as a ratio), the local model's
output tokens per second of call time, and the first-try schema-valid rate per agent, all
computed from the run's transcript.

    python bench/quickstart.py            # a first run with empty user folders, measured
    python bench/quickstart.py --run runs/<id>
    python bench/quickstart.py --quick    # the same line against the fake test model: the
                                          # harness, and synth's own time without a model
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from results import ROOT, fake_model, machine, options, publish

from synth.model import local_model

TARGET_S = 300.0  # issue 30: the quick start in at most 300 s, cold, on 2 cores
QUESTION = "Does learning-rate warmup stabilise training of small transformers?"


def run_quickstart(
    extra: list[str], corpus: str = "examples/", question: str = QUESTION
) -> tuple[Path, float]:
    """A new user's first run: an empty HOME and empty user folders, so no cached answer, no
    embedded paper and no assembled model file (joining its parts is part of the time)."""
    runs = ROOT / "runs"
    before = set(runs.iterdir()) if runs.exists() else set()
    with tempfile.TemporaryDirectory() as home:
        env = {
            **os.environ,
            "HOME": home,
            "SYNTH_HOME": home,
        }
        started = time.monotonic()
        subprocess.run(
            ["synth", "run", question, "--corpus", corpus, *extra],
            cwd=ROOT,
            check=True,
            env=env,
        )
        elapsed = time.monotonic() - started
    (new,) = sorted(set(runs.iterdir()) - before)
    return new, elapsed


def measure(run: Path) -> dict[str, object]:
    entries = [json.loads(line) for line in (run / "transcript.jsonl").open()]
    sent = [e for e in entries if not e.get("cache_hit")]
    out_tokens = sum(e["usage"]["completion_tokens"] for e in sent)
    in_tokens = sum(e["usage"]["prompt_tokens"] for e in sent)
    call_time = sum(e.get("latency_s", 0.0) for e in sent)
    first: dict[str, list[bool]] = defaultdict(list)
    for e in entries:
        if e["attempt"] == 0:
            first[e["agent"]].append(e["parsed"] is not None)
    reasked = [e for e in sent if e["attempt"] > 0]
    report = json.loads((run / "report.json").read_text())
    return {
        "reasks": len(reasked),
        "reasks_valid": sum(e["parsed"] is not None for e in reasked),
        "calls": len(sent),
        "tokens_in": in_tokens,
        "tokens_out": out_tokens,
        "tokens_per_s": out_tokens / call_time if call_time else 0.0,
        "first_try_valid": {a: sum(v) / len(v) for a, v in sorted(first.items())},
        "stats": report["stats"],
        "wall_s": report["stats"]["wall_s"],
    }


def write_results(figures: dict[str, object], elapsed: float | None, quick: bool) -> str:
    wall = elapsed if elapsed is not None else float(figures["wall_s"])
    stats = figures["stats"]
    heading, model = (
        ("against the fake test model, quick", "the fake test model (harness check only)")
        if quick
        else ("on the embedded local model", f"local model {local_model.DEFAULT.name} (llama.cpp)")
    )
    lines = [
        f"## Quick start {heading} (bench/quickstart.py)",
        "",
        f"Machine: {machine()}; {model}.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| wall time | {wall:.0f} s |",
        f"| wall time / {TARGET_S:.0f} s target | {wall / TARGET_S:.2f} |",
        f"| model calls | {figures['calls']} |",
        f"| tokens in / out | {figures['tokens_in']} / {figures['tokens_out']} |",
        f"| output tokens per second of call time | {figures['tokens_per_s']:.1f} |",
        f"| claims (supported / contradicted / insufficient) | {stats['claims']} "
        f"({stats['supported']} / {stats['contradicted']} / {stats['insufficient']}) |",
        f"| items dropped | {stats['dropped']} |",
        f"| re-asks (valid on re-asking) | {figures['reasks']} ({figures['reasks_valid']}) |",
    ]
    for agent, rate in figures["first_try_valid"].items():
        lines.append(f"| first-try schema-valid rate, {agent} | {rate:.2f} |")
    lines += [
        "",
        "A re-ask is an answer asked for again after it failed validation, with the error; the "
        "figure in brackets is how many came back valid. Where code can mend an answer (a "
        "missing full stop, a section that copies the abstract, a review quote that is not "
        "in the draft), it does so instead of asking again.",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = options(__doc__, "against the fake test model")
    parser.add_argument("--run", type=Path, help="measure this finished run instead")
    args = parser.parse_args()
    if args.run:
        run, elapsed = args.run, None
    elif args.quick:
        with fake_model() as fake:
            run, elapsed = run_quickstart(["--base-url", fake.url, "--model", "m"])
    else:
        run, elapsed = run_quickstart([])
    publish([write_results(measure(run), elapsed, args.quick)], args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
