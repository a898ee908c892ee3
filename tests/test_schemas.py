"""Validators reject meta-claims, fragments and invented numbers, whatever the prompt said.

One module for every draft's validators (some 420 lines), so that the rules a model's answer
must follow are read in one place.
"""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from synth.agents.extractor import extraction_schema
from synth.agents.reviewer import personas, review_schema, rubric
from synth.agents.schemas import FrameDraft
from synth.agents.verifier import Judgement
from synth.agents.writer import finding_schema, revision_schema
from synth.domain.text import claim_text_problem, prose_problem


@pytest.mark.parametrize(
    "text",
    [
        "The paper presents tables of results for every model size.",
        "The table includes columns for model, steps and loss.",
        "This study shows that warmup helps training of transformers.",
        "We find that warmup reduces divergence in small models.",
        "The authors propose a new schedule for the learning rate.",
        "Results are summarised in Table 3 for all models trained.",
        "| 0.91 | 0.88 | 0.93 | 0.95 | 0.90 | 0.87 |",
        "12.3 45.6 78.9 0.12 0.34 0.56 warmup",
        "Warmup reduced",
        "Warmup of 2000 steps reduced divergence in runs with",
        "",
    ],
)
def test_bad_claims_are_rejected(text):
    assert claim_text_problem(text)


@pytest.mark.parametrize(
    "text",
    [
        "Linear warmup of 2000 steps reduced divergence from 17 of 40 runs to 2 of 40.",
        "Pre-norm transformers trained without warmup converged as reliably as with warmup.",
    ],
)
def test_good_claims_pass(text):
    assert claim_text_problem(text) is None


def test_prose_may_not_cite_or_count():
    assert prose_problem("Warmup helps [1].")
    assert prose_problem("Across 15 papers, warmup helps.")
    assert prose_problem("Three studies agree that warmup helps.")
    assert prose_problem("Warmup of 2000 steps helps small models.") is None


def test_extraction_schema_offers_only_the_passage_sentences():
    sentences = [
        "Warmup reduced divergence in small transformer models trained with Adam.",
        "Vocabulary size changed perplexity by less than two percent.",
    ]
    schema = extraction_schema(sentences, max_claims=2)
    json_schema = schema.model_json_schema()
    assert json_schema["$defs"]["ClaimDraft"]["properties"]["sentence_ids"]["items"]["enum"] == [
        "S1",
        "S2",
    ]
    good = {"text": sentences[0], "sentence_ids": ["S1"], "kind": "finding"}
    schema.model_validate({"claims": [good]})
    with pytest.raises(ValidationError, match="S3"):
        schema.model_validate({"claims": [{**good, "sentence_ids": ["S3"]}]})
    with pytest.raises(ValidationError, match="does not restate"):
        schema.model_validate({"claims": [{**good, "sentence_ids": ["S2"]}]})
    with pytest.raises(ValidationError, match="at most 2"):
        schema.model_validate({"claims": [good, good, good]})


def test_judgement_is_one_stance_with_a_short_rationale():
    schema = Judgement
    schema.model_validate({"stances": {"E1": "supports"}, "rationale": "Same result."})
    with pytest.raises(ValidationError):
        schema.model_validate({"stances": {"E1": "maybe"}, "rationale": "Unsure."})
    with pytest.raises(ValidationError):
        schema.model_validate({"stances": {"E2": "supports"}, "rationale": "Other id."})
    with pytest.raises(ValidationError):
        schema.model_validate({"stances": {"E1": "supports"}, "rationale": "x" * 400})


def test_findings_cite_only_offered_claims_in_plain_prose_and_say_something():
    claims = {
        "C1": "Linear warmup reduced early divergence of post-norm transformers.",
        "C2": "Pre-norm transformers converged without warmup in every run.",
    }
    schema = finding_schema(claims, "Does warmup stabilise small transformers?")
    good = "Linear warmup reduced early divergence in post-norm transformers."
    schema.model_validate({"statement": good, "claim_ids": ["C1"]})
    with pytest.raises(ValidationError):
        schema.model_validate({"statement": good, "claim_ids": ["C7"]})
    # Claims that disagree with a finding are found by the judge, not named by the writer.
    with pytest.raises(ValidationError):
        schema.model_validate({"statement": good, "claim_ids": ["C1"], "disagreeing_ids": ["C2"]})
    for bad in (
        "Warmup helps [2] in small models.",
        "C1 (SUPPORTED, confidence 0.8): warmup.",
        "Across 12 papers, warmup helps small models.",
        "Warmup stabilises training of small transformers.",
        "Cosine schedules with restarts improve the accuracy of image classifiers.",
    ):
        with pytest.raises(ValidationError):
            schema.model_validate({"statement": bad, "claim_ids": ["C1"]})


def test_frame_and_revision_rules():
    frame = {
        "title": "Warmup and stability",
        "abstract": "The question is whether warmup stabilises training of small transformers. "
        "The findings say it does for post-norm models.",
        "introduction": "Intro.",
        "discussion": "Discussion.",
        "limitations": "Limits.",
    }
    FrameDraft.model_validate(frame)
    with pytest.raises(ValidationError):
        FrameDraft.model_validate({**frame, "abstract": "C1 (CONTRADICTED, confidence 0.80; from"})
    with pytest.raises(ValidationError, match="repeats the abstract"):
        FrameDraft.model_validate({**frame, "introduction": frame["abstract"]})
    revision = revision_schema(2)
    looping = (
        "The evidence in this synthesis is limited to a small number of studies of warmup. "
        "Warmup did improve stability for small models. "
        "The evidence is limited to a small number of studies of warmup. "
        "Warmup did not improve stability for small models. "
        "Warmup did improve stability for small models."
    )
    assert FrameDraft.model_validate({**frame, "limitations": looping}).limitations == (
        "The evidence in this synthesis is limited to a small number of studies of warmup. "
        "Warmup did improve stability for small models. "
        "Warmup did not improve stability for small models."
    )
    revision.model_validate(
        {**frame, "findings": ["Warmup helps post-norm models.", "Pre-norm models need no warmup."]}
    )
    with pytest.raises(ValidationError, match="different"):
        revision.model_validate({**frame, "findings": ["Warmup helps post-norm models."] * 2})
    with pytest.raises(ValidationError):
        revision.model_validate({**frame, "findings": ["Warmup helps post-norm models."]})


def test_every_persona_has_a_rubric_and_scores_need_all_criteria():
    assert len(personas()) >= 4
    for persona in personas():
        criteria = rubric(persona)
        assert len(criteria) >= 3 and all(criteria.values())
        schema = review_schema(criteria)
        scores = {
            k: {"score": 7, "quote": "finding one", "justification": "Finding 1 is vague."}
            for k in criteria
        }
        schema.model_validate({"scores": scores, "requests": []})
        missing = dict(list(scores.items())[1:])
        with pytest.raises(ValidationError):
            schema.model_validate({"scores": missing, "requests": []})
        with pytest.raises(ValidationError):
            schema.model_validate(
                {
                    "scores": {
                        **scores,
                        next(iter(criteria)): {"score": 11, "quote": "q", "justification": "x"},
                    },
                    "requests": [],
                }
            )


def test_quote_keeps_only_the_sentences_that_state_the_claim():
    from synth.agents.extractor import stating_sentences

    texts = [
        "Warmup reduced divergence from 31 percent to 3 percent of runs.",
        "The models had six layers.",
        "Final perplexity did not change with warmup.",
    ]
    claim = "Warmup reduced divergence from 31 percent to 3 percent of runs."
    assert stating_sentences(claim, texts, [0, 1, 2]) == [0]
    both = "Warmup reduced divergence to 3 percent of runs and did not change final perplexity."
    assert stating_sentences(both, texts, [2, 0, 0]) == [0, 2]


def test_code_tidies_lead_ins_and_id_lists_instead_of_reasking():
    claims = {"C1": "Linear warmup reduced early divergence of post-norm transformers."}
    schema = finding_schema(claims, "Does warmup stabilise small transformers?")
    answer = schema.model_validate(
        {
            "statement": "The claims together suggest that linear warmup reduced early "
            "divergence (C1).",
            "claim_ids": ["C1"],
        }
    )
    assert answer.statement == "Linear warmup reduced early divergence."


def test_a_frame_keeps_its_valid_sections_and_says_which_failed():
    from synth.agents.writer import salvage_frame

    raw = json.dumps(
        {
            "title": "Warmup and stability",
            "abstract": "Warmup reduced early divergence of post-norm transformers in most "
            "reports, with exceptions for pre-norm layouts [3].",
            "introduction": "Warmup ramps the learning rate up at the start of training.",
            "discussion": "Reports agree for post-norm models and differ for pre-norm ones.",
        }
    )
    frame = salvage_frame(raw, "Does warmup help?")
    assert frame.title == "Warmup and stability"
    assert frame.abstract.startswith("The writer's abstract did not pass validation")
    assert frame.limitations.startswith("The writer's limitations did not pass validation")
    assert frame.introduction.startswith("Warmup ramps")
    assert salvage_frame("not json", "Q?") is None
    copied = json.loads(raw) | {
        "abstract": "Warmup reduced early divergence of post-norm transformers in most reports. "
        "Pre-norm layouts were the exception.",
        "discussion": "As said, warmup reduced early divergence of post-norm transformers in "
        "most reports.",
    }
    frame = salvage_frame(json.dumps(copied), "Does warmup help?")
    assert frame.abstract.startswith("Warmup reduced")
    assert frame.discussion.startswith("The writer's discussion did not pass validation")


def test_code_cuts_copied_counts_and_salvage_drops_sentences_that_break_the_rules():
    from synth.agents.writer import FindingOut, findings_listing, salvage_frame
    from synth.domain.agreement import strength

    # The writer sees each finding's strength as a word: counts it would copy are left out.
    listing = findings_listing(
        [FindingOut(statement="Warmup helps post-norm models.", claim_ids=["C1"])],
        [strength(4, 0)],
    )
    assert "Finding 1 (evidence strong): Warmup helps" in listing and "4 papers" not in listing
    frame = {
        "title": "Warmup and stability",
        "abstract": "Warmup reduced early divergence of post-norm transformers, and the "
        "evidence for it is strong across 7 papers.",
        "introduction": "Intro.",
        "discussion": "Discussion.",
        "limitations": "Limits.",
    }
    assert FrameDraft.model_validate(frame).abstract.endswith("the evidence for it is strong.")
    counted = "Seven papers agree that warmup helps. Pre-norm layouts were the exception."
    # A sentence that counts papers is cut by code where the section has others (asking a
    # small model again repeats it); a section of nothing else is refused with the rule.
    kept = FrameDraft.model_validate({**frame, "abstract": counted + " " + frame["abstract"]})
    assert kept.abstract.startswith("Pre-norm layouts were the exception. Warmup reduced")
    with pytest.raises(ValidationError, match="how many papers"):
        FrameDraft.model_validate({**frame, "limitations": "Seven papers agree, not more."})
    salvaged = salvage_frame(json.dumps({**frame, "discussion": counted}), "Does warmup help?")
    assert salvaged.discussion == "Pre-norm layouts were the exception."


def test_prose_cut_off_mid_sentence_is_rejected():
    assert prose_problem("Warmup reduced early divergence in small, 2")
    assert prose_problem("Warmup reduced early divergence.") is None
    assert prose_problem("Warmup and stability", complete=False) is None


def test_code_drops_a_trailing_fragment_cut_by_a_length_bound():
    from synth.domain.text import whole_sentences

    cut = "Warmup reduced early divergence in post-norm models. Clipping removes most of the, 2"
    assert whole_sentences(cut) == "Warmup reduced early divergence in post-norm models."
    assert whole_sentences("Too short. cut") == "Too short. cut"  # nothing worth keeping
    assert whole_sentences("Complete sentence here.") == "Complete sentence here."


def test_reviews_justify_from_the_draft_and_keep_only_finished_requests():
    from synth.agents import reviewer

    assert reviewer.personas() == ["citation_checker", "domain_expert", "editor", "methodologist"]
    criteria = reviewer.rubric("methodologist")
    schema = reviewer.review_schema(criteria)
    own = "Finding 2 rests on one paper but is called strong."
    answer = schema.model_validate(
        {
            "scores": {
                k: {"score": 5, "quote": "finding 2", "justification": own} for k in criteria
            },
            "requests": [
                "Call the evidence for finding 2 limited.",
                "Consider adding a section on the impact of warmup on small transformers可以",
                "Add a limitation about",
            ],
        }
    )
    assert answer.requests == ["Call the evidence for finding 2 limited."]
    # Restating the rubric or quoting words the draft lacks is no schema error (asking a
    # small model again repeats the answer): code marks such a score unchecked.
    parroted = {
        k: {"score": 8, "quote": "finding 2", "justification": rule} for k, rule in criteria.items()
    }
    schema.model_validate({"scores": parroted, "requests": []})


def test_a_score_counts_only_with_a_quote_of_the_draft_and_a_reason_of_its_own():
    from synth.agents import reviewer

    criteria = reviewer.rubric("editor")
    draft = "Abstract: Warmup helps. Findings: Finding 2 says 'comprehensive' about the runs."
    quote = "Finding 2 says 'comprehensive'"
    scores = {k: {"score": 7, "quote": quote, "justification": r} for k, r in criteria.items()}
    own = "Finding 2 says 'comprehensive'."
    scores["precision"] = {"score": 5, "quote": quote, "justification": own}
    elsewhere = "words not there at all"
    scores["structure"] = {"score": 6, "quote": elsewhere, "justification": "Sections are mixed."}
    marked = reviewer.checked_scores(scores, criteria, draft)
    assert marked["precision"].checked and marked["precision"].justification == own
    assert not marked["answer_first"].checked and not marked["structure"].checked
    assert marked["answer_first"].justification == reviewer.RESTATED
    assert marked["structure"].justification == reviewer.UNCHECKED
    assert marked["structure"].score == 6  # kept for the reader, counted nowhere


def test_a_quote_is_located_by_a_run_of_the_draft_s_words():
    from synth.agents.reviewer import located

    draft = (
        "Findings: Reports that warmup stabilises small transformers may mostly reflect the "
        "post-norm layout. (evidence limited: 1 paper supports it)"
    )
    assert located("reports that WARMUP stabilises small", draft)  # short: all of it
    # A long quote that strays at its end (a paraphrase, a cut) still copied a run of eight.
    strayed = "Reports that warmup stabilises small transformers may mostly reflect a layout"
    assert located(strayed, draft)
    assert not located("warmup stabilizes small transformers", draft)  # its own spelling
    assert not located("the post-norm", draft)  # two words speak of nothing in particular
    mixed = "Reports that warmup stabilizes small transformers may mostly reflect the layout"
    assert not located(mixed, draft)  # no eight words in a row


def test_salvage_drops_sentences_copied_from_the_abstract_and_falls_back_to_the_draft():
    import json

    from synth.agents.writer import Draft, FindingOut, salvage_frame, salvage_revision

    abstract = (
        "The question is whether learning-rate warmup stabilises training of small transformers. "
        "Warmup reduced divergence in post-norm models but not in pre-norm models at all."
    )
    raw = {
        "title": "Warmup helps post-norm transformers",
        "abstract": abstract,
        "introduction": "Warmup reduced divergence in post-norm models but not in pre-norm "
        "models at all. Divergence early in training wastes whole runs of compute.",
        "discussion": "Warmup reduced divergence in post-norm models but not in pre-norm "
        "models at all.",
        "limitations": "The runs were short.",
    }
    frame = salvage_frame(json.dumps(raw), "Q?")
    assert frame.introduction == "Divergence early in training wastes whole runs of compute."
    assert "did not pass validation" in frame.discussion  # nothing of its own was left
    old = Draft(
        title="Old title here",
        abstract=abstract,
        introduction="An older introduction of its own.",
        findings=[
            FindingOut(statement="Warmup reduced divergence in post-norm runs.", claim_ids=["C1"])
        ],
        discussion="An older discussion that weighs the evidence.",
        limitations="Older limits.",
    )
    revised = salvage_revision(
        json.dumps({**raw, "findings": ["The claim that x is supported by other papers."]}),
        "Q?",
        old,
    )
    assert revised is not None
    assert revised.discussion == "An older discussion that weighs the evidence."
    assert revised.findings == ["Warmup reduced divergence in post-norm runs."]

    # As the local model wrote a revision: the limitations pasted into the abstract as well,
    # where the draft's limitations are those same sentences.
    limits = (
        "The findings rest on short runs of a few model sizes only. "
        "Nothing is known about the long-term effects of warmup on stability."
    )
    pasted = {**raw, "abstract": abstract + " " + limits, "limitations": limits}
    revised = salvage_revision(
        json.dumps({**pasted, "findings": [old.findings[0].statement]}),
        "Q?",
        old.model_copy(update={"limitations": limits}),
    )
    assert revised is not None
    assert (revised.abstract, revised.limitations) == (abstract, limits)


def test_a_finding_about_the_evidence_instead_of_the_world_is_refused():
    claims = {"C1": "Linear warmup reduced early divergence of post-norm transformers."}
    schema = finding_schema(claims, "Does warmup stabilise small transformers?")
    with pytest.raises(ValidationError, match="state the result itself"):
        schema.model_validate(
            {
                "statement": "The claim that linear warmup reduced early divergence of post-norm "
                "transformers is supported by other papers.",
                "claim_ids": ["C1"],
            }
        )


def test_a_cut_sentence_goes_from_every_section_that_repeats_it():
    from synth.agents.writer import Draft, without_sentences

    wrong = "Warmup always stabilises training of small transformers."
    draft = Draft(
        title="T",
        abstract="Warmup was studied. " + wrong,
        introduction="Warmup is common.",
        findings=[],
        discussion=wrong + " Batch size matters.",
        limitations=wrong,
    )
    cut = without_sentences(draft, [("discussion", wrong)])
    assert cut.discussion == "Batch size matters."
    assert cut.limitations == "" and cut.abstract == "Warmup was studied."
    assert cut.introduction == "Warmup is common."


def test_a_sentence_that_turned_against_a_cut_one_no_longer_does():
    from synth.agents.writer import Draft, without_sentences

    wrong = "The findings suggest that warmup does not help."
    draft = Draft(
        title="T",
        abstract="A.",
        introduction="I.",
        findings=[],
        discussion=f"{wrong} However, the results for smaller models are mixed. But not all.",
        limitations="L.",
    )
    cut = without_sentences(draft, [("discussion", wrong)])
    # Only the sentence right after the cut loses its turn; the next still turns on its own.
    assert cut.discussion == "The results for smaller models are mixed. But not all."
