"""Reviewers: personas with their own rubric, scoring a draft criterion by criterion.

A persona is a file `prompts/reviewer_<name>.md` with a `[persona]` line and a `[criteria]`
list (`key: what a good draft does`). The schema has one required field per criterion, so no
score can come without its rubric line, and the overall score is computed here.
"""

from __future__ import annotations

import json
import re

from pydantic import BaseModel, Field, create_model, field_validator

from synth.agents import prompts
from synth.agents.llm import Model
from synth.agents.schemas import (
    CriterionDraft,
    CriterionScore,
    Review,
    Short,
    Strict,
    content_stems,
    whole_sentences,
)

MAX_TOKENS = 900


def personas() -> list[str]:
    return [name.removeprefix("reviewer_") for name in prompts.available("reviewer_")]


def rubric(persona: str) -> dict[str, str]:
    text = prompts.load(f"reviewer_{persona}").parts["criteria"]
    pairs = (line.split(":", 1) for line in text.splitlines() if ":" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def located(quote: str, draft: str) -> bool:
    """Whether `quote` is a span of `draft`, ignoring case, spacing and the punctuation at its
    ends; a quote of fewer than three words speaks of nothing in particular."""
    core = " ".join(quote.split()).strip(" .,;:!?\"'“”‘’").lower()
    return len(core.split()) >= 3 and core in " ".join(draft.split()).lower()


def criterion_schema(key: str, rule: str, draft: str | None = None) -> type[BaseModel]:
    """A score for one criterion whose justification must speak of the draft: it quotes a
    span of `draft` (checked here) and does not restate the rubric line (small models often
    copy it)."""
    rubric_stems = content_stems(rule)

    def whole(cls: type, value: object) -> object:
        return whole_sentences(value, minimum=15) if isinstance(value, str) else value

    def about_the_draft(cls: type, value: str) -> str:
        stems = content_stems(value)
        shared = stems & rubric_stems
        if len(shared) >= 3 and len(shared) / len(stems) >= 0.75:
            raise ValueError(
                f"the justification of {key} repeats the criterion: say what this draft "
                "does or lacks (name a finding or section)"
            )
        return value

    def in_the_draft(cls: type, value: str) -> str:
        if draft is not None and not located(value, draft):
            raise ValueError(
                f"the quote of {key} is not in the draft: copy three or more words of the "
                "draft exactly, the words the justification is about"
            )
        return value

    return create_model(  # type: ignore[call-overload, no-any-return]
        f"Criterion_{key}",
        __base__=CriterionDraft,
        __validators__={
            "whole": field_validator("justification", mode="before")(whole),
            "about_the_draft": field_validator("justification")(about_the_draft),
            "in_the_draft": field_validator("quote")(in_the_draft),
        },
    )


def review_schema(criteria: dict[str, str], draft: str | None = None) -> type[BaseModel]:
    scores = create_model(  # type: ignore[call-overload]
        "Scores",
        __base__=Strict,
        **{key: (criterion_schema(key, rule, draft), ...) for key, rule in criteria.items()},
    )

    class ReviewDraft(Strict):
        scores: scores  # type: ignore[valid-type]
        requests: list[Short] = Field(max_length=3)

        @field_validator("requests")
        @classmethod
        def _finished(cls, value: list[str]) -> list[str]:
            # A request cut off or trailing into another script is dropped, not re-asked for:
            # the scores are what the loop needs, and the other requests still stand.
            kept = (whole_sentences(r, minimum=15) for r in value)
            return [r for r in kept if re.search(r"[.!?]$", r) and r.isascii()]

    return ReviewDraft


RESTATED = "(The reviewer only restated the criterion; no reason specific to this draft.)"
UNCHECKED = "(Its quote is not in the draft, so nothing checks that this reason is about it.)"


def salvage_review(
    raw: str, criteria: dict[str, str], draft: str
) -> tuple[BaseModel, dict[str, bool]] | None:
    """The scores of a last answer that failed only because justifications restated the
    rubric or quoted words that are not in the draft: kept, each such justification replaced
    by a line that says why, and marked unchecked (the second value: criterion → checked), so
    that the reader sees the score has no checked reason. None when the answer is not even a
    score for every criterion."""
    lenient = create_model(  # type: ignore[call-overload]
        "Scores", __base__=Strict, **{key: (CriterionDraft, ...) for key in criteria}
    )
    try:
        data = json.loads(raw)
        lenient.model_validate(data["scores"])
    except (ValueError, KeyError, TypeError):
        return None
    checked: dict[str, bool] = {}
    cleaned = {}
    for key, value in data["scores"].items():
        try:
            criterion_schema(key, criteria[key], draft).model_validate(value)
            checked[key] = True
        except ValueError as error:
            restated = "repeats the criterion" in str(error)
            value = {**value, "justification": RESTATED if restated else UNCHECKED}
            checked[key] = False
        cleaned[key] = value
    asked = data.get("requests")
    requests = [r for r in asked if isinstance(r, str)][:3] if isinstance(asked, list) else []
    try:
        return review_schema(criteria).model_validate(
            {"scores": cleaned, "requests": requests}
        ), checked
    except ValueError:
        return None


async def review(model: Model, *, persona: str, round_no: int, question: str, draft: str) -> Review:
    """One persona's scores for `draft`. A score counts only when its justification quotes
    the draft; a review none of whose scores does is kept for the reader but not counted."""
    criteria = rubric(persona)
    template = prompts.load("reviewer")
    profile = prompts.load(f"reviewer_{persona}")
    marks: dict[str, bool] = {}

    def salvage(raw: str) -> BaseModel | None:
        found = salvage_review(raw, criteria, draft)
        if found is None:
            return None
        marks.update(found[1])
        return found[0]

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
        schema=review_schema(criteria, draft),
        max_tokens=MAX_TOKENS,
        untrusted=["draft"],
        salvage=salvage,
    )
    dumped = answer.model_dump()
    scores = {
        k: CriterionScore(**v, checked=marks.get(k, True)) for k, v in dumped["scores"].items()
    }
    counted = [s for s in scores.values() if s.checked]
    overall = round(sum(s.score for s in counted) / len(counted), 1) if counted else 0.0
    return Review(
        reviewer=persona,
        round=round_no,
        scores=scores,
        overall=overall,
        requests=dumped["requests"],
        counted=bool(counted),
    )
