"""The literature sources behind one door: search any source, fetch a paper's text, and look
up the metadata of a local file. The session decides what to ask; this module knows how."""

from __future__ import annotations

from synth.domain.records import Paper
from synth.sources import arxiv, openalex, semantic_scholar
from synth.sources.fulltext import TextResult, fetch_text
from synth.sources.http import PoliteClient
from synth.sources.records import SearchRequest
from synth.store.papers import PaperStore

NETWORK_SOURCES = ("arxiv", "openalex", "s2")
KNOWN_SOURCES = (*NETWORK_SOURCES, "local")
SOURCE_NAMES = {
    "arxiv": "arXiv",
    "openalex": "OpenAlex",
    "s2": "Semantic Scholar",
    "local": "the local folder",
}


class Literature:
    def __init__(self, client: PoliteClient, contact: str | None = None) -> None:
        self.client = client
        self.contact = contact

    async def search(self, source: str, request: SearchRequest) -> list[Paper]:
        if source == "arxiv":
            return await arxiv.search(self.client, request)
        if source == "openalex":
            return await openalex.search(self.client, request, self.contact)
        if source == "s2":
            return await semantic_scholar.search(self.client, request)
        raise ValueError(f"{source} is not a searchable source")

    async def full_text(self, paper: Paper, store: PaperStore | None) -> tuple[TextResult, bool]:
        """The paper's text from the store if it was fetched before, else fetched (and a full
        text kept in the store); and whether it came from the store."""
        stored = store.get(paper.id) if store is not None else None
        if stored is not None:
            return TextResult(stored, None), True
        result = await fetch_text(self.client, paper)
        if store is not None and result.text is not None and result.text.paper.full_text_available:
            store.put(result.text)
        return result, False

    async def complete_metadata(self, paper: Paper) -> Paper:
        """A local paper with what OpenAlex knows filled in where the file said nothing."""
        found = await openalex.lookup(
            self.client, doi=paper.doi, title=paper.title, contact=self.contact
        )
        if found is None:
            return paper
        update = {
            field: getattr(found, field)
            for field in ("authors", "year", "venue", "url", "doi", "arxiv_id")
            if not getattr(paper, field) and getattr(found, field)
        }
        update["ids"] = {**found.ids, **paper.ids}
        return paper.model_copy(update=update)


def needs_metadata(paper: Paper) -> bool:
    return not (paper.doi and paper.authors and paper.year)
