"""Figures of a report, drawn with matplotlib (Agg, no display): each one with a caption that
says in words what it shows, and the numbers it was drawn from, so tests can check the data
rather than pixels. SVG text is kept as text (not paths) and ids are fixed, so the same report
always gives the same bytes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from synth.domain.records import Label, Report
from synth.domain.text import plural

CELL_VALUE = {"silent": 0, "supports": 1, "contradicts": 2, "mixed": 3}
CELL_COLOURS = ["#ffffff", "#6fbf73", "#e06666", "#f1c232"]
LABEL_COLOURS = {
    Label.SUPPORTED: "#6fbf73",
    Label.CONTRADICTED: "#e06666",
    Label.INSUFFICIENT: "#c9c9c9",
}
plt.rcParams.update(
    {
        "svg.fonttype": "none",
        "svg.hashsalt": "synth",
        "font.size": 9,
        "figure.dpi": 100,
    }
)


@dataclass
class Chart:
    name: str
    caption: str
    figure: Figure
    data: dict[str, Any]

    def svg(self) -> str:
        buffer = io.StringIO()
        self.figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
        return buffer.getvalue()

    def png(self, dpi: int = 150) -> bytes:
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
        return buffer.getvalue()

    def close(self) -> None:
        plt.close(self.figure)


def agreement_heatmap(report: Report) -> Chart | None:
    rows = report.agreement.rows
    if not rows or not report.agreement.refs:
        return None
    matrix = [[CELL_VALUE[c] for c in row.cells] for row in rows]
    refs = report.agreement.refs
    figure, ax = plt.subplots(figsize=(max(3.0, 0.45 * len(refs) + 1.2), 0.4 * len(rows) + 1.0))
    ax.imshow(matrix, cmap=ListedColormap(CELL_COLOURS), vmin=0, vmax=3, aspect="auto")
    ax.set_xticks(range(len(refs)), [f"[{r}]" for r in refs])
    ax.set_yticks(range(len(rows)), [f"finding {row.finding}" for row in rows])
    ax.set_xlabel("cited paper")
    ax.tick_params(length=0)
    for i in range(len(rows) + 1):
        ax.axhline(i - 0.5, color="#dddddd", linewidth=0.5)
    for j in range(len(refs) + 1):
        ax.axvline(j - 0.5, color="#dddddd", linewidth=0.5)
    counts = {name: sum(row.cells.count(name) for row in rows) for name in CELL_VALUE}
    caption = (
        f"Agreement matrix: {plural(len(rows), 'finding')} (rows) against "
        f"{plural(len(refs), 'cited paper')} (columns). Green: the paper supports the finding "
        f"({counts['supports']} cells); red: it contradicts it ({counts['contradicts']}); "
        f"yellow: both ({counts['mixed']}); white: silent ({counts['silent']})."
    )
    return Chart("agreement", caption, figure, {"matrix": matrix, "refs": refs})


def verdicts_per_paper(report: Report) -> Chart | None:
    refs = [r.n for r in report.references]
    if not refs:
        return None
    counts = {
        label: [sum(1 for c in report.claims if c.ref == n and c.label == label) for n in refs]
        for label in Label
    }
    figure, ax = plt.subplots(figsize=(max(3.0, 0.45 * len(refs) + 1.2), 2.6))
    bottom = [0] * len(refs)
    for label, values in counts.items():
        ax.bar(
            [f"[{n}]" for n in refs],
            values,
            bottom=bottom,
            color=LABEL_COLOURS[label],
            label=label.value.lower(),
            width=0.7,
        )
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_ylabel("claims")
    ax.set_xlabel("cited paper")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend(frameon=False, fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    totals = {label: sum(v) for label, v in counts.items()}
    busiest = refs[max(range(len(refs)), key=lambda i: (bottom[i], -i))]
    caption = (
        f"Verdicts of the claims drawn from each cited paper: {totals[Label.SUPPORTED]} "
        f"supported, {totals[Label.CONTRADICTED]} contradicted and "
        f"{totals[Label.INSUFFICIENT]} insufficient in all; paper [{busiest}] gave the most "
        f"claims ({max(bottom)})."
    )
    return Chart(
        "verdicts",
        caption,
        figure,
        {"refs": refs, "counts": {k.value: v for k, v in counts.items()}},
    )


def funnel(report: Report) -> Chart:
    s = report.stats
    steps = [
        ("found", s.papers_found),
        ("screened out", s.papers_screened_out),
        ("included", s.papers_included),
        ("cited", s.papers_cited),
    ]
    figure, ax = plt.subplots(figsize=(4.2, 1.8))
    names = [name for name, _ in steps][::-1]
    values = [value for _, value in steps][::-1]
    ax.barh(names, values, color=["#4a86c5", "#4a86c5", "#bbbbbb", "#4a86c5"])
    for y, value in enumerate(values):
        ax.text(value, y, f" {value}", va="center")
    ax.set_xlabel("papers")
    ax.spines[["top", "right"]].set_visible(False)
    caption = (
        f"From search to citation: {plural(s.papers_found, 'paper')} found, "
        f"{s.papers_screened_out} screened out, {s.papers_included} included and "
        f"{s.papers_cited} cited."
    )
    return Chart("funnel", caption, figure, {"steps": dict(steps)})


def calibration_curve(report: Report) -> Chart | None:
    """The curves that turned evidence scores into confidences, when the model has them."""
    calibration = report.calibration
    if calibration is None or not calibration.curves:
        return None
    figure, ax = plt.subplots(figsize=(3.6, 3.0))
    ax.plot([0, 1], [0, 1], color="#bbbbbb", linewidth=0.8, linestyle="--")
    for label, points in calibration.curves.items():
        xs, ys = [x for x, _ in points], [y for _, y in points]
        ax.plot(
            xs,
            ys,
            marker="o",
            markersize=3,
            color=LABEL_COLOURS[Label(label)],
            label=Label(label).value.lower(),
        )
    ax.set_xlim(0.25, 1.0)
    ax.set_ylim(0.0, 1.0)
    ax.set_xlabel("evidence score (the rule)")
    ax.set_ylabel("share of verdicts right")
    ax.legend(frameon=False, fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    caption = (
        f"Calibration of {calibration.model} on {calibration.dataset} "
        f"({calibration.claims} labelled claims): for each verdict label, the share of verdicts "
        "that were right at each evidence score; the dashed line is where the score itself "
        f"would be right. Brier score {calibration.brier_calibrated:.3f} after calibration, "
        f"{calibration.brier_rule:.3f} before."
    )
    data = {
        label.value if hasattr(label, "value") else label: pts
        for label, pts in calibration.curves.items()
    }
    return Chart("calibration", caption, figure, {"curves": data})
