"""Figures drawn from a fixed report: their data is read back from the figures, not pixels."""

from __future__ import annotations

from synth.report import figures, html
from synth.report.build import build_report
from tests.report_facts import facts, report_with_disagreement


def test_agreement_heatmap_shows_the_matrix():
    report = report_with_disagreement()
    chart = figures.agreement_heatmap(report)
    assert chart is not None
    drawn = chart.figure.axes[0].images[0].get_array().tolist()
    assert drawn == [[1, 1, 2, 0], [1, 1, 2, 2]]  # supports 1, contradicts 2, silent 0
    assert [t.get_text() for t in chart.figure.axes[0].get_xticklabels()] == [
        "[1]",
        "[2]",
        "[3]",
        "[4]",
    ]
    assert "2 findings (rows) against 4 cited papers" in chart.caption
    assert "(4 cells)" in chart.caption and "white: silent (1)" in chart.caption
    chart.close()


def test_verdicts_per_paper_stack_the_claims_of_each_reference():
    report = build_report(facts())
    chart = figures.verdicts_per_paper(report)
    assert chart is not None
    ax = chart.figure.axes[0]
    heights = [[round(p.get_height()) for p in container] for container in ax.containers]
    # References: [1] local:2 with C1 (supported), [2] local:0 with C2 (contradicted).
    assert heights == [[1, 0], [0, 1], [0, 0]]
    assert "1 supported, 1 contradicted and 0 insufficient" in chart.caption
    chart.close()


def test_funnel_counts_the_papers():
    report = build_report(facts())
    chart = figures.funnel(report)
    widths = [round(p.get_width()) for p in chart.figure.axes[0].patches]
    assert widths == [2, 4, 0, 4]  # cited, included, screened out, found (drawn bottom up)
    assert chart.data["steps"] == {"found": 4, "screened out": 0, "included": 4, "cited": 2}
    assert "4 papers found, 0 screened out, 4 included and 2 cited" in chart.caption
    chart.close()


def test_the_html_page_carries_each_figure_with_its_caption():
    report = report_with_disagreement()
    page = html.to_html(report, {})
    for name in ("agreement", "funnel", "verdicts"):
        start = page.index(f'<figure id="figure-{name}">')
        end = page.index("</figure>", start)
        assert "<svg" in page[start:end] and "<figcaption>" in page[start:end]
    assert "<script" not in page and "<?xml" not in page


def test_the_claim_explorer_filters_by_verdict_paper_and_confidence_without_script():
    report = build_report(facts())
    page = html.to_html(report, {})
    # Each claim carries the classes the filters match on.
    assert 'id="claim-C1" class="claim v-SUPPORTED p-1 c-high"' in page
    assert 'id="claim-C2" class="claim v-CONTRADICTED p-2 c-mid"' in page
    assert 'id="claim-C3" class="claim v-INSUFFICIENT p-none c-mid"' in page
    # One radio group per filter, "all" checked, and a hiding rule for every other option.
    for group, options in (
        ("v", ["SUPPORTED", "CONTRADICTED", "INSUFFICIENT"]),
        ("p", ["1", "2", "none"]),
        ("c", ["high", "mid", "low"]),
    ):
        assert f'<input type="radio" name="f{group}" id="f{group}-all" checked>' in page
        for value in options:
            assert f"#f{group}-{value}:checked ~ .claims .claim:not(.{group}-{value})" in page
    # The buttons come before the claims, as the sibling selectors need.
    assert page.index('id="fc-low"') < page.index('<div class="claims">')
    assert "<script" not in page


def test_the_calibration_curve_is_drawn_from_the_reports_calibration():
    from synth.domain.records import Calibration, Label

    report = build_report(facts())
    assert figures.calibration_curve(report) is None  # uncalibrated: no curve to show
    report.calibration = Calibration(
        model="m@abc",
        dataset="SciFact train",
        created="2026-11-30",
        claims=120,
        curves={Label.SUPPORTED: [(0.5, 0.4), (0.8, 0.7)], Label.INSUFFICIENT: [(0.6, 0.3)]},
        brier_rule=0.3,
        brier_calibrated=0.2,
    )
    chart = figures.calibration_curve(report)
    assert chart is not None
    lines = chart.figure.axes[0].get_lines()
    drawn = {
        line.get_label(): list(zip(line.get_xdata(), line.get_ydata(), strict=True))
        for line in lines
    }
    assert drawn["supported"] == [(0.5, 0.4), (0.8, 0.7)]
    assert drawn["insufficient"] == [(0.6, 0.3)]
    assert "m@abc on SciFact train (120 labelled claims)" in chart.caption
    chart.close()
    assert '<figure id="figure-calibration">' in html.to_html(report, {})
