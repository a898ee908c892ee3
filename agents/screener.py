"""Screener: how relevant a search result is to the question, judged from title and abstract.

The model rates relevance on a four-step scale with a reason; code decides what is included
(high and medium) and applies the cap on papers, so the report can state true counts.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import StringConstraints, field_validator

from synth.domain.records import Paper, Strict
from synth.domain.text import whole_sentences
from synth.model import prompts
from synth.model.llm import Model

MAX_TOKENS = 120
Relevance = Literal["high", "medium", "low", "none"]
INCLUDED: tuple[Relevance, ...] = ("high", "medium")
ABSTRACT_CHARS = 2000


class ScreenDraft(Strict):
    # The reason comes first: small models rate more carefully after saying what the paper
    # studies, and it is what a reader sees beside the rating.
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=20, max_length=200)]
    relevance: Relevance

    @field_validator("reason", mode="before")
    @classmethod
    def _drop_fragment(cls, value: object) -> object:
        return whole_sentences(value, minimum=20) if isinstance(value, str) else value


def candidate_text(paper: Paper) -> str:
    abstract = paper.abstract[:ABSTRACT_CHARS] or "(no abstract available)"
    year = f" ({paper.year})" if paper.year else ""
    return f"Title: {paper.title}{year}\nAbstract: {abstract}"


async def screen(model: Model, *, question: str, paper: Paper) -> ScreenDraft:
    template = prompts.load("screener")
    return await model.ask(
        agent="screener",
        item=paper.id,
        prompt=template,
        messages=template.messages(
            question=question, candidate=prompts.data_block("P1", candidate_text(paper))
        ),
        schema=ScreenDraft,
        max_tokens=MAX_TOKENS,
        untrusted=[paper.id],
    )
