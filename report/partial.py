"""The report a run leaves when it stops at its budget: what was done, what is missing, and
the claims already checked, so the money spent is not lost even if the run is never resumed."""

from __future__ import annotations

import json
from collections.abc import Mapping

from synth.domain.stages import SHOWN, Stage
from synth.domain.text import table_cell
from synth.store.runs import RunFolder


def partial_report(question: str, run: RunFolder, progress: Mapping[Stage, list[int]]) -> str:
    out = [
        "# Partial report: the run stopped at its budget",
        "",
        f"**Research question:** {question}",
        "",
        f"This is not a synthesis. Run {run.id} stopped before it could write one, because the "
        "next model call could have taken it past its budget. Every finished item is kept: "
        f"`synth resume {run.path}` with a larger `--budget-tokens` or `--budget-cost` "
        "continues from here without paying for them again.",
        "",
        "## Done and missing",
        "",
        "| Stage | Done | Missing |",
        "|---|---|---|",
    ]
    for stage in SHOWN:
        label = stage.label
        if stage in progress:
            done, total = progress[stage]
            out.append(f"| {label} | {done} of {total} | {total - done} |")
        else:
            out.append(f"| {label} | not started | all |")
    out.append("")
    checked = []
    for path in sorted((run.path / "checkpoints" / Stage.VERIFY).glob("*.json")):
        try:
            item = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if item.get("verdict"):
            checked.append(item)
    out += ["## Claims checked so far", ""]
    if not checked:
        out += ["None yet.", ""]
    else:
        out += [
            "These claims are not yet numbered, grouped into findings or reviewed.",
            "",
            "| Claim | Quote (verbatim) | Verdict | Confidence |",
            "|---|---|---|---|",
        ]
        for item in checked:
            claim, verdict = item["claim"], item["verdict"]
            out.append(
                f"| {table_cell(claim['text'])} | {table_cell(claim['quote'])} | "
                f"{verdict['label']} | {verdict['confidence']:.2f} |"
            )
        out.append("")
    return "\n".join(out)
