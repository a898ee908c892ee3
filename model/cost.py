"""What model calls cost: a price table per model, zero for models on this machine.

Prices are US dollars per million tokens, input and output. The defaults are OpenAI's list
prices for a few common models as published in 2025; `[prices."NAME"]` in synth.toml adds or
overrides a model (`input = …`, `output = …`). A hosted model with no price is reported as
unpriced, never as free.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from synth.domain.settings import Price
from synth.urls import is_local

DEFAULT_PRICES: dict[str, Price] = {
    "gpt-4o": Price(input=2.50, output=10.00),
    "gpt-4o-mini": Price(input=0.15, output=0.60),
    "gpt-4.1": Price(input=2.00, output=8.00),
    "gpt-4.1-mini": Price(input=0.40, output=1.60),
    "gpt-4.1-nano": Price(input=0.10, output=0.40),
    "o4-mini": Price(input=1.10, output=4.40),
}


def is_sent(entry: Mapping[str, Any]) -> bool:
    """Whether a transcript entry went to a model (cache hits and replays did not)."""
    return not entry.get("cache_hit") and not entry.get("replayed")


def tokens_of(entry: Mapping[str, Any]) -> tuple[int, int]:
    usage = entry.get("usage") or {}
    return (
        int(usage.get("prompt_tokens") or entry.get("tokens_estimate", 0)),
        int(usage.get("completion_tokens") or 0),
    )


def price_for(entry: Mapping[str, Any], prices: Mapping[str, Price]) -> Price | None:
    """The price of the entry's model; zero on this machine; None when unknown."""
    if is_local(str((entry.get("endpoint") or {}).get("base_url", ""))):
        return Price(input=0.0, output=0.0)
    model = str(entry.get("model", ""))
    table = {**DEFAULT_PRICES, **prices}
    if model in table:
        return table[model]
    # Dated snapshots ("gpt-4o-mini-2024-07-18") cost what their model costs.
    matches = [name for name in table if model.startswith(name + "-")]
    return table[max(matches, key=len)] if matches else None


def cost_of(
    entries: Iterable[Mapping[str, Any]], prices: Mapping[str, Price]
) -> tuple[float, list[str]]:
    """Dollars for the calls sent, and the models that had no price."""
    total, unpriced = 0.0, set()
    for entry in entries:
        if not is_sent(entry):
            continue
        price = price_for(entry, prices)
        if price is None:
            unpriced.add(str(entry.get("model")))
            continue
        tokens_in, tokens_out = tokens_of(entry)
        total += (tokens_in * price.input + tokens_out * price.output) / 1_000_000
    return round(total, 6), sorted(unpriced)
