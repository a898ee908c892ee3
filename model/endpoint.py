"""Where a model lives: its URL, name, dialect and key. The key is held in memory only."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from synth.urls import host_of, strip_credentials

Dialect = Literal["auto", "json_schema", "llamacpp", "json_object"]

OPENAI_URL = "https://api.openai.com/v1"  # the endpoint of a hosted model named without a URL


@dataclass(frozen=True)
class Endpoint:
    """Where a model lives. `api_key` is held in memory only: it is excluded from `public()`."""

    base_url: str
    model: str
    api_key: str | None = field(default=None, repr=False)
    dialect: Dialect = "auto"
    revision: str = ""
    label: str = ""  # a stable name for the cache key (the local server's port changes per run)
    # A llama.cpp server of the same weights that serves the last token's hidden state
    # (embeddings on, pooling "last"); the embedded local model has one beside it.
    states_url: str = ""

    def public(self) -> dict[str, str]:
        return {
            "base_url": strip_credentials(self.base_url),
            "model": self.model,
            "dialect": self.resolved_dialect(),
            "revision": self.revision,
        }

    def resolved_dialect(self) -> str:
        if self.dialect != "auto":
            return self.dialect
        return "json_schema" if host_of(self.base_url).endswith("openai.com") else "llamacpp"

    def identity(self) -> str:
        return self.label or strip_credentials(self.base_url)
