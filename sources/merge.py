"""One paper per work: records from all sources merged by DOI, arXiv id or normalised title.

Two records are the same work when they share any of those keys, transitively (an arXiv
record with a DOI joins the OpenAlex record of that DOI and the Semantic Scholar record of the
same title). The merged paper keeps every id and every source that found it.
"""

from __future__ import annotations

from synth.domain.records import Paper
from synth.sources.records import ID_ORDER, title_key

# Whose metadata wins when sources disagree: the local file (the user's own copy), then the
# bibliographic databases, then the preprint server.
SOURCE_ORDER = ("local", "openalex", "s2", "arxiv")


def _keys(paper: Paper) -> list[str]:
    keys = [f"doi:{paper.doi}"] if paper.doi else []
    if paper.arxiv_id:
        keys.append(f"arxiv:{paper.arxiv_id}")
    title = title_key(paper.title)
    if len(title.split()) >= 4:  # short titles ("Introduction") match unrelated works
        keys.append(f"title:{title}")
    return keys


def merge_papers(records: list[Paper]) -> tuple[list[Paper], int]:
    """The distinct works among `records` (sorted by id) and how many records were merged."""
    parent = list(range(len(records)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for i, paper in enumerate(records):
        for key in _keys(paper):
            if key in owner:
                parent[root(i)] = root(owner[key])
            else:
                owner[key] = i
    groups: dict[int, list[Paper]] = {}
    for i, paper in enumerate(records):
        groups.setdefault(root(i), []).append(paper)
    merged = [combine(group) for group in groups.values()]
    return sorted(merged, key=lambda p: p.id), len(records) - len(merged)


def _rank(paper: Paper) -> int:
    return SOURCE_ORDER.index(paper.source) if paper.source in SOURCE_ORDER else len(SOURCE_ORDER)


def _best_url(ids: dict[str, str]) -> str | None:
    """The stable address of a work: its DOI, else its arXiv page."""
    if "doi" in ids:
        return f"https://doi.org/{ids['doi']}"
    if "arxiv" in ids:
        return f"https://arxiv.org/abs/{ids['arxiv']}"
    return None


def combine(group: list[Paper]) -> Paper:
    """One paper from the records of one work."""
    ranked = sorted(group, key=lambda p: (_rank(p), p.id))
    first = ranked[0]
    if len(group) == 1:
        return first
    ids: dict[str, str] = {}
    for paper in ranked:
        for kind, value in paper.ids.items():
            ids.setdefault(kind, value)

    def pick(field: str) -> object:
        return next((getattr(p, field) for p in ranked if getattr(p, field)), None)

    local = next((p for p in ranked if p.source == "local"), None)
    kind = next((k for k in ID_ORDER if k in ids), None)
    pdfs = [p.pdf_url for p in sorted(ranked, key=lambda p: p.source != "arxiv") if p.pdf_url]
    return first.model_copy(
        update={
            "id": local.id if local else f"{kind}:{ids[kind]}" if kind else first.id,
            "ids": ids,
            "found_in": sorted({s for p in group for s in p.found_in}),
            "title": first.title,
            "authors": max((p.authors for p in ranked), key=len),
            "year": pick("year"),
            "venue": pick("venue"),
            "url": _best_url(ids) or pick("url"),
            "doi": ids.get("doi"),
            "arxiv_id": ids.get("arxiv"),
            "abstract": max((p.abstract for p in ranked), key=len),
            "pdf_url": pdfs[0] if pdfs else None,
            "full_text_available": any(p.full_text_available for p in group),
            "path": local.path if local else None,
        }
    )
