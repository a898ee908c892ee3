"""The shapes a run's stages checkpoint: what a resume reads back instead of asking again."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import Field

from synth.agents import screener, writer
from synth.domain.records import (
    Calibration,
    Claim,
    ClaimKind,
    Paper,
    PaperText,
    Passage,
    Review,
    Screening,
    SentenceReading,
    Strict,
    Verdict,
)
from synth.domain.selection import Candidate


class Corpus(Strict):
    papers: list[PaperText]
    screening: Screening


class SearchOutcome(Strict):
    source: str
    query: str
    papers: list[Paper]
    error: str | None = None


class ScreenResult(Strict):
    paper_id: str
    relevance: screener.Relevance | None
    reason: str


class FetchOutcome(Strict):
    paper_id: str
    text: PaperText | None
    note: str | None


class Passages(Strict):
    passages: list[Passage]


class Selection(Strict):
    """The passages the extractor reads first, each on-topic paper's candidate sentences
    (best first) and the off-topic papers with their best similarity to the question. A
    selection of an earlier version has no candidates: the stage is done again."""

    passage_ids: list[str]
    candidates: dict[str, list[Candidate]] | None = None
    off_topic: dict[str, float] = Field(default_factory=dict)


class ExtractedClaim(Strict):
    text: str
    quote: str
    kind: ClaimKind


class Extraction(Strict):
    passage_id: str
    claims: list[ExtractedClaim]
    dropped: str | None = None
    rejected: list[str] = Field(default_factory=list)


class Verification(Strict):
    claim: Claim
    verdict: Verdict | None
    dropped: str | None = None


def numbered(verifications: Iterable[Verification]) -> list[tuple[str, Claim, Verdict]]:
    """The final ids C1…Cm of the verified claims, in provisional-id order, with the claim (its
    provisional id kept) and verdict; a claim whose verdict was dropped gets none."""
    ordered = sorted(verifications, key=lambda v: v.claim.id)
    kept = [(v.claim, v.verdict) for v in ordered if v.verdict is not None]
    return [(f"C{n}", claim, verdict) for n, (claim, verdict) in enumerate(kept, start=1)]


class SentenceRead(Strict):
    reading: SentenceReading | None


class CalibrationInUse(Strict):
    model: str
    calibration: Calibration | None
    judge: str | None = None  # what the fitted judge head is, when the verifier has one


class Groups(Strict):
    groups: list[list[str]]


class ReviewResult(Strict):
    review: Review | None
    dropped: str | None = None


class FindingResult(Strict):
    finding: writer.FindingOut | None
    dropped: str | None = None
    refused: list[str] = Field(default_factory=list)  # statements the judge refused
    unwritten: str | None = None  # why the writer's statement failed, when a claim's is used
