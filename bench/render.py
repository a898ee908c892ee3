"""How long the report renderers take on a real report, as a ratio to a bound of 2 seconds
(what a user waiting at the end of a run or an export should not notice).

Markdown is the plain-text twin written at the end of every run; HTML adds three SVG figures
and the claim explorer; the PDF is typeset with fpdf2 and embeds the figures as PNG. Each is
rendered five times and the median kept.

    python bench/render.py                      # the newest run under ./runs
    python bench/render.py --report runs/ID/report.json
    python bench/render.py --quick              # one render of each (CI)
"""

from __future__ import annotations

import io
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from pypdf import PdfReader
from results import ROOT, machine, options, publish

from synth.domain.records import Report
from synth.report import html, pdf, render

BOUND_S = 2.0


def median_seconds(work: Callable[[], object], times: int = 5) -> float:
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        work()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> int:
    parser = options(__doc__, "render once instead of five times")
    parser.add_argument("--report", type=Path, help="a report.json (default: the newest run)")
    args = parser.parse_args()
    reports = sorted((ROOT / "runs").glob("*/report.json"), key=lambda p: p.parent.name)
    if not (args.report or reports):
        print("no report under ./runs: run synth first, or pass --report", file=sys.stderr)
        return 2
    path = args.report or reports[-1]
    report = Report.model_validate_json(path.read_text(encoding="utf-8"))
    times = 1 if args.quick else 5
    seconds = {
        "markdown": median_seconds(lambda: render.to_markdown(report), times),
        "html": median_seconds(lambda: html.to_html(report, {}), times),
        "pdf": median_seconds(lambda: pdf.to_pdf(report), times),
    }
    pages = len(PdfReader(io.BytesIO(pdf.to_pdf(report))).pages)
    lines = [
        f"## Report rendering{', quick' if args.quick else ''} (bench/render.py)",
        "",
        f"Machine: {machine()}. Report {path.parent.name}: {len(report.claims)} claims, "
        f"{len(report.references)} references, {pages} PDF pages; "
        + ("one render each." if args.quick else "median of five renders."),
        "",
        f"| format | seconds | ratio to the {BOUND_S:g} s bound |",
        "|---|---|---|",
        *(f"| {name} | {s:.3f} | {s / BOUND_S:.2f} |" for name, s in seconds.items()),
    ]
    publish(["\n".join(lines) + "\n"], args.write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
