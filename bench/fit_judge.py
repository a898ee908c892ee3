"""Fit the judge's head for one model on SciFact (Wadden et al., 2020; train split; claims
CC BY 4.0, abstracts ODC-By 1.0).

Each pair is one claim and one passage, asked through synth's own judge (agents/judge.py),
so the inputs are exactly those a run reads. For the embedded local model they are the
model's hidden state at the last token of the judge prompt, where its answer would begin (a
second llama.cpp server of the same weights serves it); for a model without one, or with
`--answer-words`, the log-probabilities of the answer words "True", "False" and "Unknown" at
its first answer token. (The shipped answer-word head of the embedded model was fitted before
the retrieved pairs below were added: on the first two kinds only, 210 pairs.) Pairs:
- a SUPPORT or CONTRADICT claim with the passage of its gold abstract that holds its first
  rationale sentence (label supports or contradicts);
- a claim without evidence with the passage of an abstract it cites that shares the most
  words with it (label unrelated: on topic, but saying nothing on the claim);
- every claim with the best-ranked passage, as a run retrieves them, of an abstract it
  neither cites nor rests on (label unrelated): most passages a verifier is offered are such.
The claims are drawn with a fixed seed from those that `bench/scifact.py --quick` does not
score, the same number per label. A multinomial logistic regression (numpy, L2; for hidden
states on standardised inputs, the penalty chosen by 5-fold cross-validation) is fitted on four
fifths of the pairs and measured on the rest, then refitted on all of them and saved under the
model's identity (name and weights revision) in the user data folder, or with `--ship` among
the heads that come with synth. The claims it was fitted on are listed in the file, and
`bench/scifact.py` never scores them.

    python bench/fit_judge.py --pairs-per-label 70          # the embedded model's probe
    python bench/fit_judge.py --pairs-per-label 70 --answer-words   # its answer-word head
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
    index,
    library_folder,
    load,
    main_with,
    model_name,
    paper_text,
    parser_for,
    quick_claims,
    sample,
    verifier_model,
)

from synth.agents import calibration, judge, verifier
from synth.agents.calibration import expected_calibration_error
from synth.agents.judge import STANCES, Head
from synth.domain.records import Label
from synth.model import prompts
from synth.model.llm import ItemDropped, Model
from synth.store import paths
from synth.store.chunking import chunk_paper
from synth.store.embeddings import MiniLM
from synth.store.library import Library
from synth.store.transcript import read_transcript

STANCE_OF = {
    Label.SUPPORTED: "supports",
    Label.CONTRADICTED: "contradicts",
    Label.INSUFFICIENT: "unrelated",
}
L2 = 1.0
L2_GRID = (30.0, 100.0, 300.0, 1000.0, 3000.0)  # hidden states: chosen by cross-validation
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


def retrieved_pair(claim: dict, library: Library, papers: list[str]) -> tuple[str, str] | None:
    """The best-ranked passage of an abstract the claim neither cites nor rests on, with the
    label unrelated; None when every passage found is its own abstracts'."""
    own = {f"scifact:{d}" for d in [*claim["evidence"], *claim["cited_doc_ids"]]}
    hits = library.search(claim["claim"], paper_ids=papers, k=8)
    other = next((h for h in hits if h.paper_id not in own), None)
    return None if other is None else (other.text, "unrelated")


def fit_probe(x: np.ndarray, y: np.ndarray, classes: int, l2: float | None = None) -> np.ndarray:
    """A probe on hidden states: standardised inputs, the L2 penalty `l2` (by default the one
    of L2_GRID with the best 5-fold cross-validated macro-F1, `probe_penalty`), and the
    standardisation folded into the weights so that the head reads the raw state."""
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    if l2 is None:
        l2, _ = probe_penalty(x, y, classes)
    w = fit((x - mean) / scale, y, classes, l2)
    raw = w[:-1] / scale[:, None]
    return np.vstack([raw, w[-1] - mean @ raw])


def probe_penalty(x: np.ndarray, y: np.ndarray, classes: int) -> tuple[float, float]:
    """The penalty of L2_GRID whose 5-fold cross-validated macro-F1 is best, and that F1
    (each fold standardised by its own training part)."""
    if len(y) < 25:
        return L2_GRID[0], 0.0
    folds = np.array_split(np.random.default_rng(SEED).permutation(len(y)), 5)

    def cross_validated(l2: float) -> float:
        guess = np.zeros(len(y), dtype=int)
        for held in folds:
            kept = np.setdiff1d(np.arange(len(y)), held)
            mean, scale = x[kept].mean(axis=0), x[kept].std(axis=0) + 1e-6
            w = fit((x[kept] - mean) / scale, y[kept], classes, l2)
            guess[held] = predict(w, (x[held] - mean) / scale).argmax(axis=1)
        return macro_f1(y, guess, classes)[0]

    scored = {l2: cross_validated(l2) for l2 in L2_GRID}
    best = max(L2_GRID, key=lambda l2: scored[l2])
    return best, scored[best]


def fit(x: np.ndarray, y: np.ndarray, classes: int, l2: float = L2) -> np.ndarray:
    """Multinomial logistic regression by accelerated gradient descent (Nesterov), its step
    the inverse of the loss's smoothness bound, so it converges for any scale and number of
    inputs; weights (inputs + bias) x classes. The bias is not penalised."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    target = np.eye(classes)[y]
    # The softmax loss's Hessian is bounded by a half of X'X/n (plus the penalty).
    v = np.random.default_rng(SEED).standard_normal(xb.shape[1])
    for _ in range(50):
        v = xb.T @ (xb @ v)
        v /= np.linalg.norm(v)
    smooth = 0.5 * float(v @ (xb.T @ (xb @ v))) / len(x) + l2 / len(x)
    step = 1.0 / smooth
    w = np.zeros((xb.shape[1], classes))
    ahead, t = w.copy(), 1.0
    for _ in range(3000):
        grad = xb.T @ (softmax(xb @ ahead) - target) / len(x)
        grad[:-1] += l2 * ahead[:-1] / len(x)
        nxt = ahead - step * grad
        t_next = (1 + (1 + 4 * t * t) ** 0.5) / 2
        ahead = nxt + (t - 1) / t_next * (nxt - w)
        w, t = nxt, t_next
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


async def features_of(
    model: Model,
    pairs: list[tuple[int, str, str, str]],
    states: bool,
    judged_sentences: int | None = None,
) -> list:
    """The judge's inputs for each (claim id, claim, passage, stance): the hidden state, or
    the answer words' features; None for a pair the model gave neither for. The judge reads
    the `judged_sentences` of the passage that bear most on the claim, as the verifier would
    (None: all of it)."""

    async def one(pair: tuple[int, str, str, str]) -> list[float] | None:
        claim_id, claim, passage, _ = pair
        premise = verifier.bearing(passage, claim, judged_sentences)
        asked = {"item": f"scifact-{claim_id}", "premise": premise, "hypothesis": claim}
        try:
            if states:
                return await judge.entailment_state(model, **asked)
            choice = await judge.entailment_choice(model, **asked)
        except ItemDropped:
            return None
        return None if choice is None else judge.features(choice, list(STANCES))

    return await asyncio.gather(*(one(p) for p in pairs))


def pairs_for(args: argparse.Namespace, claims: list[dict], corpus: dict[int, dict]) -> list:
    """(claim id, claim, passage, stance) for the head's claims, as the module docstring
    says; the retrieved passages come from the library `bench/scifact.py` searches."""
    per_label = 4 if args.quick else args.pairs_per_label
    chosen = head_claims(claims, per_label)
    _, doc_ids = sample(claims, corpus, args.quick)
    papers = [f"scifact:{d}" for d in doc_ids]
    pairs = []
    mode = "quick" if args.quick else "full"
    with Library(library_folder(args.data, mode), MiniLM()) as library:
        index(library, corpus, doc_ids)
        for c in chosen:
            for made in (pair_for(c, corpus), retrieved_pair(c, library, papers)):
                if made is not None:
                    pairs.append((c["id"], c["claim"], made[0], made[1]))
    return pairs


def table(held: dict) -> list[str]:
    """The held-out measures, a column per input measured (`run` keys them by prefix)."""
    columns = (
        [("hidden-state probe", "")]
        if held["states"]
        else [("token probabilities alone", "raw_"), ("fitted head", "")]
    )
    rows = [
        ("macro-F1", "f1", ".2f"),
        ("accuracy", "accuracy", ".2f"),
        ("contradiction recall", "c_recall", ".2f"),
        ("expected calibration error", "ece", ".3f"),
    ]
    return [
        "| measure | " + " | ".join(name for name, _ in columns) + " |",
        "|---" * (len(columns) + 1) + "|",
        *(
            f"| {label} | "
            + " | ".join(format(held[prefix + key], fmt) for _, prefix in columns)
            + " |"
            for label, key, fmt in rows
        ),
    ]


def section(head: Head, name: str, held: dict, where: str) -> str:
    f1 = ", ".join(f"{s} {v:.2f}" for s, v in zip(STANCES, held["f1s"], strict=True))
    return (
        "\n".join(
            [
                "## Judge head, hidden-state probe (bench/fit_judge.py)"
                if held["states"]
                else "## Judge head (bench/fit_judge.py)",
                "",
                f"Machine: {machine()}; model: {name}. {head.pairs} claim-passage pairs of "
                f"{head.dataset} ({held['per_label']} per label), none of the quick SciFact "
                f"sample's claims. Saved to {where}.",
                "",
                "On the fifth of the pairs held out from the fit (pair level):",
                "",
                *table(held),
                "",
                *(
                    [
                        f"5-fold cross-validated on all {head.pairs} pairs: macro-F1 "
                        f"{held['cv_f1']:.2f}, at the L2 penalty the fit chose "
                        f"({held['penalty']:g}).",
                        "",
                    ]
                    if held["states"]
                    else []
                ),
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
    pairs = pairs_for(args, claims, corpus)
    per_label = 4 if args.quick else args.pairs_per_label
    with tempfile.TemporaryDirectory() as tmp:
        transcript = Path(tmp) / "transcript.jsonl"
        async with verifier_model(args, transcript) as model:
            states = bool(model.endpoint.states_url) and not args.answer_words
            found = await features_of(model, pairs, states, args.judged_sentences or None)
            name = model_name(args, model)
            endpoint = model.endpoint
        sent = [e for e in read_transcript(transcript) if not e.get("cache_hit")]
        seconds = sum(e.get("latency_s", 0.0) for e in sent) / len(sent) if sent else None
    kept = [(f, p) for f, p in zip(found, pairs, strict=True) if f is not None]
    x = np.array([f for f, _ in kept])
    y = np.array([STANCES.index(p[3]) for _, p in kept])
    order = np.random.default_rng(SEED).permutation(len(y))
    held_idx, fit_idx = order[: len(y) // 5], order[len(y) // 5 :]
    w = (fit_probe if states else fit)(x[fit_idx], y[fit_idx], len(STANCES))
    prob = predict(w, x[held_idx])
    truth = y[held_idx]
    held = {"per_label": per_label, "seconds": seconds, "states": states}
    if states:
        held["penalty"], held["cv_f1"] = probe_penalty(x, y, len(STANCES))
        final = fit_probe(x, y, len(STANCES), held["penalty"])
    else:
        final = fit(x, y, len(STANCES))
    measured = [("", prob)] if states else [("raw_", np.exp(x[held_idx])), ("", prob)]
    for prefix, p in measured:
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
        input="hidden_state" if states else "answer_logprobs",
        features=[] if states else list(STANCES),
        labels=list(STANCES),
        weights=[[float(f"{v:.5g}") for v in row] for row in final],
        fitted=(
            f"held-out pairs: macro-F1 {held['f1']:.2f}, contradiction recall "
            f"{held['c_recall']:.2f}, ECE {held['ece']:.3f}"
        ),
        claim_ids=sorted({p[0] for _, p in kept}),
        judged_sentences=args.judged_sentences or None,
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
    parser.add_argument(
        "--answer-words",
        dest="answer_words",
        action="store_true",
        help="fit the head on the answer words even where a hidden-state server is there "
        "(the head every check but the verifier reads)",
    )
    return main_with(parser, run)


if __name__ == "__main__":
    raise SystemExit(main())
