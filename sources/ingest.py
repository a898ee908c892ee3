"""`synth ingest PATH|QUERY`, no model involved: a folder or file read like `--corpus` (with
metadata from OpenAlex when an online source is selected), or one search on each online source,
merged, and the best-ranked papers fetched or read back from the paper store."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from synth.domain.errors import BadInput
from synth.domain.records import Paper, PaperText
from synth.domain.settings import RunSettings
from synth.sources.http import SourceError
from synth.sources.literature import SOURCE_NAMES, Literature, needs_metadata
from synth.sources.local import load_file, load_folder
from synth.sources.merge import merge_papers
from synth.sources.records import SearchRequest
from synth.store.papers import PaperStore


async def read_path(
    target: Path, literature: Literature | None, warn: Callable[[str], None]
) -> list[tuple[PaperText, str]]:
    if target.is_dir():
        loaded = load_folder(target, warn)
    else:
        try:
            loaded = [load_file(target)]
        except (OSError, UnicodeDecodeError, ValueError) as error:
            raise BadInput(
                f"cannot read {target}: {error}", "pass a .pdf, .md or .txt paper"
            ) from None
    found = []
    for text in loaded:
        if literature is not None and needs_metadata(text.paper):
            try:
                text = text.model_copy(
                    update={"paper": await literature.complete_metadata(text.paper)}
                )
            except SourceError as error:
                warn(f"no metadata lookup for {text.paper.path} ({error})")
        found.append((text, "full text"))
    return found


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
        limit=settings.literature.max_papers,
        since=settings.literature.since,
        until=settings.literature.until,
        categories=tuple(settings.literature.arxiv_categories),
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
        result, stored = await literature.full_text(paper, store)
        if result.text is None:
            warn(f"skipped {paper.id}: {result.note}")
            return None
        if stored:
            return result.text, "full text (already fetched)"
        return (
            result.text,
            "full text" if result.text.paper.full_text_available else "abstract only",
        )

    fetched = await asyncio.gather(*(fetch(p) for p in best_ranked(results, request.limit)))
    return [f for f in fetched if f is not None]
