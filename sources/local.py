"""A local folder of papers: `.pdf`, `.md`/`.markdown` and `.txt` files, read recursively.

A paper's id is `local:` plus the start of the sha256 of its bytes, so the same file always
maps to the same passages in the library. Unreadable files are skipped with a warning.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from synth.domain.errors import BadInput
from synth.domain.records import Paper, PaperText
from synth.sources.records import clean_doi
from synth.sources.text import (
    ParsedDocument,
    build_sections,
    parse_markdown,
    parse_pdf_text,
    parse_plain,
)

SUFFIXES = {".pdf", ".md", ".markdown", ".txt"}
MAX_FILE_BYTES = 50 * 1024 * 1024


def read_document(path: Path, data: bytes) -> ParsedDocument:
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return read_pdf(data)
    text = data.decode("utf-8")
    return parse_markdown(text) if suffix in (".md", ".markdown") else parse_plain(text)


def read_pdf(data: bytes) -> ParsedDocument:
    """A PDF's text in sections, its title and authors, and the DOI printed on its first page."""
    import io
    import logging

    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        raise ValueError("the PDF is encrypted")
    info = reader.metadata or {}
    pages = [page.extract_text() or "" for page in reader.pages]
    doc = parse_pdf_text(pages, str(info.get("/Title") or ""), str(info.get("/Author") or ""))
    doc.doi = doc.doi or clean_doi(pages[0] if pages else "")
    return doc


def load_file(path: Path) -> PaperText:
    if path.stat().st_size > MAX_FILE_BYTES:  # before reading it into memory
        raise ValueError(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    data = path.read_bytes()
    doc = read_document(path, data)
    sections = build_sections(doc)
    words = sum(len(s.text.split()) for s in sections)
    if words < 20:
        raise ValueError("no readable text found")
    abstract = next((s.text for s in sections if s.name.lower() == "abstract"), sections[0].text)
    doi = clean_doi(doc.doi)
    paper = Paper(
        id="local:" + hashlib.sha256(data).hexdigest()[:16],
        title=doc.title or path.stem,
        authors=doc.authors,
        year=doc.year,
        venue=doc.venue,
        url=doc.url,
        doi=doi,
        abstract=abstract[:1500],
        source="local",
        full_text_available=True,
        path=str(path),
        ids={"doi": doi} if doi else {},
        found_in=["local"],
    )
    return PaperText(paper=paper, sections=sections)


def load_folder(folder: Path, warn: Callable[[str], None]) -> list[PaperText]:
    """All readable papers under `folder`, sorted by id; exit 2 when there are none."""
    if not folder.exists():
        raise BadInput(
            f"the corpus folder {folder} does not exist", "pass --corpus with a folder of papers"
        )
    if not folder.is_dir():
        raise BadInput(
            f"--corpus {folder} is not a folder", "pass a folder of .pdf, .md or .txt papers"
        )
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
    papers: dict[str, PaperText] = {}
    for path in files:
        try:
            loaded = load_file(path)
        except (OSError, UnicodeDecodeError, ValueError) as error:
            warn(f"skipped {path}: {_reason(error)}")
            continue
        except Exception as error:  # a malformed PDF can raise anything from deep in pypdf
            warn(f"skipped {path}: unreadable ({type(error).__name__})")
            continue
        if loaded.paper.id in papers:
            warn(f"skipped {path}: same content as {papers[loaded.paper.id].paper.path}")
            continue
        papers[loaded.paper.id] = loaded
    if not papers:
        raise BadInput(
            f"no readable paper in {folder} (looked for {', '.join(sorted(SUFFIXES))})",
            "add papers to the folder or pass another --corpus",
        )
    return [papers[k] for k in sorted(papers)]


def _reason(error: Exception) -> str:
    if isinstance(error, UnicodeDecodeError):
        return "not UTF-8 text"
    if isinstance(error, OSError):
        return error.strerror or str(error)
    return str(error)
