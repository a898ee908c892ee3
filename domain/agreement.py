"""Where each paper stands on each finding, from claims and the verifier's judgements (code).

A paper supports a finding when one of the finding's claims comes from it, or when the verifier
judged one of its passages to support such a claim (or to contradict a claim the writer named
as disagreeing). It contradicts the finding the other way round. A paper on both sides is
"mixed"; one on neither is "silent". The strength of a finding is worded from these counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from synth.domain.records import Claim, Placement, Strict, Verdict

Cell = Literal["supports", "contradicts", "mixed", "silent"]
FLIP = {"supports": "contradicts", "contradicts": "supports"}


def paper_of(passage_id: str) -> str:
    return passage_id.split("#", 1)[0]


def sides(
    claim_ids: list[str],
    against_ids: list[str],
    claims: dict[str, Claim],
    verdicts: dict[str, Verdict],
) -> dict[str, set[str]]:
    """Paper id → the sides ("supports", "contradicts") it takes on one finding, in the order
    the papers are first met (claims first, then the verifier's evidence)."""
    found: dict[str, set[str]] = {}
    for ids, flip in ((claim_ids, False), (against_ids, True)):
        for cid in ids:
            found.setdefault(claims[cid].paper_id, set()).add("contradicts" if flip else "supports")
    for ids, flip in ((claim_ids, False), (against_ids, True)):
        for cid in ids:
            for passage_id, stance in sorted(verdicts[cid].judgements.items()):
                if stance in FLIP:
                    side = FLIP[stance] if flip else stance
                    found.setdefault(paper_of(passage_id), set()).add(side)
    return found


def cell(taken: set[str] | None) -> Cell:
    if not taken:
        return "silent"
    if len(taken) == 2:
        return "mixed"
    return "supports" if "supports" in taken else "contradicts"


StrengthLevel = Literal["none", "limited", "moderate", "strong", "contested", "disputed"]
# The level of a finding no paper disputes, by the papers for it (0, 1, 2; more: strong).
AGREED_LEVELS: tuple[StrengthLevel, ...] = ("none", "limited", "moderate")


class Strength(Strict):
    """How strong a finding's evidence is: its level and the counts behind it. `dissent`:
    papers that answer a yes/no research question the other way; while any does, a finding is
    never "strong". `str()` words it as the report prints it, for a reader to check against
    the agreement matrix."""

    level: StrengthLevel
    papers_for: int
    papers_against: int
    dissent: int = 0

    def __str__(self) -> str:
        papers = f"{self.papers_for} paper{'s' if self.papers_for != 1 else ''}"
        otherwise = (
            f"; {self.dissent} paper{'s' if self.dissent != 1 else ''} "
            f"answer{'s' if self.dissent == 1 else ''} the question the other way"
            if self.dissent
            else ""
        )
        if self.papers_against == 0:
            agree = "agree" if self.papers_for != 1 else "supports it"
            return f"{self.level}: {papers} {agree}, no paper disagrees{otherwise}"
        against = f"{self.papers_against} paper{'s' if self.papers_against != 1 else ''}"
        return f"{self.level}: {papers} for, {against} against{otherwise}"


def strength(n_for: int, n_against: int, dissent: int = 0) -> Strength:
    """The strength of a finding with `n_for` papers for it and `n_against` against it."""
    level: StrengthLevel
    if n_against:
        level = "contested" if n_for > n_against else "disputed"
    elif n_for < len(AGREED_LEVELS):
        level = AGREED_LEVELS[n_for]
    else:
        level = "moderate" if dissent else "strong"
    return Strength(level=level, papers_for=n_for, papers_against=n_against, dissent=dissent)


def paper_answers(claims: dict[str, Claim], verdicts: dict[str, Verdict]) -> dict[str, str]:
    """Paper id → its answer to a yes/no question from its claims' stances (see
    `answers_by_paper`)."""
    return answers_by_paper(
        (claim.paper_id, stance.answer)
        for cid, claim in sorted(claims.items())
        if cid in verdicts and (stance := verdicts[cid].stance) is not None
    )


def question_answers(
    placements: dict[str, Placement], claims: dict[str, Claim], verdicts: dict[str, Verdict]
) -> dict[str, str]:
    """Paper id → its answer to a yes/no question as the report's headline counts it: where
    each paper was placed ("unplaced" read as "depends"), or, for a run of an earlier version
    that placed no paper, from its claims' stances."""
    if not placements:
        return paper_answers(claims, verdicts)
    return {p: "depends" if placed.answer == "unplaced" else placed.answer
            for p, placed in placements.items()}  # fmt: skip


def most_given(answers: dict[str, str]) -> str | None:
    """The answer ("yes" or "no") more papers give in `answers` (a mixed paper gives both);
    None on a tie or where none gives either."""
    yes = sum(a in ("yes", "mixed") for a in answers.values())
    no = sum(a in ("no", "mixed") for a in answers.values())
    return None if yes == no else "yes" if yes > no else "no"


def answer_first(given: list[str | None], answers: dict[str, str]) -> list[int]:
    """The order of findings (`given`: the answer each gives to a yes/no question) in which
    the report lists them: those that give the answer more papers take first, then the rest
    as they were. A small writer frames the report from its first finding, and a report that
    opens with the exception reads as the answer."""
    most = most_given(answers)
    return sorted(range(len(given)), key=lambda i: most is not None and given[i] != most)


def answers_by_paper(stances: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Paper id → its answer from its claims' (paper id, answer) pairs: "yes" or "no" when
    its claims answer only that way, "mixed" when they answer both ways, "depends" when none
    answers either way. Papers without a claim with a stance are left out."""
    taken: dict[str, set[str]] = {}
    for paper, answer in stances:
        taken.setdefault(paper, set()).add(answer)
    answers = {}
    for paper, seen in taken.items():
        sides = seen - {"depends"}
        answers[paper] = "mixed" if len(sides) == 2 else next(iter(sides), "depends")
    return answers


def finding_answer(
    claim_ids: list[str], claims: dict[str, Claim], verdicts: dict[str, Verdict]
) -> str | None:
    """The answer a finding gives: the one its claims' stances give most ("yes" or "no"),
    or None when they give neither."""
    stances = [verdicts[c].stance for c in claim_ids]
    votes = [s.answer for s in stances if s is not None and s.answer != "depends"]
    if not votes:
        return None
    yes, no = votes.count("yes"), votes.count("no")
    return None if yes == no else "yes" if yes > no else "no"


def dissenting_papers(
    claim_ids: list[str],
    claims: dict[str, Claim],
    verdicts: dict[str, Verdict],
    answers: dict[str, str],
) -> list[str]:
    """The papers that answer the question the other way from the finding's answer, by each
    paper's answer in `answers` (see `question_answers`; a mixed paper counts: part of it
    says otherwise)."""
    answer = finding_answer(claim_ids, claims, verdicts)
    if answer is None:
        return []
    other = {"yes": "no", "no": "yes"}[answer]
    return sorted(p for p, a in answers.items() if a in (other, "mixed"))


def dissent_beyond(
    taken: dict[str, set[str]],
    claim_ids: list[str],
    claims: dict[str, Claim],
    verdicts: dict[str, Verdict],
    answers: dict[str, str],
) -> list[str]:
    """The papers answering the question the other way that take no side on the finding
    itself (`taken`, from `sides`): the dissent its strength adds on top of its own counts."""
    return [p for p in dissenting_papers(claim_ids, claims, verdicts, answers) if p not in taken]


def level(strength_text: str) -> str:
    """The one word of a strength ("strong", "contested", ...) without its counts."""
    return strength_text.split(":", 1)[0]


def counts(taken: dict[str, set[str]]) -> tuple[int, int]:
    """Papers for and against a finding (a mixed paper counts on both sides)."""
    return (
        sum("supports" in t for t in taken.values()),
        sum("contradicts" in t for t in taken.values()),
    )


def finding_strength(
    claim_ids: list[str],
    against_ids: list[str],
    claims: dict[str, Claim],
    verdicts: dict[str, Verdict],
    answers: dict[str, str],
) -> Strength:
    """A finding's strength; its dissent counts the papers' answers in `answers` (see
    `question_answers`), so that it agrees with the report's headline."""
    taken = sides(claim_ids, against_ids, claims, verdicts)
    dissent = dissent_beyond(taken, claim_ids, claims, verdicts, answers)
    return strength(*counts(taken), len(dissent))


def joined(items: list[str]) -> str:
    """Items as prose: a; a and b; a, b and c."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def strength_summary(strengths: list[str]) -> str:
    """Each level of evidence and the findings (numbered from 1) that have it: "contested for
    findings 1 and 4; limited for finding 2"; empty for no findings."""
    numbers: dict[str, list[int]] = {}
    for i, strength in enumerate(strengths, start=1):
        numbers.setdefault(level(strength), []).append(i)
    return "; ".join(
        f"{word} for finding{'s' if len(ids) > 1 else ''} {joined([str(i) for i in ids])}"
        for word, ids in numbers.items()
    )
