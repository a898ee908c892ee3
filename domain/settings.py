"""Run settings: one home for configuration; flags, environment and synth.toml only fill it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

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


class RunSettings(Strict):
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
    prices: dict[str, Price] = Field(default_factory=dict)  # per model, over the defaults
    budget_tokens: int | None = Field(
        None, ge=1, json_schema_extra=flag("run", "stop before spending more tokens")
    )
    budget_cost: float | None = Field(
        None, gt=0, json_schema_extra=flag("run", "stop before spending more dollars")
    )
    api_key_env: str | None = Field(
        None,
        json_schema_extra=flag(
            "run",
            "environment variable holding the API key (default SYNTH_API_KEY, OPENAI_API_KEY)",
            metavar="NAME",
        ),
    )
    model: str = Field(
        "local", json_schema_extra=flag("run", "model name, or 'local' for the embedded model")
    )
    base_url: str | None = Field(None, json_schema_extra=flag("run", "OpenAI-compatible endpoint"))
    agent_models: dict[str, str] = Field(default_factory=dict)
    dialect: Literal["auto", "json_schema", "llamacpp", "json_object"] = "auto"
    store: str | None = Field(
        None,
        json_schema_extra=flag(
            "library", "library folder, or http://host:port for a Chroma server"
        ),
    )
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
    runs_dir: str = Field("runs", json_schema_extra=flag("run", "where run folders go (./runs)"))
    cache: bool = Field(
        True, json_schema_extra=flag("library", "ask every call again", name="--no-cache")
    )
    offline: bool = Field(
        False,
        json_schema_extra=flag("library", "refuse any connection that is not to 127.0.0.1"),
    )
    whole_library: bool = False
    concurrency: int = Field(4, ge=1, le=64, json_schema_extra=flag("run", "model calls at once"))
    passages_per_paper: int = Field(4, ge=1, le=50)
    claims_per_passage: int = Field(3, ge=1, le=8)
    evidence_k: int = Field(4, ge=1, le=8)
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
