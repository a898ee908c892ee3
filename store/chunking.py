"""Sentences and passages.

Paper text is normalised once (single spaces inside a section), so a passage is an exact slice
of its paper's text and a quote made of contiguous sentences is an exact slice of its passage.
"""

from __future__ import annotations

import re

from synth.domain.records import PaperText, Passage

_ABBREVIATIONS = {
    "e.g",
    "i.e",
    "et al",
    "etc",
    "fig",
    "figs",
    "eq",
    "eqs",
    "ref",
    "refs",
    "vs",
    "approx",
    "cf",
    "no",
    "vol",
    "sec",
    "ch",
    "dr",
    "prof",
    "mr",
    "mrs",
    "ms",
    "al",
    "resp",
    "tab",
}
_BOUNDARY = re.compile(r"[.!?]['\")\]]*\s+(?=[\"'(\[]?[A-Z0-9])")
QUOTE_GAP = " […] "


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence in `text`, end exclusive, whitespace excluded."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.start() + 1
        before = text[start:end].rstrip(".!?")
        last_word = before.rsplit(" ", 1)[-1].lower().rstrip(".")
        # Abbreviations, initials and decimals ("3. 5" never occurs after normalising) do not end
        # a sentence.
        if last_word in _ABBREVIATIONS or re.fullmatch(r"[a-z]", last_word):
            continue
        closing = match.group(0).rstrip()
        spans.append((start, match.start() + len(closing)))
        start = match.end()
    if start < len(text) and text[start:].strip():
        spans.append((start, len(text.rstrip())))
    return spans


def sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text)]


def chunk_paper(paper: PaperText, max_words: int = 130, min_words: int = 25) -> list[Passage]:
    """Cut each section into passages of whole sentences, about `max_words` words each."""
    passages: list[Passage] = []
    for section in paper.sections:
        spans = sentence_spans(section.text)
        groups: list[list[tuple[int, int]]] = []
        current: list[tuple[int, int]] = []
        words = 0
        for span in spans:
            n = len(section.text[span[0] : span[1]].split())
            if current and words + n > max_words:
                groups.append(current)
                current, words = [], 0
            current.append(span)
            words += n
        if current:
            if groups and words < min_words:
                groups[-1].extend(current)
            else:
                groups.append(current)
        for group in groups:
            start, end = group[0][0], group[-1][1]
            text = section.text[start:end]
            if not text.strip():
                continue
            passages.append(
                Passage(
                    id=f"{paper.paper.id}#{len(passages) + 1:03d}",
                    paper_id=paper.paper.id,
                    section=section.name,
                    text=text,
                    char_start=section.start + start,
                    char_end=section.start + end,
                )
            )
    return passages


def quote_from_sentences(text: str, indices: list[int]) -> str:
    """The verbatim quote for the chosen sentences: contiguous runs are exact slices of `text`,
    runs are joined by QUOTE_GAP."""
    spans = sentence_spans(text)
    chosen = sorted(set(i for i in indices if 0 <= i < len(spans)))
    runs: list[list[int]] = []
    for i in chosen:
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return QUOTE_GAP.join(text[spans[r[0]][0] : spans[r[-1]][1]] for r in runs)


def locate_quote(quote: str, text: str) -> bool:
    """True when every piece of `quote` occurs verbatim (up to whitespace) in `text`."""
    if not quote.strip():
        return False
    haystack = normalise(text)
    pieces = [normalise(piece) for piece in quote.split(QUOTE_GAP.strip())]
    return all(piece and piece in haystack for piece in pieces)
