"""Pydantic models for everything that crosses a module boundary.

Two kinds live here. Data shapes the code owns (Paper, Passage, Claim, Verdict, Report …) carry
ids, quotes and counts that code fills in. Draft shapes (`*Draft`) are what a model may answer;
they hold no field the code owns, are bounded so a small model cannot ramble, and their
validators carry the quality rules (no meta-claims, no fragments, no invented numbers).
"""

from __future__ import annotations

import difflib
import itertools
import re
from enum import Enum
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

# ---------------------------------------------------------------------------------------------
# Shared text rules


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Sentence = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=400)]
Paragraph = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1500)]

_META_PATTERNS = [
    r"\b(this|the|our|that) (paper|study|article|work|manuscript|report|section|appendix)\b",
    r"\b(the|these) authors?\b",
    r"\b(tables?|figures?|fig\.)\s*\d",
    r"\b(the|this|a) (table|figure|chart|plot)s? (shows?|lists?|presents?|includes?|contains?)\b",
    r"\bcolumns?\b.*\b(include|list|show|contain)",
    r"\b(presents?|provides?|includes?) (a |the )?(tables?|figures?|results?)\b",
    r"^(we|our|us)\b",
    r"\b(we|our)\s+(show|find|found|present|propose|report|observe|observed|describe)\b",
    r"\bin this (paper|study|work|article)\b",
]
_META = [re.compile(p, re.IGNORECASE) for p in _META_PATTERNS]
# Sentences that speak to a reader or a model rather than report something: a paper may carry
# them to steer the agents, and a claim goes into later prompts as plain text.
_INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget)\b.{0,40}\b(instructions?|prompts?|rules)\b"
    r"|\b(system|assistant|user)\s*:"
    r"|\byou (must|should|are to)\b"
    r"|\b(label|mark|rate|answer|respond)\b.{0,30}\b(every|all|each)\b.{0,30}\b(claims?|"
    r"passages?|papers?)\b",
    re.IGNORECASE,
)
_DANGLING = {"and", "or", "of", "the", "a", "an", "to", "with", "for", "in", "on", "by", "that"}


def claim_text_problem(text: str) -> str | None:
    """Why `text` is not an atomic, self-contained claim, or None when it is one."""
    stripped = text.strip()
    if not stripped:
        return "the claim is empty"
    words = stripped.split()
    if len(words) < 6:
        return "the claim is a fragment: write a full sentence of at least six words"
    if "|" in stripped or "\t" in stripped:
        return "the claim looks like a table fragment: state the finding as a sentence"
    wordlike = sum(1 for w in words if re.search(r"[A-Za-z]{2,}", w))
    if wordlike / len(words) < 0.6:
        return "the claim is mostly numbers or symbols: state the finding as a sentence"
    if words[-1].lower().strip(",;:-") in _DANGLING or stripped[-1] in ",;:-(":
        return "the claim is cut off: finish the sentence"
    if stripped.endswith("?"):
        return "the claim is a question: state what the passage reports"
    if not (stripped[0].isupper() or stripped[0].isdigit()) or stripped[-1] not in ".!":
        return "the claim is not a full sentence: start with a capital letter and end with a period"
    if _INSTRUCTION.search(stripped):
        return "the sentence gives instructions instead of reporting a result: leave it out"
    for pattern in _META:
        if pattern.search(stripped):
            return (
                "the claim talks about the paper instead of stating a finding; "
                "state the finding itself, without 'the paper', 'the authors', 'we' or tables"
            )
    return None


# fmt: off
_STOP = {
    "that", "this", "with", "from", "were", "have", "been", "than", "into", "when", "which",
    "their", "there", "these", "those", "they", "also", "more", "less", "such", "over", "under",
    "between", "while", "about", "after", "before", "only", "both", "each", "other", "does",
}
# fmt: on


def content_stems(text: str) -> set[str]:
    words = re.findall(r"[a-z][a-z-]{3,}", text.lower())
    return {w[:5] for w in words if w not in _STOP}


_BRACKET_NUMBER = re.compile(r"\[\s*\d+(\s*[,;–-]\s*\d+)*\s*\]")
_COUNT = (
    r"\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty)"
    r"\s+(\w+\s+)?(papers|studies|articles|sources|documents|claims|works|publications)\b"
)
COUNTED = re.compile(_COUNT, re.IGNORECASE)
# "... is strong across 7 papers": the count adds nothing the code does not print itself.
_COUNT_PHRASE = re.compile(
    r",?\s+(?:across|from|in|by|among|over)\s+(?:all\s+|the\s+)?" + _COUNT, re.IGNORECASE
)


_CLAIM_ID = re.compile(r"\b[CF]\d+\b")
_LEAD_IN = re.compile(
    r"^(?:overall,\s*)?(?:the|these|both|all)\s+(?:\w+\s+){0,3}?"
    r"(?:claims?|papers?|studies|findings|results|evidence)\s+(?:together\s+|all\s+)?"
    r"(?:suggests?|shows?|indicates?|finds?|found|reports?|demonstrates?|states?)\s+that\s+",
    re.IGNORECASE,
)
_ID_LIST = re.compile(r"\s*\((?:claims?\s+)?[CF]\d+(?:\s*(?:,|and)\s*[CF]\d+)*\)")


STATEMENT_CHARS = 400  # the longest finding statement the schema takes
_SENTENCE_END = re.compile(r"[.!?][\"')\]]?(?=\s|$)")


def whole_sentences(text: str, minimum: int = 40) -> str:
    """`text` without a trailing fragment: a length bound in the schema can cut a model off
    mid-sentence, and the sentences before the cut are still its own complete words."""
    text = text.strip()
    if not text or re.search(r"[.!?][\"')\]]?$", text):
        return text
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    return text[: ends[-1]] if ends and ends[-1] >= minimum else text


def tidy_statement(text: str, bound: int | None = None) -> str:
    """Code fixes three habits of small models instead of re-asking: a lead-in about the
    evidence ("The claims together suggest that …"), parenthesised claim ids, and a last
    sentence left without its full stop. A text shorter than its schema's `bound`
    (STATEMENT_CHARS by default) was ended by the model, not cut off by the bound: a cut at
    max_tokens is caught by the door, so only a text that reaches the bound can be a cut."""
    text = whole_sentences(_ID_LIST.sub("", text).strip())
    match = _LEAD_IN.match(text)
    if match and len(text) > match.end():
        rest = text[match.end() :]
        text = rest[0].upper() + rest[1:]
    limit = STATEMENT_CHARS if bound is None else bound
    if text and len(text) < limit - 1 and not re.search(r"[.!?][\"')\]]?$", text):
        text = text.rstrip(",;: ") + "."
    return text


_LISTING = re.compile(r"\b(SUPPORTED|CONTRADICTED|INSUFFICIENT)\b|confidence \d")


def prose_problem(text: str, complete: bool = True) -> str | None:
    """Rules for model-written prose: citations, claim links and counts are the code's job."""
    if _BRACKET_NUMBER.search(text):
        return "do not write bracketed numbers such as [1]; the code adds citations"
    if _CLAIM_ID.search(text) or _LISTING.search(text):
        return (
            "write plain prose: no claim or finding ids (C1, F2), no verdict labels and no "
            "confidence numbers; the code links the text to the claims"
        )
    if COUNTED.search(text):
        return "do not state how many papers, studies or claims there are; the code adds counts"
    if complete and not re.search(r"[.!?][\"')\]]?$", text.strip()):
        return "the text is cut off: finish every sentence, and write less so that it fits"
    return None


def without_counts(text: str) -> str:
    """`text` less the phrases that count papers ("strong across 7 papers" becomes "strong"):
    small models copy the counts they are shown, and counts are the code's job."""
    return _COUNT_PHRASE.sub("", text)


def keeping_the_rules(text: str) -> str:
    """`text` less the sentences that break the prose rules, for salvaging a last answer."""
    sentences = re.split(r"(?<=[.!?])\s+", text.strip())
    return " ".join(s for s in sentences if prose_problem(s, complete=False) is None)


def check_prose(value: str, complete: bool = True) -> str:
    """`value` when it follows the prose rules; `complete` asks for whole sentences."""
    problem = prose_problem(value, complete)
    if problem:
        raise ValueError(problem)
    return value


# ---------------------------------------------------------------------------------------------
# Data shapes the code owns


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


class Signals(Strict):
    """What the code counted behind a verdict; its confidence is computed from these."""

    papers_for: int  # other papers with a passage on the label's side
    papers_against: int  # other papers with a passage on the opposite side
    passages_judged: int
    best_score: float  # retrieval similarity of the best passage on the label's side (0: none)
    # The model's mean probability for its stance on those passages, from token
    # log-probabilities; None where the server gives none (its stated stance is then taken).
    model_probability: float | None = None


class QuestionStance(Strict):
    """How one claim answers a yes/no research question, as the judge read it."""

    answer: Literal["yes", "no", "depends"]
    probability: float = Field(ge=0.0, le=1.0)  # the judge's probability for that answer


class Verdict(Strict):
    claim_id: str
    label: Label
    evidence: list[str]
    quote_found: bool
    confidence: float = Field(ge=0.0, le=1.0)
    rationale: str
    # Every passage's stance as counted (after the own-paper rule), for the agreement matrix.
    judgements: dict[str, Literal["unrelated", "supports", "contradicts"]] = Field(
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


class QuestionAnswer(Strict):
    """For a yes/no question: which cited papers answered yes, no, or depends (a paper whose
    claims answer both ways is "mixed"), counted by code from each claim's stance."""

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
    unwritten: list[str] = Field(default_factory=list)  # statements refused by the checks


# ---------------------------------------------------------------------------------------------
# Drafts: what a model may answer (ids offered in a call are enums built per call)


class SearchDraft(Strict):
    query: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=120)]
    rationale: Short


class PlanDraft(Strict):
    sub_questions: list[Sentence] = Field(min_length=1, max_length=5)
    searches: list[SearchDraft] = Field(min_length=1, max_length=6)


class CriterionDraft(Strict):
    score: int = Field(ge=0, le=10)
    quote: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=240)]
    justification: Short


Statement = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=20, max_length=STATEMENT_CHARS)
]


class FrameDraft(Strict):
    """The writer's prose around the findings."""

    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=150)]
    abstract: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=80, max_length=1500)
    ]
    introduction: Paragraph
    discussion: Paragraph
    limitations: Paragraph

    @field_validator("abstract", "introduction", "discussion", "limitations", mode="before")
    @classmethod
    def _drop_fragment(cls, value: object) -> object:
        return (
            without_echoes(without_counts(whole_sentences(value)))
            if isinstance(value, str)
            else value
        )

    @field_validator("title")
    @classmethod
    def _title_rules(cls, value: str) -> str:
        return check_prose(value, complete=False)

    @field_validator("abstract", "introduction", "discussion", "limitations")
    @classmethod
    def _prose_rules(cls, value: str) -> str:
        return check_prose(value)

    @model_validator(mode="before")
    @classmethod
    def _drop_copies(cls, data: object) -> object:
        """The sentences a section copies from the abstract are dropped by code rather than
        re-asked for (a small model asked again copies them again); a section that is
        nothing but copies is left for the check below to refuse."""
        if not isinstance(data, dict) or not isinstance(data.get("abstract"), str):
            return data
        cleaned = dict(data)
        for name in ("introduction", "discussion", "limitations"):
            value = data.get(name)
            if isinstance(value, str) and without_repeats(data["abstract"], value):
                cleaned[name] = without_repeats(data["abstract"], value)
        return cleaned

    @model_validator(mode="after")
    def _sections_differ(self) -> FrameDraft:
        for name in ("introduction", "discussion", "limitations"):
            if repeats(self.abstract, getattr(self, name)):
                raise ValueError(f"the {name} repeats the abstract: give it its own content")
        return self


def without_repeats(abstract: str, text: str) -> str:
    """`text` without the sentences it copies from the abstract (small models often open the
    introduction or the discussion with the abstract again)."""
    sentences = re.split(r"(?<=[.!?])\s+", text.strip())
    kept = [x for x in sentences if not repeats(abstract, x)]
    return " ".join(kept)


ECHO_OVERLAP = 0.9  # share of the shorter sentence's words that makes it a repeat
ECHO_WORDS = 6  # shorter sentences ("Results vary.") may honestly recur
NEGATIONS = {"not", "no", "never", "without", "nor", "neither", "none", "t"}  # "t" of "didn't"


def plain_words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


RESTATED_SHARE = 0.85  # share of a sentence's words in runs shared with its source
RESTATED_RUN = 3  # words in a row that count as shared
# Words that turn a statement into its opposite when added or dropped.
REVERSING = NEGATIONS | {"cannot", "fail", "failed", "fails", "lack", "lacked", "lacks", "unable"}


def restates(source: str, sentence: str) -> bool:
    """Whether `sentence` says again what `source` says, in its words: nearly all of its
    words lie in runs of three or more that `source` has in the same order, and no negation
    was dropped or added on the way ("did improve" does not restate "did not improve").
    A small judge has been seen to call a near-copy of a claim its opposite; code can tell a
    copy from an inversion without asking it."""
    said, src = plain_words(sentence), plain_words(source)
    if len(said) < ECHO_WORDS:
        return False
    blocks = [
        b
        for b in difflib.SequenceMatcher(None, src, said, autojunk=False).get_matching_blocks()
        if b.size >= RESTATED_RUN
    ]
    if sum(b.size for b in blocks) < RESTATED_SHARE * len(said):
        return False
    covered = {i for b in blocks for i in range(b.b, b.b + b.size)}
    added = {w for i, w in enumerate(said) if i not in covered}
    dropped = {w for a, b in itertools.pairwise(blocks) for w in src[a.a + a.size : b.a]}
    return not (added | dropped) & REVERSING


def without_echoes(text: str) -> str:
    """`text` less each sentence that says again, in nearly the same words, what an earlier
    sentence of it said: small models loop, writing one sentence or two over and over."""
    kept: list[tuple[str, set[str]]] = []
    for sentence in re.split(r"(?<=[.!?])\s+", text.strip()):
        words = set(plain_words(sentence))
        if len(words) >= ECHO_WORDS and any(
            len(words & seen) >= ECHO_OVERLAP * min(len(words), len(seen))
            and not (words ^ seen) & NEGATIONS  # "did not improve" is no echo of "did improve"
            for _, seen in kept
        ):
            continue
        kept.append((sentence, words))
    return " ".join(sentence for sentence, _ in kept)


def repeats(source: str, text: str) -> bool:
    """Whether `text` copies a sentence of eight words or more from `source`."""
    pieces = [p.strip(" .").lower() for p in re.split(r"(?<=[.!?])\s+", source)]
    lowered = text.lower()
    return any(len(p.split()) >= 8 and p in lowered for p in pieces)


# ---------------------------------------------------------------------------------------------
# Run settings: one home for configuration; flags, environment and synth.toml only fill it.


class Price(Strict):
    """US dollars per million tokens."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)


class RunSettings(Strict):
    corpus: str | None = None
    sources: list[str] = Field(default_factory=lambda: ["local"])
    since: int | None = Field(None, ge=1900, le=2100)
    until: int | None = Field(None, ge=1900, le=2100)
    max_papers: int = Field(20, ge=1, le=500)
    results_per_search: int = Field(10, ge=1, le=200)
    arxiv_categories: list[str] = Field(default_factory=list)
    contact: str | None = None  # an e-mail address sent to the sources in the User-Agent
    host_intervals: dict[str, float] = Field(default_factory=dict)
    prices: dict[str, Price] = Field(default_factory=dict)  # per model, over the defaults
    budget_tokens: int | None = Field(None, ge=1)
    budget_cost: float | None = Field(None, gt=0)
    api_key_env: str | None = None  # the environment variable that holds the model's key
    model: str = "local"
    base_url: str | None = None
    agent_models: dict[str, str] = Field(default_factory=dict)
    dialect: Literal["auto", "json_schema", "llamacpp", "json_object"] = "auto"
    store: str | None = None
    # An OpenAI-compatible /v1/embeddings endpoint and its model, instead of the offline MiniLM.
    embeddings: str | None = None
    embedding_model: str | None = None
    embedding_batch: int = Field(64, ge=1, le=2048)
    runs_dir: str = "runs"
    cache: bool = True
    offline: bool = False
    whole_library: bool = False
    concurrency: int = Field(4, ge=1, le=64)
    passages_per_paper: int = Field(4, ge=1, le=50)
    claims_per_passage: int = Field(3, ge=1, le=8)
    evidence_k: int = Field(4, ge=1, le=8)
    writer_max_claims: int = Field(40, ge=1, le=200)
    review_threshold: int = Field(7, ge=0, le=10)
    revision_rounds: int = Field(1, ge=0, le=5)
    # The reviewer personas that score a draft (prompts/reviewer_<name>.md); empty: all.
    reviewers: list[str] = Field(default_factory=list)
    # Whether the reviewers score the last revision too (the code's measured review always
    # does); off, the last revision is checked by code alone.
    review_revised: bool = True
    max_findings: int = Field(6, ge=1, le=12)
    max_reasks: int = Field(2, ge=0, le=5)
    max_retries: int = Field(4, ge=0, le=10)
    retry_max_wait: float = Field(20.0, ge=0)
    request_timeout: float = Field(300.0, gt=0)
    http_timeout: float = Field(30.0, gt=0)
    lock_timeout: float = Field(60.0, ge=0)  # seconds to wait for a library another run holds
    cache_max_mb: float = Field(2048.0, gt=0)  # each cache; the least recently used go first

    @model_validator(mode="after")
    def _embeddings_named(self) -> RunSettings:
        if self.embeddings and not self.embedding_model:
            raise ValueError("embeddings is set without embedding_model (the model's name)")
        return self

    @model_validator(mode="after")
    def _years_in_order(self) -> RunSettings:
        if self.since and self.until and self.since > self.until:
            raise ValueError(f"since {self.since} is after until {self.until}")
        return self
