"""Verifier: one claim against passages retrieved from the run's other papers.

The model judges one (claim, passage) pair per call (supports, contradicts or unrelated): the
smallest question, and the one small models answer best; judging several passages in one call
made them repeat the order of the options. The label, the evidence ids and the confidence are
then derived by code from the judgements, so every verdict rests on passages that were really
offered and its confidence always has the meaning stated in CONFIDENCE_DEFINITION.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

from pydantic import StringConstraints

from synth.agents import prompts
from synth.agents.llm import ItemDropped, Model
from synth.agents.schemas import Claim, Evidence, Label, Strict, Verdict, whole_sentences

MAX_TOKENS = 120
Stance = Literal["unrelated", "supports", "contradicts"]
CONFIDENCE_DEFINITION = (
    "Confidence is an uncalibrated score between 0.30 and 0.95 computed from the verifier's "
    "judgement of each evidence passage. For SUPPORTED or CONTRADICTED it is 0.50, plus 0.15 "
    "for each independent paper with a passage on the side of the label (at most three), "
    "minus 0.15 for each paper with a passage on the other side; passages from the claim's own "
    "paper count toward the label but not toward confidence. For INSUFFICIENT it is 0.60 "
    "when every offered passage was judged unrelated, and 0.50 when no passage from another "
    "paper could be offered at all."
)


class Stances(Strict):
    E1: Stance


class Judgement(Strict):
    """{"stances": {"E1": stance}, "rationale": …}: the shape that measured best with small
    models (a bare `stance` field drew "contradicts" almost every time)."""

    stances: Stances
    rationale: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=150)
    ]


def _finished(rationale: str) -> str:
    """A rationale cut by its length bound ends at its last whole sentence, or says it was cut."""
    text = whole_sentences(rationale, minimum=20)
    return text if text.endswith((".", "!", "?")) else text.rstrip(" ,;:") + " …"


def decide(
    stances: dict[str, str], evidence: dict[str, Evidence], own_paper: str
) -> tuple[Label, list[str], float]:
    """Label, evidence ids and confidence from the per-passage judgements."""
    # A paper rarely contradicts itself; a "contradicts" from the claim's own paper is far
    # more often a misreading of two different settings, so it does not count.
    stances = {
        e: "unrelated" if s == "contradicts" and evidence[e].paper_id == own_paper else s
        for e, s in stances.items()
    }
    papers = {
        side: {evidence[e].paper_id for e, s in stances.items() if s == side} - {own_paper}
        for side in ("supports", "contradicts")
    }
    ids = {side: sorted(e for e, s in stances.items() if s == side) for side in papers}
    n_for, n_against = len(papers["supports"]), len(papers["contradicts"])
    if not ids["supports"] and not ids["contradicts"]:
        return Label.INSUFFICIENT, [], 0.60
    # Disagreement outweighs agreement on a tie: a claim some paper disputes is not settled.
    if n_against >= n_for and ids["contradicts"]:
        label, side, n_side, n_other = Label.CONTRADICTED, "contradicts", n_against, n_for
    else:
        label, side, n_side, n_other = Label.SUPPORTED, "supports", n_for, n_against
    score = 0.50 + 0.15 * min(n_side, 3) - 0.15 * n_other
    return label, ids[side], round(min(0.95, max(0.30, score)), 2)


async def verify(model: Model, *, claim: Claim, evidence: list[Evidence]) -> Verdict:
    if not evidence:
        return Verdict(
            claim_id=claim.id,
            label=Label.INSUFFICIENT,
            evidence=[],
            quote_found=claim.quote_found,
            confidence=0.50,
            rationale="No passage from another paper was available to check this claim against.",
        )
    template = prompts.load("verifier")

    async def judge(passage: Evidence) -> Judgement | None:
        try:
            return await model.ask(
                agent="verifier",
                item=f"{claim.id}|{passage.passage_id}",
                prompt=template,
                messages=template.messages(
                    claim=claim.text, evidence=prompts.data_block("E1", passage.text)
                ),
                schema=Judgement,
                max_tokens=MAX_TOKENS,
                untrusted=[passage.passage_id],
            )
        except ItemDropped:
            return None

    # Every judgement is awaited before an error is raised: a call already sent is paid for,
    # and its answer must reach the transcript even when a sibling stops the run.
    outcomes = await asyncio.gather(*(judge(e) for e in evidence), return_exceptions=True)
    failed = next((o for o in outcomes if isinstance(o, BaseException)), None)
    if failed is not None:
        raise failed
    judgements = [o for o in outcomes if not isinstance(o, BaseException)]
    answered = [(e, j) for e, j in zip(evidence, judgements, strict=True) if j is not None]
    if not answered:
        raise ItemDropped("verifier", claim.id, "no judgement of any evidence passage was valid")
    offered = {e.passage_id: e for e, _ in answered}
    stances = {e.passage_id: j.stances.E1 for e, j in answered}
    label, chosen, confidence = decide(stances, offered, claim.paper_id)
    decisive = [j.rationale for e, j in answered if e.passage_id in chosen]
    rationale = " ".join(map(_finished, decisive or [answered[0][1].rationale]))
    return Verdict(
        claim_id=claim.id,
        label=label,
        evidence=chosen,
        quote_found=claim.quote_found,
        confidence=confidence,
        rationale=rationale,
    )
