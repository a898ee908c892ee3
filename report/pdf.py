"""Render a `Report` as a typeset PDF with fpdf2.

Why fpdf2: it is pure Python, installs from the package registry, and needs no browser, no
system fonts and no compiler at run time. The fonts are the DejaVu faces that matplotlib (a
dependency, for the figures) ships, so any Unicode a paper title holds can be set. The PDF has
the same sections and numbers as report.md, a title block, the figures, a claims table, and
citations that are links to their reference.
"""

from __future__ import annotations

import io
import re
from datetime import datetime, timezone
from pathlib import Path

import matplotlib
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from synth.domain.records import Report
from synth.report import figures
from synth.report.answers import ANSWERS_HEADING, SIDES_INTRO, answer_sides, answer_summary
from synth.report.lint import CITATION
from synth.report.render import (
    RULE_NOTE,
    by_rule,
    confidence_cell,
    evidence_line,
    glance,
    reference_line,
    sureness,
)
from synth.report.reviews import (
    REVIEW_NOTE,
    justified,
    review_heading,
    revision_outcome,
    score_table,
)

FONT = "DejaVu"
FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
BODY, SMALL, LINE = 10, 8, 5.2
MARKS = {"supports": "+", "contradicts": "−", "mixed": "±", "silent": "·"}


def created_at(created: str) -> datetime:
    try:
        return datetime.strptime(created, "%Y-%m-%d %H:%M UTC").replace(tzinfo=timezone.utc)
    except ValueError:
        return datetime(2000, 1, 1, tzinfo=timezone.utc)


class _Document(FPDF):
    def __init__(self, report: Report) -> None:
        super().__init__(format="A4")
        self.report = report
        self.set_margins(18, 18, 18)
        self.set_auto_page_break(True, margin=18)
        self.add_font(FONT, "", str(FONT_DIR / "DejaVuSerif.ttf"))
        self.add_font(FONT, "B", str(FONT_DIR / "DejaVuSerif-Bold.ttf"))
        self.add_font(FONT, "I", str(FONT_DIR / "DejaVuSerif-Italic.ttf"))
        self.set_title(report.title)
        self.set_creator("synth")
        # The run's date, not the clock: the same report always gives the same bytes.
        self.set_creation_date(created_at(report.created))
        # Pointed at their reference once it is set; fpdf2 needs a page for a link at once.
        self.refs = {r.n: self.add_link(page=1) for r in report.references}
        self.section_no = 0

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, "", SMALL)
        self.set_text_color(110)
        self.cell(0, 5, f"{self.report.run_id} · page {self.page_no()}", align="C")
        self.set_text_color(0)

    # Building blocks ---------------------------------------------------------------------------

    def heading(self, title: str, numbered: bool = True) -> None:
        if numbered:
            self.section_no += 1
            title = f"{self.section_no}. {title}"
        if self.get_y() > self.h - 50:
            self.add_page()
        self.ln(3)
        self.start_section(title)
        self.set_font(FONT, "B", 13)
        self.multi_cell(0, 7, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1)
        self.set_font(FONT, "", BODY)

    def prose(self, text: str, size: int = BODY, style: str = "") -> None:
        """Paragraphs whose [n] citations link to their reference."""
        self.set_font(FONT, style, size)
        for paragraph in (p.strip() for p in text.split("\n\n")):
            if paragraph:
                self.linked(paragraph, size * 0.52)
                self.ln(size * 0.52 + 2)

    def linked(self, text: str, height: float) -> None:
        at = 0
        for match in CITATION.finditer(text):
            self.write(height, text[at : match.start()])
            numbers = [int(n) for n in re.split(r"\s*,\s*", match.group(1))]
            self.write(height, "[")
            for i, n in enumerate(numbers):
                self.set_text_color(20, 70, 160)
                self.write(height, str(n), link=self.refs.get(n, ""))
                self.set_text_color(0)
                if i < len(numbers) - 1:
                    self.write(height, ", ")
            self.write(height, "]")
            at = match.end()
        self.write(height, text[at:])

    def figure(self, chart: figures.Chart | None) -> None:
        if chart is None:
            return
        png = chart.png()
        width_mm = min(self.epw, chart.figure.get_figwidth() * 25.4)
        height_mm = width_mm * chart.figure.get_figheight() / chart.figure.get_figwidth()
        chart.close()
        if self.get_y() + height_mm + 15 > self.h - 18:
            self.add_page()
        self.image(io.BytesIO(png), w=width_mm)
        self.set_font(FONT, "I", SMALL + 0.5)
        self.multi_cell(0, 4.2, chart.caption, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(2)
        self.set_font(FONT, "", BODY)

    def grid(self, rows: list[list[str]], widths: tuple[float, ...], size: float = SMALL) -> None:
        self.set_font(FONT, "", size)
        heading = FontFace(emphasis="BOLD", fill_color=(235, 235, 235))
        with self.table(
            width=min(self.epw, sum(widths)),
            col_widths=widths,
            align="LEFT",
            headings_style=heading,
            line_height=size * 0.5,
            text_align="LEFT",
            padding=1,
        ) as table:
            for row in rows:
                cells = table.row()
                for value in row:
                    cells.cell(value)
        self.ln(3)
        self.set_font(FONT, "", BODY)


def to_pdf(report: Report) -> bytes:
    doc = _Document(report)
    doc.add_page()
    s = report.stats
    doc.set_font(FONT, "B", 17)
    doc.multi_cell(0, 8.5, report.title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    doc.ln(2)
    doc.set_font(FONT, "B", BODY)
    doc.write(LINE, "Research question: ")
    doc.set_font(FONT, "", BODY)
    doc.write(LINE, report.question)
    doc.ln(LINE + 2)
    models = ", ".join(sorted(set(report.models.values())))
    doc.set_font(FONT, "", SMALL + 0.5)
    doc.set_text_color(90)
    doc.multi_cell(
        0,
        4.4,
        f"{report.created} · model {models} · run {report.run_id}\n{glance(report)}",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    doc.set_text_color(0)
    doc.ln(2)
    if report.answer is not None:
        doc.set_font(FONT, "B", BODY)
        doc.write(LINE, f"{ANSWERS_HEADING} ")
        doc.set_font(FONT, "", BODY)
        doc.linked(answer_summary(report.answer), LINE)
        doc.ln(LINE + 2)

    doc.heading("Abstract", numbered=False)
    doc.prose(report.sections["abstract"])
    doc.heading("Introduction")
    doc.prose(report.sections["introduction"])

    doc.heading("Findings")
    for i, finding in enumerate(report.findings, start=1):
        refs = f" [{', '.join(str(r) for r in finding.refs)}]" if finding.refs else ""
        doc.set_font(FONT, "B", BODY)
        doc.write(LINE, f"{i}. ")
        doc.set_font(FONT, "", BODY)
        doc.linked(finding.statement + refs, LINE)
        doc.ln(LINE)
        doc.set_font(FONT, "", SMALL + 0.5)
        doc.set_text_color(80)
        doc.linked(evidence_line(finding), 4.4)
        doc.set_text_color(0)
        doc.ln(6.5)

    doc.heading("Agreement and contradictions")
    sides = answer_sides(report)
    if sides:
        doc.prose(SIDES_INTRO, size=SMALL + 1)
        for s in sides:
            doc.set_x(doc.l_margin + 6)
            doc.set_font(FONT, "", SMALL + 0.5)
            claim = f", {s.claim_id}" if s.claim_id else ""
            doc.linked(f'{s.side.capitalize()} [{s.ref}]{claim}: "{s.quote}"', 4.4)
            doc.ln(5.5)
        doc.ln(1)
    if report.agreement.rows:
        doc.prose(
            "Where each cited paper stands on each finding (+ supports, − contradicts, ± both, "
            "· silent):",
            size=SMALL + 1,
        )
        header = ["Finding", *(f"[{r}]" for r in report.agreement.refs)]
        rows = [[str(r.finding), *(MARKS[c] for c in r.cells)] for r in report.agreement.rows]
        first = 16.0
        rest = min(10.0, (doc.epw - first) / max(1, len(report.agreement.refs)))
        doc.grid([header, *rows], (first, *[rest] * len(report.agreement.refs)))
        doc.figure(figures.agreement_heatmap(report))
    if not report.contradictions:
        doc.prose(
            "No claim was contradicted by evidence from the other papers, and no finding "
            "names a disagreeing claim."
        )
    for c in report.contradictions:
        against = sorted({int(e["ref"]) for e in c.evidence})
        cites = ", ".join(str(r) for r in against)
        head = (
            f"{c.claim_id} {c.statement} [{c.ref}], contradicted by [{cites}]{sureness(c)}."
            if c.finding is None
            else f"{c.claim_id} (against finding {c.finding}) {c.statement} [{c.ref}]"
        )
        side = "Evidence" if c.finding is None else f"Finding {c.finding}"
        doc.set_font(FONT, "", BODY - 0.5)
        doc.linked(head, LINE)
        doc.ln(LINE + 1)
        doc.set_font(FONT, "I", SMALL + 0.5)
        quotes = [f'{c.claim_id} [{c.ref}]: "{c.quote}"']
        quotes += [f'{side} [{e["ref"]}]: "{e["text"]}"' for e in c.evidence]
        for quote in quotes:
            doc.set_x(doc.l_margin + 6)
            doc.linked(quote, 4.4)
            doc.ln(5.5)
        doc.ln(1)

    doc.heading("Discussion")
    doc.prose(report.sections["discussion"])
    doc.heading("Method")
    doc.prose(report.sections["method"])
    doc.figure(figures.funnel(report))
    if report.screening.excluded:
        rows = [["Paper left out", "Reason"]]
        rows += [[e.title, e.reason] for e in report.screening.excluded]
        doc.grid(rows, (70.0, doc.epw - 70.0))
    doc.heading("Limitations")
    doc.prose(report.sections["limitations"])

    doc.heading("Claims")
    doc.prose(report.sections["confidence"], size=SMALL + 0.5)
    doc.figure(figures.verdicts_per_paper(report))
    doc.figure(figures.calibration_curve(report))
    rows = [["Claim", "Ref", "Statement", "Verdict", "Conf.", "Evidence"]]
    for c in report.claims:
        rows.append(
            [
                c.id,
                str(c.ref or ""),
                c.text + ("" if c.quote_found else " (quote not located)"),
                c.label.value.lower(),
                confidence_cell(report, c),
                ", ".join(c.evidence) or "none",
            ]
        )
    doc.grid(rows, (11.0, 9.0, 82.0, 22.0, 12.0, doc.epw - 136.0), size=SMALL - 0.5)
    if any(by_rule(report, c) for c in report.claims):
        doc.prose(RULE_NOTE, size=SMALL)

    doc.heading("Reviews")
    if any(not r.measured for r in report.reviews):
        doc.prose(REVIEW_NOTE, size=SMALL + 1)
        table = score_table(report)
        doc.grid(table, (40.0, *[22.0] * (len(table[0]) - 1)))
    for revision in report.revisions:
        asked = "\n".join(f"• {r}" for r in revision.requests)
        doc.set_font(FONT, "", SMALL + 1)
        outcome = revision_outcome(revision)
        doc.multi_cell(
            0,
            4.4,
            f"{revision.step.capitalize()} {outcome}. It was asked to:\n{asked}",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        doc.ln(2)
    for review in report.reviews:
        doc.set_font(FONT, "B", BODY - 0.5)
        doc.multi_cell(
            0,
            LINE,
            review_heading(review),
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        rows = [["Criterion", "Score", "Justification"]]
        rows += [
            [k.replace("_", " "), str(v.score), justified(v)] for k, v in review.scores.items()
        ]
        doc.grid(rows, (38.0, 14.0, doc.epw - 52.0))

    doc.heading("References", numbered=False)
    doc.set_font(FONT, "", SMALL + 1)
    for ref in report.references:
        doc.set_link(doc.refs[ref.n], y=doc.get_y())
        line = f"[{ref.n}] {reference_line(ref, emphasis='')}"
        doc.multi_cell(0, 4.6, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        doc.ln(1)

    doc.heading("Run statistics", numbered=False)
    rows = [["Measure", "Value"]]
    rows += [[k.replace("_", " "), str(v)] for k, v in report.stats.model_dump().items()]
    doc.grid(rows, (60.0, 40.0))
    doc.heading("Appendix: report checks", numbered=False)
    doc.prose("\n\n".join(report.lint), size=SMALL + 1)
    return bytes(doc.output())
