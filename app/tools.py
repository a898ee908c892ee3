"""Commands about the machine rather than a run: the model endpoints (`models`), the caches
(`cache`) and adding papers to the library without a model (`ingest`)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from synth import urls
from synth.app import config
from synth.app.checks import (
    check_offline,
    check_sources,
    network_sources,
)
from synth.app.parts import open_library, open_literature, paper_store_for
from synth.app.ui import out_console, warn_line
from synth.domain.errors import BadInput, Interrupted, Unreachable
from synth.domain.records import PaperText
from synth.domain.settings import Price
from synth.domain.text import plural
from synth.model.endpoint import OPENAI_URL, Endpoint
from synth.pipeline.session import AGENTS
from synth.sources.http import HttpCache
from synth.store import paths
from synth.store.cache import ResponseCache
from synth.store.chunking import chunk_paper


def models(flags: dict[str, Any]) -> int:
    """The endpoints this folder's settings would use, each checked: reachable, model listed,
    structured-output dialect accepted, and its price."""
    from rich.table import Table

    from synth.model import local_model
    from synth.model.cost import price_for
    from synth.model.dialects import probe

    settings = config.resolve(flags)
    table = Table(title="synth models")
    for column in ("agents", "model", "endpoint", "status", "output", "price per 1M tokens"):
        table.add_column(column, overflow="fold")
    wanted: dict[str, list[str]] = {}
    for agent in AGENTS:
        wanted.setdefault(settings.model.agent_models.get(agent, settings.model.model), []).append(
            agent
        )
    key = config.api_key(settings.model.api_key_env)
    for model, agents in wanted.items():
        names = ", ".join(agents) if len(wanted) > 1 else "all"
        if config.is_local_model(model, settings.model.base_url):
            weights = local_model.weights_for(model)
            table.add_row(
                names,
                weights.name,
                "embedded llama.cpp server on 127.0.0.1",
                local_model.status(weights),
                "llamacpp schemas",
                "0 (local)",
            )
            continue
        url = settings.model.base_url or OPENAI_URL
        found = asyncio.run(
            probe(Endpoint(url, model, api_key=key, dialect=settings.model.dialect))
        )
        status = "reachable" if found.reachable else found.detail
        if found.reachable and found.listed is not None:
            status += ", model listed" if found.listed else ", model NOT listed"
        price = price_for({"model": model, "endpoint": {"base_url": url}}, settings.budget.prices)
        table.add_row(
            names,
            model,
            urls.strip_credentials(url),
            status,
            found.detail if found.reachable else "",
            _price_text(price),
        )
    out_console.print(table)
    return 0


def _price_text(price: Price | None) -> str:
    if price is None:
        return 'unpriced: add [prices."NAME"] to synth.toml'
    if price.input == price.output == 0:
        return "free (this machine)"
    return f"${price.input:g} in, ${price.output:g} out"


def cache(action: str) -> int:
    caches = (
        ("model responses", ResponseCache(paths.cache_dir() / "responses.sqlite3")),
        ("source pages", HttpCache(paths.cache_dir() / "http.sqlite3")),
    )
    for what, cache in caches:
        if action == "clear":
            print(f"removed {cache.clear()} cached {what}")
        else:
            info = cache.info()
            print(f"{info['path']}: {info['entries']} {what}, {info['bytes']} bytes")
        cache.close()
    return 0


def ingest_papers(target_text: str, flags: dict[str, Any]) -> int:
    """Add papers to the library without a model: a local folder or file, or the results of
    one search. Papers already fetched or embedded are neither fetched nor embedded again."""
    from rich.table import Table

    from synth.sources import ingest

    target = Path(target_text).expanduser()
    is_path = target.exists()
    if is_path:
        flags["sources"] = flags.get("sources") or ["local"]
        flags["corpus"] = str(target.resolve())
    settings = config.resolve(flags)
    check_sources(settings, corpus_needed=False)
    check_offline(settings)
    if not is_path and not network_sources(settings):
        raise BadInput(
            f"'{target_text}' is not a file or folder, and no online source is selected",
            "pass a path, or a search query with --sources arxiv,openalex,s2",
        )
    store = settings.paths.store or str(paths.default_store())

    async def gather() -> list[tuple[PaperText, str]]:
        async with open_literature(settings) as literature:
            if is_path:
                return await ingest.read_path(target, literature, warn_line)
            assert literature is not None
            return await ingest.search_and_fetch(
                literature,
                target_text,
                settings,
                paper_store_for(store),
                network_sources(settings),
                warn_line,
            )

    try:
        found = asyncio.run(gather())
    except KeyboardInterrupt:
        raise Interrupted("interrupted", "run the same `synth ingest` again to continue") from None
    if not found:
        raise Unreachable(
            f"nothing to add: no paper with text was found for '{target_text}'",
            "try other words, or check the network",
        )
    table = Table(title=f"synth ingest → {store}")
    for column in ("paper", "text", "new passages"):
        table.add_column(column, overflow="fold")
    new_passages, already = 0, 0
    with open_library(settings) as library:
        for text, how in found:
            added = library.add(chunk_paper(text))
            new_passages += added
            already += added == 0
            table.add_row(f"{text.paper.id} {text.paper.title}", how, str(added))
    out_console.print(table)
    print(
        f"{plural(len(found), 'paper')} ingested: {plural(new_passages, 'new passage')} "
        f"embedded, {plural(already, 'paper was', 'papers were')} already in the library."
    )
    return 0
