"""Turning Markdown, plain text and PDF files into titled, sectioned, normalised paper text.

Tables, images, code and reference lists are dropped here: they are where garbled "claims"
came from in the reports synth replaces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from synth.domain.records import SECTION_GAP, Section
from synth.store.chunking import normalise

SKIPPED_SECTIONS = re.compile(
    r"^(references|bibliography|acknowledge?ments?|funding|disclaimer|appendix\b.*|supplementary.*)$",
    re.IGNORECASE,
)
KNOWN_HEADINGS = {
    "abstract",
    "introduction",
    "background",
    "related work",
    "method",
    "methods",
    "methodology",
    "materials and methods",
    "experiments",
    "experimental setup",
    "setup",
    "results",
    "findings",
    "discussion",
    "limitations",
    "conclusion",
    "conclusions",
    "references",
    "bibliography",
    "acknowledgements",
    "acknowledgments",
    "analysis",
}
_META_LINE = re.compile(r"^\s*\**(authors?|year|venue|doi|url|note)\**\s*:\s*(.+)$", re.IGNORECASE)


@dataclass
class ParsedDocument:
    title: str = ""
    authors: list[str] = field(default_factory=list)
    year: int | None = None
    venue: str | None = None
    doi: str | None = None
    url: str | None = None
    note: str | None = None
    sections: list[tuple[str, str]] = field(default_factory=list)

    def set_meta(self, key: str, value: str) -> None:
        key = key.strip().lower()
        value = value.strip().strip("\"'")
        if key in ("author", "authors"):
            parts = re.split(r"\s*(?:;|,| and )\s*", value.strip("[]"))
            self.authors = [a.strip().strip("\"'") for a in parts if a.strip()]
        elif key == "year":
            match = re.search(r"\b(1[89]\d\d|20\d\d)\b", value)
            self.year = int(match.group(1)) if match else None
        elif key in ("venue", "doi", "url", "note", "title"):
            setattr(self, key, value or None)


def build_sections(parsed: ParsedDocument) -> list[Section]:
    """Normalise each kept section and index it into the paper text."""
    sections: list[Section] = []
    offset = 0
    for name, body in parsed.sections:
        text = normalise(body)
        if not text or SKIPPED_SECTIONS.match(name.strip()):
            continue
        sections.append(Section(name=name.strip() or "Text", text=text, start=offset))
        offset += len(text) + len(SECTION_GAP)
    return sections


# ---------------------------------------------------------------------------------------------
# Markdown and plain text


def _strip_markdown(line: str) -> str:
    line = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", line)  # images
    line = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", line)  # links keep their text
    line = re.sub(r"`([^`]*)`", r"\1", line)
    line = re.sub(r"(\*\*|__|\*|_)(?=\S)(.+?)(?<=\S)\1", r"\2", line)
    line = re.sub(r"^\s*([-*+]|\d+[.)])\s+", "", line)  # list markers
    return line.replace(">", " ", 1) if line.lstrip().startswith(">") else line


def parse_markdown(text: str) -> ParsedDocument:
    doc = ParsedDocument()
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[0].strip() == "---":
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
        if end is not None:
            for line in lines[1:end]:
                if ":" in line:
                    key, value = line.split(":", 1)
                    doc.set_meta(key.strip(), value)
            lines = lines[end + 1 :]
    current_name, current = "Preamble", []
    in_code = False
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("```"):
            in_code = not in_code
            continue
        if in_code or stripped.startswith("|") or re.match(r"^[-=|: ]{3,}$", stripped):
            continue  # code, tables and rules are not prose
        heading = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", stripped)
        if heading:
            if len(heading.group(1)) == 1 and not doc.title:
                doc.title = _strip_markdown(heading.group(2)).strip()
                continue
            doc.sections.append((current_name, "\n".join(current)))
            current_name, current = _strip_markdown(heading.group(2)).strip(), []
            continue
        meta = _META_LINE.match(stripped)
        if meta and current_name == "Preamble":
            doc.set_meta(meta.group(1), meta.group(2).rstrip("*").strip())
            continue
        current.append(_strip_markdown(line))
    doc.sections.append((current_name, "\n".join(current)))
    if not doc.title:
        first = next((normalise(body) for _, body in doc.sections if normalise(body)), "")
        doc.title = first.split(". ")[0][:150]
    return doc


def parse_plain(text: str) -> ParsedDocument:
    """Plain text: the first line is the title; known headings on their own line open sections."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    doc = ParsedDocument()
    if first is None:
        return doc
    doc.title = lines[first].strip()
    return _split_known_headings(doc, lines[first + 1 :])


def _split_known_headings(doc: ParsedDocument, lines: list[str]) -> ParsedDocument:
    current_name, current = "Preamble", []
    for line in lines:
        stripped = line.strip()
        heading = _heading_name(stripped)
        if heading:
            doc.sections.append((current_name, "\n".join(current)))
            current_name, current = heading, []
            continue
        meta = _META_LINE.match(stripped)
        if meta and current_name == "Preamble":
            doc.set_meta(meta.group(1), meta.group(2))
            continue
        if _is_table_row(stripped):
            continue
        current.append(stripped)
    doc.sections.append((current_name, "\n".join(current)))
    return doc


def _heading_name(line: str) -> str | None:
    match = re.match(r"^(?:(?:\d+(?:\.\d+)*)\.?\s+)?([A-Za-z][A-Za-z &-]{2,60})$", line)
    if not match:
        return None
    name = match.group(1).strip()
    if name.lower() in KNOWN_HEADINGS:
        return name
    numbered = line[0].isdigit() and len(name.split()) <= 6 and name[0].isupper()
    return name if numbered else None


def _is_table_row(line: str) -> bool:
    tokens = line.split()
    if len(tokens) < 3:
        return False
    wordlike = sum(1 for t in tokens if re.search(r"[A-Za-z]{3,}", t))
    return wordlike / len(tokens) < 0.5


# ---------------------------------------------------------------------------------------------
# PDF


def parse_pdf_text(pages: list[str], meta_title: str = "", meta_author: str = "") -> ParsedDocument:
    """Text extracted page by page from a PDF: join, de-hyphenate, then find sections."""
    joined = "\n".join(pages)
    joined = re.sub(r"(\w)-\n(\w)", r"\1\2", joined)
    lines = [line.strip() for line in joined.split("\n")]
    doc = ParsedDocument()
    body_start = 0
    if meta_title.strip():
        doc.title = meta_title.strip()
    else:
        first = next((i for i, line in enumerate(lines) if line), None)
        if first is not None:
            doc.title, body_start = lines[first], first + 1
    if meta_author.strip():
        doc.set_meta("authors", meta_author)
    doc = _split_known_headings(doc, lines[body_start:])
    if doc.title and doc.sections and doc.sections[0][0] == "Preamble":
        # The title often repeats as the first line of the page text.
        name, body = doc.sections[0]
        if body.startswith(doc.title):
            doc.sections[0] = (name, body[len(doc.title) :])
    return doc
