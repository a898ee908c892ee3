"""Verifier: one claim against passages retrieved from the run's papers.

Evidence ids are an enum of the passages offered in the call. The label is the model's; the
confidence is computed here from what the code can count (see CONFIDENCE_DEFINITION), so it
always has the same stated meaning.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator

from synth.agents import prompts
from synth.agents.llm import Model
from synth.agents.schemas import Claim, Evidence, Label, Passage, Sentence, Strict, Verdict

MAX_TOKENS = 400
STRENGTH_BASE = {"strong": 0.85, "moderate": 0.70, "weak": 0.55}
CONFIDENCE_DEFINITION = (
    "Confidence is an uncalibrated score in [0.30, 0.95] for how well the retrieved evidence "
    "backs a claim's label. It starts from the verifier's stated strength of evidence (strong "
    "0.85, moderate 0.70, weak 0.55), adds 0.05 for each further independent paper among the "
    "cited evidence, and subtracts 0.15 when a SUPPORTED or CONTRADICTED label rests only on "
    "the claim's own paper. A claim with no passage from another paper to check against is "
    "INSUFFICIENT at 0.50."
)


def verdict_schema(evidence_ids: list[str]) -> type[BaseModel]:
    EvidenceId = Literal[tuple(evidence_ids)]  # type: ignore[valid-type]

    class VerdictDraft(Strict):
        label: Label
        evidence: list[EvidenceId] = Field(default_factory=list, max_length=len(evidence_ids))  # type: ignore[valid-type]
        strength: Literal["strong", "moderate", "weak"]
        rationale: Sentence

        @model_validator(mode="after")
        def _evidence_for_label(self) -> VerdictDraft:
            if self.label != Label.INSUFFICIENT and not self.evidence:
                raise ValueError(f"a {self.label.value} verdict must cite at least one evidence id")
            return self

    return VerdictDraft


def confidence(label: Label, strength: str, cited_papers: set[str], own_paper: str) -> float:
    others = cited_papers - {own_paper}
    score = STRENGTH_BASE[strength]
    if label != Label.INSUFFICIENT:
        if others:
            score += 0.05 * (len(others) - 1)
        else:
            score -= 0.15
    return round(min(0.95, max(0.30, score)), 2)


async def verify(
    model: Model, *, claim: Claim, source: Passage, source_title: str, evidence: list[Evidence]
) -> Verdict:
    if not evidence:
        return Verdict(
            claim_id=claim.id,
            label=Label.INSUFFICIENT,
            evidence=[],
            quote_found=claim.quote_found,
            confidence=0.5,
            strength="weak",
            rationale="No passage from another paper was available to check this claim against.",
        )
    labels = [f"E{i + 1}" for i in range(len(evidence))]
    listing = "\n\n".join(
        prompts.data_block(label, f"(paper {e.paper_id}) {e.text}")
        for label, e in zip(labels, evidence, strict=True)
    )
    template = prompts.load("verifier")
    answer = await model.ask(
        agent="verifier",
        item=claim.id,
        prompt=template,
        messages=template.messages(
            claim=claim.text,
            source=prompts.data_block("source", source.text),
            source_title=source_title,
            evidence=listing,
        ),
        schema=verdict_schema(labels),
        max_tokens=MAX_TOKENS,
        untrusted=[source.id, *(e.passage_id for e in evidence)],
    )
    chosen = [evidence[labels.index(e)] for e in dict.fromkeys(answer.evidence)]
    return Verdict(
        claim_id=claim.id,
        label=answer.label,
        evidence=[e.passage_id for e in chosen],
        quote_found=claim.quote_found,
        confidence=confidence(
            answer.label,
            answer.strength,
            {e.paper_id for e in chosen},
            claim.paper_id,
        ),
        strength=answer.strength,
        rationale=answer.rationale,
    )
