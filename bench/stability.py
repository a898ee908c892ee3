"""How stable a run is: the same question twice with --no-cache, then how much the cited
papers, the claims (by text) and the verdicts of the claims both runs share agree (Jaccard
overlap, and the share of shared claims with the same label).

    python bench/stability.py                                  # the quick start, local model
    python bench/stability.py --base-url URL --model NAME      # another model
    python bench/stability.py --runs runs/A runs/B             # two finished runs
    python bench/stability.py --quick                          # the fake test model (CI)
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from pathlib import Path

from results import ROOT, fake_model, machine, options, publish, run_synth

from synth.domain.records import Report

QUESTION = "Does learning-rate warmup stabilise training of small transformers?"


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def compare(a: Report, b: Report) -> dict[str, float]:
    claims_a = {c.text: c.label for c in a.claims}
    claims_b = {c.text: c.label for c in b.claims}
    shared = set(claims_a) & set(claims_b)
    return {
        "cited papers (Jaccard)": jaccard(
            {r.id for r in a.references}, {r.id for r in b.references}
        ),
        "claims (Jaccard)": jaccard(set(claims_a), set(claims_b)),
        "same verdict, shared claims": (
            sum(claims_a[t] == claims_b[t] for t in shared) / len(shared) if shared else 1.0
        ),
    }


def run_twice(extra: list[str], runs: Path) -> list[Path]:
    args = ["run", QUESTION, "--corpus", str(ROOT / "examples"), "--no-cache"]
    return [run_synth([*args, "--runs-dir", str(runs), *extra], runs) for _ in range(2)]


def main() -> int:
    parser = options(__doc__, "against the fake test model")
    parser.add_argument("--runs", nargs=2, type=Path, help="compare two finished runs")
    parser.add_argument("--base-url", dest="base_url")
    parser.add_argument("--model")
    args = parser.parse_args()
    extra = [f for f in (("--base-url", args.base_url), ("--model", args.model)) if f[1]]
    with contextlib.ExitStack() as stack:
        if args.runs:
            runs = args.runs
        elif args.quick:
            fake = stack.enter_context(fake_model())
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            runs = run_twice(["--base-url", fake.url, "--model", "m"], folder)
        else:
            runs = run_twice([x for pair in extra for x in pair], ROOT / "runs")
        a, b = (Report.model_validate_json((r / "report.json").read_text()) for r in runs)
    figures = compare(a, b)
    model = (
        "the fake test model (harness check only)"
        if args.quick
        else "model " + ", ".join(sorted(set(a.models.values())))
    )
    lines = [
        f"## Stability of two runs of one question{', quick' if args.quick else ''} "
        "(bench/stability.py)",
        "",
        f"Machine: {machine()}; {model}; runs {runs[0].name} and {runs[1].name}.",
        "",
        "| measure | value |",
        "|---|---|",
        *(f"| {name} | {value:.2f} |" for name, value in figures.items()),
    ]
    publish(lines, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
