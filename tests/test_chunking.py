"""Sentences, passages and quote location."""

from __future__ import annotations

from synth.domain.records import Paper, PaperText
from synth.sources.text import build_sections, parse_markdown
from synth.store.chunking import (
    chunk_paper,
    locate_quote,
    quote_from_sentences,
    sentence_spans,
    sentences,
)


def test_sentences_respect_abbreviations_and_decimals():
    text = (
        "Warmup helps, e.g. with Adam at a rate of 0.001 in Fig. 2 of Smith et al. 2020. "
        "It failed once! Did it fail twice? No."
    )
    assert sentences(text) == [
        "Warmup helps, e.g. with Adam at a rate of 0.001 in Fig. 2 of Smith et al. 2020.",
        "It failed once!",
        "Did it fail twice?",
        "No.",
    ]
    for start, end in sentence_spans(text):
        assert text[start:end] == text[start:end].strip()


def _paper(markdown: str) -> PaperText:
    doc = parse_markdown(markdown)
    return PaperText(
        paper=Paper(id="local:x", title=doc.title, source="local"), sections=build_sections(doc)
    )


def test_passages_are_exact_slices_of_the_paper_text():
    body = " ".join(f"Sentence number {i} says something about warmup." for i in range(60))
    paper = _paper(f"# T\n\n## Results\n{body}\n\n## Discussion\nShort closing remark here.")
    passages = chunk_paper(paper, max_words=60)
    assert len(passages) > 3
    full = paper.text
    for p in passages:
        assert full[p.char_start : p.char_end] == p.text
        assert len(p.text.split()) <= 60 or p.section == "Discussion"
    assert {p.section for p in passages} == {"Results", "Discussion"}
    assert passages[0].id == "local:x#001"


def test_reference_sections_and_tables_are_not_passages():
    paper = _paper(
        "# T\n\n## Results\nWarmup reduced divergence in every run.\n\n"
        "| model | loss |\n|---|---|\n| a | 1.0 |\n\n## References\n[1] A. Person. 2020."
    )
    text = paper.text
    assert "loss" not in text and "Person" not in text


def test_quote_by_construction_and_location():
    text = "First claim is here. Second one follows. Third ends it."
    assert quote_from_sentences(text, [0, 1]) == "First claim is here. Second one follows."
    gapped = quote_from_sentences(text, [0, 2])
    assert gapped == "First claim is here. […] Third ends it."
    assert locate_quote(gapped, text)
    assert locate_quote("Second  one\nfollows.", text)
    assert not locate_quote("Second one failed.", text)
    assert not locate_quote("", text)
    assert not locate_quote("[…]", text)
