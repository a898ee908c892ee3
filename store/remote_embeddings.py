"""Embeddings from an OpenAI-compatible `/v1/embeddings` endpoint (vLLM, TEI, llama.cpp, a
hosted API): batched, retried like model calls, and checked for shape.

The library calls its embedder synchronously (Chroma's client is synchronous), so this client
is too; batches are sent one after another. The endpoint's model name is the embedder's
identity: the library keeps one collection per name, so vectors from two models never mix,
and the collection records the vectors' dimension, so a server that changes it is refused.
"""

from __future__ import annotations

import os
import time

import httpx

from synth.domain.errors import BadInput, Unreachable
from synth.domain.settings import RunSettings
from synth.retrying import backoff_seconds, retry_after
from synth.store.embeddings import Embedder, MiniLM
from synth.urls import strip_credentials

TRANSIENT = {408, 409, 425, 429, 500, 502, 503, 504}
KEY_ENV = "SYNTH_EMBEDDINGS_API_KEY"


def embedder_for(settings: RunSettings) -> Embedder:
    """The offline MiniLM, or the OpenAI-compatible embeddings endpoint the settings name."""
    if not settings.retrieval.embeddings:
        return MiniLM()
    assert settings.retrieval.embedding_model is not None  # RunSettings requires it with embeddings
    return RemoteEmbedder(
        settings.retrieval.embeddings,
        settings.retrieval.embedding_model,
        api_key=os.environ.get(KEY_ENV),
        batch_size=settings.retrieval.embedding_batch,
        max_retries=settings.model.max_retries,
        retry_max_wait=settings.model.retry_max_wait,
        timeout=settings.literature.http_timeout,
    )


class RemoteEmbedder:
    """Vectors for texts from `base_url` (ending in /v1) for `model`."""

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        batch_size: int = 64,
        max_retries: int = 4,
        retry_max_wait: float = 20.0,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.name = f"remote-{model}"
        # No weights file to hash: the model's name stands for them (see the module docstring).
        self.sha256 = f"remote:{model}"
        self.batch_size = batch_size
        self.max_retries = max_retries
        self.retry_max_wait = retry_max_wait
        self.dimension: int | None = None
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(timeout=timeout, headers=headers, transport=transport)

    def close(self) -> None:
        self._client.close()

    def embed(self, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            vectors += self._batch(texts[start : start + self.batch_size])
        return vectors

    def _batch(self, texts: list[str]) -> list[list[float]]:
        body = self._post({"model": self.model, "input": texts})
        try:
            items = sorted(body["data"], key=lambda d: d["index"])
            vectors = [[float(x) for x in item["embedding"]] for item in items]
        except (KeyError, TypeError, ValueError):
            raise Unreachable(
                f"the embeddings server at {self.where} answered without embeddings",
                "check --embeddings (an OpenAI-compatible API usually ends in /v1), then resume",
            ) from None
        if len(vectors) != len(texts):
            raise Unreachable(
                f"the embeddings server at {self.where} returned {len(vectors)} vectors "
                f"for {len(texts)} texts",
                "check the server, then resume",
            )
        for vector in vectors:
            if self.dimension is None:
                self.dimension = len(vector)
            if len(vector) != self.dimension or not vector:
                raise Unreachable(
                    f"the embeddings server at {self.where} returned vectors of "
                    f"{len(vector)} dimensions, not {self.dimension}",
                    f"check that it serves {self.model} only, then resume",
                )
        return vectors

    def _post(self, payload: dict[str, object]) -> dict:
        url = f"{self.base_url}/embeddings"
        for attempt in range(1, self.max_retries + 2):
            try:
                response = self._client.post(url, json=payload)
            except httpx.TransportError:
                if attempt > self.max_retries:
                    raise Unreachable(
                        f"the embeddings server at {self.where} did not answer after "
                        f"{attempt} tries",
                        "start it or fix --embeddings, then resume",
                    ) from None
                time.sleep(backoff_seconds(None, attempt, self.retry_max_wait))
                continue
            if response.status_code in TRANSIENT and attempt <= self.max_retries:
                hinted = retry_after(response.headers)
                time.sleep(backoff_seconds(hinted, attempt, self.retry_max_wait))
                continue
            if response.status_code in (401, 403):
                raise BadInput(
                    f"the embeddings server at {self.where} refused the key "
                    f"(HTTP {response.status_code})",
                    "set the key in SYNTH_EMBEDDINGS_API_KEY",
                )
            if response.status_code == 404 or response.status_code == 400:
                raise BadInput(
                    f"the embeddings server at {self.where} refused {self.model} "
                    f"(HTTP {response.status_code})",
                    "check --embedding-model and --embeddings",
                )
            if response.status_code >= 400:
                raise Unreachable(
                    f"the embeddings server at {self.where} failed (HTTP "
                    f"{response.status_code}) after {attempt} tries",
                    "try again later, then resume",
                )
            try:
                return response.json()
            except ValueError:
                raise Unreachable(
                    f"the embeddings server at {self.where} answered with something other "
                    "than JSON",
                    "check --embeddings (it usually ends in /v1), then resume",
                ) from None
        raise AssertionError("unreachable")  # the loop returns or raises

    @property
    def where(self) -> str:
        """The server's URL as messages show it (no credentials)."""
        return strip_credentials(self.base_url)
