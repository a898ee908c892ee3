"""Run the README's quick-start line with no network but loopback, check the report, then
replay the run from its transcript.

Used by .ci/run. The run line is read from the README's "Quick start" block, so the check
always runs exactly what a new user is told to type. It runs inside a fresh network
namespace (`unshare -n`) in which only `lo` is up: any attempt to reach the internet fails.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def quickstart_lines() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## Quick start\n(.*?)(?=^## )", readme, re.S | re.M)
    if not section:
        sys.exit("README.md has no '## Quick start' section")
    block = re.search(r"```\w*\n(.*?)```", section.group(1), re.S)
    if not block:
        sys.exit("the Quick start section has no code block")
    return [line for line in block.group(1).splitlines() if line.strip()]


def main() -> int:
    lines = quickstart_lines()
    if len(lines) != 2 or not lines[1].startswith("synth run "):
        sys.exit(f"the Quick start block must be exactly two lines (install, run): {lines}")
    runs = ROOT / "runs"
    before = set(runs.iterdir()) if runs.exists() else set()
    started = time.monotonic()
    command = f"ip link set lo up && {lines[1]}"
    result = subprocess.run(["unshare", "-n", "sh", "-c", command], cwd=ROOT)
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        print(f"offline quick start failed with exit code {result.returncode}", file=sys.stderr)
        return 1
    new = sorted(set(runs.iterdir()) - before)
    if len(new) != 1:
        sys.exit(f"expected one new run folder, found {new}")
    report = json.loads((new[0] / "report.json").read_text(encoding="utf-8"))
    stats = report["stats"]
    problems = []
    if not report["claims"]:
        problems.append("no claims")
    if not any(c["label"] in ("SUPPORTED", "CONTRADICTED") for c in report["claims"]):
        problems.append("no claim was supported or contradicted")
    if not report["reviews"] or not all(r["scores"] for r in report["reviews"]):
        problems.append("no reviews with scores")
    if not report["references"]:
        problems.append("no references")
    if not all(c["quote_found"] for c in report["claims"]):
        problems.append("a quote was not located")
    print(
        f"offline quick start: {elapsed:.0f} s, {stats['papers_included']} papers, "
        f"{stats['claims']} claims ({stats['supported']} supported, {stats['contradicted']} "
        f"contradicted, {stats['insufficient']} insufficient), {len(report['reviews'])} reviews, "
        f"{len(report['references'])} references"
    )
    if problems:
        print("offline quick start report check failed: " + "; ".join(problems), file=sys.stderr)
        return 1
    # The same run replayed from its transcript, still offline, must give the same report.
    replay = subprocess.run(
        ["unshare", "-n", "sh", "-c", f"ip link set lo up && synth replay {new[0].name}"],
        cwd=ROOT,
    )
    if replay.returncode != 0:
        print("replay of the offline quick start failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
