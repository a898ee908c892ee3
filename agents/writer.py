"""Writer: findings that answer the question, each resting on claim ids; then one revision.

The writer never sees or writes citation numbers, counts or the reference list: the report
builder derives all of those from the claim ids it returns.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from synth.agents import prompts
from synth.agents.llm import Model
from synth.agents.schemas import Claim, FindingDraftBase, Strict, Verdict, WriterDraftBase

MAX_TOKENS = 1800


class FindingOut(Strict):
    statement: str
    claim_ids: list[str]


class Draft(Strict):
    """The writer's answer, stored as a checkpoint and rendered into the report."""

    title: str
    abstract: str
    introduction: str
    findings: list[FindingOut]
    discussion: str
    limitations: str


def writer_schema(claim_ids: list[str]) -> type[BaseModel]:
    ClaimId = Literal[tuple(claim_ids)]  # type: ignore[valid-type]

    class FindingDraft(FindingDraftBase):
        claim_ids: list[ClaimId] = Field(min_length=1, max_length=6)  # type: ignore[valid-type]

    class WriterDraft(WriterDraftBase):
        findings: list[FindingDraft] = Field(min_length=1, max_length=6)

    return WriterDraft


def claims_listing(
    claims: list[Claim], verdicts: dict[str, Verdict], titles: dict[str, str]
) -> str:
    lines = []
    for claim in claims:
        verdict = verdicts[claim.id]
        lines.append(
            f"{claim.id} ({verdict.label.value}, confidence {verdict.confidence:.2f}; "
            f'from "{titles[claim.paper_id]}"): {claim.text}'
        )
    return prompts.data_block("claims", "\n".join(lines))


def draft_text(draft: Draft) -> str:
    findings = "\n".join(
        f"- {f.statement} (claims: {', '.join(f.claim_ids)})" for f in draft.findings
    )
    return (
        f"Title: {draft.title}\n\nAbstract: {draft.abstract}\n\nIntroduction: "
        f"{draft.introduction}\n\nFindings:\n{findings}\n\nDiscussion: {draft.discussion}\n\n"
        f"Limitations: {draft.limitations}"
    )


def _to_draft(answer: BaseModel) -> Draft:
    return Draft.model_validate(answer.model_dump(mode="json"))


async def write(
    model: Model,
    *,
    question: str,
    sub_questions: list[str],
    claims: list[Claim],
    verdicts: dict[str, Verdict],
    titles: dict[str, str],
) -> Draft:
    template = prompts.load("writer")
    answer = await model.ask(
        agent="writer",
        item="draft-0",
        prompt=template,
        messages=template.messages(
            question=question,
            sub_questions="\n".join(f"- {q}" for q in sub_questions),
            claims=claims_listing(claims, verdicts, titles),
        ),
        schema=writer_schema([c.id for c in claims]),
        max_tokens=MAX_TOKENS,
        untrusted=["claims"],
    )
    return _to_draft(answer)


async def revise(
    model: Model,
    *,
    round_no: int,
    question: str,
    draft: Draft,
    requests: list[str],
    claims: list[Claim],
    verdicts: dict[str, Verdict],
    titles: dict[str, str],
) -> Draft:
    template = prompts.load("writer_revise")
    answer = await model.ask(
        agent="writer",
        item=f"draft-{round_no}",
        prompt=template,
        messages=template.messages(
            question=question,
            claims=claims_listing(claims, verdicts, titles),
            draft=prompts.data_block("draft", draft_text(draft)),
            requests=prompts.data_block("requests", "\n".join(f"- {r}" for r in requests)),
        ),
        schema=writer_schema([c.id for c in claims]),
        max_tokens=MAX_TOKENS,
        untrusted=["claims", "draft", "requests"],
    )
    return _to_draft(answer)
