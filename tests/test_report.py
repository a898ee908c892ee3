"""Report assembly and renderers on a fixed run."""

from __future__ import annotations

import csv
import io
import re

import pytest

from synth.report import render
from synth.report.build import build_report
from synth.report.lint import lint, writer_fixes
from tests.report_facts import QUESTION, facts, facts_with_disagreement


def test_references_are_numbered_by_first_citation_and_all_cited():
    report = build_report(facts())
    assert [r.id for r in report.references] == ["local:2", "local:0"]
    assert [f.refs for f in report.findings] == [[1], [1, 2]]
    assert {c.id: c.ref for c in report.claims} == {"C1": 1, "C2": 2, "C3": None}
    assert report.stats.papers_cited == 2 and report.stats.papers_found == 4
    assert report.stats.dropped == 1
    assert all(line.startswith("pass") for line in report.lint), report.lint


def test_markdown_has_the_question_sections_and_resolving_citations():
    report = build_report(facts())
    md = render.to_markdown(report)
    assert f"**Research question:** {QUESTION}" in md
    for heading in (
        "## Abstract",
        "## 2. Findings",
        "## 3. Agreement and contradictions",
        "## 5. Method",
        "## 6. Limitations",
        "## 7. Claims",
        "## 8. Reviews",
        "## References",
    ):
        assert heading in md
    body = md.split("## References")[0]
    cited = {int(n) for g in re.findall(r"\[(\d+(?:, \d+)*)\]", body) for n in g.split(", ")}
    assert cited == {1, 2}
    assert "passage local:3#001 (bad)" in md
    assert "| evidence strength | 7 | Fine. |" in md


def test_csv_and_bibtex():
    report = build_report(facts())
    rows = list(csv.DictReader(io.StringIO(render.to_csv(report))))
    assert list(rows[0]) == render.CSV_COLUMNS
    assert [(r["id"], r["ref"], r["quote_found"]) for r in rows] == [
        ("C1", "1", "true"),
        ("C2", "2", "true"),
        ("C3", "", "true"),
    ]
    bib = render.to_bibtex(report)
    assert bib.count("@misc{") == 2 and "author = {Author C}" in bib


def _truncate_question(r):
    r.question = QUESTION[:30]


def _wrong_count(r):
    r.sections["discussion"] = "Across 15 papers, warmup reduced divergence."


def _dangling_citation(r):
    r.findings[0].refs = [9]


def _uncited_reference(r):
    r.findings[1].refs = [1]
    r.contradictions = []


def _meta_claim(r):
    r.claims[0].text = "The paper presents tables of results."


def _cut_prose(r):
    r.sections["discussion"] = "Warmup helped in small, 2"


def _stray_citation(r):
    r.sections["introduction"] = "Warmup is common [3]."


def _abstract_without_answer(r):
    r.sections["abstract"] = "This synthesis reviews the literature on the question."


def _duplicate_claim(r):
    r.claims[1].text = r.claims[0].text


PLANTED = [
    (_truncate_question, "the question is missing or altered", False),
    (_wrong_count, "says '15 papers' where the run included 4 papers and cites 2", True),
    (_dangling_citation, "citations point past the reference list: [9]", False),
    (_uncited_reference, "uncited references [2]", False),
    (_meta_claim, "bad claims ['C1']", False),
    (_cut_prose, "cut off mid-sentence in discussion", True),
    (_stray_citation, "introduction has [3]", True),
    (_abstract_without_answer, "does not state what the findings found", True),
    (_duplicate_claim, "duplicated claims", False),
]


@pytest.mark.parametrize(("plant", "message", "writer_can_fix"), PLANTED)
def test_lint_catches_each_planted_defect(plant, message, writer_can_fix):
    report = build_report(facts())
    assert all(line.startswith("pass") for line in lint(report, QUESTION))
    plant(report)
    failed = [line for line in lint(report, QUESTION) if line.startswith("FAIL")]
    assert len(failed) >= 1 and any(message in line for line in failed), failed
    sent_back = writer_fixes(report, QUESTION)
    assert any(message in ask for ask in sent_back) == writer_can_fix


def test_agreement_matrix_and_disagreements_from_claims_and_judgements():
    report = build_report(facts_with_disagreement())
    assert [r.id for r in report.references] == ["local:2", "local:1", "local:3", "local:0"]
    cells = [row.cells for row in report.agreement.rows]
    assert cells == [
        ["supports", "supports", "contradicts", "silent"],
        ["supports", "supports", "contradicts", "contradicts"],
    ]
    first, second = report.findings
    assert (first.supporting_refs, first.disputing_refs) == ([1, 2], [3])
    assert first.strength == "contested: 2 papers for, 1 paper against"
    assert second.strength == "disputed: 2 papers for, 2 papers against"
    assert second.against_claim_ids == ["C2"]
    named = [c for c in report.contradictions if c.finding == 2]
    assert [(c.claim_id, [e["text"] for e in c.evidence]) for c in named] == [
        ("C2", ["Warmup reduced divergence."])
    ]
    md = render.to_markdown(report)
    assert "| 1 | + | + | − | · |" in md
    assert "(for: [1, 2]; against: [3])" in md
    assert "disputed by claim C2" in md
    assert "Evidence: contested for finding 1; disputed for finding 2." in md
    assert all(line.startswith("pass") for line in report.lint), report.lint


def test_a_contradiction_found_by_the_verifier_says_how_sure_it_was():
    from synth.domain.records import Contradiction
    from synth.report.render import contradiction_lines

    found = Contradiction(
        claim_id="C5",
        statement="Small batches were equally stable with and without warmup.",
        quote="Small batches were equally stable with and without warmup.",
        ref=2,
        evidence=[{"passage_id": "p#1", "ref": 3, "text": "Warmup cut the loss variance."}],
        confidence=0.19,
    )
    assert contradiction_lines(found)[0].endswith("contradicted by [3] (verdict confidence 0.19).")
    named = found.model_copy(update={"finding": 1, "confidence": None})
    assert "confidence" not in contradiction_lines(named)[0]


def test_the_terminal_summary_gives_no_score_to_a_review_that_was_not_counted(tmp_path):
    from rich.console import Console

    from synth.app.ui import print_summary

    run = facts()
    run.reviews[0] = run.reviews[0].model_copy(update={"counted": False, "overall": 0.0})
    console = Console(width=200, record=True)
    print_summary(build_report(run), tmp_path, console)
    line = next(x for x in console.export_text().splitlines() if "review scores" in x)
    assert "methodologist not counted" in line and "methodologist 0.0" not in line


def test_a_confidence_that_is_the_evidence_score_is_marked_where_a_judge_calibrated():
    """A SUPPORTED verdict that rests only on other papers answering alike, or a verdict with
    no passage judged, carries the evidence score; in a report whose confidences the fitted
    judge calibrated, the claims table marks it and says why. Judged verdicts are unmarked."""
    from dataclasses import replace

    from synth.domain.records import ANSWERS_ALIKE
    from synth.report import html, pdf
    from synth.report.render import RULE_NOTE, RULE_NOTE_SHORT

    base = facts()
    verdicts = dict(base.verdicts)
    verdicts["C1"] = verdicts["C1"].model_copy(
        update={"judgements": {"local:1#001": ANSWERS_ALIKE}}
    )
    verdicts["C2"] = verdicts["C2"].model_copy(
        update={"judgements": {"local:2#001": "contradicts"}}
    )
    judged = replace(base, verdicts=verdicts, judge_note="a probe")
    report = build_report(judged)
    markdown = render.to_markdown(report)
    rows = {line.split(" | ")[0]: line for line in markdown.splitlines() if line.startswith("| C")}
    assert "| 0.85* |" in rows["| C1"] and "| 0.70 |" in rows["| C2"]
    assert "| 0.55* |" in rows["| C3"]  # nothing judged
    # The note under the table is prose, not a list item, its asterisk escaped.
    assert "\n" + RULE_NOTE.replace("*", "\\*") + "\n" in markdown
    assert RULE_NOTE_SHORT in html.to_html(report, {})
    assert pdf.to_pdf(report)[:4] == b"%PDF"
    # Without a fitted judge no confidence is marked.
    plain = render.to_markdown(build_report(replace(judged, judge_note=None)))
    assert "| 0.85 |" in plain and RULE_NOTE not in plain
