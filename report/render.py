"""Render a `Report` to report.md, report.json, claims.csv and references.bib.

Pure functions of the report: the same report always renders to the same bytes, which is what
makes `replay` comparable byte for byte.
"""

from __future__ import annotations

import csv
import io
import re

from synth.domain.agreement import strength_summary
from synth.domain.records import (
    Contradiction,
    Finding,
    Reference,
    Report,
    ReportClaim,
)
from synth.domain.text import plural, table_cell
from synth.report.answers import (
    ANSWERS_HEADING,
    SIDES_INTRO,
    answer_sides,
    answer_summary,
    cite_text,
)
from synth.report.reviews import review_heading, review_summary

CSV_COLUMNS = [
    "id",
    "ref",
    "paper_id",
    "text",
    "quote",
    "quote_found",
    "label",
    "confidence",
    "evidence",
]


def authors_text(authors: list[str]) -> str:
    if not authors:
        return "Anonymous"
    if len(authors) > 3:
        return f"{authors[0]} et al."
    return ", ".join(authors)


def as_sentence(title: str) -> str:
    """A title ending in one stop: its own ? or !, else a full stop."""
    title = title.strip().rstrip(".")
    return title if title.endswith(("?", "!")) else f"{title}."


def reference_line(ref: Reference, emphasis: str = "*") -> str:
    """A reference in words; `emphasis` marks the venue (Markdown italics by default)."""
    parts = [f"{authors_text(ref.authors)} ({ref.year or 'n.d.'}). {as_sentence(ref.title)}"]
    if ref.venue:
        parts.append(f"{emphasis}{ref.venue}{emphasis}.")
    if ref.doi:
        parts.append(f"https://doi.org/{ref.doi}")
    elif ref.url:
        parts.append(ref.url)
    elif ref.id.startswith("local:"):
        parts.append(f"Local file ({ref.id}).")
    if ref.arxiv_id and not ref.doi:
        parts.append(f"arXiv:{ref.arxiv_id}.")
    if not ref.full_text_available:
        parts.append("(Read from the abstract only.)")
    return " ".join(parts)


RULE_MARK = "*"
RULE_NOTE_SHORT = "the evidence score, not a rate the fitted judge measured"
RULE_NOTE = (
    f"A confidence marked {RULE_MARK} is {RULE_NOTE_SHORT}: no passage was judged, or the "
    "verdict rests only on other papers that answer the question alike."
)


def by_rule(report: Report, claim: ReportClaim) -> bool:
    """Whether `claim`'s confidence, in a report whose confidences a fitted judge calibrated,
    is the evidence score instead."""
    return report.judge is not None and claim.scored_by_rule()


def confidence_cell(report: Report, claim: ReportClaim) -> str:
    return f"{claim.confidence:.2f}{RULE_MARK if by_rule(report, claim) else ''}"


MARKS = {"supports": "+", "contradicts": "−", "mixed": "±", "silent": "·"}


def evidence_line(finding: Finding) -> str:
    """The strength of a finding, the papers on each side and the claims it rests on."""
    line = f"Evidence {finding.strength}"
    if finding.answer is not None:
        line = f"Answers the question: {finding.answer}. {line}"
    if finding.disputing_refs:
        line += (
            f" (for: {cite_text(finding.supporting_refs)}; against: "
            f"{cite_text(finding.disputing_refs)})"
        )
    line += f". Rests on claims {', '.join(finding.claim_ids)}"
    if finding.from_claim:
        why = (
            "because the writer's own statement failed its checks"
            if finding.writer_asked
            else "since writer_findings is off"
        )
        line += f" (stated in the words of claim {finding.from_claim}, {why})"
    if finding.against_claim_ids:
        line += f"; disputed by claim{'s' if len(finding.against_claim_ids) > 1 else ''} "
        line += ", ".join(finding.against_claim_ids)
    return line + "."


def sureness(c: Contradiction) -> str:
    """How sure the verifier was that the passages contradict the claim, for the reader who
    sees only the quotes."""
    return "" if c.confidence is None else f" (verdict confidence {c.confidence:.2f})"


def contradiction_lines(c: Contradiction) -> list[str]:
    """One disagreement, each side in its own words: a claim against the passages that
    contradict it, or against the claims of the finding it disputes."""
    if c.finding is None:
        refs = sorted({int(e["ref"]) for e in c.evidence})
        head = (
            f"{c.statement} {cite_text([c.ref])}, contradicted by {cite_text(refs)}{sureness(c)}."
        )
        side = "Evidence"
    else:
        head = f"(against finding {c.finding}) {c.statement} {cite_text([c.ref])}"
        side = f"Finding {c.finding}"
    lines = [f"- **{c.claim_id}** {head}", f'  > {c.claim_id} {cite_text([c.ref])}: "{c.quote}"']
    lines += [f'  >\n  > {side} {cite_text([int(e["ref"])])}: "{e["text"]}"' for e in c.evidence]
    return lines


def agreement_table(report: Report) -> list[str]:
    if not report.agreement.rows:
        return []
    refs = report.agreement.refs
    out = [
        "Where each cited paper stands on each finding (+ supports, − contradicts, ± both, "
        "· silent), from the claims a finding rests on and the verifier's judgement of every "
        "passage offered as evidence:",
        "",
        "| Finding | " + " | ".join(f"[{r}]" for r in refs) + " |",
        "|---|" + "---|" * len(refs),
    ]
    for row in report.agreement.rows:
        out.append(f"| {row.finding} | " + " | ".join(MARKS[c] for c in row.cells) + " |")
    return [*out, ""]


def glance(report: Report) -> str:
    """The opening line's counts: papers read (less those set aside as off-topic), claims
    checked by verdict, papers cited, and the strength of each finding's evidence."""
    s = report.stats
    off = len(report.off_topic)
    read = plural(s.papers_included - off, "paper") + " read"
    if off:
        read += f" ({off} more set aside as off-topic)"
    return (
        f"{read}, {plural(s.claims, 'claim')} checked ({s.supported} supported, "
        f"{s.contradicted} contradicted, {s.insufficient} insufficient), "
        f"{plural(s.papers_cited, 'paper')} cited.{strengths_text(report)}"
    )


def strengths_text(report: Report) -> str:
    """The strength of each finding's evidence, as counted by code, for the opening lines."""
    summary = strength_summary([f.strength for f in report.findings])
    return f" Evidence: {summary}." if summary else ""


def answer_lines(report: Report) -> list[str]:
    sides = answer_sides(report)
    if not sides:
        return []
    out = [SIDES_INTRO, ""]
    for s in sides:
        claim = f", {s.claim_id}" if s.claim_id else ""
        out.append(f'- **{s.side.capitalize()}** {cite_text([s.ref])}{claim}: "{s.quote}"')
    return [*out, ""]


def to_markdown(report: Report) -> str:
    s = report.stats
    out: list[str] = [f"# {report.title}", ""]
    out += [f"**Research question:** {report.question}", ""]
    models = ", ".join(f"{agent}: {name}" for agent, name in sorted(report.models.items()))
    out += [f"*Run {report.run_id}, {report.created}. Models: {models}.*", ""]
    out += [
        f"**At a glance:** {glance(report)}",
        "",
    ]
    if report.answer is not None:
        out += [f"**{ANSWERS_HEADING}** {answer_summary(report.answer)}", ""]
    out += ["## Abstract", "", report.sections["abstract"], ""]
    out += ["## 1. Introduction", "", report.sections["introduction"], ""]

    out += ["## 2. Findings", ""]
    for i, finding in enumerate(report.findings, start=1):
        out.append(f"{i}. {finding.statement} {cite_text(finding.refs)}  ")
        out.append(f"   {evidence_line(finding)}")
    out.append("")

    out += ["## 3. Agreement and contradictions", ""]
    out += answer_lines(report)
    out += agreement_table(report)
    verdict_based = [c for c in report.contradictions if c.finding is None]
    named = [c for c in report.contradictions if c.finding is not None]
    if not report.contradictions:
        out += [
            "No claim was contradicted by evidence from the other papers, and no finding "
            "names a disagreeing claim.",
            "",
        ]
    groups = (
        ("Claims that passages of other papers contradict, with both sides quoted:", verdict_based),
        ("Claims that disagree with a finding, against the claims it rests on:", named),
    )
    for heading, group in groups:
        if group:
            out += [heading, ""]
            out += [line for c in group for line in contradiction_lines(c)]
            out.append("")

    out += ["## 4. Discussion", "", report.sections["discussion"], ""]
    out += ["## 5. Method", "", report.sections["method"], ""]
    if report.screening.excluded or report.screening.failed:
        out += ["### Screening", ""]
        out += [f"- Search failed: {table_cell(f)}" for f in report.screening.failed]
        out += ["| Paper left out | Reason |", "|---|---|"] if report.screening.excluded else []
        out += [
            f"| {table_cell(e.title)} | {table_cell(e.reason)} |" for e in report.screening.excluded
        ]
        out.append("")
    out += ["## 6. Limitations", "", report.sections["limitations"], ""]

    out += ["## 7. Claims", "", report.sections["confidence"], ""]
    out += [
        "| Claim | Ref | Statement | Quote (verbatim) | Verdict | Confidence "
        f"({'calibrated' if report.calibration or report.judge else 'uncalibrated'}) | Evidence |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in report.claims:
        evidence = ", ".join(c.evidence) or "none"
        quote = table_cell(c.quote) + ("" if c.quote_found else " (not located)")
        out.append(
            f"| {c.id} | {c.ref if c.ref is not None else ''} | {table_cell(c.text)} | {quote} | "
            f"{c.label.value} | {confidence_cell(report, c)} | {table_cell(evidence)} |"
        )
    out.append("")
    if any(by_rule(report, c) for c in report.claims):
        # Escaped: a bare asterisk in Markdown prose opens emphasis.
        out += [RULE_NOTE.replace(RULE_MARK, "\\" + RULE_MARK), ""]

    out += ["## 8. Reviews", ""]
    out += review_summary(report)
    for review in report.reviews:
        out += [f"### {review_heading(review)}", ""]
        if review.measured:
            out += ["| Criterion | Score | What was counted |", "|---|---|---|"]
        else:
            out += [
                "| Criterion | Score | Justification | Quote from the draft |",
                "|---|---|---|---|",
            ]
        for criterion, score in review.scores.items():
            name = criterion.replace("_", " ")
            row = f"| {name} | {score.score} | {table_cell(score.justification)} |"
            if not review.measured:
                quote = f'"{table_cell(score.quote)}"' if score.quote else ""
                row += f" {quote}{'' if score.checked else ' (not in the draft)'} |"
            out.append(row)
        out.append("")
        if review.requests:
            out += ["Revision requests:", ""] + [f"- {r}" for r in review.requests] + [""]

    out += ["## References", ""]
    out += [f"[{r.n}] {reference_line(r)}  " for r in report.references]
    out.append("")

    out += ["## Run statistics", ""]
    out += ["| Measure | Value |", "|---|---|"]
    for key, value in s.model_dump().items():
        out.append(f"| {key.replace('_', ' ')} | {value} |")
    out.append("")

    out += ["## Appendix: report checks", ""]
    out += [f"- {line}" for line in report.lint]
    out.append("")
    return "\n".join(out)


def outputs(report: Report) -> dict[str, str]:
    """Every file a run writes from its report, by name; report.md last, as the sign that the
    others are complete."""
    return {
        "report.json": to_json(report),
        "claims.csv": to_csv(report),
        "references.bib": to_bibtex(report),
        "report.md": to_markdown(report),
    }


def to_json(report: Report) -> str:
    return report.model_dump_json(indent=2) + "\n"


def to_csv(report: Report) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for c in report.claims:
        writer.writerow(
            [
                c.id,
                "" if c.ref is None else c.ref,
                c.paper_id,
                c.text,
                c.quote,
                "true" if c.quote_found else "false",
                c.label.value,
                f"{c.confidence:.2f}",
                ";".join(c.evidence),
            ]
        )
    return buffer.getvalue()


def _bib_escape(text: str) -> str:
    return re.sub(r"([{}&%$#_])", r"\\\1", text)


def bib_key(ref: Reference) -> str:
    first = (ref.authors[0].split()[-1] if ref.authors else "anon").lower()
    first = re.sub(r"[^a-z]", "", first) or "anon"
    word = next((w.lower() for w in re.findall(r"[A-Za-z]{4,}", ref.title)), "paper")
    return f"{first}{ref.year or ''}{word}{ref.n}"


def to_bibtex(report: Report) -> str:
    entries = []
    for ref in report.references:
        fields = {
            "title": ref.title,
            "author": " and ".join(ref.authors) if ref.authors else None,
            "year": str(ref.year) if ref.year else None,
            "journal": ref.venue,
            "doi": ref.doi,
            "url": ref.url,
            "note": f"synth id {ref.id}",
        }
        body = ",\n".join(
            f"  {key} = {{{_bib_escape(value)}}}" for key, value in fields.items() if value
        )
        kind = "article" if ref.venue else "misc"
        entries.append(f"@{kind}{{{bib_key(ref)},\n{body}\n}}\n")
    return "\n".join(entries)
