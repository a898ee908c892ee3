"""The records every layer shares: papers, passages, claims, verdicts, reviews and the report.

These are data shapes the code owns: they carry ids, quotes and counts that code fills in, and
they are what checkpoints, `report.json` and the transcript hold. What a model may answer is in
`synth.agents.schemas` (the drafts).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Label(str, Enum):
    SUPPORTED = "SUPPORTED"
    CONTRADICTED = "CONTRADICTED"
    INSUFFICIENT = "INSUFFICIENT"


ClaimKind = Literal["finding", "method", "limitation", "background"]


class Search(Strict):
    query: str
    source: str
    rationale: str


class Plan(Strict):
    question: str
    sub_questions: list[str]
    searches: list[Search]


class Paper(Strict):
    id: str
    title: str
    authors: list[str] = []
    year: int | None = None
    venue: str | None = None
    url: str | None = None
    doi: str | None = None
    arxiv_id: str | None = None
    abstract: str = ""
    source: str
    full_text_available: bool = True
    path: str | None = None
    # Every id the sources know the work by (doi, arxiv, openalex, s2), the sources that
    # found it, and where its open full text is (a PDF), if anywhere.
    ids: dict[str, str] = Field(default_factory=dict)
    found_in: list[str] = Field(default_factory=list)
    pdf_url: str | None = None


SECTION_GAP = "\n\n"


class Section(Strict):
    name: str
    text: str
    start: int


class PaperText(Strict):
    """A paper with its whole normalised text cut into named sections."""

    paper: Paper
    sections: list[Section]

    @property
    def text(self) -> str:
        """Sections joined by a blank line; `Section.start` indexes into this text."""
        return SECTION_GAP.join(s.text for s in self.sections)


class Passage(Strict):
    id: str
    paper_id: str
    section: str
    text: str
    char_start: int
    char_end: int


class Claim(Strict):
    id: str
    paper_id: str
    passage_id: str
    text: str
    quote: str
    quote_found: bool
    kind: ClaimKind


class Evidence(Strict):
    passage_id: str
    paper_id: str
    text: str
    score: float


class Corroboration(Strict):
    """Another paper's own result that answers a yes/no research question as a claim does:
    the passage of the reading that placed that paper, the sentence read, and the reader's
    probability for the answer (None where the server gave no log-probabilities and the
    reader's stated answer was taken)."""

    evidence: Evidence
    sentence: str
    answer: Literal["yes", "no"]
    probability: float | None = Field(default=None, ge=0.0, le=1.0)


class Signals(Strict):
    """What the code counted behind a verdict; its confidence is computed from these."""

    papers_for: int  # other papers with a passage on the label's side
    papers_against: int  # other papers with a passage on the opposite side
    passages_judged: int
    best_score: float  # retrieval similarity of the best passage on the label's side (0: none)
    # The model's mean probability for its stance on those passages, from token
    # log-probabilities; None where the server gives none (its stated stance is then taken).
    model_probability: float | None = None


class SentenceReading(Strict):
    """One sentence of a paper's own, read against a yes/no research question: the answer the
    reader gave it (after code read a stated null result) and the probability of each answer."""

    passage_id: str
    sentence: str
    answer: Literal["yes", "no", "unclear"]
    probabilities: dict[str, float]
    # Code read that the effect was absent on the question's own outcome (agents/reader.py).
    null_on_outcome: bool = False


class Placement(Strict):
    """A paper's own answer to a yes/no question, read from the sentences that report its
    results: yes, no, mixed (its results answer both ways, as a result that depends on the
    setting does), or unplaced (none of its results read answers it either way). `decisive`
    indexes the readings that gave the answer."""

    paper_id: str
    answer: Literal["yes", "no", "mixed", "unplaced"]
    readings: list[SentenceReading]
    decisive: list[int] = Field(default_factory=list)


class QuestionStance(Strict):
    """How one claim answers a yes/no research question, as the judge read it."""

    answer: Literal["yes", "no", "depends"]
    probability: float = Field(ge=0.0, le=1.0)  # the judge's probability for that answer


# The stance a verdict records for another paper's result counted for the claim's answer to a
# yes/no question without a judgement (agents/verifier.py `verify`): support for the answer,
# not a judgement of the passage against the claim's wording, so the agreement matrix and a
# finding's citations do not count it for the claim's details.
ANSWERS_ALIKE = "answers alike"


def corroborated_claims(judgements: Iterable[Mapping[str, str]]) -> int:
    """How many of the claims whose `judgements` are given count another paper's result for
    their answer (ANSWERS_ALIKE)."""
    return sum(ANSWERS_ALIKE in j.values() for j in judgements)


class Verdict(Strict):
    claim_id: str
    label: Label
    evidence: list[str]
    quote_found: bool
    confidence: float = Field(ge=0.0, le=1.0)
    rationale: str
    # Every passage's stance as counted (after the own-paper rule), for the agreement matrix;
    # "answers alike": another paper's result counted for the claim's answer to a yes/no
    # question without a judgement (agents/verifier.py), which the matrix does not count.
    judgements: dict[str, Literal["unrelated", "supports", "contradicts", "answers alike"]] = Field(
        default_factory=dict
    )
    signals: Signals | None = None
    rule_score: float | None = None  # the uncalibrated score; `confidence` when uncalibrated
    stance: QuestionStance | None = None  # for a yes/no question: the claim's answer to it
    # With a fitted judge: its probability behind the label, before the verdict calibration.
    judged: float | None = Field(default=None, ge=0.0, le=1.0)
    # Per passage: the judge's probability of each stance (none for stated judgements).
    probabilities: dict[str, dict[str, float]] = Field(default_factory=dict)


class CriterionScore(Strict):
    score: int = Field(ge=0, le=10)
    justification: str
    quote: str | None = None  # the span of the draft the justification speaks of
    checked: bool = True  # False: the justification had no quote found in the draft


class Review(Strict):
    reviewer: str
    round: int
    scores: dict[str, CriterionScore]
    overall: float
    requests: list[str]
    counted: bool = True  # False: no justification quoted the draft, so no score counts
    measured: bool = False  # True: the scores were computed by code from the report


class Calibration(Strict):
    model: str  # identity: model name, and "@" with its weights revision when known
    dataset: str
    created: str
    claims: int = Field(ge=1)
    # Per label: (score, probability right) points with rising scores.
    curves: dict[Label, list[tuple[float, float]]]
    brier_rule: float  # Brier score of the raw rule scores on the fitting set
    brier_calibrated: float


class Revision(Strict):
    """One time the writer revised the draft: what it was asked and what it changed."""

    step: str  # "revision 1" after review, "report-check fix 1" after a failed lint
    requests: list[str]
    changed: list[str]  # the sections and findings whose text changed
    failed: bool = False  # the writer's answers failed validation: the draft before it stands


class Finding(Strict):
    statement: str
    claim_ids: list[str]
    refs: list[int]  # every paper that takes a side on it: supporting_refs + disputing_refs
    against_claim_ids: list[str] = Field(default_factory=list)  # claims that disagree with it
    supporting_refs: list[int] = Field(default_factory=list)
    disputing_refs: list[int] = Field(default_factory=list)  # mixed papers are in both lists
    strength: str = ""
    answer: Literal["yes", "no"] | None = None  # its answer to a yes/no question, if any
    from_claim: str | None = None  # the claim whose own words it is (the writer's failed)
    writer_asked: bool = True  # False: the run did not ask the writer (writer_findings off)


class Contradiction(Strict):
    claim_id: str
    statement: str
    quote: str
    ref: int
    evidence: list[dict[str, str | int]]
    finding: int | None = None  # set when the disagreement is one the writer named in a finding
    confidence: float | None = None  # the CONTRADICTED verdict's, for one found by the verifier


AgreementCell = Literal["supports", "contradicts", "mixed", "silent"]


class AgreementRow(Strict):
    finding: int
    cells: list[AgreementCell]  # one per reference, in the order of Agreement.refs


class Agreement(Strict):
    """Findings × cited papers: where each paper stands on each finding."""

    refs: list[int]
    rows: list[AgreementRow]


class Exclusion(Strict):
    paper_id: str
    title: str
    reason: str


class Screening(Strict):
    """The PRISMA-style record of how papers were found, merged, screened and included."""

    sources: list[str]
    found: dict[str, int]  # distinct records per source
    failed: list[str] = Field(default_factory=list)  # searches that failed, with the reason
    records: int  # records from all sources, before merging
    candidates: int  # distinct works after merging duplicates
    duplicates: int
    screened: int  # works rated by the screener (papers from the local folder are not)
    excluded: list[Exclusion] = Field(default_factory=list)
    included: int
    full_text: int
    abstract_only: int


class Reference(Strict):
    n: int
    id: str
    title: str
    authors: list[str]
    year: int | None
    venue: str | None
    url: str | None
    doi: str | None
    arxiv_id: str | None
    full_text_available: bool = True


class ReportClaim(Claim):
    """A claim as the report shows it: with its reference number and its verdict."""

    ref: int | None
    label: Label
    confidence: float
    evidence: list[str]
    rationale: str
    signals: Signals | None = None  # what the code counted behind the confidence
    judgements: dict[str, str] = Field(default_factory=dict)  # every passage's stance
    stance: QuestionStance | None = None  # its answer to a yes/no question

    def scored_by_rule(self) -> bool:
        """Whether the confidence is the evidence score (CONFIDENCE_RULE), not a rate a fitted
        judge measured: no passage was judged, or the SUPPORTED label rests only on other
        papers answering alike, which no judgement weighed."""
        judged = [s for s in self.judgements.values() if s != ANSWERS_ALIKE]
        alike = bool(self.evidence) and all(
            self.judgements.get(e) == ANSWERS_ALIKE for e in self.evidence
        )
        return not judged or (self.label == Label.SUPPORTED and alike)

    def judged(self) -> dict[str, str]:
        """Every passage judged against the claim or given as its evidence, with the stance
        counted ("" where none was recorded), judged ones first."""
        return {pid: self.judgements.get(pid, "") for pid in [*self.judgements, *self.evidence]}


class PlacedPaper(Placement):
    """A paper's answer to a yes/no question as the report gives it: its placement, with its
    reference number and the claims that quote a sentence that placed it."""

    ref: int
    claim_ids: list[str] = Field(default_factory=list)


class OffTopicPaper(Strict):
    """A paper set aside unread: its best passage was far from the question."""

    paper_id: str
    title: str
    similarity: float


class QuestionAnswer(Strict):
    """For a yes/no question: which cited papers answer yes, no, or both ways by setting
    ("mixed"), each placed by code from the readings of its own results; `depends` lists the
    papers read that could not be placed (no result read answers the question either way)."""

    yes: list[int] = Field(default_factory=list)
    no: list[int] = Field(default_factory=list)
    depends: list[int] = Field(default_factory=list)
    mixed: list[int] = Field(default_factory=list)

    @property
    def divided(self) -> bool:
        """Whether some cited paper answers yes and some answers no (a mixed paper does both)."""
        return bool(self.yes or self.mixed) and bool(self.no or self.mixed)


class Stats(Strict):
    papers_found: int
    papers_screened_out: int
    papers_included: int
    papers_cited: int
    passages: int
    claims: int
    supported: int
    contradicted: int
    insufficient: int
    dropped: int
    calls: int
    tokens_in: int
    tokens_out: int
    cost_usd: float
    wall_s: float
    # Claims that are a paper's result sentence taken whole, not drawn by the extractor.
    claims_stated: int = 0


class Report(Strict):
    question: str
    title: str
    created: str
    run_id: str
    models: dict[str, str]
    sections: dict[str, str]
    findings: list[Finding]
    contradictions: list[Contradiction]
    claims: list[ReportClaim]
    reviews: list[Review]
    references: list[Reference]
    stats: Stats
    screening: Screening
    lint: list[str]
    agreement: Agreement = Field(default_factory=lambda: Agreement(refs=[], rows=[]))
    revisions: list[Revision] = Field(default_factory=list)
    calibration: Calibration | None = None  # the curves that gave the confidences, if any
    judge: str | None = None  # the fitted judge whose probabilities are the confidences
    answer: QuestionAnswer | None = None  # for a yes/no question
    placements: list[PlacedPaper] = Field(default_factory=list)  # for a yes/no question
    off_topic: list[OffTopicPaper] = Field(default_factory=list)
    unwritten: list[str] = Field(default_factory=list)  # statements refused by the checks
