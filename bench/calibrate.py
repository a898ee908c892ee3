"""Fit the verifier's confidence calibration for one model on SciFact (Wadden et al., 2020;
train split; claims CC BY 4.0, abstracts ODC-By 1.0).

The claims used here are disjoint from the ones `bench/scifact.py --quick` scores, so that
benchmark measures the calibration on claims it was not fitted on. Each claim is checked
against the passages retrieved for it, as in a run; the verdict's evidence score and whether
its label matches SciFact's become one point of the fit (agents/calibration.py). The result is
saved under the model's identity (name and weights revision) in the user data folder, or with
`--ship` among the calibrations that come with synth.

    python bench/calibrate.py --claims 120            # the embedded local model
    python bench/calibrate.py --base-url URL --model NAME
    python bench/calibrate.py --quick --fake --no-write         # CI: the harness only
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from pathlib import Path

from results import machine
from scifact import (
    data_name,
    fitting_claims,
    index,
    judge_all,
    library_folder,
    load,
    main_with,
    model_name,
    parser_for,
    verifier_model,
    with_distractors,
)

from synth.agents import calibration
from synth.domain.records import Label
from synth.store import paths
from synth.store.embeddings import MiniLM
from synth.store.library import Library


def section(fitted: calibration.Calibration, name: str, where: str) -> str:
    lines = [
        "## Verifier calibration (bench/calibrate.py)",
        "",
        f"Machine: {machine()}; verifier model: {name}. Fitted on {fitted.claims} claims of "
        f"{fitted.dataset}, disjoint from the quick SciFact sample. Saved to {where}.",
        "",
        f"Brier score of the raw evidence scores: {fitted.brier_rule:.3f}; after calibration: "
        f"{fitted.brier_calibrated:.3f} (on the fitting claims).",
        "",
        "| verdict | evidence score → probability right |",
        "|---|---|",
    ]
    for label, points in fitted.curves.items():
        curve = ", ".join(f"{x:.2f} → {y:.2f}" for x, y in points)
        lines.append(f"| {Label(label).value} | {curve} |")
    return "\n".join(lines) + "\n"


async def run(args: argparse.Namespace) -> str:
    claims, corpus = load(args.data)
    if args.quick:
        args.claims = 12
    chosen = fitting_claims(claims, args.claims)
    doc_ids = with_distractors(chosen, corpus)
    store = library_folder(args.data, f"fit{args.claims}")
    with tempfile.TemporaryDirectory() as tmp, Library(store, MiniLM()) as library:
        index(library, corpus, doc_ids)
        async with verifier_model(args, Path(tmp) / "transcript.jsonl") as model:
            rows = await judge_all(model, library, chosen, doc_ids, args.evidence_k)
            endpoint = model.endpoint
            name = model_name(args, model)
    fitted = calibration.fit(
        [(Label(r["label"]), r["score"], r["label"] == r["gold"]) for r in rows],
        model=calibration.identity(endpoint.model, endpoint.revision),
        dataset=data_name(args.data),
        created=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"),
    )
    folder = calibration.SHIPPED if args.ship else paths.data_dir() / "calibrations"
    where = "nowhere (--no-write)"
    if args.write:
        saved = calibration.save(fitted, folder)
        where = (
            str(saved.relative_to(calibration.SHIPPED.parent.parent))
            if args.ship
            else "the user data folder"
        )
    return section(fitted, name, where)


def main() -> int:
    parser = parser_for(
        __doc__, "fit on 12 claims", "save nothing and leave bench/RESULTS.md alone"
    )
    parser.add_argument("--claims", type=int, default=120, help="claims to fit on")
    parser.add_argument(
        "--ship", action="store_true", help="save among the calibrations synth ships with"
    )
    return main_with(parser, run)


if __name__ == "__main__":
    raise SystemExit(main())
