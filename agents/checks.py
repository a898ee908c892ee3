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
import hashlib
import re
from dataclasses import dataclass, field

from synth.agents import answering, judge
from synth.agents.judge import Judged
from synth.domain.records import Claim, QuestionAnswer
from synth.domain.text import prose_sentences, restates
from synth.model.llm import ItemDropped, Model

# A sentence that says the papers agree ("the studies consistently show", "there is a
# consensus"), unless it denies or hedges it ("no consensus", "do not agree", "mostly agree").
AGREEMENT = re.compile(
    r"\b(agree[sd]?|agreement|consensus|consistent(ly)?|unanimous(ly)?|"
    r"all (of )?the (studies|papers|findings|evidence))\b",
    re.IGNORECASE,
)
DENIED = re.compile(
    r"(\bno|\bnot|\blittle|\black|\bwithout|n't|\bmostly|\blargely|\bbroadly|\bgenerally|"
    r"\bpartly|\bpartially|\bmost|\bsome)\W+(\w+\W+){0,3}?"
    r"(agree|consensus|consistent|unanimous)",
    re.IGNORECASE,
)

RESTATED = Judged(
    probabilities={"supports": 1.0, "contradicts": 0.0, "unrelated": 0.0}, source="restated"
)
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
    in the order of `claims`. A statement that restates a claim in its words is supported by
    it without asking the judge. A claim the judge could not read (no log-probabilities, no
    answer word) is left out."""

    async def one(claim: Claim) -> tuple[str, Judged | None]:
        if restates(claim.text, statement):
            return claim.id, RESTATED
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


def says_papers_agree(sentence: str) -> bool:
    return bool(AGREEMENT.search(sentence)) and not DENIED.search(sentence)


def agreement_sentences(sections: dict[str, str], answer: QuestionAnswer) -> list[str]:
    """The sentences of `sections` that say the papers agree while they answer the question
    both ways: code knows each paper's answer, so it needs no judge for this."""
    if not answer.divided:
        return []
    return [
        sentence
        for text in sections.values()
        for sentence in prose_sentences(text)
        if says_papers_agree(sentence)
    ]


async def answer_given(model: Model, *, text: str, question: str, kind: str) -> str | None:
    """How a text of the writer's (its title, a finding's statement; named by `kind` in the
    call's item) answers the yes/no question ("yes", "no" or "depends"), by the judge's
    stance; None where it cannot say."""
    key = hashlib.sha256(text.encode()).hexdigest()[:10]
    try:
        judged = await answering.stance(model, item=f"{kind}-{key}", question=question, claim=text)
    except ItemDropped:
        return None
    return judged.best if judged is not None else None


def side_alone(sides: list[str | None], answer: QuestionAnswer) -> str | None:
    """The answer a section of the writer's framing gives alone (`sides`: each sentence's
    answer to the question) where fewer papers give it than the other: the side, or None
    when the section gives both, gives neither, or gives the side most papers take. A
    sentence read as "depends" gives no side: the judge reads a sentence that does not answer
    the question (why it matters, how the evidence was gathered) the same way. A discussion
    that names the conditions under which some papers answer no stands beside a sentence that
    answers yes; a section that gives only the fewer papers' answer tells the reader the
    opposite of the literature."""
    given = {s for s in sides if s in ("yes", "no")}
    if given not in ({"yes"}, {"no"}):
        return None
    (side,) = given
    other = "no" if side == "yes" else "yes"
    taking, against = len(getattr(answer, side)), len(getattr(answer, other))
    return side if against and taking <= against else None


def answered_otherwise(side: str | None, answer: QuestionAnswer) -> list[int]:
    """The cited papers (reference numbers) that answer the question other than `side`."""
    if side not in ("yes", "no"):
        return []
    return sorted((answer.no if side == "yes" else answer.yes) + answer.mixed)
