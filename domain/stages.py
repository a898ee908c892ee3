"""The steps of a run, one vocabulary for all who name them: a stage's value is its checkpoint
folder, its time in run.json's `timings`, its progress line and its row in a partial report."""

from __future__ import annotations

from contextvars import ContextVar
from enum import Enum


class Stage(str, Enum):
    PLAN = "plan"
    SEARCH = "search"
    METADATA = "metadata"
    SCREEN = "screen"
    FETCH = "fetch"
    PAPERS = "papers"  # the corpus gathered: carried into a replay, which asks no source
    LIBRARY = "library"  # passages cut and embedded
    SELECT = "select"
    EXTRACT = "extract"
    STANCE = "stance"
    CALIBRATION = "calibration"  # the curves in use: carried into a replay as the run chose them
    VERIFY = "verify"
    FINDINGS = "findings"
    WRITE = "write"
    REVIEW = "review"

    def __str__(self) -> str:  # the value in f-strings and paths, on every Python
        return self.value

    @property
    def label(self) -> str | None:
        """What the progress line and a partial report call it; None: it has no line."""
        return _LABELS.get(self)

    @property
    def carried(self) -> bool:
        """Whether a replay copies the run's checkpoints of this stage instead of redoing it
        (it needs no source and no choice made on the run's machine)."""
        return self in (Stage.PAPERS, Stage.CALIBRATION)


_LABELS = {
    Stage.PLAN: "Planning searches",
    Stage.SEARCH: "Searching sources",
    Stage.METADATA: "Looking up metadata",
    Stage.SCREEN: "Screening candidates",
    Stage.FETCH: "Fetching full text",
    Stage.LIBRARY: "Embedding passages",
    Stage.EXTRACT: "Extracting claims",
    Stage.STANCE: "Reading claims' answers",
    Stage.VERIFY: "Verifying claims",
    Stage.FINDINGS: "Writing findings",
    Stage.WRITE: "Framing the report",
    Stage.REVIEW: "Reviewing the draft",
}
# The stages with a progress line, in the order a run reaches them.
SHOWN = tuple(stage for stage in Stage if stage.label)

# The stage the current task works in: set when a stage starts (tasks it starts inherit it) and
# recorded on each model call's transcript line, so an audit can filter calls by stage.
CURRENT: ContextVar[Stage | None] = ContextVar("synth_stage", default=None)
