"""arXiv: the export API's Atom feed (search_query, start, max_results).

A query's keywords are joined with AND over all fields; years become a submittedDate range and
categories an OR of `cat:` terms. Every paper on arXiv has an open PDF.
"""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from synth.domain.records import Paper
from synth.sources.http import PoliteClient, SourceError
from synth.sources.records import SearchRequest, clean_arxiv_id, clean_doi, collapse, make_paper

NAME = "arxiv"
API = "https://export.arxiv.org/api/query"
PAGE = 50
CACHE_SECONDS = 7 * 24 * 3600
NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "opensearch": "http://a9.com/-/spec/opensearch/1.1/",
    "arxiv": "http://arxiv.org/schemas/atom",
}
_STOP = {"a", "an", "and", "the", "of", "in", "on", "for", "to", "with", "by", "or", "does", "do"}
_CATEGORY = re.compile(r"^[a-z-]+(\.[A-Za-z-]+)?$")


def search_query(request: SearchRequest) -> str:
    words = [w for w in re.findall(r"[\w-]+", request.query.lower()) if w not in _STOP]
    parts = [" AND ".join(f"all:{w}" for w in words) or "all:*"]
    if request.categories:
        parts.append("(" + " OR ".join(f"cat:{c}" for c in request.categories) + ")")
    if request.since or request.until:
        start = f"{request.since or 1991}01010000"
        end = f"{request.until or 2999}12312359"
        parts.append(f"submittedDate:[{start} TO {end}]")
    return " AND ".join(parts)


def valid_category(name: str) -> bool:
    return bool(_CATEGORY.match(name))


def parse_feed(xml: bytes) -> tuple[list[Paper], int]:
    """Papers of one Atom page and the feed's total result count; SourceError if malformed."""
    try:
        root = ElementTree.fromstring(xml)
    except (ElementTree.ParseError, DefusedXmlException) as error:
        raise SourceError(f"arXiv sent a feed that is not valid XML ({error})") from None
    if root.tag != f"{{{NS['atom']}}}feed":
        raise SourceError("arXiv sent XML that is not an Atom feed")
    total = int(_text(root, "opensearch:totalResults") or 0)
    papers = []
    for entry in root.findall("atom:entry", NS):
        entry_id = _text(entry, "atom:id")
        if "/api/errors" in entry_id:
            raise SourceError(f"arXiv refused the query: {collapse(_text(entry, 'atom:summary'))}")
        paper = _paper(entry)
        if paper is not None:
            papers.append(paper)
    return papers, total


def _text(node: Element, path: str) -> str:
    found = node.find(path, NS)
    return collapse(found.text) if found is not None and found.text else ""


def _paper(entry: Element) -> Paper | None:
    arxiv_id = clean_arxiv_id(_text(entry, "atom:id"))
    title = _text(entry, "atom:title")
    if not arxiv_id or not title:
        return None
    pdf = next(
        (
            link.get("href")
            for link in entry.findall("atom:link", NS)
            if link.get("title") == "pdf" or link.get("type") == "application/pdf"
        ),
        None,
    )
    published = _text(entry, "atom:published")
    return make_paper(
        NAME,
        {"arxiv": arxiv_id, "doi": clean_doi(_text(entry, "arxiv:doi")) or ""},
        title=title,
        authors=[
            collapse(a.text)
            for a in entry.findall("atom:author/atom:name", NS)
            if a.text and a.text.strip()
        ],
        year=int(published[:4]) if published[:4].isdigit() else None,
        venue=_text(entry, "arxiv:journal_ref") or "arXiv",
        url=f"https://arxiv.org/abs/{arxiv_id}",
        abstract=_text(entry, "atom:summary"),
        pdf_url=(pdf or f"https://arxiv.org/pdf/{arxiv_id}").replace("http://", "https://", 1),
    )


async def search(client: PoliteClient, request: SearchRequest) -> list[Paper]:
    papers: list[Paper] = []
    start = 0
    while len(papers) < request.limit:
        size = min(PAGE, request.limit - len(papers))
        fetched = await client.get(
            API,
            params={
                "search_query": search_query(request),
                "start": start,
                "max_results": size,
                "sortBy": "relevance",
            },
            max_age=CACHE_SECONDS,
        )
        page, total = parse_feed(fetched.body)
        papers += page
        start += len(page)  # the API may return fewer entries than asked for
        if not page or start >= total:
            break
    return papers[: request.limit]
