"""Labels and confidence are derived by code from per-passage judgements."""

from __future__ import annotations

import itertools

from synth.agents.schemas import Evidence, Label
from synth.agents.verifier import decide


def offered(papers: list[str]) -> dict[str, Evidence]:
    return {
        f"E{i + 1}": Evidence(passage_id=f"{p}#00{i}", paper_id=p, text="t", score=0.5)
        for i, p in enumerate(papers)
    }


def test_support_from_other_papers():
    evidence = offered(["local:b", "local:c", "local:d"])
    label, ids, confidence, *_ = decide(
        {"E1": "supports", "E2": "supports", "E3": "unrelated"}, evidence, "local:a"
    )
    assert (label, ids, confidence) == (Label.SUPPORTED, ["E1", "E2"], 0.8)


def test_disagreement_wins_a_tie_and_lowers_confidence():
    evidence = offered(["local:b", "local:c"])
    label, ids, confidence, *_ = decide(
        {"E1": "supports", "E2": "contradicts"}, evidence, "local:a"
    )
    assert (label, ids, confidence) == (Label.CONTRADICTED, ["E2"], 0.5)


def test_own_paper_counts_for_the_label_not_the_confidence():
    evidence = offered(["local:a", "local:b"])
    label, ids, confidence, *_ = decide({"E1": "supports", "E2": "unrelated"}, evidence, "local:a")
    assert (label, ids, confidence) == (Label.SUPPORTED, ["E1"], 0.5)


def test_nothing_related_is_insufficient():
    evidence = offered(["local:b", "local:c"])
    assert decide({"E1": "unrelated", "E2": "unrelated"}, evidence, "local:a")[:3] == (
        Label.INSUFFICIENT,
        [],
        0.6,
    )


def test_confidence_is_monotone_in_independent_papers():
    papers = ["local:b", "local:c", "local:d", "local:e"]
    evidence = offered(papers)
    for side in ("supports", "contradicts"):
        previous = 0.0
        for n in range(1, 5):
            stances = {f"E{i + 1}": side if i < n else "unrelated" for i in range(4)}
            confidence = decide(stances, evidence, "local:a").score
            assert confidence >= previous
            previous = confidence
    # More papers on the other side never raise confidence.
    for n_other in range(0, 3):
        stances = dict.fromkeys(["E1", "E2"], "supports")
        stances.update(
            {e: "contradicts" if i < n_other else "unrelated" for i, e in enumerate(["E3", "E4"])}
        )
        confidence = decide(stances, evidence, "local:a").score
        assert 0.3 <= confidence <= 0.95
    assert all(
        0.3 <= decide(dict(zip(evidence, combo, strict=True)), evidence, "local:a")[2] <= 0.95
        for combo in itertools.product(["supports", "contradicts", "unrelated"], repeat=4)
    )


def test_a_contradiction_from_the_claims_own_paper_does_not_count():
    evidence = offered(["local:a", "local:b"])
    label, ids, *_ = decide({"E1": "contradicts", "E2": "unrelated"}, evidence, "local:a")
    assert (label, ids) == (Label.INSUFFICIENT, [])
