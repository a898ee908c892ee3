"""Extractor: atomic claims from one passage, each tied to the sentences that state it.

Quotes by construction: the passage is offered as numbered sentences, the schema's sentence ids
are an enum of exactly those numbers, and the quote is copied by code from the stored text.
Attribution by construction: a sentence that reports what another work found ("Okafor et al.
found ...") is left out of the listing, so no claim of this paper can quote it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from synth.domain.records import ClaimKind, Passage, Strict
from synth.domain.sentences import reports_other_work
from synth.domain.text import Sentence, claim_text_problem, content_stems
from synth.model import prompts
from synth.model.llm import Model
from synth.store.chunking import quote_from_sentences, sentences

MAX_TOKENS = 700
_LABEL = re.compile(r"^\s*S\d+\s*[:.)-]\s*")


@dataclass(frozen=True)
class Extracted:
    text: str
    quote: str
    kind: str


@dataclass
class PassageClaims:
    claims: list[Extracted]
    rejected: list[str]  # why claims of a salvaged answer were left out


def extraction_schema(
    sentence_texts: list[str], max_claims: int, question: str = ""
) -> type[BaseModel]:
    ids = tuple(f"S{i + 1}" for i in range(len(sentence_texts)))
    SentenceId = Literal[ids]  # type: ignore[valid-type]
    asked = content_stems(question)

    class ClaimDraft(Strict):
        text: Sentence
        sentence_ids: list[SentenceId] = Field(min_length=1, max_length=3)  # type: ignore[valid-type]
        kind: ClaimKind

        @field_validator("text", mode="before")
        @classmethod
        def _drop_sentence_label(cls, value: object) -> object:
            # Small models sometimes copy the "S3:" label of the listing into the claim.
            return _LABEL.sub("", value) if isinstance(value, str) else value

        @field_validator("text")
        @classmethod
        def _atomic(cls, value: str) -> str:
            problem = claim_text_problem(value)
            if problem:
                raise ValueError(problem)
            return value

        @model_validator(mode="after")
        def _faithful(self) -> ClaimDraft:
            chosen = " ".join(sentence_texts[int(s[1:]) - 1] for s in self.sentence_ids)
            said = content_stems(chosen)
            claimed = content_stems(self.text)
            if claimed and claimed <= asked and not claimed <= said:
                raise ValueError(
                    "the claim repeats the research question instead of stating what the "
                    "passage reports"
                )
            if claimed and len(claimed & said) < max(1, round(0.6 * len(claimed))):
                raise ValueError(
                    "the claim does not restate its sentences: choose the sentence ids that "
                    "state it, or keep closer to their wording"
                )
            return self

    class Extraction(Strict):
        claims: list[ClaimDraft] = Field(max_length=max_claims)

        @classmethod
        def valid_part(cls, raw: str) -> tuple[Extraction | None, list[str]]:
            """The claims of an invalid answer that are valid on their own, and why the
            others were rejected."""
            try:
                items = json.loads(raw).get("claims", [])
            except (ValueError, AttributeError):
                return None, ["the answer was not JSON"]
            kept, rejected = [], []
            for item in items if isinstance(items, list) else []:
                try:
                    kept.append(ClaimDraft.model_validate(item))
                except ValidationError as error:
                    rejected.append(error.errors()[0]["msg"].removeprefix("Value error, "))
            return (cls(claims=kept[:max_claims]) if kept else None), rejected

    return Extraction


def numbered(passage_text: str) -> tuple[list[int], list[str], str]:
    """The passage's own sentences (not those reporting another work's finding, which are
    never this paper's claim) with their places in the passage, and their numbered listing."""
    every = sentences(passage_text)
    places = [i for i, t in enumerate(every) if not reports_other_work(t)]
    texts = [every[i] for i in places]
    return places, texts, "\n".join(f"S{n + 1}: {t}" for n, t in enumerate(texts))


async def extract(
    model: Model, *, question: str, passage: Passage, max_claims: int
) -> PassageClaims:
    places, texts, listing = numbered(passage.text)
    if not texts:
        return PassageClaims([], [])
    template = prompts.load("extractor")
    block = prompts.data_block(f"passage {passage.id} ({passage.section})", listing)
    schema = extraction_schema(texts, max_claims, question)
    rejected: list[str] = []

    def salvage(raw: str) -> BaseModel | None:
        kept, reasons = schema.valid_part(raw)  # type: ignore[attr-defined]
        rejected.extend(reasons)
        return kept

    answer = await model.ask(
        agent="extractor",
        item=passage.id,
        prompt=template,
        messages=template.messages(passage=block, max_claims=str(max_claims)),
        schema=schema,
        max_tokens=MAX_TOKENS,
        untrusted=[passage.id],
        salvage=salvage,
        # Measured: asked again, the embedded model wrote the same list with the same faulty
        # claim, at half a minute a passage; the valid claims beside it are kept instead.
        salvage_first=True,
    )
    results: list[Extracted] = []
    for claim in answer.claims:
        indices = stating_sentences(claim.text, texts, [int(s[1:]) - 1 for s in claim.sentence_ids])
        quote = quote_from_sentences(passage.text, [places[i] for i in indices])
        results.append(Extracted(claim.text, quote, claim.kind))
    return PassageClaims(results, rejected)


def stating_sentences(claim: str, texts: list[str], chosen: list[int]) -> list[int]:
    """The chosen sentences that really state the claim, so the quote is no wider than it.

    Models often list every sentence of a passage; a sentence stays when at least 40 % of its
    content words occur in the claim, and the best-matching one always stays.
    """
    claimed = content_stems(claim)

    def share(i: int) -> float:
        stems = content_stems(texts[i])
        return len(stems & claimed) / len(stems) if stems else 0.0

    unique = sorted(set(chosen))
    best = max(unique, key=lambda i: (share(i), -i))
    return [i for i in unique if i == best or share(i) >= 0.4]
