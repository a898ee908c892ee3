"""The judge's parts: reading a one-word answer from token log-probabilities, the fitted
head, the stance counts per paper, strength with dissent, and quotes located in a draft."""

from __future__ import annotations

import math

import pytest

from synth.agents import answering, checks, judge
from synth.agents.calibration import expected_calibration_error
from synth.agents.checks import side_alone
from synth.agents.reviewer import located
from synth.agents.writer import answers_line
from synth.domain.agreement import (
    answer_first,
    dissenting_papers,
    finding_answer,
    finding_strength,
    most_given,
    paper_answers,
    question_answers,
    strength,
)
from synth.domain.records import (
    Claim,
    Label,
    Placement,
    QuestionAnswer,
    QuestionStance,
    Verdict,
)
from synth.domain.text import restates
from synth.model.logprobs import read_choice
from synth.report.lint import with_answers, with_counts
from tests.helpers import identity_head


def first_token(*alternatives: tuple[str, float]) -> list[dict]:
    top = [{"token": t, "logprob": lp} for t, lp in alternatives]
    return [{"token": top[0]["token"], "logprob": top[0]["logprob"], "top_logprobs": top}]


def test_a_choice_is_read_from_the_top_tokens_and_renormalised():
    tokens = first_token(("True", math.log(0.5)), (" false", math.log(0.2)), ("The", -3.0))
    choice, error = read_choice(tokens, judge.ENTAILMENT_WORDS)
    assert error == "" and choice is not None
    # "Unknown" is not among the top tokens: it gets one below the lowest.
    assert choice.logprobs["unrelated"] == pytest.approx(-4.0)
    assert choice.probabilities["supports"] > choice.probabilities["contradicts"]
    assert sum(choice.probabilities.values()) == pytest.approx(1.0, abs=1e-3)
    # A piece of a word counts for it ("Tr" for True); the best piece wins.
    choice, _ = read_choice(first_token(("Tr", -0.3), ("True", -1.0)), judge.ENTAILMENT_WORDS)
    assert choice is not None and choice.logprobs["supports"] == pytest.approx(-0.3)


def test_an_answer_without_any_option_is_no_choice():
    choice, error = read_choice(first_token(("The", -0.1), ("We", -2.0)), judge.ENTAILMENT_WORDS)
    assert choice is None and "True, False, Unknown" in error
    assert read_choice(None, judge.ENTAILMENT_WORDS)[0] is None


def test_the_head_turns_features_into_label_probabilities():
    choice, _ = read_choice(
        first_token(("True", math.log(0.6)), ("False", math.log(0.3)), ("Unknown", math.log(0.1))),
        judge.ENTAILMENT_WORDS,
    )
    assert choice is not None
    names = list(judge.STANCES)
    feats = judge.features(choice, names)
    assert sum(math.exp(f) for f in feats) == pytest.approx(1.0, abs=1e-3)
    # Identity weights with no bias give back the token probabilities.
    head = identity_head()
    probabilities = judge.apply_head(head, feats)
    assert probabilities["supports"] == pytest.approx(0.6, abs=1e-3)
    # A bias toward "unrelated" moves probability there, and it stays a distribution.
    biased = head.model_copy(update={"weights": [*head.weights[:3], [0, 0, 2.0]]})
    moved = judge.apply_head(biased, feats)
    assert moved["unrelated"] > probabilities["unrelated"]
    assert sum(moved.values()) == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize(
    ("question", "yes_no"),
    [
        ("Does warmup stabilise training?", True),
        ("Is A better than B?", True),
        ("How does warmup affect training?", False),
        ("Which optimiser is best for small models?", False),
    ],
)
def test_yes_no_questions_are_told_by_their_first_word(question, yes_no):
    assert answering.is_yes_no(question) is yes_no


def claims_with(answers: dict[str, tuple[str, str]]) -> tuple[dict, dict]:
    """claim id → (paper, answer)."""
    claims, verdicts = {}, {}
    for cid, (paper, answer) in answers.items():
        claims[cid] = Claim(
            id=cid,
            paper_id=paper,
            passage_id=f"{paper}#001",
            text=f"claim {cid}",
            quote=f"claim {cid}",
            quote_found=True,
            kind="finding",
        )
        verdicts[cid] = Verdict(
            claim_id=cid,
            label=Label.SUPPORTED,
            evidence=[],
            quote_found=True,
            confidence=0.7,
            rationale="",
            stance=QuestionStance(answer=answer, probability=0.8),
        )
    return claims, verdicts


def test_each_paper_answers_by_its_claims_and_dissent_is_counted():
    claims, verdicts = claims_with(
        {
            "C1": ("a", "yes"),
            "C2": ("b", "yes"),
            "C3": ("c", "no"),
            "C4": ("d", "yes"),
            "C5": ("d", "no"),
            "C6": ("e", "depends"),
        }
    )
    assert paper_answers(claims, verdicts) == {
        "a": "yes",
        "b": "yes",
        "c": "no",
        "d": "mixed",
        "e": "depends",
    }
    assert finding_answer(["C1", "C2"], claims, verdicts) == "yes"
    assert finding_answer(["C6"], claims, verdicts) is None
    answers = question_answers({}, claims, verdicts)
    assert dissenting_papers(["C1", "C2"], claims, verdicts, answers) == ["c", "d"]


def test_dissent_counts_the_papers_as_placed_as_the_headline_does():
    # Paper c's claim leans no, but its results placed it yes; paper e's claims say nothing
    # either way, but its results placed it no. The headline counts placements, so must a
    # finding's dissent.
    claims, verdicts = claims_with({"C1": ("a", "yes"), "C2": ("c", "no"), "C3": ("e", "depends")})
    placements = {
        paper: Placement(paper_id=paper, answer=answer, readings=[])
        for paper, answer in {"a": "yes", "c": "yes", "e": "no", "f": "unplaced"}.items()
    }
    answers = question_answers(placements, claims, verdicts)
    assert answers == {"a": "yes", "c": "yes", "e": "no", "f": "depends"}
    assert dissenting_papers(["C1"], claims, verdicts, answers) == ["e"]
    assert finding_strength(["C1"], [], claims, verdicts, answers).dissent == 1


def test_no_finding_is_strong_while_a_paper_answers_otherwise():
    assert strength(3, 0).level == "strong"
    dissented = str(strength(3, 0, dissent=2))
    assert dissented.startswith("moderate") and "2 papers answer the question the other way" in (
        dissented
    )
    assert strength(3, 1, dissent=1).level == "contested"
    assert str(strength(1, 0)) == "limited: 1 paper supports it, no paper disagrees"


def test_a_quote_is_located_in_the_draft_whatever_its_spacing_and_case():
    draft = "Abstract: Warmup prevents early divergence in post-norm models.\n\nFindings: ..."
    assert located("warmup prevents  early divergence", draft)
    assert located('"Warmup prevents early divergence."', draft)
    assert not located("warmup prevents late divergence", draft)
    assert not located("warmup", draft)  # too short to be about anything


def test_expected_calibration_error_is_the_weighted_gap():
    assert expected_calibration_error([(0.8, True)] * 8 + [(0.8, False)] * 2) == pytest.approx(0.0)
    assert expected_calibration_error([(0.9, False), (0.1, True)]) == pytest.approx(0.9)


def test_a_sentence_saying_the_papers_agree_is_found_only_while_they_divide():
    sections = {
        "abstract": "The studies consistently show that warmup helps. There is no consensus "
        "on its length.",
        "discussion": "The papers disagree on small batches. Most papers agree on post-norm "
        "models. All the studies agree that warmup helps.",
    }
    divided = QuestionAnswer(yes=[1, 2], no=[3])
    assert checks.agreement_sentences(sections, divided) == [
        "The studies consistently show that warmup helps.",
        "All the studies agree that warmup helps.",
    ]
    assert checks.agreement_sentences(sections, QuestionAnswer(yes=[1, 2], depends=[3])) == []
    assert checks.agreement_sentences(sections, QuestionAnswer(yes=[1], mixed=[2]))


def test_the_papers_answering_other_than_a_side_include_the_mixed_ones():
    answer = QuestionAnswer(yes=[2, 1], no=[4], mixed=[3], depends=[5])
    assert checks.answered_otherwise("yes", answer) == [3, 4]
    assert checks.answered_otherwise("no", answer) == [1, 2, 3]
    assert checks.answered_otherwise("depends", answer) == []
    assert checks.answered_otherwise(None, answer) == []


def test_a_side_is_taken_only_where_both_readings_of_the_stance_give_it():
    def reading(yes: float, no: float) -> judge.Judged:
        return judge.Judged(
            probabilities={"yes": yes, "no": no, "depends": round(1 - yes - no, 4)},
            source="head",
        )

    both = answering.agreed(reading(0.7, 0.2), reading(0.5, 0.1))
    assert both.best == "yes" and both.confidence == 0.5
    assert answering.agreed(reading(0.7, 0.2), reading(0.2, 0.6)).best == "depends"
    assert answering.agreed(reading(0.1, 0.2), reading(0.8, 0.1)).best == "depends"
    assert answering.agreed(reading(0.1, 0.6), None).best == "no"
    assert answering.as_statement("Does dropout improve accuracy?") == "Dropout improve accuracy."
    assert answering.as_statement("Is pre-norm better than post-norm?") is None


QUESTION = "Does learning-rate warmup stabilise training of small transformers?"
CAFFEINE = "Does caffeine improve recall?"
RYE = "Does a rye cover crop reduce nitrate leaching from maize fields?"


@pytest.mark.parametrize(
    ("claim", "question", "answer"),
    [
        # the claim states the effect was absent: code reads the no the judge left out
        ("Warmup did not reduce early loss spikes in pre-norm transformers.", QUESTION, "no"),
        ("Runs were equally stable with and without warmup.", QUESTION, "no"),
        ("Recall was the same after caffeine and after placebo.", CAFFEINE, "no"),
        ("Caffeine had no measurable effect on recall.", CAFFEINE, "no"),
        # ... but on another outcome than the question's: it answers nothing
        ("Caffeine had no measurable effect on sleep.", CAFFEINE, "depends"),
        ("Drainage volume did not differ between rye and fallow plots.", RYE, "depends"),
        ("Nitrate leaching did not differ between rye and fallow plots.", RYE, "no"),
        ("Warmup didn't improve stability.", QUESTION, "no"),
        # another negation: no side is taken
        ("Tiny models didn't need warmup.", QUESTION, "depends"),
        ("With warmup, runs did not diverge.", QUESTION, "depends"),
        ("Warmup helped post-norm but not pre-norm models.", QUESTION, "depends"),
        # "without" alone reports an effect of the thing the question asks about
        ("Warmup removed the loss spikes seen without warmup.", QUESTION, "yes"),
        # "the same models" states no null result, but may state one: no side
        ("Warmup made the same models train stably.", QUESTION, "depends"),
        # a capital T is no "n't"
        ("Warmup kept CD4+ T cell counts stable.", QUESTION, "yes"),
        # a question that itself states a negation is left to the judge
        ("Warmup did not help.", "Does warmup not help small transformers?", "yes"),
    ],
)
def test_code_reads_the_negation_in_a_claim_the_judge_read_as_yes(claim, question, answer):
    yes = judge.Judged(probabilities={"yes": 0.8, "no": 0.1, "depends": 0.1}, source="head")
    assert answering.guarded(yes, question=question, claim=claim).best == answer


def test_a_no_read_by_code_keeps_the_judges_probability_and_asks_no_second_reading():
    claim = "Warmup did not reduce early loss spikes in small transformers."
    first = judge.Judged(
        probabilities={"supports": 0.7, "contradicts": 0.1, "unrelated": 0.2}, source="head"
    )
    second = first.model_copy()  # the statement's reading leaves out the negation as well
    settled = answering.settle(QUESTION, claim, first, second)
    assert settled.best == "no"
    assert settled.confidence == 0.7
    # without a negation the second reading counts: both agree on yes
    assert answering.settle(QUESTION, "Warmup reduced spikes.", first, second).best == "yes"


def test_the_negation_guard_leaves_no_and_depends_alone():
    for best in ("no", "depends"):
        judged = judge.Judged(
            probabilities={a: 0.8 if a == best else 0.1 for a in ("yes", "no", "depends")},
            source="head",
        )
        claim = "Warmup did not reduce loss spikes."
        assert answering.guarded(judged, question=QUESTION, claim=claim) == judged


def test_the_abstract_opens_with_the_count_of_answers_by_code_unplaced_papers_first():
    one_sided = "The question is whether warmup helps. Warmup stabilises training."
    divided = QuestionAnswer(yes=[1, 2], no=[3], depends=[4])
    told = with_answers(one_sided, divided)
    assert told == (
        "Of the 4 papers read, 1 could not be placed: no result of theirs that was read "
        "answers the question either way. Of the 3 placed, 2 answer yes and 1 answers no. "
        "The unplaced papers are enough to change which side has more papers. " + one_sided
    )
    assert "[" not in told  # the abstract cites nothing; the headline carries the numbers
    assert with_answers(told, divided) == told
    assert with_answers(one_sided, None) == one_sided
    assert with_answers(one_sided, QuestionAnswer(yes=[1, 2])).startswith(
        "All 2 papers read were placed: 2 answer yes. The question"
    )
    nothing = with_answers(one_sided, QuestionAnswer(depends=[1, 2]))
    assert nothing.startswith("None of the 2 papers read could be placed")
    assert "so the papers read do not answer it. The question" in nothing
    # the strengths code adds ("disputed") follow the papers' answers
    counted = with_counts(one_sided, ["disputed: 1 paper for, 1 paper against"], divided)
    assert "Of the 3 placed, 2 answer yes" in counted
    assert counted.endswith("The evidence is disputed for finding 1.")


def test_a_sentence_that_restates_its_claim_is_supported_without_the_judge():
    claim = (
        "For post-norm transformers with 2 to 4 layers and up to 8 million parameters, "
        "learning-rate warmup did not improve training stability: all 36 runs without warmup "
        "converged at the default learning rate of 0.0005."
    )
    # The embedded judge called this near-copy the opposite of its claim in a quick start.
    assert restates(
        claim,
        "However, for post-norm transformers with 2 to 4 layers and up to 8 million "
        "parameters, warmup did not improve training stability.",
    )
    setting = "For post-norm transformers with 2 to 4 layers and up to 8 million parameters, "
    assert not restates(claim, setting + "warmup did improve training stability.")
    assert not restates(claim, setting + "warmup did not fail to improve training stability.")
    assert not restates(claim, "Warmup did not improve stability in models of 2 billion weights.")
    assert not restates(claim, "Warmup did not help.")  # too short to tell


def test_the_abstract_loses_sentences_that_only_state_the_aim():
    draft = (
        "This study investigates whether learning-rate warmup stabilises training. "
        "Warmup reduced loss spikes in post-norm models but not in pre-norm ones. "
        "We examine six papers and find that the effect depends on normalisation."
    )
    counted = with_counts(draft, [], QuestionAnswer(yes=[1], no=[2]))
    assert "This study investigates" not in counted
    assert "Warmup reduced loss spikes in post-norm models but not in pre-norm ones." in counted
    assert "and find that the effect depends on normalisation." in counted  # a result stays
    assert with_counts("Our review examines warmup.", [], None) == ""
    alone = with_counts("Our review examines warmup.", [], QuestionAnswer(yes=[1], no=[2]))
    assert alone.startswith("All 2 papers read were placed") and "review" not in alone


def test_a_framing_section_may_not_give_alone_the_answer_fewer_papers_give():
    answer = QuestionAnswer(yes=[2, 3, 4], no=[1, 5], depends=[6])
    assert side_alone(["no", "depends", None], answer) == "no"
    assert side_alone(["yes", "depends"], answer) is None  # the side most papers take
    assert side_alone(["no", "yes"], answer) is None  # both sides given
    assert side_alone(["depends", None], answer) is None  # no side given
    tied = QuestionAnswer(yes=[1], no=[2])
    assert side_alone(["yes"], tied) == "yes"
    assert side_alone(["yes"], QuestionAnswer(yes=[1, 2])) is None  # nobody answers no


def test_the_writer_is_told_which_way_most_papers_answer_without_counts():
    assert answers_line({"a": "yes", "b": "yes", "c": "no", "d": "depends"}).endswith(
        "more papers answer yes than no."
    )
    assert "as many papers answer yes as answer no" in answers_line({"a": "mixed"})
    assert "every paper that answers it answers no" in answers_line({"a": "no", "b": "depends"})
    assert answers_line({"a": "depends"}) == ""


def test_findings_that_give_the_answer_most_papers_give_come_first():
    answers = {"a": "yes", "b": "yes", "c": "no", "d": "depends"}
    assert most_given(answers) == "yes"
    assert answer_first(["no", None, "yes", "no", "yes"], answers) == [2, 4, 0, 1, 3]
    tied = {"a": "yes", "b": "no"}
    assert most_given(tied) is None
    assert answer_first(["no", "yes"], tied) == [0, 1]  # no side to lead with: as written
