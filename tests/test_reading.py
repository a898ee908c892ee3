"""Reading papers: which sentences are a paper's own results, which report another work's
finding, which reach the model, and how a paper is placed from the readings of its results."""

from __future__ import annotations

import json
from pathlib import Path

from synth.agents.reader import null_on_outcome, settled
from synth.domain.placing import in_summary, place, side, taking_sides
from synth.domain.records import (
    Claim,
    Paper,
    PaperText,
    Passage,
    Report,
    Section,
    SentenceReading,
)
from synth.domain.selection import choose, off_topic, own_results
from synth.domain.sentences import reports_other_work, reports_result
from synth.store.chunking import sentences
from tests.helpers import only_run, run_args, run_cli

OTHER_WORK = [
    "Okafor et al. (2016) found that rye had no measurable effect on leaching.",
    "Several studies have found that cereal rye reduces nitrate losses by 30 to 50 percent [3].",
    "A previous meta-analysis concluded that cover crops halve nitrate losses.",
    "Cover crops are often credited with halving nitrate losses from maize fields.",
    "It is widely reported that warmup stabilises training.",
    "Warmup was unnecessary in pre-norm models (Reyes and Brandt, 2021).",
    "Brandvold and Mertens (2017) found that rye had no effect in a drier setting.",
]
OWN_RESULTS = [
    "Rye reduced annual nitrate leaching from 42.6 to 27.7 kg N/ha, a reduction of 35 percent.",
    "Annual nitrate leaching did not differ between treatments (p = 0.81).",
    "Without warmup, 9 of 24 runs diverged at a peak learning rate of 0.001.",
    "Small transformers were equally stable with and without learning-rate warmup.",
    "We found that clipping removed most loss spikes.",
]
NOT_RESULTS = [
    "The aim of this study was to determine whether rye reduces nitrate leaching.",
    "We report nitrate leaching from an eight-year trial on tile-drained plots.",
    "Small transformer language models trained with Adam often diverge early in training.",
    "Practices that allow earlier sowing could increase rye nitrogen uptake.",
    "Plots were sown in October at a rate of 350 seeds per square metre.",
]


def test_sentences_that_report_another_works_finding_are_told_apart():
    for sentence in OTHER_WORK:
        assert reports_other_work(sentence), sentence
    for sentence in OWN_RESULTS + NOT_RESULTS:
        assert not reports_other_work(sentence), sentence


def test_results_are_told_from_aims_background_and_methods():
    for sentence in OWN_RESULTS:
        assert reports_result(sentence), sentence
    for sentence in NOT_RESULTS:
        assert not reports_result(sentence), sentence


def passage(pid: str, paper: str, section: str, text: str) -> Passage:
    return Passage(id=pid, paper_id=paper, section=section, text=text, char_start=0, char_end=1)


QUESTION = "Does a rye cover crop reduce nitrate leaching from maize fields?"


def test_only_a_papers_own_results_are_candidates_best_first():
    intro = passage(
        "a#001",
        "a",
        "Introduction",
        "Okafor et al. (2016) found that rye did not reduce nitrate leaching. "
        "Rye takes up residual soil nitrate in autumn.",
    )
    results = passage(
        "a#002",
        "a",
        "Results",
        "Rye reduced annual nitrate leaching from 42.6 to 27.7 kg N/ha in every year. "
        "Plots were sown in October at a rate of 350 seeds per square metre. "
        "Soil temperature rose by 2 degrees in April compared with March.",
    )
    found = own_results([intro, results], {p.id: sentences(p.text) for p in [intro, results]})
    assert [r.sentence for r in found] == [
        "Rye reduced annual nitrate leaching from 42.6 to 27.7 kg N/ha in every year.",
        "Soil temperature rose by 2 degrees in April compared with March.",
    ]
    chosen = choose(found, [0.7, 0.3], QUESTION, per_paper=4)
    assert [c.sentence for c in chosen["a"]] == [found[0].sentence]  # the other is too far
    assert len(choose(found, [0.7, 0.3], QUESTION, per_paper=4, margin=2.0)["a"]) == 2
    assert len(choose(found, [0.7, 0.6], QUESTION, per_paper=1, margin=2.0)["a"]) == 1


def test_a_paper_far_from_the_question_by_meaning_or_by_words_is_off_topic():
    passages = [
        passage("a#001", "a", "Abstract", "rye nitrate"),
        passage("b#001", "b", "Abstract", "gene expression"),
        passage("c#001", "c", "Abstract", "rye yield"),
    ]
    similarity = {"a#001": 0.8, "b#001": 0.1, "c#001": 0.5}
    words = {"a#001": 10.0, "c#001": 0.5}  # c shares almost none of the question's words
    assert off_topic(["a", "b", "c"], passages, similarity, words) == {"b": 0.1, "c": 0.5}


def test_no_paper_is_off_topic_by_meaning_when_the_question_is_far_from_all_of_them():
    # A question in general terms: every paper is far from it, none further than the others.
    passages = [passage(f"{p}#001", p, "Abstract", "rye nitrate") for p in "abc"]
    similarity = {"a#001": 0.22, "b#001": 0.17, "c#001": 0.08}
    words = {"a#001": 3.0, "b#001": 0.0, "c#001": 0.0}
    assert off_topic(["a", "b", "c"], passages, similarity, words) == {}
    # Once one paper is near it, the others are measured against that one.
    similarity["a#001"] = 0.4
    assert off_topic(["a", "b", "c"], passages, similarity, words) == {"b": 0.17, "c": 0.08}


def reading(answer: str, yes: float, no: float, sentence: str = "s") -> SentenceReading:
    probabilities = {"yes": yes, "no": no, "unclear": round(1 - yes - no, 4)}
    return SentenceReading(
        passage_id="a#001", sentence=sentence, answer=answer, probabilities=probabilities
    )


def test_a_paper_is_placed_only_where_its_results_take_a_side():
    assert side(reading("yes", 0.6, 0.3)) == "yes"
    assert side(reading("yes", 0.45, 0.4)) is None  # too close to call
    assert side(reading("no", 0.2, 0.6)) == "no"
    assert side(reading("no", 0.6, 0.3)) == "no"  # a null result code read, not the model
    assert side(reading("unclear", 0.3, 0.2)) is None
    # A no by less than the margin stands where code read a null result on the outcome.
    assert side(reading("no", 0.42, 0.47)) is None
    null = reading("no", 0.42, 0.47).model_copy(update={"null_on_outcome": True})
    assert side(null) == "no"
    assert place("a", []).answer == "unplaced"
    assert place("a", [reading("yes", 0.45, 0.4)]).answer == "unplaced"
    yes = place("a", [reading("unclear", 0.2, 0.1), reading("yes", 0.7, 0.2)])
    assert yes.answer == "yes" and yes.decisive == [1]
    both = place("a", [reading("yes", 0.7, 0.2), reading("no", 0.2, 0.7)])
    assert both.answer == "mixed" and both.decisive == [0, 1]


def test_a_claim_giving_its_papers_answer_is_backed_by_the_results_that_placed_the_others():
    """Corroboration: the reading that placed each other paper on the claim's side, only for
    a claim whose quote takes the side its own paper was placed on."""
    from synth.pipeline.claims import corroborating

    def at(paper: str, r: SentenceReading) -> SentenceReading:
        return r.model_copy(update={"passage_id": f"{paper}#002"})

    own = reading("yes", 0.7, 0.2, "Warmup cut divergence from 31 to 3 percent.")
    also = reading("yes", 0.6, 0.3, "The effect was strongest at the largest rates.")
    agrees = at("b", reading("yes", 0.65, 0.25, "Warmup raised the stable rate fivefold."))
    disagrees = at("c", reading("no", 0.2, 0.7, "Without warmup, every run converged."))
    unsure = at("d", reading("yes", 0.45, 0.4))
    placements = {
        "local:a": place("local:a", [own, also], summary=[0]),
        "local:b": place("local:b", [reading("unclear", 0.2, 0.1), agrees]),
        "local:c": place("local:c", [disagrees]),
        "local:d": place("local:d", [unsure]),
    }

    def claim(quote: str, paper: str = "local:a") -> Claim:
        return Claim(
            id="a#001.1",
            paper_id=paper,
            passage_id="a#001",
            text=quote,
            quote=quote,
            quote_found=True,
            kind="finding",
        )

    # The placing result and another result on the paper's side; not a result that qualifies
    # the paper's answer, one that takes no side, background, or a paper placed on no side.
    assert corroborating(claim(own.sentence), own, placements) == [agrees]
    assert corroborating(claim(also.sentence), also, placements) == [agrees]
    qualifying = reading("no", 0.2, 0.7, "At the smallest rates warmup made no difference.")
    assert corroborating(claim(qualifying.sentence), qualifying, placements) == []
    assert corroborating(claim("s"), reading("yes", 0.45, 0.4), placements) == []
    assert corroborating(claim("Warmup is widely used."), None, placements) == []
    assert corroborating(claim(unsure.sentence, "local:d"), unsure, placements) == []


def test_an_abstract_that_takes_a_side_places_the_paper_and_other_results_qualify_it():
    gain = "Warmup raised the largest stable peak learning rate fivefold."
    null = "At small learning rates, warmup made no measurable difference."
    text = PaperText(
        paper=Paper(id="a", title="Warmup widens usable learning rates", source="local"),
        sections=[
            Section(name="Abstract", text=f"Background.  {gain}", start=0),
            Section(name="Results", text=null, start=40),
        ],
    )
    readings = [reading("yes", 0.7, 0.2, gain), reading("no", 0.2, 0.7, null)]
    assert in_summary(text, readings) == [0]
    assert taking_sides(readings) == [0, 1]  # the extractor still reads both
    placed = place("a", readings, summary=in_summary(text, readings))
    assert placed.answer == "yes" and placed.decisive == [0]
    # An abstract that answers both ways is mixed, as the results alone would be.
    assert place("a", readings, summary=[0, 1]).answer == "mixed"
    # An abstract that takes no side leaves the answer to the results.
    vague = [reading("unclear", 0.3, 0.3, gain), reading("no", 0.2, 0.7, null)]
    assert place("a", vague, summary=[0]).answer == "no"
    # A paper that is nothing but an abstract (an API record) is placed from all of it.
    whole = text.model_copy(update={"sections": text.sections[:1]})
    both = [reading("yes", 0.7, 0.2, gain), reading("no", 0.2, 0.7, "Background.")]
    assert place("a", both, summary=in_summary(whole, both)).answer == "mixed"


def test_a_null_result_answers_no_only_where_it_is_on_the_questions_outcome():
    question = "Does a winter rye cover crop reduce nitrate leaching from maize fields?"
    read_yes = {"yes": 0.6, "no": 0.3, "unclear": 0.1}  # a small model reading by topic

    def answer(sentence: str) -> str:
        return settled(read_yes, question=question, sentence=sentence)

    assert answer("Annual nitrate leaching did not differ between treatments (p = 0.81).") == "no"
    assert answer("Drainage volume did not differ between rye and fallow plots.") == "unclear"
    assert null_on_outcome(question, "Rye did not change nitrate leaching below the root zone.")
    assert not null_on_outcome(question, "Drainage volume did not differ between treatments.")
    assert not null_on_outcome(question, "Rye reduced nitrate leaching by 35 percent.")
    assert answer("Rye reduced nitrate leaching by 31 percent.") == "yes"


ATTRIBUTED = """---
title: Rye cover crops after maize on a silt loam
---
# Rye cover crops after maize on a silt loam

## Introduction
Okafor et al. (2016) found that a rye cover crop did not reduce nitrate leaching from maize fields.

## Results
A rye cover crop reduced nitrate leaching from maize fields by 31 percent over four years.
"""


def run_on_papers(capsys, fake, isolated, papers: dict[str, str]) -> tuple[Path, Report]:
    """`synth run` on QUESTION over `papers` (file name: text) with the fake model; the run
    folder and its report."""
    corpus = isolated / "papers"
    corpus.mkdir()
    for name, text in papers.items():
        (corpus / name).write_text(text, encoding="utf-8")
    args = run_args(corpus, fake)
    args[1] = QUESTION
    code, _, err = run_cli(capsys, *args)
    assert code in (0, 1), err
    run = only_run(isolated / "runs")
    return run, Report.model_validate_json((run / "report.json").read_text())


def test_a_related_work_sentence_is_never_a_papers_claim_or_answer(capsys, fake, isolated):
    run, report = run_on_papers(capsys, fake, isolated, {"rye.md": ATTRIBUTED})
    assert all("Okafor" not in c.quote for c in report.claims)
    (placed,) = report.placements
    assert placed.answer == "yes"
    assert all("Okafor" not in r.sentence for r in placed.readings)
    # nor was it offered to the extractor to quote
    for line in (run / "transcript.jsonl").read_text().splitlines():
        entry = json.loads(line)
        if entry["agent"] == "extractor":
            assert "Okafor" not in json.dumps(entry["messages"])


def test_result_sentences_that_stand_alone_are_claims_in_their_papers_own_words():
    from synth.domain.selection import Candidate
    from synth.pipeline.checkpoints import ExtractedClaim, Extraction
    from synth.pipeline.claims import merged, stated_claims

    text = (
        "Plots were sown in October. Rye reduced annual nitrate leaching by 35 percent. "
        "It also lowered drainage volume by 10 percent in wet years. "
        "Leaching fell most in the two wettest winters of the trial."
    )
    passages = {
        "local:a#002": Passage(
            id="local:a#002",
            paper_id="local:a",
            section="Results",
            text=text,
            char_start=0,
            char_end=len(text),
        ),
        "local:b#001": Passage(
            id="local:b#001",
            paper_id="local:b",
            section="Abstract",
            text=OWN_RESULTS[4],
            char_start=0,
            char_end=len(OWN_RESULTS[4]),
        ),
    }
    found = sentences(text)

    def candidate(passage_id: str, sentence: str, score: float) -> Candidate:
        return Candidate(
            paper_id=passage_id.split("#")[0],
            passage_id=passage_id,
            sentence=sentence,
            score=score,
        )

    candidates = {
        # best first, as the filter orders them
        "local:a": [
            candidate("local:a#002", found[3], 0.9),
            candidate("local:a#002", found[1], 0.8),
            candidate("local:a#002", found[2], 0.7),
        ],
        "local:b": [candidate("local:b#001", OWN_RESULTS[4], 0.6)],
    }
    stated, restate = stated_claims(candidates, passages)
    # In the passage's order, each quoting its whole sentence; a sentence that points back
    # ("It also ...") or speaks of "we" goes to the extractor with its passage.
    (a,) = stated
    assert a.passage_id == "local:a#002"
    assert [c.quote for c in a.claims] == [found[1], found[3]]
    assert all(c.text == c.quote and c.kind == "finding" for c in a.claims)
    assert restate == ["local:a#002", "local:b#001"]
    # The extractor's claims join the stated ones of the same passage.
    restated = ExtractedClaim(
        text="Rye lowered drainage volume by 10 percent in wet years.",
        quote=found[2],
        kind="finding",
    )
    both = merged(
        stated,
        [
            Extraction(passage_id="local:a#002", claims=[restated]),
            Extraction(passage_id="local:b#001", claims=[]),
        ],
    )
    assert [e.passage_id for e in both] == ["local:a#002", "local:b#001"]
    assert [c.quote for c in both[0].claims] == [found[1], found[3], found[2]]


def test_claims_in_the_papers_own_words_need_no_extractor(capsys, fake, isolated):
    """With `claims_from = "sentences"` (the embedded model's profile) each result sentence
    the filter chose is a claim as it stands: the extractor is not called, the Method section
    says where the claims came from, and a related-work sentence is still no claim."""
    settings = isolated / "synth.toml"
    settings.write_text('claims_from = "sentences"\n' + settings.read_text())
    second = "Across six winters, rye lowered nitrate leaching from maize fields by 12 percent."
    clay = ATTRIBUTED.replace("a silt loam", "a clay loam").split("## Results")[0]
    run, report = run_on_papers(
        capsys,
        fake,
        isolated,
        {"rye.md": ATTRIBUTED, "rye2.md": f"{clay}## Results\n{second}\n"},
    )
    result = (
        "A rye cover crop reduced nitrate leaching from maize fields by 31 percent over four years."
    )
    assert sorted((c.text, c.quote, c.quote_found) for c in report.claims) == [
        (result, result, True),
        (second, second, True),
    ]
    assert report.stats.claims_stated == 2
    assert "2 claims are result sentences that the filter chose" in report.sections["method"]
    assert "extractor drew" not in report.sections["method"]
    calls = [json.loads(line) for line in (run / "transcript.jsonl").read_text().splitlines()]
    assert not [e for e in calls if e["agent"] == "extractor"]
    # The report checks accept the Method section's counts as the run's own.
    assert "pass: counts in the text equal the run's counts" in report.lint
