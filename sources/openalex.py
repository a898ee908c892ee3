"""OpenAlex: works search with cursor paging, abstracts rebuilt from the inverted index, and
open-access PDF links; also the metadata lookup (by DOI, then by title) for local files.

An API key, when set in OPENALEX_API_KEY, travels as the `api_key` query parameter, which the
HTTP client keeps out of its cache and out of every message.
"""

from __future__ import annotations

import json
import os
from typing import Any

from synth.domain.records import Paper
from synth.sources.http import PoliteClient, SourceError
from synth.sources.records import (
    SearchRequest,
    clean_arxiv_id,
    clean_doi,
    collapse,
    make_paper,
    title_key,
)

NAME = "openalex"
API = "https://api.openalex.org"
PAGE = 50
CACHE_SECONDS = 7 * 24 * 3600
KEY_ENV = "OPENALEX_API_KEY"
FIELDS = (
    "id,doi,display_name,publication_year,authorships,primary_location,best_oa_location,"
    "open_access,locations,abstract_inverted_index"
)


def abstract_from_index(index: dict[str, list[int]] | None) -> str:
    """The abstract's words put back in the order of their positions."""
    if not index:
        return ""
    placed = sorted((pos, word) for word, positions in index.items() for pos in positions)
    return collapse(" ".join(word for _, word in placed))


def _filters(request: SearchRequest) -> str | None:
    parts = []
    if request.since:
        parts.append(f"from_publication_date:{request.since}-01-01")
    if request.until:
        parts.append(f"to_publication_date:{request.until}-12-31")
    return ",".join(parts) or None


def _params(client_contact: str | None, **params: Any) -> dict[str, Any]:
    return {**params, "mailto": client_contact, "api_key": os.environ.get(KEY_ENV) or None}


def _json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError:
        raise SourceError("OpenAlex sent an answer that is not JSON") from None
    if not isinstance(data, dict):
        raise SourceError("OpenAlex sent JSON of an unexpected shape")
    return data


def parse_work(work: dict[str, Any]) -> Paper | None:
    openalex_id = str(work.get("id") or "").rsplit("/", 1)[-1]
    title = collapse(work.get("display_name") or work.get("title"))
    if not openalex_id or not title:
        return None
    locations = [loc for loc in work.get("locations") or [] if isinstance(loc, dict)]
    arxiv_id = next(
        (
            clean_arxiv_id(loc.get("landing_page_url"))
            for loc in locations
            if "arxiv.org" in str(loc.get("landing_page_url") or "")
        ),
        None,
    )
    best = work.get("best_oa_location") or {}
    primary = work.get("primary_location") or {}
    venue = ((primary.get("source") or {}) or {}).get("display_name")
    doi = clean_doi(work.get("doi"))
    return make_paper(
        NAME,
        {"openalex": openalex_id, "doi": doi or "", "arxiv": arxiv_id or ""},
        title=title,
        authors=[
            collapse((a.get("author") or {}).get("display_name"))
            for a in work.get("authorships") or []
            if (a.get("author") or {}).get("display_name")
        ],
        year=work.get("publication_year"),
        venue=venue,
        url=f"https://doi.org/{doi}" if doi else primary.get("landing_page_url"),
        abstract=abstract_from_index(work.get("abstract_inverted_index")),
        pdf_url=best.get("pdf_url") or primary.get("pdf_url"),
    )


def parse_page(body: bytes) -> tuple[list[Paper], str | None]:
    """Papers of one result page and the cursor of the next page (None at the end)."""
    data = _json(body)
    results = data.get("results")
    if not isinstance(results, list):
        raise SourceError("OpenAlex sent a page without results")
    papers = [p for p in (parse_work(w) for w in results if isinstance(w, dict)) if p]
    return papers, (data.get("meta") or {}).get("next_cursor")


async def search(client: PoliteClient, request: SearchRequest, contact: str | None) -> list[Paper]:
    papers: list[Paper] = []
    cursor: str | None = "*"
    while cursor and len(papers) < request.limit:
        fetched = await client.get(
            f"{API}/works",
            params=_params(
                contact,
                search=request.query,
                filter=_filters(request),
                select=FIELDS,
                cursor=cursor,
                **{"per-page": min(PAGE, request.limit)},
            ),
            max_age=CACHE_SECONDS,
        )
        page, cursor = parse_page(fetched.body)
        papers += page
        if not page:
            break
    return papers[: request.limit]


async def lookup(
    client: PoliteClient, *, doi: str | None, title: str, contact: str | None
) -> Paper | None:
    """The OpenAlex record of a work by DOI, else by exact title; None when not found."""
    if doi:
        try:
            fetched = await client.get(
                f"{API}/works/doi:{doi}", params=_params(contact, select=FIELDS)
            )
            return parse_work(_json(fetched.body))
        except SourceError as error:
            if error.status != 404:
                raise
    if len(title_key(title).split()) < 4:
        return None  # too short to match a title safely
    fetched = await client.get(
        f"{API}/works",
        params=_params(
            contact,
            filter=f"title.search:{title_key(title)}",  # commas and colons would split it
            select=FIELDS,
            **{"per-page": 5},
        ),
    )
    papers, _ = parse_page(fetched.body)
    return next((p for p in papers if title_key(p.title) == title_key(title)), None)
