"""Fit the judge's head for one model on SciFact (Wadden et al., 2020; train split; claims
CC BY 4.0, abstracts ODC-By 1.0).

Each pair is one claim and one passage, asked through synth's own judge (agents/judge.py),
so the features are exactly those a run reads: the log-probabilities of the answer words
"True", "False" and "Unknown" at the model's first answer token. Pairs:
- a SUPPORT or CONTRADICT claim with the passage of its gold abstract that holds its first
  rationale sentence (label supports or contradicts);
- a claim without evidence with the passage of an abstract it cites that shares the most
  words with it (label unrelated: on topic, but saying nothing on the claim).
The claims are drawn with a fixed seed from those that `bench/scifact.py --quick` does not
score, the same number per label. A multinomial logistic regression (numpy, L2) is fitted on
four fifths of the pairs and measured on the rest, then refitted on all of them and saved
under the model's identity (name and weights revision) in the user data folder, or with
`--ship` among the heads that come with synth. The claims it was fitted on are listed in the
file, and `bench/scifact.py` never scores them.

    python bench/fit_judge.py --pairs-per-label 70          # the embedded local model
    python bench/fit_judge.py --base-url URL --model NAME
    python bench/fit_judge.py --quick --fake --no-write     # CI: the harness only
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import re
import tempfile
from pathlib import Path

import numpy as np
from results import machine
from scifact import (
    data_name,
    gold_label,
    load,
    main_with,
    model_name,
    paper_text,
    parser_for,
    quick_claims,
    verifier_model,
)

from synth.agents import calibration, judge, prompts
from synth.agents.calibration import expected_calibration_error
from synth.agents.judge import STANCES, Head
from synth.agents.llm import ItemDropped, Model
from synth.agents.schemas import Label
from synth.store import paths
from synth.store.chunking import chunk_paper
from synth.store.transcript import read_transcript

STANCE_OF = {
    Label.SUPPORTED: "supports",
    Label.CONTRADICTED: "contradicts",
    Label.INSUFFICIENT: "unrelated",
}
L2 = 1.0
SEED = 17


def head_claims(claims: list[dict], per_label: int) -> list[dict]:
    """`per_label` claims of each SciFact label, drawn with a fixed seed, none of the quick
    benchmark's."""
    held_out = {c["id"] for c in quick_claims(claims)}
    pool = [c for c in claims if c["id"] not in held_out]
    random.Random(SEED).shuffle(pool)
    chosen: list[dict] = []
    for label in STANCE_OF:
        chosen += [c for c in pool if gold_label(c) == label][:per_label]
    return sorted(chosen, key=lambda c: c["id"])


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def pair_for(claim: dict, corpus: dict[int, dict]) -> tuple[str, str] | None:
    """(passage text, stance) for one claim, as the module docstring says."""
    label = gold_label(claim)
    if label == Label.INSUFFICIENT:
        cited = [int(d) for d in claim["cited_doc_ids"] if int(d) in corpus]
        if not cited:
            return None
        passages = chunk_paper(paper_text(corpus[cited[0]]), min_words=1)
        words = _words(claim["claim"])
        best = max(passages, key=lambda p: (len(words & _words(p.text)), -len(p.text)))
        return best.text, STANCE_OF[label]
    doc_id, sets = sorted(claim["evidence"].items())[0]
    doc = corpus.get(int(doc_id))
    if doc is None:
        return None
    sentence = doc["abstract"][sets[0]["sentences"][0]].strip()
    passages = chunk_paper(paper_text(doc), min_words=1)
    found = next((p for p in passages if sentence[:60] in p.text), passages[0])
    return found.text, STANCE_OF[label]


def fit(x: np.ndarray, y: np.ndarray, classes: int, l2: float = L2) -> np.ndarray:
    """Multinomial logistic regression by gradient descent; weights (features + bias) x
    classes. The bias is not penalised."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros((xb.shape[1], classes))
    target = np.eye(classes)[y]
    for _ in range(4000):
        p = softmax(xb @ w)
        grad = xb.T @ (p - target) / len(x)
        grad[:-1] += l2 * w[:-1] / len(x)
        w -= 0.2 * grad
    return w


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def predict(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    return softmax(np.hstack([x, np.ones((len(x), 1))]) @ w)


def macro_f1(y: np.ndarray, guess: np.ndarray, classes: int) -> tuple[float, list[float]]:
    f1s = []
    for k in range(classes):
        tp = int(np.sum((y == k) & (guess == k)))
        n = int(np.sum(guess == k)) + int(np.sum(y == k))
        f1s.append(2 * tp / n if tp else 0.0)
    return sum(f1s) / classes, f1s


async def features_of(model: Model, pairs: list[tuple[int, str, str, str]]) -> list:
    """The judge's features for each (claim id, claim, passage, stance); None for a pair
    whose answer held none of the words."""

    async def one(pair: tuple[int, str, str, str]) -> list[float] | None:
        claim_id, claim, passage, _ = pair
        try:
            choice = await judge.entailment_choice(
                model, item=f"scifact-{claim_id}", premise=passage, hypothesis=claim
            )
        except ItemDropped:
            return None
        return None if choice is None else judge.features(choice, list(STANCES))

    return await asyncio.gather(*(one(p) for p in pairs))


def section(head: Head, name: str, held: dict, where: str) -> str:
    f1 = ", ".join(f"{s} {v:.2f}" for s, v in zip(STANCES, held["f1s"], strict=True))
    return (
        "\n".join(
            [
                "## Judge head (bench/fit_judge.py)",
                "",
                f"Machine: {machine()}; model: {name}. {head.pairs} claim-passage pairs of "
                f"{head.dataset} ({held['per_label']} per label), none of the quick SciFact "
                f"sample's claims. Saved to {where}.",
                "",
                "On the fifth of the pairs held out from the fit (pair level, gold passages):",
                "",
                "| measure | token probabilities alone | fitted head |",
                "|---|---|---|",
                f"| macro-F1 | {held['raw_f1']:.2f} | {held['f1']:.2f} |",
                f"| accuracy | {held['raw_accuracy']:.2f} | {held['accuracy']:.2f} |",
                f"| contradiction recall | {held['raw_c_recall']:.2f} | {held['c_recall']:.2f} |",
                f"| expected calibration error | {held['raw_ece']:.3f} | {held['ece']:.3f} |",
                "",
                f"Head F1 per stance: {f1}. "
                + (
                    f"Seconds per pair asked: {held['seconds']:.1f} (two at a time)."
                    if held["seconds"] is not None
                    else "Every answer came from the response cache of an earlier fit."
                ),
            ]
        )
        + "\n"
    )


async def run(args: argparse.Namespace) -> str:
    claims, corpus = load(args.data)
    per_label = 4 if args.quick else args.pairs_per_label
    chosen = head_claims(claims, per_label)
    pairs = []
    for c in chosen:
        made = pair_for(c, corpus)
        if made is not None:
            pairs.append((c["id"], c["claim"], made[0], made[1]))
    with tempfile.TemporaryDirectory() as tmp:
        transcript = Path(tmp) / "transcript.jsonl"
        async with verifier_model(args, transcript) as model:
            found = await features_of(model, pairs)
            name = model_name(args, model)
            endpoint = model.endpoint
        sent = [e for e in read_transcript(transcript) if not e.get("cache_hit")]
        seconds = sum(e.get("latency_s", 0.0) for e in sent) / len(sent) if sent else None
    kept = [(f, p) for f, p in zip(found, pairs, strict=True) if f is not None]
    x = np.array([f for f, _ in kept])
    y = np.array([STANCES.index(p[3]) for _, p in kept])
    order = np.random.default_rng(SEED).permutation(len(y))
    held_idx, fit_idx = order[: len(y) // 5], order[len(y) // 5 :]
    w = fit(x[fit_idx], y[fit_idx], len(STANCES))
    prob = predict(w, x[held_idx])
    raw = np.exp(x[held_idx])
    truth = y[held_idx]
    held = {"per_label": per_label, "seconds": seconds}
    for prefix, p in (("raw_", raw), ("", prob)):
        guess = p.argmax(axis=1)
        f1, f1s = macro_f1(truth, guess, len(STANCES))
        c = STANCES.index("contradicts")
        held |= {
            f"{prefix}f1": f1,
            f"{prefix}f1s": f1s,
            f"{prefix}accuracy": float(np.mean(guess == truth)),
            f"{prefix}c_recall": float(np.mean(guess[truth == c] == c)) if any(truth == c) else 0,
            f"{prefix}ece": expected_calibration_error(
                [(float(q), bool(r)) for q, r in zip(p.max(axis=1), guess == truth, strict=True)]
            ),
        }
    identity = calibration.identity(endpoint.model, endpoint.revision)
    head = Head(
        model=identity,
        prompt_hash=prompts.load("judge").sha256,
        dataset=data_name(args.data),
        pairs=len(kept),
        features=list(STANCES),
        labels=list(STANCES),
        weights=[[round(float(v), 5) for v in row] for row in fit(x, y, len(STANCES))],
        fitted=(
            f"held-out pairs: macro-F1 {held['f1']:.2f}, contradiction recall "
            f"{held['c_recall']:.2f}, ECE {held['ece']:.3f}"
        ),
        claim_ids=sorted(p[0] for _, p in kept),
        created=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    )
    if args.fake or not args.write:
        where = "nowhere (harness check)"
    else:
        folder = judge.SHIPPED if args.ship else paths.data_dir() / "judges"
        where = str(judge.save_head(head, folder))
    return section(head, name, held, where)


def main() -> int:
    parser = parser_for(__doc__, "4 pairs per label", "print only; save nothing")
    parser.add_argument("--pairs-per-label", dest="pairs_per_label", type=int, default=70)
    parser.add_argument(
        "--ship", action="store_true", help="save among the heads that come with synth"
    )
    return main_with(parser, run)


if __name__ == "__main__":
    raise SystemExit(main())
