"""Render scripts/example_pdf_source.md into examples/10_output_layer_spikes.pdf.

The example corpus needs one real PDF so that the quick start exercises PDF reading. Run this
after editing the source (needs the dev extra: fpdf2); the PDF is committed.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from fpdf import FPDF

HERE = Path(__file__).parent
SOURCE = HERE / "example_pdf_source.md"
TARGET = HERE.parent / "examples" / "10_output_layer_spikes.pdf"


def main() -> None:
    text = SOURCE.read_text(encoding="utf-8")
    _, front, body = text.split("---\n", 2)
    meta = dict(line.split(": ", 1) for line in front.strip().splitlines())
    pdf = FPDF()
    pdf.set_title(meta["title"])
    pdf.set_author(meta["authors"].replace(";", ","))
    pdf.set_subject(meta["note"])
    pdf.set_creation_date(datetime(2022, 1, 1, tzinfo=timezone.utc))  # reproducible bytes
    pdf.add_page()
    for line in body.strip().splitlines():
        if line.startswith("# "):
            pdf.set_font("Helvetica", "B", 15)
            pdf.multi_cell(0, 8, line[2:], new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("Helvetica", "", 10)
            for key in ("authors", "year", "venue", "note"):
                pdf.multi_cell(
                    0, 5, f"{key.capitalize()}: {meta[key]}", new_x="LMARGIN", new_y="NEXT"
                )
        elif line.startswith("## "):
            pdf.ln(3)
            pdf.set_font("Helvetica", "B", 12)
            pdf.multi_cell(0, 7, line[3:], new_x="LMARGIN", new_y="NEXT")
        elif line.strip():
            pdf.set_font("Helvetica", "", 11)
            pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(TARGET))


if __name__ == "__main__":
    main()
