"""How well the judge reads a claim's stance on a yes/no question, on labelled sentences.

Two sets of sentences, each labelled with its answer to a question: yes, no or depends
(setting-bound, conditional, or background):
- `bench/stance_gold.json`, written for synth: sentences of examples/ and the planted-
  disagreement corpus, and of two topics written for this set only;
- with `--scifact N`, N sentences per answer drawn from SciFact train (Wadden et al., 2020;
  CC BY 4.0 claims, ODC-By 1.0 abstracts): a claim becomes the question "Is it true that
  <claim>?", and the rationale sentences of its first evidence set answer it (yes for
  SUPPORT, no for CONTRADICT); the sentence of the same abstract outside every rationale
  that shares the most words with the claim answers depends. Written by others, on another
  field, so that a method is not chosen on synth's own sentences alone (none of the quick
  SciFact sample's claims).
The ways of reading the stance, all through synth's judge (agents/judge.py) and its head:
- "the answer is yes": does the sentence support 'The answer to the question Q is yes.'?
  supports reads yes, contradicts no, unrelated depends;
- two-sided (written set only): that and "does it support 'the answer is no'?", summed: yes
  is P(supports yes) plus P(contradicts no), no the other way round, depends the two
  unrelated;
- the statement: does it support "X improve Y." for "Does X improve Y?" (the claim itself
  for a SciFact item);
- both readings agree: the first and the third; a side only where both give it;
- and a yes only for a sentence that states no negation, depends instead;
- and, of those, a sentence that states the effect was absent ("did not improve", "equally
  stable") as a no (answering.guarded; what runs use).
The table gives accuracy, macro-F1 over the three answers, the opposite answers (yes read as
no or no as yes: the errors that put a paper on the wrong side of the report's count), and
how many sentences were given a side, with how many of those sides were right.

    python bench/stance.py                  # the embedded local model, the written set
    python bench/stance.py --scifact 100    # 100 SciFact sentences per answer
    python bench/stance.py --quick --fake   # CI: the harness only
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from results import machine, options, publish
from scifact import load, quick_claims, verifier_model

from synth.agents import answering, judge
from synth.agents.judge import Judged
from synth.domain.text import plain_words
from synth.model.llm import ItemDropped, Model

GOLD = Path(__file__).with_name("stance_gold.json")
ANSWERS = ("yes", "no", "depends")
SEED = 23


@dataclass(frozen=True)
class Item:
    topic: str  # the question's key in the written set; the claim id for SciFact
    question: str
    answer: str
    sentence: str
    statement: str  # what the question asks about, as a statement


@dataclass(frozen=True)
class Readings:
    yes: Judged  # the sentence against "the answer is yes"
    says: Judged  # the sentence against the statement
    no: Judged | None = None  # the sentence against "the answer is no" (written set only)


def written_items() -> list[Item]:
    gold = json.loads(GOLD.read_text(encoding="utf-8"))
    items = []
    for topic, answer, sentence in gold["items"]:
        question = gold["questions"][topic]
        said = answering.as_statement(question) or answering.as_hypothesis(question)
        items.append(Item(topic, question, answer, sentence, said))
    return items


def scifact_items(data: Path, per_answer: int) -> list[Item]:
    """`per_answer` SciFact sentences of each answer, as the module docstring says."""
    claims, corpus = load(data)
    quick = {c["id"] for c in quick_claims(claims)}
    pool = [c for c in claims if c["evidence"] and c["id"] not in quick]
    random.Random(SEED).shuffle(pool)
    chosen: dict[str, list[Item]] = {a: [] for a in ANSWERS}
    for c in pool:
        doc_id, sets = sorted(c["evidence"].items())[0]
        doc = corpus.get(int(doc_id))
        if doc is None:
            continue
        claim = c["claim"].strip()
        question = f"Is it true that {claim[0].lower()}{claim[1:].rstrip('.')}?"
        answer = "yes" if sets[0]["label"] == "SUPPORT" else "no"
        rationale = " ".join(doc["abstract"][i].strip() for i in sets[0]["sentences"])
        if len(rationale.split()) > 80:
            continue
        if len(chosen[answer]) < per_answer:
            chosen[answer].append(Item(str(c["id"]), question, answer, rationale, claim))
        used = {i for s in sets for i in s["sentences"]}
        others = [
            x.strip()
            for i, x in enumerate(doc["abstract"])
            if i not in used and 8 <= len(x.split()) <= 60
        ]
        if others and len(chosen["depends"]) < per_answer:
            words = set(plain_words(claim))
            near = max(others, key=lambda x: len(words & set(plain_words(x))))
            chosen["depends"].append(Item(str(c["id"]), question, "depends", near, claim))
    return [item for a in ANSWERS for item in chosen[a]]


def as_no(question: str) -> str:
    return answering.as_hypothesis(question).removesuffix("is yes.") + "is no."


async def judged(model: Model, item: str, premise: str, hypothesis: str) -> Judged | None:
    try:
        return await judge.entailment(model, item=item, premise=premise, hypothesis=hypothesis)
    except ItemDropped:
        return None


def one_sided(_: Item, r: Readings) -> str:
    return answering.as_answers(r.yes).best


def declarative(_: Item, r: Readings) -> str:
    return answering.as_answers(r.says).best


def both_agree(_: Item, r: Readings) -> str:
    return answering.agreed(answering.as_answers(r.yes), answering.as_answers(r.says)).best


def negation_unsure(item: Item, r: Readings) -> str:
    first = answering.as_answers(r.yes)
    negated = answering.states_null(item.sentence) and not answering.states_null(item.question)
    if first.best == "yes" and negated:
        return "depends"
    return answering.agreed(first, answering.as_answers(r.says)).best


def in_use(item: Item, r: Readings) -> str:
    return answering.settle(item.question, item.sentence, r.yes, r.says).best


def two_sided(_: Item, r: Readings) -> str | None:
    if r.no is None:
        return None
    a, b = r.yes.probabilities, r.no.probabilities
    p = {
        "yes": a["supports"] + b["contradicts"],
        "no": a["contradicts"] + b["supports"],
        "depends": a["unrelated"] + b["unrelated"],
    }
    return max(ANSWERS, key=lambda k: p[k])


METHODS: dict[str, Callable[[Item, Readings], str | None]] = {
    "one reading: the answer is yes": one_sided,
    "two-sided: yes and no": two_sided,
    "one reading: the statement": declarative,
    "both readings agree": both_agree,
    "both agree, a yes with a negation as depends": negation_unsure,
    "and a yes stating no effect as a no (in use)": in_use,
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


# Readings measured on the written set by one-off scripts and not used by runs; kept here so
# that this section keeps them when it is written again.
MEASURED_ELSEWHERE = [
    "Measured on the same items and not used: the hidden-state probe of the verifier instead "
    "of the answer words (both readings agree: macro-F1 0.48, 6 opposite answers); a probe "
    "fitted on the stance of the first 300 SciFact sentences (section below), read from the "
    "hidden state of either reading (macro-F1 0.65 to 0.73, 8 to 10 opposite answers; at a "
    "threshold that leaves 3 opposite, 14 sides right); and three prompts that ask for yes, "
    "no or unclear directly, naming no difference as a no (11 to 19 opposite answers, and "
    "no background sentence read as unclear). Both probes read the sentences on pre-norm "
    'models and on small batches ("equally stable with and without warmup") as a yes. A '
    "third reading, against the statement's denial written by code (\"It is not true that "
    'X improve Y.") and taking the side read as more supported, gave 11 opposite answers and '
    "28 sides (15 right) here, 32 and 162 (95) on the first 300 SciFact sentences; it too "
    "read those two sentences as supporting the statement more than its denial.",
]


async def readings(model: Model, items: list[Item], two_sided: bool) -> list[Readings | None]:
    async def one(i: int, item: Item) -> Readings | None:
        asked = [
            judged(model, f"s{i}|yes", item.sentence, answering.as_hypothesis(item.question)),
            judged(model, f"s{i}|says", item.sentence, item.statement),
        ]
        if two_sided:
            asked.append(judged(model, f"s{i}|no", item.sentence, as_no(item.question)))
        got = await asyncio.gather(*asked)
        if not all(got):
            return None
        return Readings(yes=got[0], says=got[1], no=got[2] if two_sided else None)

    return list(await asyncio.gather(*(one(i, it) for i, it in enumerate(items))))


async def run(args: argparse.Namespace) -> str:
    scifact = args.scifact > 0
    if scifact:
        items = scifact_items(args.data, 3 if args.quick else args.scifact)
    else:
        items = written_items()
        if args.quick:  # two of each answer
            items = [it for a in ANSWERS for it in [x for x in items if x.answer == a][:2]]
    with tempfile.TemporaryDirectory() as tmp:
        async with verifier_model(args, Path(tmp) / "transcript.jsonl") as model:
            found = await readings(model, items, two_sided=not scifact)
            source = "head" if judge.head_for(model) is not None else "token probabilities"
    read = [(it, r) for it, r in zip(items, found, strict=True) if r is not None]
    truth = [it.answer for it, _ in read]
    counts = ", ".join(f"{truth.count(a)} {a}" for a in ANSWERS)
    if scifact:
        heading = "## Stance on a yes/no question, SciFact sentences (bench/stance.py)"
        what = (
            f"{len(read)} sentences of SciFact train (Wadden et al., 2020; CC BY 4.0 claims, "
            f'ODC-By 1.0 abstracts), each claim asked as "Is it true that ...?" ({counts})'
        )
    else:
        heading = "## Stance on a yes/no question (bench/stance.py)"
        asked = len({it.topic for it, _ in read})
        what = (
            f"{len(read)} labelled sentences of {asked} question{'s' if asked != 1 else ''} "
            f"(bench/stance_gold.json; {counts})"
        )
    lines = [
        heading,
        "",
        f"Machine: {machine()}; model: {'the fake test model' if args.fake else args.model}, "
        f"judged through the {source}. Items: {what}.",
        "",
        "| method | accuracy | macro-F1 | recall yes / no / depends | opposite answers "
        "| given a side (right) |",
        "|---|---|---|---|---|---|",
    ]
    before: list[str | None] = []
    for name, method in METHODS.items():
        guesses = [method(it, r) for it, r in read]
        if any(g is None for g in guesses):
            continue
        changed = sum(a != b for a, b in zip(before, guesses, strict=False))
        before = guesses
        if args.verbose:
            for (it, _), g in zip(read, guesses, strict=True):
                print(f"{name[:12]:12} {it.answer:7} {g:7} {it.sentence[:90]}", file=sys.stderr)
        s = scores(truth, [str(g) for g in guesses])
        lines.append(
            f"| {name} | {s['accuracy']:.2f} | {s['macro_f1']:.2f} | "
            f"{s['recall_yes']:.2f} / {s['recall_no']:.2f} / {s['recall_depends']:.2f} | "
            f"{s['opposite']} | {s['sided']:.0f} ({s['sided_right']:.0f}) |"
        )
    lines += [
        "",
        f"The last method changed {changed} answer{'s' if changed != 1 else ''} of the one "
        "before it.",
        "",
        "An opposite answer puts a paper on the wrong side of the report's count of answers; "
        "a sentence read as depends only leaves it uncounted. The report's checks use the last "
        "method because of those two columns: a report that leaves a paper uncounted is "
        "honestly unsure, one that counts it on the wrong side misleads. Papers are placed by "
        "the reader instead (agents/reader.py; bench/depth.py --read).",
    ]
    if not scifact and not args.fake:
        lines += ["", *MEASURED_ELSEWHERE]
    return "\n".join(lines)


def main() -> int:
    parser = options(__doc__, "six sentences (nine with --scifact)", data=True)
    parser.add_argument(
        "--scifact", type=int, default=0, metavar="N", help="N SciFact sentences per answer"
    )
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
