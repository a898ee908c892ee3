"""Opening what a run needs: the model endpoint (serving the embedded model for the block), one
model per agent recording into the run's transcript, the literature sources, the library, the
paper store and the response cache. Each opener closes what it opened."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from synth import urls
from synth.app import config
from synth.app.checks import network_sources, uses_local_model
from synth.app.ui import err_console
from synth.domain.settings import RunSettings
from synth.model.budget import Budget
from synth.model.endpoint import OPENAI_URL, Endpoint
from synth.model.llm import Model
from synth.pipeline.session import AGENTS
from synth.sources.http import HttpCache, PoliteClient
from synth.sources.literature import Literature
from synth.store import paths
from synth.store.cache import ResponseCache
from synth.store.library import Library
from synth.store.papers import PaperStore
from synth.store.remote_embeddings import embedder_for
from synth.store.runs import RunFolder
from synth.store.transcript import Recorder, read_transcript


def open_library(settings: RunSettings) -> Library:
    store = settings.paths.store or str(paths.default_store())
    return Library(store, embedder_for(settings), lock_timeout=settings.paths.lock_timeout)


@contextlib.contextmanager
def response_cache(settings: RunSettings) -> Iterator[ResponseCache | None]:
    """The model answers cache shared by the runs of this process; None with --no-cache."""
    cache = (
        ResponseCache(paths.cache_dir() / "responses.sqlite3", cache_bytes(settings))
        if settings.paths.cache
        else None
    )
    try:
        yield cache
    finally:
        if cache is not None:
            cache.close()


@contextlib.asynccontextmanager
async def model_endpoint(settings: RunSettings) -> AsyncIterator[Endpoint]:
    """The settings' model endpoint; the embedded local model is served for the block."""
    key = config.api_key(settings.model.api_key_env)
    if settings.model.base_url:
        yield Endpoint(
            settings.model.base_url,
            settings.model.model,
            api_key=key,
            dialect=settings.model.dialect,
        )
    elif uses_local_model(settings):
        from synth.model import local_model

        async with local_model.serve(local_model.weights_for(settings.model.model)) as served:
            yield served
    else:
        yield Endpoint(
            OPENAI_URL, settings.model.model, api_key=key, dialect=settings.model.dialect
        )


@contextlib.asynccontextmanager
async def open_models(
    settings: RunSettings,
    run: RunFolder,
    cache: ResponseCache | None,
    base: Endpoint | None = None,
    semaphore: asyncio.Semaphore | None = None,
) -> AsyncIterator[dict[str, Model]]:
    """One model per agent for `run`, recording into its transcript. A batch passes the
    endpoint and the bound on calls in flight that its runs share."""
    key = config.api_key(settings.model.api_key_env)
    async with contextlib.AsyncExitStack() as stack:
        if base is None:
            base = await stack.enter_async_context(model_endpoint(settings))
        recorder = Recorder(
            run.transcript,
            secrets=[key or "", *urls.url_secrets(base.base_url), *config.source_secrets()],
        )
        host = urls.host_of(base.base_url)
        literature = settings.literature
        if not urls.is_local(base.base_url) and "local" in literature.sources:
            err_console.print(
                f"note: text from the papers in {literature.corpus} will be sent to {host}",
                highlight=False,
            )
        semaphore = semaphore or asyncio.Semaphore(settings.model.concurrency)
        recorded = read_transcript(run.transcript)
        earlier = {e["request_hash"]: e for e in recorded if e.get("raw") is not None}
        budget = None
        if settings.budget.budget_tokens is not None or settings.budget.budget_cost is not None:
            budget = Budget(
                settings.budget.budget_tokens,
                settings.budget.budget_cost,
                settings.budget.prices,
                resume_hint=f": synth resume {run.path}",
            )
            budget.spent_before(recorded)
        dialects: dict[str, str] = {}
        models: dict[str, Model] = {}
        for agent in AGENTS:
            name = settings.model.agent_models.get(agent, base.model)
            endpoint = (
                base
                if name == base.model
                else Endpoint(
                    base.base_url,
                    name,
                    api_key=base.api_key,
                    dialect=base.dialect,
                    label=base.label,
                )
            )
            models[agent] = Model(
                endpoint,
                recorder=recorder,
                cache=cache,
                semaphore=semaphore,
                earlier=earlier,
                dialects=dialects,
                budget=budget,
                max_reasks=settings.model.max_reasks,
                max_retries=settings.model.max_retries,
                retry_max_wait=settings.model.retry_max_wait,
                timeout=settings.model.request_timeout,
            )
        run.update_record(endpoints={agent: m.public() for agent, m in models.items()})
        try:
            yield models
        finally:
            # Record the dialects in effect: replay must ask as the run last asked.
            run.update_record(endpoints={agent: m.public() for agent, m in models.items()})
            for model in models.values():
                await model.close()


def cache_bytes(settings: RunSettings) -> int:
    return int(settings.paths.cache_max_mb * 1024 * 1024)


def paper_store_for(store: str) -> PaperStore:
    """Fetched paper texts live beside an embedded library, else in the user data folder."""
    if store.startswith(("http://", "https://")):
        return PaperStore(paths.data_dir() / "papers")
    return PaperStore(Path(store) / "papers")


@contextlib.asynccontextmanager
async def open_literature(settings: RunSettings) -> AsyncIterator[Literature | None]:
    """The literature sources, when the run uses any online one."""
    if not network_sources(settings):
        yield None
        return
    cache = (
        HttpCache(paths.cache_dir() / "http.sqlite3", cache_bytes(settings))
        if settings.paths.cache
        else None
    )
    client = PoliteClient(
        contact=settings.literature.contact,
        cache=cache,
        intervals=settings.literature.host_intervals,
        timeout=settings.literature.http_timeout,
        max_retries=settings.model.max_retries,
        retry_max_wait=settings.model.retry_max_wait,
    )
    try:
        yield Literature(client, settings.literature.contact)
    finally:
        await client.close()
        if cache is not None:
            cache.close()
