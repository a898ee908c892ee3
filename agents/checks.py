"""The writer's statements checked against the claims they rest on, by the judge.

A statement the writer makes (a finding, a sentence of the abstract or the discussion) is
judged against each claim it rests on, with the claim as the premise: "does this claim support
the statement?". A claim judged to contradict it means the statement inverts its evidence. The
claims of a finding's group that the writer did not list are judged too: those that contradict
the finding are the claims that disagree with it, found by code rather than left to the
writer.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from synth.agents import judge
from synth.agents.judge import Judged
from synth.agents.llm import ItemDropped, Model
from synth.agents.schemas import Claim

SENTENCE_CLAIMS = 3  # claims each sentence of the abstract and discussion is judged against


@dataclass
class StatementCheck:
    """What the judge said of one statement against each claim it was held to."""

    judged: dict[str, Judged] = field(default_factory=dict)  # claim id → judgement, in order

    def contradicting(self, ids: list[str] | None = None) -> list[str]:
        return self._judged_as("contradicts", ids)

    def supporting(self, ids: list[str] | None = None) -> list[str]:
        return self._judged_as("supports", ids)

    def read(self, ids: list[str]) -> list[str]:
        """The claims of `ids` the judge could read, in the claims' order."""
        return [cid for cid in self.judged if cid in ids]

    def _judged_as(self, stance: str, ids: list[str] | None) -> list[str]:
        """The claims (of `ids`, default all) judged to take `stance`, in the claims' order."""
        return [
            cid
            for cid, j in self.judged.items()
            if (ids is None or cid in ids) and j.best == stance
        ]


async def check_statement(
    model: Model, *, item: str, statement: str, claims: list[Claim]
) -> StatementCheck:
    """Judge `statement` against every claim in `claims` (item `item|<claim id>` each), kept
    in the order of `claims`. A claim the judge could not read (no log-probabilities, no
    answer word) is left out."""

    async def one(claim: Claim) -> tuple[str, Judged | None]:
        try:
            judged = await judge.entailment(
                model, item=f"{item}|{claim.id}", premise=claim.text, hypothesis=statement
            )
        except ItemDropped:
            judged = None
        return claim.id, judged

    outcomes = await asyncio.gather(*(one(c) for c in claims))
    return StatementCheck({cid: j for cid, j in outcomes if j is not None})


def refusal(statement: str, contradicting: list[str], texts: dict[str, str]) -> str:
    """What the writer is told when a statement of its was refused."""
    said = "; ".join(f'{cid}: "{texts[cid]}"' for cid in contradicting)
    return (
        f'Your earlier statement "{statement}" was refused: it says the opposite of {said}. '
        "State only what the claims themselves report, with the setting each holds in."
    )
