"""Which groups of claims become findings, and in whose words a finding is stated when the
writer's own statement fails its checks (pure code)."""

from __future__ import annotations

from synth.agents.grouping import group_claims
from synth.domain.records import Claim, Label, QuestionStance, Verdict
from synth.domain.sentences import states_measurement
from synth.pipeline.writing import in_own_words


def claim(cid: str, text: str, kind: str = "finding") -> Claim:
    return Claim(
        id=cid,
        paper_id=f"p{cid}",
        passage_id=f"p{cid}#001",
        text=text,
        quote=text,
        quote_found=True,
        kind=kind,
    )


def verdict(cid: str, label: Label, answer: str | None) -> Verdict:
    return Verdict(
        claim_id=cid,
        label=label,
        evidence=[],
        quote_found=True,
        confidence=0.6,
        rationale="",
        stance=QuestionStance(answer=answer, probability=0.7) if answer else None,
    )


def test_groups_that_answer_the_question_outrank_groups_with_verdicts_only():
    # Three claims far apart (orthogonal vectors): three groups, room for two findings.
    ids = ["C1", "C2", "C3"]
    vectors = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    question = [0.6, 0.6, 0.5]
    # C1 is contradicted (by topic) but answers nothing; C2 and C3 answer the question.
    decisive = {"C1"}
    chosen = group_claims(ids, vectors, question, decisive, max_groups=2)
    assert ["C1"] in chosen  # ranked by verdicts alone, the background claim is a finding
    sides = ["", "yes", "no"]
    chosen = group_claims(ids, vectors, question, decisive, max_groups=2, partition=sides)
    assert chosen == [["C2"], ["C3"]]


def test_a_finding_in_a_claims_words_states_the_measured_result_not_the_general_one():
    general = claim("C20", "The largest stable learning rate limits how fast a model can learn.")
    measured = claim(
        "C21",
        "A 4000-step linear warmup raised the largest stable peak learning rate from 0.0006 "
        "to 0.003, a fivefold increase.",
        kind="method",
    )
    verdicts = {
        "C20": verdict("C20", Label.CONTRADICTED, "yes"),  # a judge reading by topic
        "C21": verdict("C21", Label.INSUFFICIENT, "yes"),
    }
    assert in_own_words([general, measured], verdicts).from_claim == "C21"
    # A claim that answers the question still outranks a measurement that does not.
    verdicts["C21"] = verdict("C21", Label.INSUFFICIENT, None)
    assert in_own_words([general, measured], verdicts).from_claim == "C20"


def test_a_count_of_cases_is_a_measurement_and_a_year_is_not():
    assert states_measurement("For tiny models, all 36 runs without warmup converged.")
    assert states_measurement("In 60 runs of pre-norm models, training converged every time.")
    assert states_measurement("Rye lowered the nitrate load from 38.2 to 26.2 kg N/ha.")
    assert not states_measurement("In 2019 the rules for reporting changed.")
    assert not states_measurement("The largest stable learning rate limits how fast it learns.")
