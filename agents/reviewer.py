"""Reviewers: personas with their own rubric, scoring a draft criterion by criterion.

A persona is a file `prompts/reviewer_<name>.md` with a `[persona]` line and a `[criteria]`
list (`key: what a good draft does`). The schema has one required field per criterion, so no
score can come without its rubric line, and the overall score is computed here.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, create_model

from synth.agents import prompts
from synth.agents.llm import Model
from synth.agents.schemas import CriterionDraft, CriterionScore, Review, Short, Strict

MAX_TOKENS = 900


def personas() -> list[str]:
    return [name.removeprefix("reviewer_") for name in prompts.available("reviewer_")]


def rubric(persona: str) -> dict[str, str]:
    text = prompts.load(f"reviewer_{persona}").parts["criteria"]
    pairs = (line.split(":", 1) for line in text.splitlines() if ":" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def review_schema(criteria: list[str]) -> type[BaseModel]:
    scores = create_model(  # type: ignore[call-overload]
        "Scores", __base__=Strict, **{key: (CriterionDraft, ...) for key in criteria}
    )

    class ReviewDraft(Strict):
        scores: scores  # type: ignore[valid-type]
        requests: list[Short] = Field(max_length=3)

    return ReviewDraft


async def review(model: Model, *, persona: str, round_no: int, question: str, draft: str) -> Review:
    criteria = rubric(persona)
    template = prompts.load("reviewer")
    profile = prompts.load(f"reviewer_{persona}")
    answer = await model.ask(
        agent="reviewer",
        item=f"{persona}-{round_no}",
        prompt=prompts.combined(template, profile),
        messages=template.messages(
            persona=profile.parts["persona"],
            question=question,
            criteria="\n".join(f"- {k}: {v}" for k, v in criteria.items()),
            draft=prompts.data_block("draft", draft),
        ),
        schema=review_schema(list(criteria)),
        max_tokens=MAX_TOKENS,
        untrusted=["draft"],
    )
    dumped = answer.model_dump()
    scores = {k: CriterionScore(**v) for k, v in dumped["scores"].items()}
    overall = round(sum(s.score for s in scores.values()) / len(scores), 1)
    return Review(
        reviewer=persona,
        round=round_no,
        scores=scores,
        overall=overall,
        requests=dumped["requests"],
    )
