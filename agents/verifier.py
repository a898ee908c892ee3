"""Verifier: one claim against passages retrieved from the run's other papers.

The model judges one (claim, passage) pair per call (supports, contradicts or unrelated): the
smallest question, and the one small models answer best; judging several passages in one call
made them repeat the order of the options. The label, the evidence ids and the confidence are
then derived by code from the judgements, so every verdict rests on passages that were really
offered and its confidence always has the meaning stated in CONFIDENCE_RULE. For a yes/no
question, the results that placed other papers on a claim's side also count for a claim that
gives its own paper's answer, without a judgement (`verify`, ANSWERS_ALIKE).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Annotated, Literal, NamedTuple

from pydantic import StringConstraints

from synth.agents import judge
from synth.agents.calibration import Calibration, calibrate
from synth.agents.judge import Judged
from synth.domain.records import (
    ANSWERS_ALIKE,
    Claim,
    Corroboration,
    Evidence,
    Label,
    Signals,
    Strict,
    Verdict,
)
from synth.domain.text import content_stems
from synth.model import prompts
from synth.model.llm import ItemDropped, Model
from synth.store.chunking import sentences

MAX_TOKENS = 120
# A passage less similar than this to the claim (embedding cosine) is not judged: no model call
# is made, and the verdict says why. On SciFact train 1.5 % of gold evidence passages lie below
# it, and nine in ten passages of abstracts drawn at random (bench/depth.py, bench/RESULTS.md).
UNRELATED_BELOW = 0.25
# How many sentences of each evidence passage the judge reads is its head's to say
# (`Head.judged_sentences`; None: the whole passage): a probe reads the states of inputs like
# those it was fitted on. The embedded model's probe reads whole passages. One fitted on the
# two sentences that share most content words with the claim met the verifier's SciFact goals
# in two thirds of the time (macro-F1 0.66, contradiction recall 0.48, ECE 0.068), but on the
# examples, where every passage is on the question's topic, it called twice as many claims
# contradicted, most wrongly (bench/RESULTS.md).
STANCES = ("unrelated", "supports", "contradicts")
Stance = Literal["unrelated", "supports", "contradicts"]
CONFIDENCE_RULE = (
    "Each verdict's evidence score is computed by code from what it counted. For SUPPORTED or "
    "CONTRADICTED it is 0.50, plus 0.15 for each independent paper with a passage on the side "
    "of the label (at most three), minus 0.15 for each paper with a passage on the other side, "
    "plus a tenth of how far the best such passage's retrieval similarity lies above 0.5, "
    "minus 0.10 when the claim's quote was not found in its passage, and minus a fifth of the "
    "model's doubt: one minus its token probability for its judgements, where the server "
    "gives log-probabilities (its stated judgement counts as certain otherwise). Passages from "
    "the claim's own paper count toward the label but not toward the score. For INSUFFICIENT "
    "it is 0.50 when no passage from another paper could be offered, and 0.05 more for each "
    "passage judged unrelated (at most four). Scores are kept between 0.30 and 0.95."
)


JUDGED_CONFIDENCE = (
    'Each passage was judged by asking the model "does the passage support the claim?" and '
    "turning what the model holds at its answer into the probability that the passage "
    "supports, contradicts or is unrelated to the claim, by a head fitted on labelled SciFact "
    "pairs: for the embedded model a linear probe on its hidden state where the answer begins, "
    "for another model its probabilities for the answers True, False and Unknown. A verdict "
    "rests on that probability: for SUPPORTED or "
    "CONTRADICTED, the highest probability of that stance among the passages the verdict "
    "rests on; for INSUFFICIENT, the lowest probability that a passage is unrelated. Where the "
    "head was also fitted on whole SciFact claims, that probability is mapped to how often "
    "such a verdict was right there, and the confidence is that rate. The label follows the "
    "papers counted on each side (a passage from the claim's own paper never contradicts it, "
    "nor, for a yes/no question, one from a paper that answers the question as the claim "
    "does; and one from a paper that answers it the other way never supports it). For a "
    "yes/no question, a claim that gives its paper's own answer is also supported by each "
    "other paper whose own result gives the same answer: the passage of the result that "
    "placed that paper is counted as supporting, without a judgement. A SUPPORTED verdict "
    "that rests on such passages alone has as its confidence the evidence score."
)


class Decision(NamedTuple):
    label: Label
    evidence: list[str]
    score: float
    stances: dict[str, str]
    signals: Signals


class Stances(Strict):
    E1: Stance


class Judgement(Strict):
    """{"stances": {"E1": stance}, "rationale": …}: the shape that measured best with small
    models (a bare `stance` field drew "contradicts" almost every time)."""

    stances: Stances
    rationale: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=150)
    ]


def decide(
    stances: dict[str, str],
    evidence: dict[str, Evidence],
    own_paper: str,
    quote_found: bool = True,
    probabilities: dict[str, float | None] | None = None,
    agreeing: frozenset[str] = frozenset(),
    opposing: frozenset[str] = frozenset(),
) -> Decision:
    """Label, evidence ids and evidence score from the per-passage judgements. `agreeing`
    and `opposing`: the other papers that answer the (yes/no) research question as the claim
    does, and the other way."""
    # A paper rarely contradicts itself; a "contradicts" from the claim's own paper is far
    # more often a misreading of two different settings, so it does not count. Nor does one
    # from a paper that gives the claim's answer to the question: the report quotes a
    # contradiction as a disagreement between papers, and two papers that answer alike do
    # not disagree on it (the judge has called "warmup did not help pre-norm models" the
    # opposite of "warmup did not help tiny models").
    # Nor does a "supports" from a paper whose own result answers the question the other way:
    # the judge reads by topic, and has called "rye did not reduce nitrate leaching" supported
    # by papers that measured a reduction.
    set_aside = {own_paper, *agreeing}
    stances = {
        e: "unrelated"
        if (s == "contradicts" and evidence[e].paper_id in set_aside)
        or (s == "supports" and evidence[e].paper_id in opposing)
        else s
        for e, s in stances.items()
    }
    papers = {
        side: {evidence[e].paper_id for e, s in stances.items() if s == side} - {own_paper}
        for side in ("supports", "contradicts")
    }
    ids = {side: sorted(e for e, s in stances.items() if s == side) for side in papers}
    n_for, n_against = len(papers["supports"]), len(papers["contradicts"])
    if not ids["supports"] and not ids["contradicts"]:
        signals = Signals(
            papers_for=0, papers_against=0, passages_judged=len(stances), best_score=0.0
        )
        return Decision(
            Label.INSUFFICIENT, [], rule_score(Label.INSUFFICIENT, signals), stances, signals
        )
    # Disagreement outweighs agreement on a tie: a claim some paper disputes is not settled.
    if n_against >= n_for and ids["contradicts"]:
        label, side, n_side, n_other = Label.CONTRADICTED, "contradicts", n_against, n_for
    else:
        label, side, n_side, n_other = Label.SUPPORTED, "supports", n_for, n_against
    known = [p for e in ids[side] if (p := (probabilities or {}).get(e)) is not None]
    signals = Signals(
        papers_for=n_side,
        papers_against=n_other,
        passages_judged=len(stances),
        best_score=max(evidence[e].score for e in ids[side]),
        model_probability=round(sum(known) / len(known), 4) if known else None,
    )
    return Decision(label, ids[side], rule_score(label, signals, quote_found), stances, signals)


def rule_score(label: Label, signals: Signals, quote_found: bool = True) -> float:
    """The evidence score CONFIDENCE_RULE states: monotone in the papers counted."""
    if label == Label.INSUFFICIENT:
        score = 0.50 + 0.05 * min(signals.passages_judged, 4)
    else:
        score = 0.50 + 0.15 * min(signals.papers_for, 3) - 0.15 * signals.papers_against
        score += 0.10 * (signals.best_score - 0.5)
        score -= 0.0 if quote_found else 0.10
        if signals.model_probability is not None:
            score -= 0.20 * (1.0 - signals.model_probability)
    return round(min(0.95, max(0.30, score)), 2)


def bearing(passage: str, claim: str, keep: int | None) -> str:
    """The `keep` sentences of `passage` that share most content words with `claim` (the
    earlier first on a tie), in the passage's order; the whole passage where `keep` is None or
    it has no more sentences than that."""
    if keep is None:
        return passage
    found = sentences(passage)
    if len(found) <= keep:
        return passage
    wanted = content_stems(claim)
    ranked = sorted(range(len(found)), key=lambda i: (-len(wanted & content_stems(found[i])), i))
    return " ".join(found[i].strip() for i in sorted(ranked[:keep]))


async def verify(
    model: Model,
    *,
    claim: Claim,
    evidence: list[Evidence],
    calibration: Calibration | None = None,
    agreeing: frozenset[str] = frozenset(),
    opposing: frozenset[str] = frozenset(),
    judged_sentences: int | None = None,
    corroborating: Sequence[Corroboration] = (),
) -> Verdict:
    """The claim's verdict from one judgement per passage (see `decide`; `agreeing` and
    `opposing`: the other papers that answer the research question as the claim does, and the
    other way). A passage far from the claim by meaning is not judged (UNRELATED_BELOW), nor
    one of a paper whose result already corroborates the claim; of
    the others the judge reads the sentences that bear most on the claim (`bearing`), as many
    as its head was fitted on unless `judged_sentences` says otherwise. `corroborating`: the
    results of other papers that answer a yes/no question as the claim gives its own paper's
    answer; each supports the claim without a judgement (the judge reads by the letter, and
    calls a fall in divergence from 31 to 3 percent unrelated to a fivefold rise in the
    largest stable learning rate, though both answer that warmup stabilises training)."""
    backing = {c.evidence.passage_id: c for c in corroborating}
    far = [e for e in evidence if e.score < UNRELATED_BELOW]
    # Another passage of a paper whose own result already backs the claim can move neither
    # side: that paper is counted for the claim, and its contradiction would be set aside
    # (`decide`). Measured on two quick starts, the judge called none of 31 such passages
    # supporting (bench/RESULTS.md).
    backers = {c.evidence.paper_id for c in corroborating} & agreeing
    spared = [e for e in evidence if e.paper_id in backers and e.passage_id not in backing]
    evidence = [
        e
        for e in evidence
        if e.score >= UNRELATED_BELOW and e.passage_id not in backing and e not in spared
    ]
    unjudged = (
        f" Not judged, being far from the claim (similarity below {UNRELATED_BELOW}): "
        + ", ".join(f"{e.passage_id} ({e.score:.2f})" for e in far)
        + "."
        if far
        else ""
    )
    unjudged += (
        " Not judged, their papers' own results already supporting the claim: "
        + ", ".join(e.passage_id for e in spared)
        + "."
        if spared
        else ""
    )
    if not evidence and not backing:
        signals = Signals(papers_for=0, papers_against=0, passages_judged=0, best_score=0.0)
        score = rule_score(Label.INSUFFICIENT, signals)
        return Verdict(
            claim_id=claim.id,
            label=Label.INSUFFICIENT,
            evidence=[],
            quote_found=claim.quote_found,
            confidence=calibrate(calibration, Label.INSUFFICIENT, score),
            rationale=(
                "No passage from another paper was available to check this claim against."
                if not far
                else "No passage from another paper came near enough to the claim to judge."
            )
            + unjudged,
            signals=signals,
            rule_score=score,
        )

    heads = {"probe": judge.head_for(model, "hidden_state"), "head": judge.head_for(model)}
    reader = judge.verifier_head(model)  # find_head is cached: no head file is read again
    keep = judged_sentences or (reader.judged_sentences if reader is not None else None)

    async def one(passage: Evidence) -> Judged | None:
        item = f"{claim.id}|{passage.passage_id}"
        premise = bearing(passage.text, claim.text, keep)
        judged = await judge.entailment(
            model, item=item, premise=premise, hypothesis=claim.text, probe=True
        )
        if judged is None:
            return await stated(model, claim, passage.passage_id, premise, item)
        head = heads.get(judged.source)
        return judge.shifted(judged, head.offsets) if head is not None else judged

    # Every judgement is awaited before an error is raised: a call already sent is paid for,
    # and its answer must reach the transcript even when a sibling stops the run.
    outcomes = await asyncio.gather(*(one(e) for e in evidence), return_exceptions=True)
    failed = next(
        (o for o in outcomes if isinstance(o, BaseException) and not isinstance(o, ItemDropped)),
        None,
    )
    if failed is not None:
        raise failed
    answered = [(e, j) for e, j in zip(evidence, outcomes, strict=True) if isinstance(j, Judged)]
    if evidence and not answered and not backing:
        raise ItemDropped("verifier", claim.id, "no judgement of any evidence passage was valid")
    offered = {e.passage_id: e for e, _ in answered} | {p: c.evidence for p, c in backing.items()}
    judged = {e.passage_id: j for e, j in answered}
    stances = {e: j.best for e, j in judged.items()} | dict.fromkeys(backing, "supports")
    probabilities = {
        e: None if j.source == "stated" else j.confidence for e, j in judged.items()
    } | {p: c.probability for p, c in backing.items()}
    decision = decide(
        stances, offered, claim.paper_id, claim.quote_found, probabilities, agreeing, opposing
    )
    label, chosen = decision.label, decision.evidence
    confidence = calibrate(calibration, label, decision.score)
    raw = None
    sources = {j.source for j in judged.values()}
    head = heads.get(sources.pop()) if len(sources) == 1 else None
    resting = [e for e in chosen if e in judged]
    # A label that rests on corroborating results alone keeps its evidence score: the head's
    # curves map a judged probability, and none was judged.
    if head is not None and (resting or label == Label.INSUFFICIENT):
        raw = judged_confidence(label, resting, judged)
        confidence = judge.verdict_confidence(head.verdicts, label.value, raw)
    judged_stances = {e: s for e, s in decision.stances.items() if e in judged}
    return Verdict(
        claim_id=claim.id,
        label=label,
        evidence=chosen,
        quote_found=claim.quote_found,
        confidence=confidence,
        rationale=" ".join(
            [
                *(corroborated(backing[e]) for e in sorted(backing)),
                rationale(judged_stances, judged, chosen, stances),
            ]
        ).strip()
        + unjudged,
        judgements={e: ANSWERS_ALIKE if e in backing else s for e, s in decision.stances.items()},
        signals=decision.signals.model_copy(update={"passages_judged": len(judged)}),
        rule_score=decision.score,
        judged=raw,
        probabilities={
            e: j.probabilities for e, j in sorted(judged.items()) if j.source != "stated"
        },
    )


def corroborated(backing: Corroboration) -> str:
    """The rationale's sentence for a passage counted as supporting without a judgement."""
    return (
        f"Passage {backing.evidence.passage_id} supports the claim: its paper's own result "
        f'answers the research question {backing.answer}, as the claim does ("'
        f'{" ".join(backing.sentence.split())}", read {backing.answer}'
        + (f", p = {backing.probability:.2f})." if backing.probability is not None else ").")
    )


def judged_confidence(label: Label, chosen: list[str], judged: dict[str, Judged]) -> float:
    """The fitted judge's probability behind the label: for SUPPORTED or CONTRADICTED, the
    highest probability of that stance among the passages it rests on; for INSUFFICIENT, the
    lowest probability that a passage is unrelated (the passage most likely to bear on the
    claim bounds how sure "no passage bears on it" can be)."""
    if label == Label.INSUFFICIENT:
        value = min(j.probabilities["unrelated"] for j in judged.values())
    else:
        side = "supports" if label == Label.SUPPORTED else "contradicts"
        value = max(judged[e].probabilities[side] for e in chosen)
    return round(min(0.99, max(0.01, value)), 2)


def rationale(
    stances: dict[str, str],
    judged: dict[str, Judged],
    chosen: list[str],
    read: dict[str, str] | None = None,
) -> str:
    """What the judge said of each passage, decisive ones first, in words and numbers;
    `read`: the judge's own stances, where a contradiction was set aside (see `decide`)."""
    order = sorted(stances, key=lambda e: (e not in chosen, e))
    parts = []
    for e in order:
        j, said = judged[e], (read or stances)[e]
        how = "stated" if j.source == "stated" else f"p = {j.probabilities[said]:.2f}"
        if said != stances[e]:  # set aside by `decide`: `said` is contradicts or supports
            why = (
                "its paper is the claim's own or answers the research question as the claim does"
                if said == "contradicts"
                else "its paper answers the research question the other way"
            )
            parts.append(f"Passage {e} {said} the claim ({how}), not counted: {why}.")
            continue
        verb = {"supports": "supports", "contradicts": "contradicts"}.get(said, "does not bear on")
        parts.append(f"Passage {e} {verb} the claim ({how}).")
    return " ".join(parts)


async def stated(
    model: Model, claim: Claim, passage_id: str, premise: str, item: str
) -> Judged | None:
    """The stance the model writes in JSON, for a server without log-probabilities: counted as
    certain, since nothing measures its doubt."""
    template = prompts.load("verifier")
    try:
        answer = await model.ask(
            agent="verifier",
            item=item,
            prompt=template,
            messages=template.messages(
                claim=claim.text, evidence=prompts.data_block("E1", premise)
            ),
            schema=Judgement,
            max_tokens=MAX_TOKENS,
            untrusted=[passage_id],
        )
    except ItemDropped:
        return None
    chosen = answer.stances.E1
    return Judged(probabilities={s: 1.0 if s == chosen else 0.0 for s in STANCES}, source="stated")
