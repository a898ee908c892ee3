"""Reviewers: personas with their own rubric, scoring a draft criterion by criterion.

A persona is a file `prompts/reviewer_<name>.md` with a `[persona]` line and a `[criteria]`
list (`key: what a good draft does`). The schema has one required field per criterion, so no
score can come without its rubric line, and the overall score is computed here.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field, create_model, field_validator

from synth.agents.schemas import CriterionDraft
from synth.domain.records import CriterionScore, Review, Strict
from synth.domain.text import Short, content_stems, whole_sentences
from synth.model import prompts
from synth.model.llm import Model

MAX_TOKENS = 900


def personas() -> list[str]:
    return [name.removeprefix("reviewer_") for name in prompts.available("reviewer_")]


def rubric(persona: str) -> dict[str, str]:
    text = prompts.load(f"reviewer_{persona}").parts["criteria"]
    pairs = (line.split(":", 1) for line in text.splitlines() if ":" in line)
    return {key.strip(): value.strip() for key, value in pairs}


QUOTE_RUN = 8  # words of a longer quote that must stand in the draft in one run


def _words(text: str) -> list[str]:
    return [w.strip(".,;:!?\"'“”‘’()[]").lower() for w in text.split()]


def located(quote: str, draft: str) -> bool:
    """Whether `quote` speaks of a span of `draft`: all of a short quote (three words or
    more), or a run of QUOTE_RUN of its words in a row, stands in the draft, ignoring case,
    spacing and punctuation. A model often copies a span and then strays from it (a spelling
    of its own, a paraphrased or cut-off end); the run it copied still ties the reason to the
    draft. A quote of fewer than three words speaks of nothing in particular."""
    words = [w for w in _words(quote) if w]
    if len(words) < 3:
        return False
    text = " " + " ".join(w for w in _words(draft) if w) + " "
    run = min(len(words), QUOTE_RUN)
    return any(f" {' '.join(words[i : i + run])} " in text for i in range(len(words) - run + 1))


def restates(justification: str, rule: str) -> bool:
    """Whether a justification only restates its rubric line (small models often copy it)."""
    stems = content_stems(justification)
    shared = stems & content_stems(rule)
    return len(shared) >= 3 and len(shared) / len(stems) >= 0.75


def criterion_schema(key: str) -> type[BaseModel]:
    """A score for one criterion: a score, a quote and a one-line justification. Whether the
    quote is words of the draft and the reason more than the rubric is checked by code after
    (`checked_scores`), not re-asked: a small model asked again repeats its answer (see
    bench/RESULTS.md), and a score without a checked reason is shown as such."""

    def whole(cls: type, value: object) -> object:
        return whole_sentences(value, minimum=15) if isinstance(value, str) else value

    return create_model(  # type: ignore[call-overload, no-any-return]
        f"Criterion_{key}",
        __base__=CriterionDraft,
        __validators__={"whole": field_validator("justification", mode="before")(whole)},
    )


def review_schema(criteria: dict[str, str]) -> type[BaseModel]:
    scores = create_model(  # type: ignore[call-overload]
        "Scores",
        __base__=Strict,
        **{key: (criterion_schema(key), ...) for key in criteria},
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


def checked_scores(
    scores: dict[str, dict[str, Any]], criteria: dict[str, str], draft: str
) -> dict[str, CriterionScore]:
    """Each criterion's score, marked checked when its quote is words of `draft` and its
    justification says more than the rubric line; an unchecked one keeps its score for the
    reader, with its justification replaced by a line that says why it does not count."""
    marked = {}
    for key, value in scores.items():
        justification, quote = str(value["justification"]), str(value["quote"])
        if restates(justification, criteria[key]):
            unchecked: str | None = RESTATED
        else:
            unchecked = None if located(quote, draft) else UNCHECKED
        marked[key] = CriterionScore(
            score=value["score"],
            quote=quote,
            justification=unchecked or justification,
            checked=unchecked is None,
        )
    return marked


async def review(model: Model, *, persona: str, round_no: int, question: str, draft: str) -> Review:
    """One persona's scores for `draft`. A score counts only when its justification quotes
    the draft; a review none of whose scores does is kept for the reader but not counted."""
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
        schema=review_schema(criteria),
        max_tokens=MAX_TOKENS,
        untrusted=["draft"],
    )
    dumped = answer.model_dump()
    scores = checked_scores(dumped["scores"], criteria, draft)
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
