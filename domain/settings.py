"""Run settings: one home for configuration; flags, environment and synth.toml only fill it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator
from pydantic.fields import FieldInfo

from synth.domain.records import Strict

FlagGroup = Literal["run", "sources", "library"]


def flag(
    group: FlagGroup,
    help: str,
    *,
    name: str | None = None,
    form: Literal["value", "comma", "repeat", "year"] = "value",
    metavar: str | None = None,
) -> dict[str, Any]:
    """A setting that is also a command-line flag (the CLI builds its flags from these):
    `group` says which commands take it (run and resume take all three groups; ingest the
    sources and library ones), `name` overrides --field-name, `form` reads a list as one
    comma-separated value or a repeated flag, or a year (1900 to 2100)."""
    return {"flag": {"group": group, "help": help, "name": name, "form": form, "metavar": metavar}}


class Price(Strict):
    """US dollars per million tokens."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)


class ModelSettings(Strict):
    """The model endpoint, per-agent models, and how calls are made and retried."""

    model: str = Field(
        "local", json_schema_extra=flag("run", "model name, or 'local' for the embedded model")
    )
    base_url: str | None = Field(None, json_schema_extra=flag("run", "OpenAI-compatible endpoint"))
    agent_models: dict[str, str] = Field(default_factory=dict)
    dialect: Literal["auto", "json_schema", "llamacpp", "json_object"] = "auto"
    api_key_env: str | None = Field(
        None,
        json_schema_extra=flag(
            "run",
            "environment variable holding the API key (default SYNTH_API_KEY, OPENAI_API_KEY)",
            metavar="NAME",
        ),
    )
    concurrency: int = Field(4, ge=1, le=64, json_schema_extra=flag("run", "model calls at once"))
    max_reasks: int = Field(2, ge=0, le=5)
    max_retries: int = Field(4, ge=0, le=10)
    retry_max_wait: float = Field(20.0, ge=0)
    request_timeout: float = Field(300.0, gt=0)


class LiteratureSettings(Strict):
    """Where papers come from: the local folder and the online sources, and their limits."""

    corpus: str | None = Field(
        None, json_schema_extra=flag("run", "folder of .pdf/.md/.txt papers")
    )
    sources: list[str] = Field(
        default_factory=lambda: ["local"],
        json_schema_extra=flag(
            "sources",
            "comma-separated, from local,arxiv,openalex,s2 "
            "(default: local with --corpus, else the others)",
            form="comma",
        ),
    )
    since: int | None = Field(
        None,
        ge=1900,
        le=2100,
        json_schema_extra=flag("sources", "only papers from this year on", form="year"),
    )
    until: int | None = Field(
        None,
        ge=1900,
        le=2100,
        json_schema_extra=flag("sources", "only papers up to this year", form="year"),
    )
    max_papers: int = Field(
        20, ge=1, le=500, json_schema_extra=flag("sources", "cap on papers kept after screening")
    )
    results_per_search: int = Field(10, ge=1, le=200)
    arxiv_categories: list[str] = Field(
        default_factory=list,
        json_schema_extra=flag(
            "sources",
            "arXiv category such as cs.LG; repeatable",
            name="--arxiv-category",
            form="repeat",
            metavar="CAT",
        ),
    )
    contact: str | None = None  # an e-mail address sent to the sources in the User-Agent
    host_intervals: dict[str, float] = Field(default_factory=dict)
    http_timeout: float = Field(30.0, gt=0)

    @model_validator(mode="after")
    def _years_in_order(self) -> LiteratureSettings:
        if self.since and self.until and self.since > self.until:
            raise ValueError(f"since {self.since} is after until {self.until}")
        return self


class RetrievalSettings(Strict):
    """Embeddings, and how many passages, claims and evidence passages a run reads."""

    # An OpenAI-compatible /v1/embeddings endpoint and its model, instead of the offline MiniLM.
    embeddings: str | None = Field(
        None,
        json_schema_extra=flag(
            "library",
            "OpenAI-compatible embeddings endpoint (…/v1) instead of the offline model; "
            "key in SYNTH_EMBEDDINGS_API_KEY",
            metavar="URL",
        ),
    )
    embedding_model: str | None = Field(
        None, json_schema_extra=flag("library", "its model name", metavar="NAME")
    )
    embedding_batch: int = Field(64, ge=1, le=2048)
    whole_library: bool = False
    # The most passages of one paper the extractor reads: those holding the sentences that
    # placed the paper, and its best candidate's.
    passages_per_paper: int = Field(4, ge=1, le=50)
    # The most result sentences of one paper the reader reads for its answer to a yes/no
    # question (the filter may let through fewer; bench/depth.py --filter).
    results_per_paper: int = Field(4, ge=1, le=20)
    claims_per_passage: int = Field(3, ge=1, le=8)
    # Where claims come from: the extractor, reading the passages that hold the filter's
    # result sentences; or those sentences themselves, each a claim in the paper's own words,
    # the extractor restating only the passages of those that cannot stand alone.
    claims_from: Literal["extractor", "sentences"] = "extractor"
    evidence_k: int = Field(4, ge=1, le=8)

    @model_validator(mode="after")
    def _embeddings_named(self) -> RetrievalSettings:
        if self.embeddings and not self.embedding_model:
            raise ValueError("embeddings is set without embedding_model (the model's name)")
        return self


class ReviewSettings(Strict):
    """The writer, the reviewers and the rounds of revision."""

    writer_max_claims: int = Field(40, ge=1, le=200)
    review_threshold: int = Field(
        7,
        ge=0,
        le=10,
        json_schema_extra=flag(
            "run",
            "revise until every reviewer criterion scores at least N of 10 (default 7)",
            metavar="N",
        ),
    )
    revision_rounds: int = Field(
        1,
        ge=0,
        le=5,
        json_schema_extra=flag("run", "at most N revisions after review (default 1)", metavar="N"),
    )
    # The reviewer personas that score a draft (prompts/reviewer_<name>.md); empty: all.
    reviewers: list[str] = Field(default_factory=list)
    # Whether the reviewers score the last revision too (the code's measured review always
    # does); off, the last revision is checked by code alone.
    review_revised: bool = True
    # Whether the writer words each finding (checked against its claims); off, each finding
    # is the claim of its group that best answers the question, in the claim's own words.
    writer_findings: bool = True
    # How many times a draft that fails the report's checks goes back to the writer; what
    # still fails after them is cut by code where it can be (a sentence its claims
    # contradict) and stated in the report's checks.
    report_check_rounds: int = Field(2, ge=0, le=5)
    max_findings: int = Field(6, ge=1, le=12)


class BudgetSettings(Strict):
    """What a run may spend, and the prices it counts with."""

    budget_tokens: int | None = Field(
        None, ge=1, json_schema_extra=flag("run", "stop before spending more tokens")
    )
    budget_cost: float | None = Field(
        None, gt=0, json_schema_extra=flag("run", "stop before spending more dollars")
    )
    prices: dict[str, Price] = Field(default_factory=dict)  # per model, over the defaults


class PathSettings(Strict):
    """Where synth reads and writes, and what it may connect to."""

    runs_dir: str = Field("runs", json_schema_extra=flag("run", "where run folders go (./runs)"))
    store: str | None = Field(
        None,
        json_schema_extra=flag(
            "library", "library folder, or http://host:port for a Chroma server"
        ),
    )
    cache: bool = Field(
        True, json_schema_extra=flag("library", "ask every call again", name="--no-cache")
    )
    cache_max_mb: float = Field(2048.0, gt=0)  # each cache; the least recently used go first
    lock_timeout: float = Field(60.0, ge=0)  # seconds to wait for a library another run holds
    offline: bool = Field(
        False,
        json_schema_extra=flag("library", "refuse any connection that is not to 127.0.0.1"),
    )


class RunSettings(Strict):
    """Every setting of a run, in sections. synth.toml, the environment, flags and run.json
    give them by their flat names (`max_papers`), which each belong to one section; synth.toml
    may also group them under their section's table (`[literature]`)."""

    model: ModelSettings = Field(default_factory=ModelSettings)
    literature: LiteratureSettings = Field(default_factory=LiteratureSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    review: ReviewSettings = Field(default_factory=ReviewSettings)
    budget: BudgetSettings = Field(default_factory=BudgetSettings)
    paths: PathSettings = Field(default_factory=PathSettings)

    @model_validator(mode="before")
    @classmethod
    def _into_sections(cls, data: Any) -> Any:
        return sectioned(data) if isinstance(data, dict) else data

    def flat(self) -> dict[str, Any]:
        """The settings by their flat names, as run.json records them."""
        return {
            k: v
            for section in SECTION_NAMES
            for k, v in self.model_dump(mode="json")[section].items()
        }

    @classmethod
    def flat_fields(cls) -> dict[str, FieldInfo]:
        """Every setting's field by its flat name."""
        return {
            name: field
            for section in SECTION_NAMES
            for name, field in cls.model_fields[section].annotation.model_fields.items()  # type: ignore[union-attr]
        }


SECTION_NAMES = ("model", "literature", "retrieval", "review", "budget", "paths")
SECTION_OF = {
    name: section
    for section in SECTION_NAMES
    for name in RunSettings.model_fields[section].annotation.model_fields  # type: ignore[union-attr]
}


def sectioned(data: dict[str, Any]) -> dict[str, Any]:
    """Flat names (and section tables) as sections. A name that is no setting stays at the
    top, where validation refuses it by name."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in SECTION_NAMES and isinstance(value, dict):
            out.setdefault(key, {}).update(value)
        elif key in SECTION_OF:
            out.setdefault(SECTION_OF[key], {})[key] = value
        else:
            out[key] = value
    return out


def flattened(data: dict[str, Any]) -> dict[str, Any]:
    """Section tables (`[literature]` in synth.toml) as flat names, so that a file, the
    environment and flags can be layered name by name."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in SECTION_NAMES and isinstance(value, dict):
            out.update(value)
        else:
            out[key] = value
    return out
