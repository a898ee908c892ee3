"""How well the judge reads a claim's stance on a yes/no question, on labelled sentences.

Each item of `bench/stance_gold.json` is a sentence and its answer to a question: yes, no or
depends (setting-bound, conditional, or background). Four ways of reading the stance, all
through synth's judge (agents/judge.py) and its head, from the same three calls per item:
- "the answer is yes": does the sentence support 'The answer to the question Q is yes.'?
  supports reads yes, contradicts no, unrelated depends;
- two-sided: that and "does it support 'the answer is no'?", summed: yes is P(supports yes)
  plus P(contradicts no), no the other way round, depends the two unrelated;
- the question as a statement: does it support "X improve Y." for "Does X improve Y?";
- both readings agree (what runs use, judge.agreed): the first and the third; a side only
  where both give it, depends otherwise.
The table gives accuracy, macro-F1 over the three answers, the opposite answers (yes read as
no or no as yes: the errors that put a paper on the wrong side of the report's count), and
how many sentences were given a side, with how many of those sides were right.

    python bench/stance.py                  # the embedded local model
    python bench/stance.py --quick --fake   # CI: the harness only
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path

from results import machine, options, publish
from scifact import verifier_model

from synth.agents import judge
from synth.agents.judge import Judged
from synth.agents.llm import ItemDropped, Model

GOLD = Path(__file__).with_name("stance_gold.json")
ANSWERS = ("yes", "no", "depends")


def as_no(question: str) -> str:
    return judge.as_hypothesis(question).removesuffix("is yes.") + "is no."


async def judged(model: Model, item: str, premise: str, hypothesis: str) -> Judged | None:
    try:
        return await judge.entailment(model, item=item, premise=premise, hypothesis=hypothesis)
    except ItemDropped:
        return None


def statement(question: str) -> str:
    return judge.as_statement(question) or judge.as_hypothesis(question)


def one_sided(yes: Judged, _: Judged, __: Judged) -> str:
    return judge.as_answers(yes).best


def declarative(_: Judged, __: Judged, says: Judged) -> str:
    return judge.as_answers(says).best


def both_agree(yes: Judged, _: Judged, says: Judged) -> str:
    return judge.agreed(judge.as_answers(yes), judge.as_answers(says)).best


def two_sided(yes: Judged, no: Judged, _: Judged) -> str:
    a, b = yes.probabilities, no.probabilities
    p = {
        "yes": a["supports"] + b["contradicts"],
        "no": a["contradicts"] + b["supports"],
        "depends": a["unrelated"] + b["unrelated"],
    }
    return max(ANSWERS, key=lambda k: p[k])


METHODS = {
    "one reading: the answer is yes": one_sided,
    "two-sided: yes and no": two_sided,
    "one reading: the question as a statement": declarative,
    "both readings agree (in use)": both_agree,
}


def scores(truth: list[str], guess: list[str]) -> dict[str, float]:
    f1s = []
    for answer in ANSWERS:
        tp = sum(t == g == answer for t, g in zip(truth, guess, strict=True))
        fp = sum(g == answer != t for t, g in zip(truth, guess, strict=True))
        fn = sum(t == answer != g for t, g in zip(truth, guess, strict=True))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    opposite = sum({t, g} == {"yes", "no"} for t, g in zip(truth, guess, strict=True))
    return {
        "accuracy": sum(t == g for t, g in zip(truth, guess, strict=True)) / len(truth),
        "macro_f1": sum(f1s) / len(f1s),
        "opposite": opposite,
        "sided": sum(g != "depends" for g in guess),
        "sided_right": sum(g == t != "depends" for t, g in zip(truth, guess, strict=True)),
        **{f"recall_{a}": _recall(truth, guess, a) for a in ANSWERS},
    }


def _recall(truth: list[str], guess: list[str], answer: str) -> float:
    mine = [g for t, g in zip(truth, guess, strict=True) if t == answer]
    return sum(g == answer for g in mine) / len(mine) if mine else 0.0


async def run(args: argparse.Namespace) -> str:
    gold = json.loads(GOLD.read_text(encoding="utf-8"))
    items = gold["items"]
    if args.quick:  # two of each answer
        items = [it for a in ANSWERS for it in [x for x in items if x[1] == a][:2]]
    with tempfile.TemporaryDirectory() as tmp:
        async with verifier_model(args, Path(tmp) / "transcript.jsonl") as model:

            async def both(i: int, item: list[str]) -> list[Judged | None]:
                question = gold["questions"][item[0]]
                return await asyncio.gather(
                    judged(model, f"s{i}|yes", item[2], judge.as_hypothesis(question)),
                    judged(model, f"s{i}|no", item[2], as_no(question)),
                    judged(model, f"s{i}|says", item[2], statement(question)),
                )

            pairs = await asyncio.gather(*(both(i, it) for i, it in enumerate(items)))
            source = "head" if judge.head_for(model) is not None else "token probabilities"
    read = [(it, j) for it, j in zip(items, pairs, strict=True) if all(j)]
    truth = [it[1] for it, _ in read]
    asked = len({it[0] for it, _ in read})
    lines = [
        "## Stance on a yes/no question (bench/stance.py)",
        "",
        f"Machine: {machine()}; model: {'the fake test model' if args.fake else args.model}, "
        f"judged through the {source}. Items: {len(read)} labelled sentences of "
        f"{asked} question{'s' if asked != 1 else ''} (bench/stance_gold.json; "
        + ", ".join(f"{truth.count(a)} {a}" for a in ANSWERS)
        + ").",
        "",
        "| method | accuracy | macro-F1 | recall yes / no / depends | opposite answers "
        "| given a side (right) |",
        "|---|---|---|---|---|---|",
    ]
    for name, method in METHODS.items():
        guesses = [method(*j) for _, j in read]
        if args.verbose:
            for (it, _), g in zip(read, guesses, strict=True):
                print(f"{name[:12]:12} {it[1]:7} {g:7} {it[2][:90]}", file=sys.stderr)
        s = scores(truth, guesses)
        lines.append(
            f"| {name} | {s['accuracy']:.2f} | {s['macro_f1']:.2f} | "
            f"{s['recall_yes']:.2f} / {s['recall_no']:.2f} / {s['recall_depends']:.2f} | "
            f"{s['opposite']} | {s['sided']:.0f} ({s['sided_right']:.0f}) |"
        )
    lines += [
        "",
        "An opposite answer puts a paper on the wrong side of the report's count of answers; "
        "a sentence read as depends only leaves it uncounted. Runs use the last method because "
        "of those two columns: a report that leaves a paper uncounted is honestly unsure, one "
        "that counts it on the wrong side misleads.",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = options(__doc__, "six sentences")
    parser.add_argument("--fake", action="store_true", help="the fake test model (CI)")
    parser.add_argument("--base-url", dest="base_url", help="an OpenAI-compatible endpoint")
    parser.add_argument("--model", default="local", help="model name (default: local)")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--verbose", action="store_true", help="each item's reading")
    parser.add_argument(
        "--no-cache", dest="cache", action="store_false", help="ask the model again every time"
    )
    args = parser.parse_args()
    publish([asyncio.run(run(args))], args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
