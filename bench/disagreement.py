"""The planted disagreement (tests/disagreement/) run through synth, scored against its gold.

Four invented papers answer one yes/no question two ways. From the run's report.json:
- answer accuracy: the share of papers whose answer, counted by code from their claims'
  stances, is the gold one;
- contradiction recall: the share of the gold pairs of contradicting papers that the report
  puts on opposite sides (quoted as a contradiction, counted for and against one finding, or
  answering the question differently);
- inverted findings: findings that rest on a claim of a paper whose gold answer is the
  opposite of the finding's own answer.

    python bench/disagreement.py            # the embedded local model, cold
    python bench/disagreement.py --quick    # the fake test model (the harness)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from quickstart import run_quickstart
from results import ROOT, fake_model, machine, options, publish

PLANTED = ROOT / "tests" / "disagreement"


def opposite_sides(report: dict) -> set[frozenset[str]]:
    """Pairs of paper titles the report puts on opposite sides."""
    title = {r["n"]: r["title"] for r in report["references"]}
    pairs: set[frozenset[str]] = set()
    for c in report["contradictions"]:
        pairs |= {frozenset((title[c["ref"]], title[int(e["ref"])])) for e in c["evidence"]}
    for f in report["findings"]:
        pairs |= {
            frozenset((title[a], title[b]))
            for a in f["supporting_refs"]
            for b in f["disputing_refs"]
            if a != b
        }
    answer = report.get("answer") or {}
    yes = answer.get("yes", []) + answer.get("mixed", [])
    no = answer.get("no", []) + answer.get("mixed", [])
    pairs |= {frozenset((title[a], title[b])) for a in yes for b in no if a != b}
    return pairs


def score(report: dict, gold: dict) -> dict[str, float]:
    title = {r["n"]: r["title"] for r in report["references"]}
    answer = report.get("answer") or {}
    found = {title[n]: side for side, refs in answer.items() for n in refs}
    right = sum(found.get(t) == a for t, a in gold["answers"].items())
    wanted = {frozenset(p) for p in gold["contradictions"]}
    recalled = len(wanted & opposite_sides(report))
    claims = {c["id"]: c for c in report["claims"]}
    inverted = 0
    for f in report["findings"]:
        if f.get("answer") is None:
            continue
        papers = {title.get(claims[c]["ref"]) for c in f["claim_ids"] if claims[c]["ref"]}
        other = {"yes": "no", "no": "yes"}[f["answer"]]
        inverted += any(gold["answers"].get(p) == other for p in papers)
    return {
        "answers_right": right,
        "papers": len(gold["answers"]),
        "recalled": recalled,
        "pairs": len(wanted),
        "inverted": inverted,
        "findings": len(report["findings"]),
    }


def section(s: dict[str, float], model: str, wall: float) -> str:
    return (
        "\n".join(
            [
                "## Planted disagreement (bench/disagreement.py)",
                "",
                f"Machine: {machine()}; model: {model}. Corpus: tests/disagreement/ (four invented "
                "papers, two answering yes and two no).",
                "",
                "| measure | value |",
                "|---|---|",
                "| papers whose answer was counted right | "
                f"{s['answers_right']} of {s['papers']} |",
                f"| contradiction recall (gold pairs on opposite sides) | "
                f"{s['recalled'] / s['pairs']:.2f} ({s['recalled']} of {s['pairs']}) |",
                f"| findings resting on a paper that answers the other way | {s['inverted']} of "
                f"{s['findings']} |",
                f"| wall time | {wall:.0f} s |",
            ]
        )
        + "\n"
    )


def main() -> int:
    args = options(__doc__, "against the fake test model").parse_args()
    gold = json.loads((PLANTED / "gold.json").read_text())
    corpus = str(PLANTED / "papers")
    if args.quick:
        with fake_model() as fake:
            run, wall = run_quickstart(
                ["--base-url", fake.url, "--model", "m"], corpus, gold["question"]
            )
        model = "the fake test model (harness check only)"
    else:
        run, wall = run_quickstart([], corpus, gold["question"])
        model = "the embedded local model"
    report = json.loads((Path(run) / "report.json").read_text())
    publish([section(score(report, gold), model, wall)], args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
