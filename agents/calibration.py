"""Calibration of the verifier's confidence, per model, measured on labelled claims.

The verifier's rule gives an evidence score that only orders verdicts. A calibration turns it
into a probability that the verdict is right, fitted for one model (name and weights
revision) on SciFact by `bench/calibrate.py`: for each label, an isotonic (pool adjacent
violators) curve through the scores, with every bin's accuracy shrunk toward the label's
overall accuracy so that a bin of two claims cannot claim certainty. The curve never falls as
the score rises, so confidence stays monotone in the evidence the code counted.

Calibrations are looked up by model identity in the user data folder, then among those that
ship with synth; a model without one is reported as uncalibrated.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

from pydantic import ValidationError

from synth.domain.records import Calibration, Label
from synth.store import paths

SHIPPED = Path(__file__).resolve().parent / "calibrations"
PRIOR_WEIGHT = 4.0  # pseudo-claims at the label's overall accuracy added to each bin


def identity(model: str, revision: str = "") -> str:
    return f"{model}@{revision[:16]}" if revision else model


def file_name(model_identity: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", model_identity) + ".json"


def calibrate(calibration: Calibration | None, label: Label, score: float) -> float:
    """The probability the curve gives at `score` (linear between its points), or the score
    itself when there is no calibration or no curve for the label."""
    return on_curve(calibration.curves.get(label) if calibration is not None else None, score)


def on_curve(points: list[tuple[float, float]] | None, score: float) -> float:
    """The curve's value at `score`, linear between its points and flat beyond them; the
    score itself without a curve."""
    if not points:
        return score
    if score <= points[0][0]:
        return round(points[0][1], 2)
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        if score <= x1:
            share = 0.0 if x1 == x0 else (score - x0) / (x1 - x0)
            return round(y0 + share * (y1 - y0), 2)
    return round(points[-1][1], 2)


def fit_curve(rows: list[tuple[float, bool]]) -> list[tuple[float, float]]:
    """Isotonic fit of rightness on score, each block shrunk toward the overall rate (and
    pooled again where shrinking small blocks less than large ones broke the order)."""
    if not rows:
        return []
    overall = sum(right for _, right in rows) / len(rows)
    raw = []
    for score in sorted({s for s, _ in rows}):
        at = [right for s, right in rows if s == score]
        raw.append((score * len(at), float(sum(at)), float(len(at))))
    shrunk = [
        (total + PRIOR_WEIGHT * score_mean, right + PRIOR_WEIGHT * overall, n + PRIOR_WEIGHT)
        for total, right, n in _pooled(raw)
        for score_mean in [total / n]
    ]
    return [(round(total / n, 4), round(right / n, 4)) for total, right, n in _pooled(shrunk)]


def _pooled(blocks: list[tuple[float, float, float]]) -> list[tuple[float, float, float]]:
    """Pool adjacent violators: merge (score sum, right sum, weight) blocks until the rate
    right / weight never falls as the score rises."""
    out: list[tuple[float, float, float]] = []
    for block in blocks:
        out.append(block)
        while len(out) > 1 and out[-2][1] / out[-2][2] > out[-1][1] / out[-1][2]:
            last = out.pop()
            out[-1] = (out[-1][0] + last[0], out[-1][1] + last[1], out[-1][2] + last[2])
    return out


def brier(pairs: list[tuple[float, bool]]) -> float:
    return round(sum((p - right) ** 2 for p, right in pairs) / max(1, len(pairs)), 4)


def expected_calibration_error(pairs: list[tuple[float, bool]], bins: int = 10) -> float:
    """ECE of (confidence, right) pairs: the gap between confidence and accuracy in ten
    equal-width bins of confidence, averaged with each bin weighted by its share of pairs."""
    filled: dict[int, list[tuple[float, bool]]] = {}
    for p, right in pairs:
        filled.setdefault(min(bins - 1, int(p * bins)), []).append((p, right))
    gap = sum(
        abs(sum(p for p, _ in inside) - sum(right for _, right in inside))
        for inside in filled.values()
    )
    return round(gap / max(1, len(pairs)), 4)


def fit(
    rows: list[tuple[Label, float, bool]], *, model: str, dataset: str, created: str
) -> Calibration:
    """`rows`: (predicted label, rule score, whether the label was right) per claim."""
    curves = {
        label: fit_curve([(s, right) for lab, s, right in rows if lab == label])
        for label in Label
        if any(lab == label for lab, _, _ in rows)
    }
    draft = Calibration(
        model=model,
        dataset=dataset,
        created=created,
        claims=len(rows),
        curves=curves,
        brier_rule=brier([(s, right) for _, s, right in rows]),
        brier_calibrated=0.0,
    )
    calibrated = [(calibrate(draft, lab, s), right) for lab, s, right in rows]
    return draft.model_copy(update={"brier_calibrated": brier(calibrated)})


def folders() -> list[Path]:
    return [paths.data_dir() / "calibrations", SHIPPED]


def find(model_identity: str) -> Calibration | None:
    for folder in folders():
        path = folder / file_name(model_identity)
        if path.is_file():
            try:
                return Calibration.model_validate_json(path.read_text(encoding="utf-8"))
            except (ValidationError, ValueError, OSError):
                continue  # a damaged file is as good as none; the next folder may have one
    return None


def save(calibration: Calibration, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / file_name(calibration.model)
    path.write_text(
        json.dumps(calibration.model_dump(mode="json"), indent=1) + "\n", encoding="utf-8"
    )
    return path


def describe(calibration: Calibration | None, model: str) -> str:
    """The sentence the report gives on what a confidence value means."""
    if calibration is None:
        return (
            f"Confidence is uncalibrated: no calibration exists for {model}, so the values are "
            "the evidence scores of the rule above. They order verdicts by the evidence counted "
            "but are not measured probabilities (calibrate a model with bench/calibrate.py)."
        )
    return (
        f"Confidence is calibrated for {calibration.model} on {calibration.dataset} "
        f"({calibration.claims} labelled claims, fitted {calibration.created[:10]}): it is the "
        "share of verdicts with that label and a similar evidence score that were right there "
        f"(Brier score {calibration.brier_calibrated:.3f}, against {calibration.brier_rule:.3f} "
        "for the raw scores). It says how often such a verdict was right on that set, not on "
        "this question's papers."
    )
