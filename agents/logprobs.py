"""The model's own probability for a choice it wrote, from the token log-probabilities a server
returns with a completion (OpenAI's `logprobs.content` format).

Only the first token of the chosen value is read: its top alternatives are shared out among
the options they begin, and the chosen option's share is its probability. Some servers report
log-probabilities from before a grammar or schema constrained the answer (llama.cpp does); the
chosen token is then often missing from its own top list, and no probability is claimed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from pydantic import Field

from synth.agents.schemas import Strict

TOP_LOGPROBS = 10
# Choices are read near the start of an answer (schemas put them first); later tokens are not
# kept, so that transcripts stay small.
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


def choice_probability(
    tokens: list[dict[str, Any]] | None, field: str, chosen: str, options: Sequence[str]
) -> float | None:
    """P(chosen) among `options` at the first token of the JSON string value of `field`."""
    if not tokens:
        return None
    parsed = [TokenLogprob.model_validate(t) for t in tokens]
    text = "".join(t.token for t in parsed)
    match = re.search(rf'"{re.escape(field)}"\s*:\s*"({re.escape(chosen)})"', text)
    if match is None:
        return None
    start = match.start(1)
    offset = 0
    for token in parsed:
        if offset <= start < offset + len(token.token):
            lead = token.token[: start - offset]  # what the token holds before the value
            mass = dict.fromkeys(options, 0.0)
            for alt in token.top_logprobs:
                if not alt.token.startswith(lead):
                    continue
                rest = alt.token[len(lead) :]
                for option in options:
                    if rest and (option.startswith(rest) or rest.startswith(option)):
                        mass[option] += math.exp(alt.logprob)
                        break
            total = sum(mass.values())
            if mass[chosen] <= 0.0 or total <= 0.0:
                return None
            return round(mass[chosen] / total, 4)
        offset += len(token.token)
    return None
