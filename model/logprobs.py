"""Token log-probabilities as a server returns them with a completion (OpenAI's
`logprobs.content` format): kept compact for the transcript, and read as a one-word answer.

A one-word answer asked without a grammar is read at its first token: each option gets the
best log-probability among the top tokens that begin its word, and the options' shares are
renormalised over them. (With a grammar some servers report log-probabilities from before the
grammar constrained the answer, as llama.cpp does, so the judge asks without one.)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import Field

from synth.domain.records import Strict

# A one-word answer is read at its first token; the rest of an answer's tokens are not kept,
# so that transcripts stay small.
KEPT_TOKENS = 32


class TokenAlternative(Strict):
    token: str
    logprob: float


class TokenLogprob(Strict):
    token: str
    logprob: float
    top_logprobs: list[TokenAlternative] = Field(default_factory=list)


def compact(content: Sequence[Any] | None) -> list[dict[str, Any]] | None:
    """The parts worth recording of a response's `logprobs.content` (SDK objects or dicts)."""
    if not content:
        return None

    def get(item: Any, key: str) -> Any:
        return item.get(key) if isinstance(item, dict) else getattr(item, key, None)

    return [
        {
            "token": get(t, "token") or "",
            "logprob": float(get(t, "logprob") or 0.0),
            "top_logprobs": [
                {"token": get(a, "token") or "", "logprob": float(get(a, "logprob") or 0.0)}
                for a in get(t, "top_logprobs") or []
            ],
        }
        for t in list(content)[:KEPT_TOKENS]
    ]


# One-word answers read from the first answer token ----------------------------------------------

CHOICE_LOGPROBS = 20  # the most OpenAI gives


class Choice(Strict):
    """A closed-set answer read from token log-probabilities: each option's log-probability
    (the best of the top tokens that begin its answer word; `floor` for an option that is not
    among them) and `probabilities`, renormalised over the options."""

    logprobs: dict[str, float]
    probabilities: dict[str, float]
    floor: float  # one below the lowest top log-probability: what an absent option gets


def read_choice(
    tokens: list[dict[str, Any]] | None, options: Mapping[str, str]
) -> tuple[Choice | None, str]:
    """The Choice among `options` (answer word → option name) at the first answer token, or
    None and why. A top token counts for a word when, stripped and lowercased, it is a
    non-empty beginning of that word (so "True", " true" and "Tr" all count for "True")."""
    if not tokens:
        return None, "the server returned no token log-probabilities"
    first = TokenLogprob.model_validate(tokens[0])
    top = first.top_logprobs or [TokenAlternative(token=first.token, logprob=first.logprob)]
    floor = min(a.logprob for a in top) - 1.0
    best = dict.fromkeys(options.values(), floor)
    for alt in top:
        piece = alt.token.strip().lower()
        if not piece:
            continue
        for word, name in options.items():
            if word.lower().startswith(piece):
                best[name] = max(best[name], alt.logprob)
    if all(v == floor for v in best.values()):
        return None, f"none of {', '.join(options)} was among the model's top answer tokens"
    top_lp = max(best.values())
    mass = {name: math.exp(lp - top_lp) for name, lp in best.items()}
    total = sum(mass.values())
    return (
        Choice(
            logprobs={k: round(v, 4) for k, v in best.items()},
            probabilities={k: round(v / total, 4) for k, v in mass.items()},
            floor=round(floor, 4),
        ),
        "",
    )
