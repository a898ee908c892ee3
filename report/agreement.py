"""Where each paper stands on each finding, from claims and the verifier's judgements (code).

A paper supports a finding when one of the finding's claims comes from it, or when the verifier
judged one of its passages to support such a claim (or to contradict a claim the writer named
as disagreeing). It contradicts the finding the other way round. A paper on both sides is
"mixed"; one on neither is "silent". The strength of a finding is worded from these counts.
"""

from __future__ import annotations

from typing import Literal

from synth.agents.schemas import Claim, Verdict

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


def strength(n_for: int, n_against: int) -> str:
    """How strong a finding's evidence is, in words a reader can check against the matrix."""
    papers = f"{n_for} paper{'s' if n_for != 1 else ''}"
    if n_against == 0:
        level = {0: "none", 1: "limited", 2: "moderate"}.get(n_for, "strong")
        agree = "agree" if n_for != 1 else "supports it"
        return f"{level}: {papers} {agree}, no paper disagrees"
    against = f"{n_against} paper{'s' if n_against != 1 else ''}"
    level = "contested" if n_for > n_against else "disputed"
    return f"{level}: {papers} for, {against} against"


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
) -> str:
    return strength(*counts(sides(claim_ids, against_ids, claims, verdicts)))
