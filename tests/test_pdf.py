"""The typeset PDF: text extracted with pypdf has every section, the full question, every claim
and every reference in order; citations are link annotations; the CLI writes it."""

from __future__ import annotations

import io
import json
import re

from pypdf import PdfReader

from synth.domain.records import Report
from synth.report.pdf import to_pdf
from tests.helpers import QUESTION, only_run, run_cli
from tests.report_facts import QUESTION as FIXED_QUESTION
from tests.report_facts import report_with_disagreement

HEADINGS = [
    "Abstract",
    "1. Introduction",
    "2. Findings",
    "3. Agreement and contradictions",
    "4. Discussion",
    "5. Method",
    "6. Limitations",
    "7. Claims",
    "8. Reviews",
    "References",
    "Run statistics",
    "Appendix: report checks",
]


def flat(text: str) -> str:
    return " ".join(text.split())


def pdf_text(data: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(data))
    return reader, flat(" ".join(page.extract_text() for page in reader.pages))


def test_the_pdf_holds_every_section_claim_and_reference_in_order():
    report = report_with_disagreement()
    reader, text = pdf_text(to_pdf(report))
    assert len(reader.pages) > 1
    assert f"Research question: {FIXED_QUESTION}" in text
    at = [text.index(h) for h in HEADINGS]
    assert at == sorted(at), "sections out of order"
    claims_at = text.index("7. Claims")
    positions = [text.index(flat(c.text), claims_at) for c in report.claims]
    assert positions == sorted(positions)
    refs_at = text.index("References", text.index("8. Reviews"))
    positions = [text.index(f"[{r.n}] {r.authors[0]}", refs_at) for r in report.references]
    assert positions == sorted(positions)
    assert report.run_id in text


def test_citations_are_links_to_the_references():
    report = report_with_disagreement()
    reader, _ = pdf_text(to_pdf(report))
    links = [
        annot.get_object()
        for page in reader.pages
        for annot in page.get("/Annots", [])
        if annot.get_object().get("/Subtype") == "/Link"
    ]
    cited = sum(len(f.refs) for f in report.findings)
    assert len(links) >= cited
    # Internal links: a destination in the document, not a URL.
    assert all("/Dest" in link or "/A" in link for link in links)
    assert any("/Dest" in link for link in links)


def test_the_same_report_gives_the_same_bytes():
    report = report_with_disagreement()
    assert to_pdf(report) == to_pdf(report)


def test_export_and_run_write_the_pdf(capsys, corpus, fake, isolated):
    args = ["run", QUESTION, "--corpus", str(corpus), "--base-url", fake.url, "--model", "m"]
    code, _, err = run_cli(capsys, *args, "--pdf")
    assert code == 0, err
    run = only_run(isolated / "runs")
    first = (run / "report.pdf").read_bytes()
    assert first.startswith(b"%PDF")
    (run / "report.pdf").unlink()
    code, _, err = run_cli(capsys, "export", str(run), "--format", "pdf")
    assert code == 0, err
    assert (run / "report.pdf").read_bytes() == first
    report = Report.model_validate(json.loads((run / "report.json").read_text()))
    _, text = pdf_text(first)
    assert flat(report.question) in text
    assert all(flat(r.title).rstrip(".") in text for r in report.references)
    assert re.search(r"\d+ papers read, \d+ claims checked", text)
