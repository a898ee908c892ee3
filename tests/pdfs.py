"""Small real PDFs for the tests, made with fpdf2."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF


def pdf_bytes(title: str, lines: list[str], author: str = "") -> bytes:
    pdf = FPDF()
    pdf.set_title(title)
    if author:
        pdf.set_author(author)
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for line in lines:
        pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def make_pdf(path: Path, title: str, lines: list[str], author: str = "") -> Path:
    path.write_bytes(pdf_bytes(title, lines, author))
    return path
