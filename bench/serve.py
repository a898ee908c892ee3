"""How fast the run browser (`synth serve`) shows the first page of a 1,000-call transcript,
as ratios: against reading and parsing the same transcript once (the work no page can avoid),
and against a bound of 1 second (what a person opening a page should not wait past).

The transcript is a real run's: the test corpus run against the fake model, its calls repeated
in order up to 1,000. Each trial starts a new server (uvicorn on a loopback port, the same
application `synth serve` runs) so nothing is cached, and times the first GET of the transcript
page; then the same page again (warm), filtered by free text (which reads every call's
messages), one call's page, and one claim's trail. Where Chromium
and Playwright are installed, the first load is also timed in the browser, to its load event.

    python bench/serve.py            # five trials, medians
    python bench/serve.py --quick    # one trial (CI)
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from results import ROOT, fake_model, machine, options, publish, run_synth

from synth.store.transcript import read_lines
from synth.web.serve import in_thread

CALLS = 1000
BOUND_S = 1.0


def recorded_run(home: Path) -> Path:
    """A real run's folder with its transcript lengthened to CALLS calls."""
    os.environ["SYNTH_HOME"] = str(home / "user")
    os.chdir(home)
    with fake_model() as fake:
        from tests.helpers import CORPUS, run_args  # importable once fake_model() is open

        run = run_synth(run_args(CORPUS, fake))
    lines = (run / "transcript.jsonl").read_text(encoding="utf-8").splitlines()
    repeated = [lines[i % len(lines)] for i in range(CALLS)]
    (run / "transcript.jsonl").write_text("\n".join(repeated) + "\n", encoding="utf-8")
    return run


def seconds(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def browser_first_load(runs: Path, path: str) -> float | None:
    """The first load in headless Chromium, to its load event; None where it cannot run."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        return None
    executable = os.environ.get("SYNTH_CHROMIUM") or shutil.which("chromium")
    if not executable:
        return None
    sys.path.insert(0, str(ROOT))
    from tests.helpers import CHROMIUM_ARGS

    try:
        with sync_playwright() as playwright, in_thread(runs) as url:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(url + path)
            load = page.evaluate(
                "performance.getEntriesByType('navigation')[0].loadEventEnd"
            )  # milliseconds from the start of the navigation
            browser.close()
            return float(load) / 1000
    except Error:
        return None


def main() -> int:
    parser = options(__doc__, "one trial instead of five")
    args = parser.parse_args()
    trials = 1 if args.quick else 5
    with tempfile.TemporaryDirectory() as tmp:
        run = recorded_run(Path(tmp))
        runs, rid = run.parent, run.name
        size_mb = (run / "transcript.jsonl").stat().st_size / 1e6
        parse = statistics.median(
            seconds(lambda: read_lines(run / "transcript.jsonl")) for _ in range(trials)
        )
        first, warm, text, call, claim = [], [], [], [], []
        page_kb = 0.0
        for _ in range(trials):
            with in_thread(runs) as url, httpx.Client(base_url=url) as client:
                page = client.get(f"/runs/{rid}/calls")
                first.append(page.elapsed.total_seconds())
                page_kb = len(page.content) / 1000
                warm.append(client.get(f"/runs/{rid}/calls").elapsed.total_seconds())
                found = client.get(f"/runs/{rid}/calls", params={"q": "warmup"})
                text.append(found.elapsed.total_seconds())
                call.append(client.get(f"/runs/{rid}/calls/{CALLS}").elapsed.total_seconds())
                claim.append(client.get(f"/runs/{rid}/claims/C1").elapsed.total_seconds())
        in_browser = browser_first_load(runs, f"/runs/{rid}/calls")
    rows = [
        ("transcript page, first load (cold)", statistics.median(first)),
        ("transcript page, again (warm)", statistics.median(warm)),
        ('transcript page filtered by the text "warmup" (warm)', statistics.median(text)),
        (f"call {CALLS} in full (warm)", statistics.median(call)),
        ("claim C1's trail (warm)", statistics.median(claim)),
    ]
    if in_browser is not None:
        rows.append(
            (
                "transcript page, first load in a newly started Chromium, to its load event",
                in_browser,
            )
        )
    lines = [
        f"## Run browser, first page of a {CALLS:,}-call transcript"
        f"{', quick' if args.quick else ''} (bench/serve.py)",
        "",
        f"Machine: {machine()}. A fake-model run of the test corpus, its calls repeated to "
        f"{CALLS:,} ({size_mb:.1f} MB of transcript); the transcript page lists 100 calls "
        f"({page_kb:.0f} kB of HTML). Reading and parsing the transcript once takes "
        f"{parse:.3f} s: the baseline. "
        + ("One trial." if args.quick else f"Median of {trials} trials, each a new server."),
        "",
        f"| page | seconds | ratio to parsing once | ratio to the {BOUND_S:g} s bound |",
        "|---|---|---|---|",
        *(f"| {name} | {s:.3f} | {s / parse:.1f} | {s / BOUND_S:.2f} |" for name, s in rows),
    ]
    publish(lines, args.write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
