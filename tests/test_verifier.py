"""Labels and confidence are derived by code from per-passage judgements."""

from __future__ import annotations

import asyncio
import itertools
import json

from synth.agents.verifier import ANSWERS_ALIKE, UNRELATED_BELOW, bearing, decide, verify
from synth.domain.records import Claim, Corroboration, Evidence, Label, Verdict
from synth.model.endpoint import Endpoint
from synth.model.llm import Model
from synth.store.transcript import Recorder
from tests.helpers import identity_head


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


def test_a_contradiction_from_a_paper_that_answers_the_question_alike_does_not_count():
    evidence = offered(["local:b", "local:c"])
    stances = {"E1": "contradicts", "E2": "contradicts"}
    # local:b answers the research question as the claim does: only local:c disagrees
    label, ids, *_ = decide(stances, evidence, "local:a", agreeing=frozenset({"local:b"}))
    assert (label, ids) == (Label.CONTRADICTED, ["E2"])
    both = frozenset({"local:b", "local:c"})
    assert decide(stances, evidence, "local:a", agreeing=both).label == Label.INSUFFICIENT
    # a paper that answers alike still counts when it supports the claim
    supported = decide({"E1": "supports", "E2": "unrelated"}, evidence, "local:a", agreeing=both)
    assert supported.label == Label.SUPPORTED


def test_a_support_from_a_paper_that_answers_the_question_the_other_way_does_not_count():
    evidence = offered(["local:b", "local:c"])
    stances = {"E1": "supports", "E2": "supports"}
    # local:b's own result answers the research question the other way: only local:c agrees
    decision = decide(stances, evidence, "local:a", opposing=frozenset({"local:b"}))
    assert (decision.label, decision.evidence) == (Label.SUPPORTED, ["E2"])
    assert decision.stances["E1"] == "unrelated"
    both = frozenset({"local:b", "local:c"})
    assert decide(stances, evidence, "local:a", opposing=both).label == Label.INSUFFICIENT
    # its contradiction still counts: it does disagree
    against = decide({"E1": "contradicts", "E2": "unrelated"}, evidence, "local:a", opposing=both)
    assert against.label == Label.CONTRADICTED


def test_the_rationale_names_a_contradiction_that_was_not_counted():
    from synth.agents.judge import Judged
    from synth.agents.verifier import rationale

    judged = {
        "E1": Judged(
            probabilities={"supports": 0.1, "contradicts": 0.7, "unrelated": 0.2}, source="head"
        )
    }
    text = rationale({"E1": "unrelated"}, judged, [], {"E1": "contradicts"})
    assert text.startswith("Passage E1 contradicts the claim (p = 0.70), not counted:")
    supports = {"E1": Judged(probabilities={"supports": 0.8, "contradicts": 0.1, "unrelated": 0.1},
                             source="head")}  # fmt: skip
    text = rationale({"E1": "unrelated"}, supports, [], {"E1": "supports"})
    assert text == (
        "Passage E1 supports the claim (p = 0.80), not counted: its paper answers the research "
        "question the other way."
    )


def test_the_models_doubt_lowers_the_score_and_certainty_changes_nothing():
    evidence = offered(["local:b", "local:c"])
    stances = {"E1": "supports", "E2": "supports"}
    stated = decide(stances, evidence, "local:a").score
    certain = decide(stances, evidence, "local:a", probabilities={"E1": 1.0, "E2": 1.0})
    doubtful = decide(stances, evidence, "local:a", probabilities={"E1": 0.6, "E2": 0.6})
    assert certain.score == stated
    assert doubtful.score < stated
    assert doubtful.signals.model_probability == 0.6


def test_calibration_curves_are_monotone_and_shrunk():
    from synth.agents.calibration import calibrate, fit

    rows = [(Label.SUPPORTED, 0.5, False)] * 6 + [(Label.SUPPORTED, 0.5, True)] * 2
    rows += [(Label.SUPPORTED, 0.8, True)] * 6 + [(Label.SUPPORTED, 0.8, False)] * 2
    rows += [(Label.SUPPORTED, 0.95, True), (Label.SUPPORTED, 0.65, True)]
    fitted = fit(rows, model="m", dataset="d", created="2026-11-30")
    values = [calibrate(fitted, Label.SUPPORTED, x / 100) for x in range(30, 96)]
    assert values == sorted(values)
    # Two claims at 0.95 do not make it certain: bins are shrunk toward the label's rate.
    assert calibrate(fitted, Label.SUPPORTED, 0.95) < 0.95
    assert fitted.brier_calibrated <= fitted.brier_rule
    # No curve for a label: the rule's score is kept.
    assert calibrate(fitted, Label.CONTRADICTED, 0.7) == 0.7
    assert calibrate(None, Label.SUPPORTED, 0.7) == 0.7


def claim_of(text: str) -> Claim:
    return Claim(
        id="a#001.1",
        paper_id="local:a",
        passage_id="a#001",
        text=text,
        quote=text,
        quote_found=True,
        kind="finding",
    )


def verified(fake, tmp_path, claim: Claim, evidence: list[Evidence], **options) -> Verdict:
    """The verdict on `claim` from the fake model, its calls recorded in tmp_path/t.jsonl."""

    async def check() -> Verdict:
        model = Model(
            Endpoint(fake.url, "m"),
            recorder=Recorder(tmp_path / "t.jsonl"),
            cache=None,
            semaphore=asyncio.Semaphore(1),
        )
        try:
            return await verify(model, claim=claim, evidence=evidence, **options)
        finally:
            await model.close()

    return asyncio.run(check())


def test_a_passage_far_from_the_claim_is_not_judged(fake, tmp_path):
    """No model call for a passage whose similarity lies below where gold evidence lies; the
    verdict says so."""
    claim = claim_of("Warmup reduced early loss spikes in small transformers.")
    far = Evidence(passage_id="b#001", paper_id="local:b", text="Soil nitrate.", score=0.1)
    verdict = verified(fake, tmp_path, claim, [far])
    assert verdict.label == Label.INSUFFICIENT and verdict.judgements == {}
    assert f"similarity below {UNRELATED_BELOW}): b#001 (0.10)" in verdict.rationale
    assert sum(fake.calls.values()) == 0


def test_the_judge_reads_the_sentences_of_a_passage_that_bear_on_the_claim(fake, tmp_path):
    """Asked to read two sentences of a longer passage, the judge reads those that share most
    content words with the claim, in the passage's order; the transcript shows them."""
    passage = (
        "Plots were sown in October. Without warmup, 9 of 24 runs diverged. "
        "Soil samples were taken each spring. With a warmup of 1 percent, no runs diverged."
    )
    claim_text = "A short warmup stopped training runs from diverging."
    assert bearing(passage, claim_text, 2) == (
        "Without warmup, 9 of 24 runs diverged. With a warmup of 1 percent, no runs diverged."
    )
    assert bearing(passage, claim_text, None) == passage
    assert bearing("One sentence only.", claim_text, 2) == "One sentence only."
    near = Evidence(passage_id="b#001", paper_id="local:b", text=passage, score=0.6)
    verified(fake, tmp_path, claim_of(claim_text), [near], judged_sentences=2)
    (call,) = [json.loads(line) for line in (tmp_path / "t.jsonl").open()]
    asked = " ".join(m["content"] for m in call["messages"])
    assert "9 of 24 runs diverged" in asked and "no runs diverged" in asked
    assert "Soil samples" not in asked and "sown in October" not in asked


def test_the_judge_reads_as_many_sentences_as_its_head_was_fitted_on(
    fake, tmp_path, isolated, saved_heads
):
    """A head fitted on two sentences of each passage is fed two: the inputs it was fitted on."""
    from synth.agents import judge
    from synth.model import prompts
    from synth.store import paths

    head = identity_head(prompt_hash=prompts.load("judge").sha256, judged_sentences=2)
    judge.save_head(head, paths.data_dir() / "judges")
    passage = (
        "Plots were sown in October. Without warmup, 9 of 24 runs diverged. "
        "Soil samples were taken each spring. With a warmup of 1 percent, no runs diverged."
    )
    near = Evidence(passage_id="b#001", paper_id="local:b", text=passage, score=0.6)
    verified(
        fake, tmp_path, claim_of("A short warmup stopped training runs from diverging."), [near]
    )
    asked = " ".join(
        m["content"] for line in (tmp_path / "t.jsonl").open() for m in json.loads(line)["messages"]
    )
    assert "no runs diverged" in asked and "Soil samples" not in asked


def backing(passage_id: str, paper_id: str, answer: str = "yes") -> Corroboration:
    return Corroboration(
        evidence=Evidence(passage_id=passage_id, paper_id=paper_id, text="t", score=0.6),
        sentence="A linear warmup raised the largest stable learning rate fivefold.",
        answer=answer,
        probability=0.7,
    )


def test_another_papers_result_that_answers_alike_supports_without_a_judgement(fake, tmp_path):
    """A claim that gives its paper's answer is supported by another paper's own result that
    gives the same answer: no judge call, the rationale says why, and with nothing judged the
    confidence is the evidence score."""
    claim = claim_of("Warmup cut the divergence rate from 31 to 3 percent.")
    verdict = verified(fake, tmp_path, claim, [], corroborating=[backing("b#002", "local:b")])
    assert verdict.label == Label.SUPPORTED and verdict.evidence == ["b#002"]
    assert verdict.judgements == {"b#002": ANSWERS_ALIKE}
    assert "its paper's own result answers the research question yes" in verdict.rationale
    assert verdict.confidence == verdict.rule_score
    assert sum(fake.calls.values()) == 0


def test_a_retrieved_passage_that_corroborates_is_not_judged_again(fake, tmp_path):
    """A retrieved passage that is also another paper's corroborating result costs no call;
    the other retrieved passages are judged as before."""
    claim = claim_of("Warmup cut the divergence rate from 31 to 3 percent.")
    same = Evidence(passage_id="b#002", paper_id="local:b", text="t", score=0.6)
    other = Evidence(passage_id="c#001", paper_id="local:c", text="Soil nitrate.", score=0.6)
    verdict = verified(
        fake, tmp_path, claim, [same, other], corroborating=[backing("b#002", "local:b")]
    )
    calls = [json.loads(line) for line in (tmp_path / "t.jsonl").open()]
    assert [c["item"] for c in calls] == [f"{claim.id}|c#001"]
    assert verdict.judgements["b#002"] == ANSWERS_ALIKE and "c#001" in verdict.judgements
    assert "b#002" in verdict.evidence
    assert verdict.signals is not None and verdict.signals.passages_judged == 1


def test_another_passage_of_a_paper_that_corroborates_is_not_judged(fake, tmp_path):
    """A paper whose own result already backs the claim is counted for it, and its
    contradiction would be set aside: its other passages cost no call, and the rationale
    names them. A paper that answers alike but backs nothing is judged as before."""
    claim = claim_of("Warmup cut the divergence rate from 31 to 3 percent.")
    spared = Evidence(passage_id="b#003", paper_id="local:b", text="Warmup.", score=0.6)
    judged = Evidence(passage_id="c#001", paper_id="local:c", text="Soil nitrate.", score=0.6)
    verdict = verified(
        fake,
        tmp_path,
        claim,
        [spared, judged],
        corroborating=[backing("b#002", "local:b")],
        agreeing=frozenset({"local:b", "local:c"}),
    )
    calls = [json.loads(line) for line in (tmp_path / "t.jsonl").open()]
    assert [c["item"] for c in calls] == [f"{claim.id}|c#001"]
    assert verdict.label == Label.SUPPORTED and "b#003" not in verdict.judgements
    assert "Not judged, their papers' own results already supporting the claim: b#003." in (
        verdict.rationale
    )
