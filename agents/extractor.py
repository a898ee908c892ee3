"""Extractor: atomic claims from one passage, each tied to the sentences that state it.

Quotes by construction: the passage is offered as numbered sentences, the schema's sentence ids
are an enum of exactly those numbers, and the quote is copied by code from the stored text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from synth.agents import prompts
from synth.agents.llm import Model
from synth.agents.schemas import ClaimKind, Passage, Sentence, Strict, claim_text_problem
from synth.store.chunking import quote_from_sentences, sentences

MAX_TOKENS = 700
_STOP = {
    "that",
    "this",
    "with",
    "from",
    "were",
    "was",
    "have",
    "has",
    "been",
    "than",
    "into",
    "when",
    "which",
    "their",
    "there",
    "these",
    "those",
    "they",
    "also",
    "more",
    "less",
    "such",
    "over",
    "under",
    "between",
    "while",
    "about",
    "after",
    "before",
    "only",
    "both",
    "each",
    "other",
}


@dataclass(frozen=True)
class Extracted:
    text: str
    quote: str
    kind: str


def content_stems(text: str) -> set[str]:
    words = re.findall(r"[a-z][a-z-]{3,}", text.lower())
    return {w[:5] for w in words if w not in _STOP}


def extraction_schema(sentence_texts: list[str], max_claims: int) -> type[BaseModel]:
    ids = tuple(f"S{i + 1}" for i in range(len(sentence_texts)))
    SentenceId = Literal[ids]  # type: ignore[valid-type]

    class ClaimDraft(Strict):
        text: Sentence
        sentence_ids: list[SentenceId] = Field(min_length=1, max_length=3)  # type: ignore[valid-type]
        kind: ClaimKind

        @field_validator("text")
        @classmethod
        def _atomic(cls, value: str) -> str:
            problem = claim_text_problem(value)
            if problem:
                raise ValueError(problem)
            return value

        @model_validator(mode="after")
        def _faithful(self) -> ClaimDraft:
            said = content_stems(
                " ".join(sentence_texts[int(s[1:]) - 1] for s in self.sentence_ids)
            )
            claimed = content_stems(self.text)
            shared = claimed & said
            if claimed and len(shared) < min(3, max(1, len(claimed) // 2)):
                raise ValueError(
                    "the claim does not restate its sentences: choose the sentence ids that "
                    "state it, or keep closer to their wording"
                )
            return self

    class Extraction(Strict):
        claims: list[ClaimDraft] = Field(max_length=max_claims)

    return Extraction


def numbered(passage_text: str) -> tuple[list[str], str]:
    texts = sentences(passage_text)
    return texts, "\n".join(f"S{i + 1}: {t}" for i, t in enumerate(texts))


async def extract(
    model: Model, *, question: str, title: str, passage: Passage, max_claims: int
) -> list[Extracted]:
    texts, listing = numbered(passage.text)
    if not texts:
        return []
    template = prompts.load("extractor")
    block = prompts.data_block(f"passage {passage.id} ({passage.section})", listing)
    answer = await model.ask(
        agent="extractor",
        item=passage.id,
        prompt=template,
        messages=template.messages(
            question=question, title=title, passage=block, max_claims=str(max_claims)
        ),
        schema=extraction_schema(texts, max_claims),
        max_tokens=MAX_TOKENS,
        untrusted=[passage.id],
    )
    results: list[Extracted] = []
    for claim in answer.claims:
        indices = [int(s[1:]) - 1 for s in claim.sentence_ids]
        results.append(
            Extracted(claim.text, quote_from_sentences(passage.text, indices), claim.kind)
        )
    return results
