"""Retrieval and verification on SciFact (Wadden et al., 2020, "Fact or Fiction: Verifying
Scientific Claims"; train split; claims CC BY 4.0, abstracts ODC-By 1.0).

The abstracts are indexed in a Chroma library with synth's embedder (cached between runs).
For every claim: recall@k of its gold abstracts among the k best passages (k = 1, 3, 8) as a
run retrieves them (the dense ranking fused with BM25's) and by the dense ranking alone, then
synth's verifier judges the claim against the retrieved passages. Its labels are scored
against SciFact's (SUPPORT → SUPPORTED, CONTRADICT → CONTRADICTED, no evidence → INSUFFICIENT):
accuracy, macro-F1, the confusion matrix, and a calibration table of confidence against
accuracy.

The full mode indexes the whole corpus and ranks every claim. Verifying all 809 claims takes
the local model hours on two cores, so `--claims N` verifies N of them, drawn with a fixed seed;
the claims a calibration in use was fitted on are never scored. Answers are kept in a response
cache, so a run that stops early (or a later run with a larger N) picks up where it was.
`--fit-verdicts` fits the judge head's verdict calibration (per label, judged probability to
the chance the verdict is right) on the verified claims and reports it cross-fitted: each
claim's confidence comes from the curves fitted on the other half. Later runs never score the
claims it was fitted on.

One script of some 610 lines: the other SciFact harnesses (calibrate, fit_judge, judge_speed)
import its loading, sampling and scoring, and the section it writes is read beside its code.

    python bench/scifact.py --quick --fake          # CI: the harness, with the fake model
    python bench/scifact.py --quick                 # the embedded local model
    python bench/scifact.py --claims 300            # full corpus, 300 claims verified
    python bench/scifact.py --claims 300 --fit-verdicts --ship   # and calibrate verdicts
    python bench/scifact.py --base-url URL --model NAME [--data DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from results import SCIFACT, fake_model, machine, options, publish

from synth.agents import calibration, judge, verifier
from synth.agents.calibration import Calibration, brier, expected_calibration_error
from synth.domain.records import Claim, Evidence, Label, Paper, PaperText, Section
from synth.model import local_model
from synth.model.endpoint import Endpoint
from synth.model.llm import Model
from synth.store import paths
from synth.store.cache import ResponseCache
from synth.store.chunking import chunk_paper
from synth.store.embeddings import MiniLM
from synth.store.library import Library
from synth.store.transcript import Recorder

LABELS = [Label.SUPPORTED, Label.CONTRADICTED, Label.INSUFFICIENT]
GOLD = {"SUPPORT": Label.SUPPORTED, "CONTRADICT": Label.CONTRADICTED}
KS = (1, 3, 8)
BINS = [(0.0, 0.5), (0.5, 0.65), (0.65, 0.8), (0.8, 1.01)]
CLAIM_PAPER = "scifact:claim"  # the paper a SciFact claim is said to come from: none
# The verifier must find contradictions: a report that misses them hides disagreement.
CONTRADICTION_FLOOR = 0.50
FOLDS = 2  # verdict calibration: fitted on one half of the claims, measured on the other
FOLD_SEED = 17
DEALS = range(1, 11)  # other fold seeds, to show how the reported ECE varies with the deal


def load(data: Path) -> tuple[list[dict], dict[int, dict]]:
    claims = [json.loads(line) for line in (data / "claims_train.jsonl").open()]
    corpus = {d["doc_id"]: d for d in map(json.loads, (data / "corpus.jsonl").open())}
    return claims, corpus


def sample(
    claims: list[dict], corpus: dict[int, dict], quick: bool
) -> tuple[list[dict], list[int]]:
    """Quick: every 27th claim (30 of 809) and its cited abstracts plus 300 fixed distractors;
    full: every claim and the whole corpus."""
    if not quick:
        return claims, sorted(corpus)
    chosen = claims if len(claims) <= 30 else quick_claims(claims)
    return chosen, with_distractors(chosen, corpus)


def spread(items: list[dict], count: int, offset: int = 0) -> list[dict]:
    """At most `count` items at an even step through `items`, starting at `offset`."""
    step = max(1, len(items) // count)
    return items[offset::step][:count]


def quick_claims(claims: list[dict]) -> list[dict]:
    return claims[::27][:30]


def fitting_claims(claims: list[dict], count: int) -> list[dict]:
    """The claims `bench/calibrate.py` fits on: spread over the split, none of the quick ones."""
    held_out = {c["id"] for c in quick_claims(claims)}
    return spread([c for c in claims if c["id"] not in held_out], count, offset=1)


def scored_claims(
    claims: list[dict], fitted_on: int, count: int | None, head_claims: set[int] | None = None
) -> list[dict]:
    """The claims the full mode verifies: the first `count` (default all) of a fixed random
    order, leaving out the `fitted_on` claims a calibration was fitted on and the claims the
    judge's head was fitted on. A larger `count` keeps the smaller one's claims, so the
    response cache carries a run over to the next."""
    fitted = {c["id"] for c in fitting_claims(claims, fitted_on)} if fitted_on else set()
    fitted |= head_claims or set()
    rest = [c for c in claims if c["id"] not in fitted]
    random.Random(2020).shuffle(rest)
    return rest[: count or len(rest)]


def with_distractors(chosen: list[dict], corpus: dict[int, dict], n: int = 300) -> list[int]:
    """The abstracts the chosen claims cite, plus `n` others drawn with a fixed seed."""
    cited = {int(d) for c in chosen for d in c["cited_doc_ids"]}
    rest = sorted(set(corpus) - cited)
    distractors = random.Random(2020).sample(rest, min(n, len(rest)))
    return sorted(cited | set(distractors))


def gold_label(claim: dict) -> Label:
    labels = {e["label"] for docs in claim["evidence"].values() for e in docs}
    return GOLD[sorted(labels)[0]] if labels else Label.INSUFFICIENT


def paper_text(doc: dict) -> PaperText:
    text = " ".join(s.strip() for s in doc["abstract"])
    paper = Paper(id=f"scifact:{doc['doc_id']}", title=doc["title"], source="scifact")
    return PaperText(paper=paper, sections=[Section(name="Abstract", text=text, start=0)])


def index(library: Library, corpus: dict[int, dict], doc_ids: list[int]) -> tuple[int, float]:
    passages = [p for d in doc_ids for p in chunk_paper(paper_text(corpus[d]), min_words=1)]
    started = time.monotonic()
    added = library.add(passages)
    return added, time.monotonic() - started


async def judge_all(
    model: Model,
    library: Library,
    claims: list[dict],
    doc_ids: list[int],
    evidence_k: int,
    calibration: Calibration | None = None,
    verify: set[int] | None = None,
    judged_sentences: int | None = None,
) -> list[dict]:
    """One row per claim: the abstracts retrieved for it and, for the claims in `verify`
    (default all), the verifier's label; the others get the label None. The judge reads
    `judged_sentences` of each passage (None: as many as its head was fitted on)."""
    papers = [f"scifact:{d}" for d in doc_ids]
    to_verify = len(claims) if verify is None else len(verify)
    progress = Progress(to_verify)

    async def one(item: dict) -> dict:
        hits = library.search(item["claim"], paper_ids=papers, k=max(KS))
        dense = library.search(item["claim"], paper_ids=papers, k=max(KS), hybrid=False)
        row = {
            "id": item["id"],
            "gold_docs": sorted(int(d) for d in item["evidence"]),
            "ranked": papers_of(hits),
            "ranked_dense": papers_of(dense),
            "gold": gold_label(item).value,
            "label": None,
        }
        if verify is not None and item["id"] not in verify:
            return row
        claim = Claim(
            id=f"c{item['id']}",
            paper_id=CLAIM_PAPER,
            passage_id="scifact:claim#0",
            text=item["claim"],
            quote=item["claim"],
            quote_found=True,
            kind="finding",
        )
        verdict = await verifier.verify(
            model,
            claim=claim,
            evidence=hits[:evidence_k],
            calibration=calibration,
            judged_sentences=judged_sentences,
        )
        progress.step()
        return row | {
            "label": verdict.label.value,
            "confidence": verdict.confidence,
            "score": verdict.rule_score,
            "judged": verdict.judged,
            "passages": {
                e.passage_id: {"paper": e.paper_id, "p": verdict.probabilities[e.passage_id]}
                for e in hits[:evidence_k]
                if e.passage_id in verdict.probabilities
            },
        }

    return await asyncio.gather(*(one(c) for c in claims))


def papers_of(hits: list[Evidence]) -> list[int]:
    """The SciFact abstracts of ranked passages, each once, in rank order."""
    return list(dict.fromkeys(int(h.paper_id.split(":")[1]) for h in hits))


class Progress:
    """A line on stderr every tenth of the way: the local model takes hours on the full set."""

    def __init__(self, total: int) -> None:
        self.total, self.done, self.started = total, 0, time.monotonic()

    def step(self) -> None:
        self.done += 1
        if self.done % max(1, self.total // 10) == 0 or self.done == self.total:
            minutes = (time.monotonic() - self.started) / 60
            print(
                f"verified {self.done}/{self.total} claims in {minutes:.1f} min",
                file=sys.stderr,
                flush=True,
            )


def scores(rows: list[dict]) -> dict:
    """Recall over every row; the label scores over the rows that were verified."""
    with_gold = [r for r in rows if r["gold_docs"]]
    ranked = len(rows)
    rows = [r for r in rows if r["label"] is not None]

    def recall(key: str) -> dict[int, float]:
        return {
            k: sum(bool(set(r[key][:k]) & set(r["gold_docs"])) for r in with_gold)
            / max(1, len(with_gold))
            for k in KS
        }

    confusion = Counter((r["gold"], r["label"]) for r in rows)
    f1s = []
    for label in (x.value for x in LABELS):
        tp = confusion[(label, label)]
        predicted = sum(confusion[(g, label)] for g in (x.value for x in LABELS))
        actual = sum(confusion[(label, p)] for p in (x.value for x in LABELS))
        precision = tp / predicted if predicted else 0.0
        recall_l = tp / actual if actual else 0.0
        f1s.append(2 * precision * recall_l / (precision + recall_l) if tp else 0.0)
    calibration = []
    for low, high in BINS:
        inside = [r for r in rows if low <= r["confidence"] < high]
        right = sum(r["gold"] == r["label"] for r in inside)
        calibration.append(
            (low, min(high, 1.0), len(inside), right / len(inside) if inside else None)
        )
    contradicted = Label.CONTRADICTED.value
    actual_c = sum(confusion[(contradicted, p.value)] for p in LABELS)
    return {
        "ranked": ranked,
        "claims": len(rows),
        "with_gold_abstracts": len(with_gold),
        "recall": recall("ranked"),
        "recall_dense": recall("ranked_dense"),
        "accuracy": sum(r["gold"] == r["label"] for r in rows) / max(1, len(rows)),
        "macro_f1": sum(f1s) / len(f1s),
        "contradiction_recall": confusion[(contradicted, contradicted)] / max(1, actual_c),
        "contradictions": (confusion[(contradicted, contradicted)], actual_c),
        "ece": expected_calibration_error(
            [(r["confidence"], r["gold"] == r["label"]) for r in rows]
        ),
        "confusion": confusion,
        "calibration": calibration,
        "brier": brier([(r["confidence"], r["gold"] == r["label"]) for r in rows]),
    }


def verdict_curves(rows: list[dict]) -> dict[str, list[tuple[float, float]]]:
    """One isotonic curve from the judged confidence to rightness, fitted on the verdicts of
    every label and used for each. Fitted per label, a curve rests on some 20 to 40 claims
    of a fold and follows their noise: for the judge reading two sentences, over ten deals
    of 128 claims into two folds, its ECE averaged 0.093 (worst 0.166) against 0.063 (worst
    0.090) pooled (bench/RESULTS.md). The shipped head's curves were fitted per label."""
    curve = calibration.fit_curve([(r["judged"], r["gold"] == r["label"]) for r in rows])
    return {label: curve for label in sorted({r["label"] for r in rows})}


def relabelled(row: dict, offsets: dict[str, float]) -> dict:
    """The row as the verifier would have decided it with the stance odds shifted by
    `offsets`, from the judge's probabilities it kept for each passage."""
    judged = {
        pid: judge.shifted(judge.Judged(probabilities=seen["p"], source="head"), offsets)
        for pid, seen in row["passages"].items()
    }
    evidence = {
        pid: Evidence(passage_id=pid, paper_id=seen["paper"], text="", score=0.0)
        for pid, seen in row["passages"].items()
    }
    decision = verifier.decide({p: j.best for p, j in judged.items()}, evidence, CLAIM_PAPER)
    raw = verifier.judged_confidence(decision.label, decision.evidence, judged)
    return row | {"label": decision.label.value, "judged": raw, "confidence": raw}


def best_offsets(rows: list[dict]) -> dict[str, float]:
    """The shift of the supports and contradicts odds (against unrelated) that gives these
    claims the highest macro-F1 while the contradiction recall stays at CONTRADICTION_FLOOR
    or above (the highest recall below it where no shift reaches it); the smallest shift
    among equals. Macro-F1 alone buys its gain by missing contradictions: cross-fitted on
    288 claims it took contradiction recall from 0.64 to 0.19 (bench/RESULTS.md), and a
    missed contradiction hides a disagreement from the reader."""
    grid = [x / 4 for x in range(-8, 9)]
    candidates = [{"supports": s, "contradicts": c} for s in grid for c in grid]

    def worth(offsets: dict[str, float]) -> tuple[float, float, float]:
        s = scores([relabelled(r, offsets) for r in rows])
        return (
            round(min(s["contradiction_recall"], CONTRADICTION_FLOOR), 6),
            round(s["macro_f1"], 6),
            -sum(abs(v) for v in offsets.values()),
        )

    return max(candidates, key=worth)


def fitted_on(rows: list[dict]) -> tuple[dict[str, float], dict[str, list[tuple[float, float]]]]:
    """The stance offsets fitted on `rows`, and the verdict curves fitted on them as the
    verifier decides them under those offsets."""
    offsets = best_offsets(rows)
    return offsets, verdict_curves([relabelled(r, offsets) for r in rows])


def calibrated(rows: list[dict], fit_on: list[dict]) -> list[dict]:
    """`rows` decided and calibrated by what `fit_on` gives: the stance offsets fitted on
    it, then verdict curves fitted on it under those offsets."""
    offsets, curves = fitted_on(fit_on)
    out = []
    for r in rows:
        mine = relabelled(r, offsets)
        out.append(
            mine | {"confidence": judge.verdict_confidence(curves, mine["label"], mine["judged"])}
        )
    return out


def cross_fitted(rows: list[dict], folds: int = FOLDS, seed: int = FOLD_SEED) -> list[dict]:
    """Every row decided and calibrated by what the other folds give (claims dealt to folds
    in a fixed random order), so that nothing about a claim was fitted on its own outcome."""
    order = sorted(rows, key=lambda r: r["id"])
    random.Random(seed).shuffle(order)
    fold_of = {r["id"]: i % folds for i, r in enumerate(order)}
    out = []
    for f in range(folds):
        mine = [r for r in rows if fold_of[r["id"]] == f]
        out += calibrated(mine, [r for r in rows if fold_of[r["id"]] != f])
    return sorted(out, key=lambda r: r["id"])


def fit_verdicts(
    rows: list[dict], head: judge.Head, quick_ids: set[int]
) -> tuple[dict, judge.Head]:
    """Scores with the stance offsets and verdict curves cross-fitted, and the head with
    both fitted on all the verified claims (none of the quick sample's, so it stays held
    out). The offsets found are added to those the head already had, since the kept
    probabilities were shifted by them."""
    usable = [
        r
        for r in rows
        if r["label"] is not None and r["judged"] is not None and r["id"] not in quick_ids
    ]
    before = scores([r | {"confidence": r["judged"]} for r in usable])
    fitted = scores(cross_fitted(usable))
    # One deal of 128 claims into two folds moves the ECE by several hundredths: how it
    # spreads over other deals says what the one reported is worth.
    spread = [scores(cross_fitted(usable, seed=seed))["ece"] for seed in DEALS]
    offsets, curves = fitted_on(usable)
    note = (
        f"cross-fitted in {FOLDS} folds: macro-F1 {before['macro_f1']:.2f} before, "
        f"{fitted['macro_f1']:.2f} after; ECE {before['ece']:.3f} before, "
        f"{fitted['ece']:.3f} after"
    )
    head = head.model_copy(
        update={
            "offsets": {
                k: round(head.offsets.get(k, 0.0) + offsets.get(k, 0.0), 4)
                for k in ("supports", "contradicts", "unrelated")
            },
            "verdicts": curves,
            "verdict_claim_ids": sorted(r["id"] for r in usable),
            "verdict_fit": note,
        }
    )
    return fitted | {"before": before, "ece_deals": spread}, head


def section(
    s: dict,
    model: str,
    mode: str,
    passages: int,
    ingest: tuple[int, float],
    data: str,
    verified: str = "",
) -> str:
    short = {"SUPPORTED": "S", "CONTRADICTED": "C", "INSUFFICIENT": "I"}
    lines = [
        f"## SciFact retrieval and verification, {mode} (bench/scifact.py)",
        "",
        f"Machine: {machine()}; verifier model: {model}. Data: {data}.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| claims ranked | {s['ranked']} ({s['with_gold_abstracts']} with gold abstracts) |",
        f"| claims verified | {s['claims']}{verified} |",
        f"| passages indexed | {passages} |",
    ]
    added, seconds = ingest
    if added:
        lines.append(f"| passages embedded per second | {added / seconds:.1f} |")
    lines += [
        f"| recall@{k} of a gold abstract, hybrid (dense alone) | {v:.2f} "
        f"({s['recall_dense'][k]:.2f}) |"
        for k, v in s["recall"].items()
    ]
    lines += [
        f"| label accuracy | {s['accuracy']:.2f} |",
        f"| macro-F1 (S, C, I) | {s['macro_f1']:.2f} |",
        f"| contradiction recall | {s['contradiction_recall']:.2f} "
        f"({s['contradictions'][0]} of {s['contradictions'][1]}) |",
        f"| expected calibration error (10 bins) | {s['ece']:.3f} |",
        *(
            [
                f"| before the fit: macro-F1, contradiction recall, ECE | "
                f"{s['before']['macro_f1']:.2f}, {s['before']['contradiction_recall']:.2f}, "
                f"{s['before']['ece']:.3f} |"
            ]
            if "before" in s
            else []
        ),
        *(
            [
                f"| ECE over {len(s['ece_deals'])} other deals of the claims into folds: "
                f"mean, worst | {sum(s['ece_deals']) / len(s['ece_deals']):.3f}, "
                f"{max(s['ece_deals']):.3f} |"
            ]
            if s.get("ece_deals")
            else []
        ),
        f"| Brier score of confidence (lower is better) | {s['brier']:.3f} |",
        "",
        "Confusion (rows: SciFact's label, columns: synth's):",
        "",
        "| gold \\ synth | S | C | I |",
        "|---|---|---|---|",
    ]
    for gold in LABELS:
        counts = " | ".join(str(s["confusion"][(gold.value, p.value)]) for p in LABELS)
        lines.append(f"| {short[gold.value]} | {counts} |")
    lines += [
        "",
        "Calibration (confidence against accuracy):",
        "",
        "| confidence | claims | accuracy |",
        "|---|---|---|",
    ]
    for low, high, n, acc in s["calibration"]:
        lines.append(f"| {low:.2f}–{high:.2f} | {n} | {'—' if acc is None else f'{acc:.2f}'} |")
    return "\n".join(lines) + "\n"


@contextlib.asynccontextmanager
async def verifier_model(args: argparse.Namespace, transcript: Path) -> AsyncIterator[Model]:
    """The model `args` name (the fake test model, an endpoint, or the local model), served
    for the length of the block; its `endpoint` names it."""
    recorder = Recorder(transcript)
    semaphore = asyncio.Semaphore(args.concurrency)
    async with contextlib.AsyncExitStack() as stack:
        if args.fake:
            fake = stack.enter_context(fake_model())
            root = fake.url.removesuffix("/v1")
            endpoint = Endpoint(fake.url, "fake", states_url=root)
        elif args.base_url:
            endpoint = Endpoint(args.base_url, args.model)
        else:
            weights = local_model.weights_for(args.model)
            endpoint = await stack.enter_async_context(local_model.serve(weights))
        cache = None
        if args.cache and not args.fake:
            cache = stack.enter_context(
                contextlib.closing(ResponseCache(paths.cache_dir() / "bench" / "responses.sqlite3"))
            )
        model = Model(endpoint, recorder=recorder, cache=cache, semaphore=semaphore)
        try:
            yield model
        finally:
            await model.close()


def model_name(args: argparse.Namespace, model: Model) -> str:
    if args.fake:
        return "the fake test model (harness check only)"
    return model.endpoint.model + ("" if args.base_url else " (local)")


def data_name(data: Path) -> str:
    if data.resolve() == SCIFACT.resolve():
        return "SciFact train split (Wadden et al., 2020; CC BY 4.0 claims, ODC-By 1.0 abstracts)"
    return str(data)


def library_folder(data: Path, kind: str) -> Path:
    digest = hashlib.sha256(str(data.resolve()).encode()).hexdigest()[:8]
    return paths.cache_dir() / "bench" / f"scifact-{kind}-{digest}"


def verified_text(claims: int, left_out: int, count: int | None) -> str:
    """How the full mode chose the claims it verified, for the results table."""
    pool = f"the {claims - left_out} that no fit used" if left_out else ""
    if count and count < claims - left_out:
        return ", drawn at random with a fixed seed" + (f" from {pool}" if pool else "")
    return f", all but the {left_out} that a fit used" if left_out else ", all"


async def run(args: argparse.Namespace) -> str:
    if args.quick and args.claims:
        raise SystemExit("--claims is for the full mode; --quick always takes the same 30 claims")
    claims, corpus = load(args.data)
    chosen, doc_ids = sample(claims, corpus, args.quick)
    mode = "quick" if args.quick else "full"
    store = library_folder(args.data, mode)
    with tempfile.TemporaryDirectory() as tmp, Library(store, MiniLM()) as library:
        ingest = index(library, corpus, doc_ids)
        passages = sum(len(chunk_paper(paper_text(corpus[d]), min_words=1)) for d in doc_ids)
        async with verifier_model(args, Path(tmp) / "transcript.jsonl") as model:
            endpoint = model.endpoint
            head = judge.verifier_head(model)
            # As in a run: a fitted judge's probabilities are the confidences, and a
            # calibration of the older stated judgements does not apply to them.
            in_use = None
            if head is None:
                in_use = calibration.find(calibration.identity(endpoint.model, endpoint.revision))
            same_data = data_name(args.data)
            fitted_on = in_use.claims if in_use and in_use.dataset == same_data else 0
            head_ids = set()
            if head is not None and head.dataset == same_data:
                # Claims a fit used are never scored; a refit of the verdict curves may
                # draw on the claims of the last one.
                head_ids = set(head.claim_ids)
                if not args.fit_verdicts:
                    head_ids |= set(head.verdict_claim_ids)
            verify, verified = None, ""
            if not args.quick:
                scored = scored_claims(chosen, fitted_on, args.claims, head_ids)
                verify = {c["id"] for c in scored}
                left_out = (
                    len(chosen) - len(scored)
                    if not args.claims
                    else fitted_on + len(head_ids & {c["id"] for c in chosen})
                )
                verified = verified_text(len(chosen), left_out, args.claims)
            rows = await judge_all(
                model,
                library,
                chosen,
                doc_ids,
                args.evidence_k,
                in_use,
                verify,
                args.judged_sentences or None,
            )
            name = model_name(args, model)
    if head is not None:
        name += f", judged by a head fitted on {head.pairs} pairs of other claims"
        if head.verdicts and not args.fit_verdicts:
            name += f", verdicts calibrated on {len(head.verdict_claim_ids)} other claims"
    if in_use is not None:
        name += f", calibrated on {in_use.claims} other claims"
    measured = scores(rows)
    if args.rows:
        args.rows.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    if args.fit_verdicts:
        if head is None or args.quick:
            raise SystemExit("--fit-verdicts needs the full mode and a model with a judge head")
        quick_ids = {c["id"] for c in quick_claims(claims)}
        fitted, head = fit_verdicts(rows, head, quick_ids)
        # Retrieval is scored over every ranked claim, the labels over the fitted ones.
        ranking = ("ranked", "with_gold_abstracts", "recall", "recall_dense")
        measured = fitted | {k: measured[k] for k in ranking}
        name += f", verdicts calibrated by {FOLDS}-fold cross-fitting on the same claims"
        mode += ", verdict calibration fitted"
        if args.write:
            judge.save_head(head, judge.SHIPPED if args.ship else paths.data_dir() / "judges")
    return section(measured, name, mode, passages, ingest, data_name(args.data), verified)


def parser_for(doc: str, quick: str, write_help: str) -> argparse.ArgumentParser:
    """The options both SciFact scripts take: the common ones, the model and evidence."""
    parser = options(doc, quick, data=True, write_help=write_help)
    parser.add_argument("--fake", action="store_true", help="the fake test model (CI)")
    parser.add_argument("--base-url", dest="base_url", help="an OpenAI-compatible endpoint")
    parser.add_argument("--model", default="local", help="model name (default: local)")
    parser.add_argument("--evidence-k", dest="evidence_k", type=int, default=3)
    parser.add_argument(
        "--judged-sentences",
        dest="judged_sentences",
        type=int,
        default=0,
        help="the sentences of each passage the judge reads (0: as its head was fitted)",
    )
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument(
        "--no-cache", dest="cache", action="store_false", help="ask the model again every time"
    )
    return parser


def main_with(parser: argparse.ArgumentParser, run: Callable[[argparse.Namespace], Any]) -> int:
    args = parser.parse_args()
    if not (args.data / "claims_train.jsonl").is_file():
        print(f"no SciFact data in {args.data}: pass --data DIR", file=sys.stderr)
        return 2
    publish([asyncio.run(run(args))], args.write)
    return 0


def main() -> int:
    parser = parser_for(
        __doc__, "30 claims, 300 distractors", "print only; leave bench/RESULTS.md alone"
    )
    parser.add_argument(
        "--claims", type=int, help="full mode: verify this many claims (default: all)"
    )
    parser.add_argument(
        "--fit-verdicts",
        dest="fit_verdicts",
        action="store_true",
        help="full mode: fit the judge head's verdict calibration on the verified claims "
        "(figures cross-fitted) and save it with the head in the user data folder",
    )
    parser.add_argument(
        "--ship", action="store_true", help="with --fit-verdicts: save among synth's own heads"
    )
    parser.add_argument("--rows", type=Path, help="also write each claim's row to this file")
    return main_with(parser, run)


if __name__ == "__main__":
    sys.exit(main())
