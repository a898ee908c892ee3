"""How long the report renderers take on a real report, as a ratio to a bound of 2 seconds
(what a user waiting at the end of a run or an export should not notice).

Markdown is the plain-text twin written at the end of every run; HTML adds three SVG figures
and the claim explorer; the PDF is typeset with fpdf2 and embeds the figures as PNG. Each is
rendered five times and the median kept.

    python bench/render.py                      # the newest run under ./runs
    python bench/render.py --report runs/ID/report.json
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from pypdf import PdfReader
from results import machine, publish

from synth.agents.schemas import Report
from synth.report import html, pdf, render

ROOT = Path(__file__).resolve().parent.parent
BOUND_S = 2.0


def median_seconds(work: Callable[[], object], times: int = 5) -> float:
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        work()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", type=Path, help="a report.json (default: the newest run)")
    parser.add_argument("--no-write", dest="write", action="store_false")
    args = parser.parse_args()
    path = args.report or max((ROOT / "runs").glob("*/report.json"), key=lambda p: p.parent.name)
    report = Report.model_validate_json(path.read_text(encoding="utf-8"))
    seconds = {
        "markdown": median_seconds(lambda: render.to_markdown(report)),
        "html": median_seconds(lambda: html.to_html(report, {})),
        "pdf": median_seconds(lambda: pdf.to_pdf(report)),
    }
    pages = len(PdfReader(io.BytesIO(pdf.to_pdf(report))).pages)
    lines = [
        "## Report rendering (bench/render.py)",
        "",
        f"Machine: {machine()}. Report {path.parent.name}: {len(report.claims)} claims, "
        f"{len(report.references)} references, {pages} PDF pages; median of five renders.",
        "",
        f"| format | seconds | ratio to the {BOUND_S:g} s bound |",
        "|---|---|---|",
        *(f"| {name} | {s:.3f} | {s / BOUND_S:.2f} |" for name, s in seconds.items()),
    ]
    publish(["\n".join(lines) + "\n"], args.write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
