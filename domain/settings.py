"""Run settings: one home for configuration; flags, environment and synth.toml only fill it."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from synth.domain.records import Strict


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
