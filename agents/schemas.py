"""Drafts: what a model may answer. They hold no field the code owns, are bounded so a small
model cannot ramble, and their validators carry the quality rules (no meta-claims, no fragments,
no invented numbers). Ids offered in a call are enums built per call, in the agent's module."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints, field_validator, model_validator

from synth.domain.records import Strict
from synth.domain.text import (
    STATEMENT_CHARS,
    Paragraph,
    Sentence,
    Short,
    check_prose,
    repeats,
    whole_sentences,
    within_the_rules,
    without_counts,
    without_echoes,
    without_repeats,
)


class SearchDraft(Strict):
    query: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=120)]
    rationale: Short


class SubQuestionsDraft(Strict):
    sub_questions: list[Sentence] = Field(min_length=1, max_length=5)


class PlanDraft(SubQuestionsDraft):
    searches: list[SearchDraft] = Field(min_length=1, max_length=6)


class CriterionDraft(Strict):
    score: int = Field(ge=0, le=10)
    quote: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=240)]
    justification: Short


Statement = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=20, max_length=STATEMENT_CHARS)
]


class FrameDraft(Strict):
    """The writer's prose around the findings."""

    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=150)]
    abstract: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=80, max_length=1500)
    ]
    introduction: Paragraph
    discussion: Paragraph
    limitations: Paragraph

    @field_validator("abstract", "introduction", "discussion", "limitations", mode="before")
    @classmethod
    def _drop_fragment(cls, value: object) -> object:
        return (
            within_the_rules(without_echoes(without_counts(whole_sentences(value))))
            if isinstance(value, str)
            else value
        )

    @field_validator("title")
    @classmethod
    def _title_rules(cls, value: str) -> str:
        return check_prose(value, complete=False)

    @field_validator("abstract", "introduction", "discussion", "limitations")
    @classmethod
    def _prose_rules(cls, value: str) -> str:
        return check_prose(value)

    @model_validator(mode="before")
    @classmethod
    def _drop_copies(cls, data: object) -> object:
        """The sentences a section copies from the abstract are dropped by code rather than
        re-asked for (a small model asked again copies them again); a section that is
        nothing but copies is left for the check below to refuse."""
        if not isinstance(data, dict) or not isinstance(data.get("abstract"), str):
            return data
        cleaned = dict(data)
        for name in ("introduction", "discussion", "limitations"):
            value = data.get(name)
            if isinstance(value, str) and without_repeats(data["abstract"], value):
                cleaned[name] = without_repeats(data["abstract"], value)
        return cleaned

    @model_validator(mode="after")
    def _sections_differ(self) -> FrameDraft:
        for name in ("introduction", "discussion", "limitations"):
            if repeats(self.abstract, getattr(self, name)):
                raise ValueError(f"the {name} repeats the abstract: give it its own content")
        return self
