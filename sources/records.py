"""What every literature source shares: the search request, id normalisation and paper ids."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from synth.domain.records import Paper

_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>]+)", re.IGNORECASE)
_ARXIV_NEW = re.compile(r"(\d{4}\.\d{4,5})(v\d+)?")
_ARXIV_OLD = re.compile(r"([a-z-]+(?:\.[A-Z]{2})?/\d{7})(v\d+)?")
_ARXIV_DOI = re.compile(r"10\.48550/arxiv\.(.+)", re.IGNORECASE)
# The preference order of ids when one is chosen as the paper's own.
ID_ORDER = ("arxiv", "doi", "openalex", "s2")


@dataclass(frozen=True)
class SearchRequest:
    """One query to one source, with the user's filters."""

    query: str
    limit: int
    since: int | None = None
    until: int | None = None
    categories: tuple[str, ...] = field(default_factory=tuple)


def clean_doi(value: str | None) -> str | None:
    """A bare, lower-case DOI from any of its spellings (URL, `doi:` prefix), or None."""
    if not value:
        return None
    match = _DOI.search(value)
    if not match:
        return None
    return match.group(1).rstrip(".,;)]").lower()


def clean_arxiv_id(value: str | None) -> str | None:
    """An arXiv id without its version (`2106.01234`, `hep-th/9901001`), or None."""
    if not value:
        return None
    tail = value.strip().rsplit("/abs/", 1)[-1].rsplit("/pdf/", 1)[-1]
    tail = tail.removeprefix("arXiv:").removeprefix("arxiv:").removesuffix(".pdf")
    for pattern in (_ARXIV_NEW, _ARXIV_OLD):
        match = pattern.fullmatch(tail)
        if match:
            return match.group(1)
    return None


def title_key(title: str) -> str:
    """A title reduced to lower-case letters and digits, for matching across sources."""
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def collapse(text: str | None) -> str:
    return " ".join((text or "").split())


def make_paper(source: str, ids: dict[str, str], **fields: object) -> Paper:
    """A paper from one source's record; its id is the first of ID_ORDER it has."""
    ids = {k: v for k, v in ids.items() if v}
    # arXiv's own DOIs (10.48550/arXiv.<id>) name the preprint: they are its arXiv id, and a
    # journal DOI, when there is one, is the better DOI to cite.
    arxiv_doi = _ARXIV_DOI.fullmatch(ids.get("doi", ""))
    if arxiv_doi:
        ids.setdefault("arxiv", clean_arxiv_id(arxiv_doi.group(1)) or "")
        del ids["doi"]
        ids = {k: v for k, v in ids.items() if v}
    kind = next(k for k in ID_ORDER if k in ids)
    return Paper(
        id=f"{kind}:{ids[kind]}",
        source=source,
        found_in=[source],
        ids=ids,
        doi=ids.get("doi"),
        arxiv_id=ids.get("arxiv"),
        full_text_available=False,
        **fields,  # type: ignore[arg-type]
    )
