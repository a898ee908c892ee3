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
    python bench/calibrate.py --fake --claims 12 --no-write     # CI: the harness only
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import tempfile
from pathlib import Path

from results import machine, publish
from scifact import (
    DATA,
    data_name,
    index,
    judge_all,
    library_folder,
    load,
    model_name,
    verifier_model,
    with_distractors,
)

from synth.agents import calibration
from synth.agents.schemas import Label
from synth.store import paths
from synth.store.embeddings import MiniLM
from synth.store.library import Library


def fitting_claims(claims: list[dict], count: int) -> list[dict]:
    """`count` claims spread over the split, none of those the quick benchmark scores."""
    held_out = {c["id"] for c in claims[::27][:30]}
    pool = [c for c in claims if c["id"] not in held_out]
    step = max(1, len(pool) // count)
    return pool[1::step][:count]


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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=120, help="claims to fit on")
    parser.add_argument("--data", type=Path, default=DATA, help="a folder in SciFact's format")
    parser.add_argument("--fake", action="store_true", help="the fake test model (CI)")
    parser.add_argument("--base-url", dest="base_url", help="an OpenAI-compatible endpoint")
    parser.add_argument("--model", default="local", help="model name (default: local)")
    parser.add_argument("--evidence-k", dest="evidence_k", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument(
        "--ship", action="store_true", help="save among the calibrations synth ships with"
    )
    parser.add_argument(
        "--no-write",
        dest="write",
        action="store_false",
        help="save nothing and leave bench/RESULTS.md alone",
    )
    args = parser.parse_args()
    if not (args.data / "claims_train.jsonl").is_file():
        print(f"no SciFact data in {args.data}: pass --data DIR", file=sys.stderr)
        return 2
    publish([asyncio.run(run(args))], args.write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
