"""Semantic Scholar: the Graph API's relevance search (`/graph/v1/paper/search`), paged by
offset. An API key, when set in S2_API_KEY or SEMANTIC_SCHOLAR_API_KEY, goes in the
`x-api-key` header, which the HTTP client never stores.
"""

from __future__ import annotations

import json
import os
from typing import Any

from synth.domain.records import Paper
from synth.sources.http import PoliteClient, SourceError
from synth.sources.records import SearchRequest, clean_arxiv_id, clean_doi, collapse, make_paper

NAME = "s2"
API = "https://api.semanticscholar.org/graph/v1/paper/search"
PAGE = 50
CACHE_SECONDS = 7 * 24 * 3600
KEY_ENVS = ("S2_API_KEY", "SEMANTIC_SCHOLAR_API_KEY")
FIELDS = "paperId,externalIds,title,abstract,year,authors,venue,url,openAccessPdf"


def api_key() -> str | None:
    return next((os.environ[k] for k in KEY_ENVS if os.environ.get(k)), None)


def _years(request: SearchRequest) -> str | None:
    if not (request.since or request.until):
        return None
    return f"{request.since or ''}-{request.until or ''}"


def parse_record(record: dict[str, Any]) -> Paper | None:
    s2_id = str(record.get("paperId") or "")
    title = collapse(record.get("title"))
    if not s2_id or not title:
        return None
    external = record.get("externalIds") or {}
    pdf = (record.get("openAccessPdf") or {}).get("url") or None
    return make_paper(
        NAME,
        {
            "s2": s2_id,
            "doi": clean_doi(external.get("DOI")) or "",
            "arxiv": clean_arxiv_id(external.get("ArXiv")) or "",
        },
        title=title,
        authors=[collapse(a.get("name")) for a in record.get("authors") or [] if a.get("name")],
        year=record.get("year"),
        venue=collapse(record.get("venue")) or None,
        url=record.get("url"),
        abstract=collapse(record.get("abstract")),
        pdf_url=pdf,
    )


def parse_page(body: bytes) -> tuple[list[Paper], int | None]:
    """Papers of one page and the offset of the next (None at the end)."""
    try:
        data = json.loads(body)
    except ValueError:
        raise SourceError("Semantic Scholar sent an answer that is not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("data", []), list):
        raise SourceError("Semantic Scholar sent JSON of an unexpected shape")
    records = [r for r in data.get("data", []) if isinstance(r, dict)]
    papers = [p for p in (parse_record(r) for r in records) if p]
    following = data.get("next")
    return papers, following if isinstance(following, int) else None


async def search(client: PoliteClient, request: SearchRequest) -> list[Paper]:
    key = api_key()
    headers = {"x-api-key": key} if key else None
    papers: list[Paper] = []
    offset: int | None = 0
    while offset is not None and len(papers) < request.limit:
        fetched = await client.get(
            API,
            params={
                "query": request.query,
                "fields": FIELDS,
                "offset": offset,
                "limit": min(PAGE, request.limit - len(papers)),
                "year": _years(request),
            },
            headers=headers,
            max_age=CACHE_SECONDS,
        )
        page, offset = parse_page(fetched.body)
        papers += page
        if not page:
            break
    return papers[: request.limit]
