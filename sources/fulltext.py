"""Full text where it is open: the paper's PDF downloaded and cut into sections; otherwise its
abstract, and the reason the full text could not be used."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from synth.domain.records import Paper, PaperText, Section
from synth.sources.http import PoliteClient, SourceError
from synth.sources.local import read_pdf
from synth.sources.text import build_sections
from synth.store.chunking import normalise

MIN_FULL_TEXT_WORDS = 300
MIN_ABSTRACT_WORDS = 20


@dataclass(frozen=True)
class TextResult:
    text: PaperText | None
    note: str | None  # why only the abstract, or nothing, could be used


def pdf_sections(data: bytes) -> list[Section]:
    """Sections of a downloaded PDF; ValueError when it is not a PDF with readable text."""
    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise ValueError("the open-access link did not lead to a PDF")
    try:
        doc = read_pdf(data)
    except Exception as error:  # pypdf raises many kinds on a damaged file
        raise ValueError(f"the PDF could not be parsed ({type(error).__name__})") from None
    sections = build_sections(doc)
    if sum(len(s.text.split()) for s in sections) < MIN_FULL_TEXT_WORDS:
        raise ValueError("the PDF has too little extractable text (scanned?)")
    return sections


def abstract_only(paper: Paper) -> PaperText | None:
    text = normalise(paper.abstract)
    if len(text.split()) < MIN_ABSTRACT_WORDS:
        return None
    return PaperText(
        paper=paper.model_copy(update={"full_text_available": False}),
        sections=[Section(name="Abstract", text=text, start=0)],
    )


async def fetch_text(client: PoliteClient, paper: Paper) -> TextResult:
    """The paper's full text from its open PDF, else its abstract, else nothing."""
    note = "no open-access full text was found"
    if paper.pdf_url:
        try:
            fetched = await client.get(paper.pdf_url)
            sections = await asyncio.to_thread(pdf_sections, fetched.body)
        except SourceError as error:
            note = f"the full text could not be downloaded ({error})"
        except ValueError as error:
            note = str(error)
        else:
            full = paper.model_copy(update={"full_text_available": True})
            return TextResult(PaperText(paper=full, sections=sections), None)
    text = abstract_only(paper)
    if text is None:
        return TextResult(None, f"{note}, and the abstract is missing or too short")
    return TextResult(text, f"abstract only: {note}")
