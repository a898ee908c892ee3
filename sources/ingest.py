"""`synth ingest QUERY`: one search on each online source, merged, the best-ranked papers
fetched (or read back from the paper store) — no model involved."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from synth.agents.schemas import Paper, PaperText, RunSettings
from synth.sources.http import SourceError
from synth.sources.literature import SOURCE_NAMES, Literature
from synth.sources.merge import merge_papers
from synth.sources.records import SearchRequest
from synth.store.papers import PaperStore


def best_ranked(results: dict[str, list[Paper]], limit: int) -> list[Paper]:
    """Merged works ordered by their best position in any source's result list."""
    position: dict[str, int] = {}
    for papers in results.values():
        for i, paper in enumerate(papers):
            for kind, value in paper.ids.items():
                key = f"{kind}:{value}"
                position[key] = min(position.get(key, i), i)
    works, _ = merge_papers([p for papers in results.values() for p in papers])

    def rank(work: Paper) -> tuple[int, str]:
        keys = [f"{kind}:{value}" for kind, value in work.ids.items()]
        return (min((position[k] for k in keys if k in position), default=10**6), work.id)

    return sorted(works, key=rank)[:limit]


async def search_and_fetch(
    literature: Literature,
    query: str,
    settings: RunSettings,
    store: PaperStore,
    sources: list[str],
    warn: Callable[[str], None],
) -> list[tuple[PaperText, str]]:
    request = SearchRequest(
        query=query,
        limit=settings.max_papers,
        since=settings.since,
        until=settings.until,
        categories=tuple(settings.arxiv_categories),
    )

    async def one(source: str) -> tuple[str, list[Paper]]:
        try:
            return source, await literature.search(source, request)
        except SourceError as error:
            warn(f"the {SOURCE_NAMES[source]} search failed ({error})")
            return source, []

    results = dict(await asyncio.gather(*(one(s) for s in sources)))
    if not any(results.values()):
        return []

    async def fetch(paper: Paper) -> tuple[PaperText, str] | None:
        stored = store.get(paper.id)
        if stored is not None:
            return stored, "full text (already fetched)"
        result = await literature.full_text(paper)
        if result.text is None:
            warn(f"skipped {paper.id}: {result.note}")
            return None
        if result.text.paper.full_text_available:
            store.put(result.text)
            return result.text, "full text"
        return result.text, "abstract only"

    fetched = await asyncio.gather(*(fetch(p) for p in best_ranked(results, request.limit)))
    return [f for f in fetched if f is not None]
