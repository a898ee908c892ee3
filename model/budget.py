"""Budgets: a run stops cleanly before a call that could take it past its token or cost limit.

The check is conservative: a call counts as its estimated prompt plus its whole `max_tokens`
allowance, so a run never spends more than its budget. What was spent by earlier processes of
the same run (read from its transcript) counts too, so a resumed run keeps to the same budget.
Cache hits and replays spend nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from synth.domain.errors import BudgetReached
from synth.domain.settings import Price
from synth.model.cost import is_sent, price_for, tokens_of


@dataclass
class Budget:
    max_tokens: int | None = None
    max_cost: float | None = None
    prices: Mapping[str, Price] = field(default_factory=dict)
    resume_hint: str = ""
    used_tokens: int = 0
    used_cost: float = 0.0
    # The worst case of calls in flight, held back so that concurrent calls cannot together
    # pass a limit that each alone would respect.
    held_tokens: int = 0
    held_cost: float = 0.0

    def spent_before(self, entries: Iterable[Mapping[str, Any]]) -> None:
        for entry in entries:
            if is_sent(entry):
                self.spend(entry)

    def _price(self, model: str, base_url: str) -> Price | None:
        return price_for({"model": model, "endpoint": {"base_url": base_url}}, self.prices)

    def hold(self, model: str, base_url: str, tokens_in: int, max_out: int) -> tuple[int, float]:
        """Hold back this call's worst case, or raise BudgetReached if it could take the run
        past a limit; give the returned hold to `release` when the call is over."""
        self.check(model, base_url, tokens_in, max_out)
        price = self._price(model, base_url)
        cost = 0.0 if price is None else (tokens_in * price.input + max_out * price.output) / 1e6
        self.held_tokens += tokens_in + max_out
        self.held_cost += cost
        return tokens_in + max_out, cost

    def release(self, held: tuple[int, float]) -> None:
        self.held_tokens -= held[0]
        self.held_cost -= held[1]

    def check(self, model: str, base_url: str, tokens_in: int, max_out: int) -> None:
        """Raise BudgetReached if this call could take the run past a limit."""
        used_tokens = self.used_tokens + self.held_tokens
        if self.max_tokens is not None and used_tokens + tokens_in + max_out > self.max_tokens:
            raise BudgetReached(
                f"the token budget of {self.max_tokens} is reached ({used_tokens} used; "
                f"the next call may need {tokens_in + max_out})",
                "a partial report was written; resume with a larger --budget-tokens"
                + self.resume_hint,
            )
        if self.max_cost is None:
            return
        price = self._price(model, base_url)
        if price is None:
            raise BudgetReached(
                f"--budget-cost is set but the model {model} has no price",
                'add [prices."NAME"] to synth.toml, or use --budget-tokens' + self.resume_hint,
            )
        worst = (tokens_in * price.input + max_out * price.output) / 1_000_000
        used_cost = self.used_cost + self.held_cost
        if used_cost + worst > self.max_cost:
            raise BudgetReached(
                f"the cost budget of ${self.max_cost:g} is reached (${used_cost:.4f} used; "
                f"the next call may cost ${worst:.4f})",
                "a partial report was written; resume with a larger --budget-cost"
                + self.resume_hint,
            )

    def spend(self, entry: Mapping[str, Any]) -> None:
        tokens_in, tokens_out = tokens_of(entry)
        self.used_tokens += tokens_in + tokens_out
        price = price_for(entry, self.prices)
        if price is not None:
            self.used_cost += (tokens_in * price.input + tokens_out * price.output) / 1_000_000
