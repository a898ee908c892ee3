"""What a run established, handed to `build_report`: papers, passages, claims, verdicts, the
draft, reviews and revisions, and the transcript's calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from synth.agents.writer import Draft
from synth.domain.records import (
    Calibration,
    Claim,
    Paper,
    Placement,
    Review,
    Revision,
    Screening,
    Verdict,
)
from synth.domain.settings import Price


@dataclass
class RunFacts:
    """What the session knows about a run, handed to the builder in one piece."""

    run_id: str
    question: str
    created: str
    models: dict[str, str]
    sources: list[str]
    papers: list[Paper]  # the included papers, whose text entered extraction
    screening: Screening
    passages: int
    passages_read: int  # the passages the extractor read
    results_per_paper: int
    evidence_k: int
    claims: list[Claim]
    verdicts: dict[str, Verdict]
    draft: Draft
    reviews: list[Review]
    dropped: list[str]
    warnings: list[str]
    transcript: list[dict[str, Any]]
    wall_s: float
    passage_texts: dict[str, str] = field(default_factory=dict)
    prices: dict[str, Price] = field(default_factory=dict)
    calibration_note: str = "Confidence is uncalibrated."
    calibrated: Calibration | None = None  # the calibration the run used, if any
    judge_note: str | None = None  # the fitted judge whose probabilities are the confidences
    revisions: list[Revision] = field(default_factory=list)
    unwritten: list[str] = field(default_factory=list)  # statements the judge refused
    placements: dict[str, Placement] = field(default_factory=dict)  # paper id: its answer
    off_topic: dict[str, float] = field(default_factory=dict)  # paper id: best similarity
    stated_claims: int = 0  # claims that are a paper's result sentence in its own words
