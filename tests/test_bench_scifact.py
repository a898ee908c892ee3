"""The SciFact benchmark's sampling and scoring: which claims it scores, and how."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import fit_judge
import numpy as np
import scifact


def claims(n: int) -> list[dict]:
    return [{"id": i, "claim": f"claim {i}", "evidence": {}, "cited_doc_ids": []} for i in range(n)]


def test_the_full_sample_leaves_out_the_calibration_and_nests() -> None:
    split = claims(809)
    fitted = {c["id"] for c in scifact.fitting_claims(split, 120)}
    quick = {c["id"] for c in scifact.quick_claims(split)}
    assert len(fitted) == 120 and len(quick) == 30 and not fitted & quick

    small = [c["id"] for c in scifact.scored_claims(split, 120, 100)]
    large = [c["id"] for c in scifact.scored_claims(split, 120, 300)]
    every = [c["id"] for c in scifact.scored_claims(split, 120, None)]
    assert len(small) == 100 and len(large) == 300 and len(every) == 809 - 120
    assert large[:100] == small  # a larger run keeps the smaller run's claims (and its cache)
    assert not set(every) & fitted
    assert len(set(every)) == len(every)
    # Drawn across the split, not its first stretch.
    assert min(small) < 100 and max(small) > 700


def test_without_a_calibration_every_claim_is_scored() -> None:
    assert len(scifact.scored_claims(claims(50), 0, None)) == 50
    # The claims the judge's head was fitted on are never scored either.
    assert {c["id"] for c in scifact.scored_claims(claims(50), 0, None, {3, 7})}.isdisjoint({3, 7})


def row(
    gold: str, label: str | None, ranked: list[int], gold_docs: list[int], dense: list[int] = ()
) -> dict:
    return {
        "gold": gold,
        "label": label,
        "ranked": ranked,
        "ranked_dense": list(dense),
        "gold_docs": gold_docs,
        "confidence": 0.7,
        "score": 0.7,
    }


def test_recall_counts_every_ranked_claim_and_labels_only_the_verified() -> None:
    rows = [
        row("SUPPORTED", "SUPPORTED", [1, 2], [1], dense=[2, 1]),
        row("CONTRADICTED", "SUPPORTED", [5, 3], [3]),
        row("SUPPORTED", None, [9, 8, 7], [4]),  # ranked only
        row("INSUFFICIENT", None, [2], []),  # ranked only, no gold abstract
    ]
    s = scifact.scores(rows)
    assert s["ranked"] == 4 and s["with_gold_abstracts"] == 3 and s["claims"] == 2
    assert s["recall"] == {
        1: pytest.approx(1 / 3),
        3: pytest.approx(2 / 3),
        8: pytest.approx(2 / 3),
    }
    assert s["recall_dense"] == {1: 0.0, 3: pytest.approx(1 / 3), 8: pytest.approx(1 / 3)}
    assert s["accuracy"] == 0.5
    assert s["confusion"][("CONTRADICTED", "SUPPORTED")] == 1
    # F1: SUPPORTED 2/3, CONTRADICTED 0, INSUFFICIENT 0.
    assert s["macro_f1"] == pytest.approx((2 / 3) / 3)
    assert [n for _, _, n, _ in s["calibration"]] == [0, 0, 2, 0]


def test_the_results_say_how_the_verified_claims_were_chosen() -> None:
    assert scifact.verified_text(809, 120, 300) == (
        ", drawn at random with a fixed seed from the 689 that no fit used"
    )
    assert scifact.verified_text(809, 120, None) == ", all but the 120 that a fit used"
    assert scifact.verified_text(809, 0, 900) == ", all"


def test_stance_offsets_and_verdict_curves_are_cross_fitted_without_the_quick_claims() -> None:
    # The judge leans to "unrelated": supported claims' passages read 0.4 supports against
    # 0.5 unrelated. A shift of the supports odds sorts them from the unsupported ones.
    def row(i: int) -> dict:
        supported = i % 2 == 0
        p = (
            {"supports": 0.4, "contradicts": 0.1, "unrelated": 0.5}
            if supported
            else {"supports": 0.2, "contradicts": 0.1, "unrelated": 0.7}
        )
        passages = {f"scifact:{i}#0": {"paper": f"scifact:{i}", "p": p}}
        label, judged = "INSUFFICIENT", 0.5 if supported else 0.7
        return {
            "id": i,
            "gold": "SUPPORTED" if supported else "INSUFFICIENT",
            "label": label,
            "judged": judged,
            "confidence": judged,
            "passages": passages,
            "ranked": [],
            "ranked_dense": [],
            "gold_docs": [],
        }

    rows = [row(i) for i in range(40)]
    head = scifact.judge.Head(
        model="m@x",
        prompt_hash="p",
        dataset="d",
        pairs=1,
        features=["supports", "contradicts", "unrelated"],
        labels=["supports", "contradicts", "unrelated"],
        weights=[[0.0] * 3] * 4,
        fitted="",
        offsets={"contradicts": -0.5},
    )
    measured, fitted = scifact.fit_verdicts(rows, head, quick_ids={0, 1})
    assert measured["claims"] == 38
    # Every label right (no claim is contradicted, so macro-F1 tops out at two thirds).
    assert measured["before"]["macro_f1"] < 0.5
    assert measured["macro_f1"] == pytest.approx(2 / 3) and measured["accuracy"] == 1.0
    assert measured["ece"] < measured["before"]["ece"]
    assert 0 not in fitted.verdict_claim_ids and len(fitted.verdict_claim_ids) == 38
    assert fitted.offsets["supports"] > 0
    assert fitted.offsets["contradicts"] <= -0.5  # added to the shift the head had
    decided = scifact.relabelled(rows[2], {"supports": fitted.offsets["supports"]})
    assert decided["label"] == "SUPPORTED"
    assert scifact.judge.verdict_confidence(fitted.verdicts, "CONTRADICTED", 0.95) == 0.95
    assert "stance odds were shifted" in scifact.judge.describe(fitted)


def test_the_probe_reads_the_raw_state_with_the_standardisation_folded_in():
    rng = np.random.default_rng(3)
    labels = np.repeat([0, 1, 2], 20)
    # Three classes apart along a few inputs, on inputs of very different scales.
    x = rng.standard_normal((60, 12)) * np.linspace(0.1, 50.0, 12)
    x[:, 0] += labels * 4.0
    x[:, 5] -= labels * 30.0
    weights = fit_judge.fit_probe(x, labels, 3)
    assert weights.shape == (13, 3)
    assert np.mean(fit_judge.predict(weights, x).argmax(axis=1) == labels) > 0.9


def test_scifact_stance_items_ask_each_claim_and_take_answers_from_its_rationale() -> None:
    import stance

    data = Path(__file__).resolve().parent / "scifact_format"
    items = stance.scifact_items(data, 5)
    by_answer = {(it.topic, it.answer): it for it in items}
    clipping = by_answer[("4", "yes")]
    assert clipping.sentence == "Clipping the gradient norm at 1.0 removed most loss spikes."
    assert clipping.question == (
        "Is it true that gradient clipping removes most loss spikes in language models?"
    )
    assert clipping.statement == "Gradient clipping removes most loss spikes in language models."
    assert by_answer[("6", "no")].sentence.startswith("Drip irrigation raised wheat yields")
    # depends: a sentence of the same abstract that is no rationale of the claim
    assert by_answer[("4", "depends")].sentence == (
        "Clipping and warmup together were the most reliable."
    )
    # claims without evidence give no item, and the quick sample's claims are left out
    quick = {str(c["id"]) for c in scifact.quick_claims(scifact.load(data)[0])}
    assert {it.topic for it in items}.isdisjoint(quick | {"5"})
