"""The shapes a run's stages checkpoint: what a resume reads back instead of asking again."""

from __future__ import annotations

from pydantic import Field

from synth.agents import screener, writer
from synth.domain.records import (
    Calibration,
    Claim,
    ClaimKind,
    Paper,
    PaperText,
    Passage,
    QuestionStance,
    Review,
    Screening,
    Strict,
    Verdict,
)


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
    passage_ids: list[str]


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


class StanceRead(Strict):
    stance: QuestionStance | None


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
