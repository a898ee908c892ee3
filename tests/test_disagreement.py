"""The planted disagreement (tests/disagreement/): two papers answer yes, two answer no. The
report must name the disagreement with both sides quoted, never call a finding strong while a
paper answers otherwise, and never state the opposite of a claim a finding rests on; a writer
that inverts its claims is refused, and one that never stops inverting still leaves a report.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from synth.domain.records import Report
from tests.fake_model import NEGATION, FakeModel
from tests.helpers import only_run, run_cli, transcript

PLANTED = Path(__file__).parent / "disagreement"
GOLD = json.loads((PLANTED / "gold.json").read_text())


def planted_run(capsys, fake: FakeModel, isolated: Path) -> tuple[int, str, Path]:
    code, _, err = run_cli(
        capsys,
        "run",
        GOLD["question"],
        "--corpus",
        str(PLANTED / "papers"),
        "--base-url",
        fake.url,
        "--model",
        "m",
        "--no-cache",
    )
    return code, err, only_run(isolated / "runs")


def titles(report: Report) -> dict[int, str]:
    return {r.n: r.title for r in report.references}


def negated(text: str) -> bool:
    return bool(NEGATION.search(text))


def test_the_report_names_the_planted_disagreement_and_inverts_nothing(capsys, fake, isolated):
    code, err, run = planted_run(capsys, fake, isolated)
    assert code == 0, err
    report = Report.model_validate_json((run / "report.json").read_text())
    by_ref = titles(report)
    # Each paper's answer, counted by code, is the gold one.
    assert report.answer is not None
    found = {by_ref[n]: side for side in ("yes", "no") for n in getattr(report.answer, side)}
    assert found == GOLD["answers"]
    # Both sides are quoted in the disagreement section.
    markdown = (run / "report.md").read_text()
    section = markdown.split("## 3. Agreement and contradictions")[1].split("## 4.")[0]
    assert "The papers answer the research question differently" in section
    assert re.search(r'- \*\*Yes\*\* \[\d+\], C\d+: "', section)
    assert re.search(r'- \*\*No\*\* \[\d+\], C\d+: "', section)
    # The gold contradictions between papers reach the report: every finding that rests on one
    # side counts the papers of the other side against it, so none can be strong.
    claims = {c.id: c for c in report.claims}
    assert report.findings
    for finding in report.findings:
        assert not finding.strength.startswith("strong"), finding.strength
        sides = {claims[c].stance.answer for c in finding.claim_ids if claims[c].stance}
        assert len(sides) <= 1, finding  # no finding mixes yes and no
        # Never the opposite of a claim it rests on (the fake judge's own test of opposites).
        for cid in finding.claim_ids:
            assert negated(finding.statement) == negated(claims[cid].text), (finding, cid)
    contested = [f for f in report.findings if f.strength.startswith(("contested", "disputed"))]
    assert contested or all("the other way" in f.strength for f in report.findings)
    # A finding's dissent is the headline's other side (less the papers the finding already
    # counts against it), so that a reader who checks one against the other finds them equal.
    for finding in report.findings:
        if finding.answer not in ("yes", "no"):
            continue
        other = "no" if finding.answer == "yes" else "yes"
        beyond = {*getattr(report.answer, other), *report.answer.mixed} - set(finding.refs)
        said = re.search(r"(\d+) papers? answers? the question the other way", finding.strength)
        assert (int(said.group(1)) if said else 0) == len(beyond), (finding.strength, beyond)
    pairs = {frozenset(p) for p in GOLD["contradictions"]}
    reported = set()
    for c in report.contradictions:
        for e in c.evidence:
            reported.add(frozenset((by_ref[c.ref], by_ref[int(e["ref"])])))
    assert reported & pairs, "no planted contradiction was quoted"
    assert not reported - pairs - {frozenset((t,)) for t in GOLD["answers"]}
    # The HTML export carries the count of answers and both sides' quotes too.
    code, _, err = run_cli(capsys, "export", str(run), "--format", "html")
    assert code == 0, err
    html = (run / "report.html").read_text()
    assert "Answers to the question, paper by paper:" in html
    assert "The papers answer the research question differently" in html


def test_an_inverted_finding_is_refused_asked_again_and_listed(capsys, fake, isolated):
    fake.invert_findings = "first"
    code, err, run = planted_run(capsys, fake, isolated)
    assert code == 0, err
    report = Report.model_validate_json((run / "report.json").read_text())
    claims = {c.id: c for c in report.claims}
    for finding in report.findings:
        for cid in finding.claim_ids:
            assert negated(finding.statement) == negated(claims[cid].text)
    assert report.unwritten and all("was refused because" in line for line in report.unwritten)
    assert "code did not let stand" in report.sections["limitations"]
    again = [e for e in transcript(run) if e["agent"] == "writer" and "-again" in e["item"]]
    assert again and all("was refused" in e["messages"][-1]["content"] for e in again)
    # The checks are model calls like any other: the replay gives the same report.
    code, _, err = run_cli(capsys, "replay", str(run))
    assert code == 0, err


def test_a_writer_that_always_inverts_leaves_only_findings_in_the_claims_words(
    capsys, fake, isolated
):
    fake.invert_findings = "always"
    code, err, run = planted_run(capsys, fake, isolated)
    assert code == 0, err
    report = Report.model_validate_json((run / "report.json").read_text())
    claims = {c.id: c for c in report.claims}
    # Each statement was refused twice; what stands is a claim's own words, never the writer's.
    assert report.findings and all(f.from_claim for f in report.findings)
    assert all(f.statement == claims[f.from_claim].text for f in report.findings)
    refused = [u for u in report.unwritten if "was refused because" in u]
    assert len(refused) >= 2 * len(report.findings)
    markdown = (run / "report.md").read_text()
    assert "because the writer's own statement failed its checks" in markdown
    assert "did not let stand" in report.sections["limitations"]


def test_a_finding_none_of_its_claims_states_is_not_used_and_not_asked_again(
    capsys, fake, isolated
):
    fake.invert_findings = "unbacked"
    code, err, run = planted_run(capsys, fake, isolated)
    assert code == 0, err
    report = Report.model_validate_json((run / "report.json").read_text())
    assert report.findings and all(f.from_claim for f in report.findings)
    assert not any("tokenizer" in f.statement for f in report.findings)
    unused = [u for u in report.unwritten if "was not used because" in u]
    assert unused and all("does not state it" in u or "states it" in u for u in unused)
    writer = [e["item"] for e in transcript(run) if e["agent"] == "writer"]
    assert not [i for i in writer if i.endswith("-again")]


def test_with_no_report_check_rounds_an_inverted_sentence_is_cut_without_asking(
    capsys, fake, isolated
):
    settings = isolated / "synth.toml"
    settings.write_text("report_check_rounds = 0\n" + settings.read_text())
    fake.invert_abstract = True
    code, err, run = planted_run(capsys, fake, isolated)
    assert code == 0, err
    report = Report.model_validate_json((run / "report.json").read_text())
    cut = [line for line in report.unwritten if line.startswith("the abstract sentence")]
    assert cut and cut[0].split('"')[1] not in report.sections["abstract"]
    assert not [e for e in transcript(run) if e["item"].startswith("lint")]


def test_an_abstract_sentence_that_inverts_its_finding_is_sent_back_then_cut(
    capsys, fake, isolated
):
    fake.invert_abstract = True
    code, err, run = planted_run(capsys, fake, isolated)
    assert code == 0, err
    report = Report.model_validate_json((run / "report.json").read_text())
    cut = [line for line in report.unwritten if line.startswith("the abstract sentence")]
    assert cut and "was cut because" in cut[0]
    sentence = cut[0].split('"')[1]
    assert sentence not in report.sections["abstract"]
    asked = [e for e in transcript(run) if e["agent"] == "writer" and e["item"].startswith("lint")]
    assert asked and "was refused" in asked[0]["messages"][1]["content"]


def test_a_writer_that_never_answers_validly_leaves_findings_in_the_claims_words(
    capsys, fake, isolated
):
    fake.faults.fail_always["writer"] = "garbage"
    code, err, run = planted_run(capsys, fake, isolated)
    assert code == 1 and "no valid finding" in err and "Traceback" not in err
    report = Report.model_validate_json((run / "report.json").read_text())
    claims = {c.id: c for c in report.claims}
    assert report.findings and all(f.from_claim for f in report.findings)
    for finding in report.findings:
        assert finding.statement == claims[finding.from_claim].text
        assert not finding.strength.startswith("strong")
    markdown = (run / "report.md").read_text()
    assert "No finding could be written" in markdown
    assert "stated in the words of claim" in markdown
    assert (run / "claims.csv").is_file() and (run / "references.bib").is_file()


def test_a_title_and_a_sentence_that_deny_the_divided_answer_do_not_stand(capsys, fake, isolated):
    fake.one_sided = True
    code, err, run = planted_run(capsys, fake, isolated)
    assert code == 0, err
    report = Report.model_validate_json((run / "report.json").read_text())
    assert report.answer is not None and report.answer.divided
    # The title answered yes while two papers answer no: the question stands in its place.
    assert report.title == GOLD["question"]
    assert "All the studies agree" not in report.sections["discussion"]
    notes = " ".join(report.unwritten)
    assert "gave way to the question, because it answers yes" in notes
    assert "was cut because it says the papers agree" in notes
    # The introduction gave yes alone, which no more papers give than no: cut, and said.
    assert "Earlier work showed" not in report.sections["introduction"]
    assert "Warmup is a common practice" in report.sections["introduction"]
    assert 'the introduction sentence "Earlier work showed' in notes
    assert "was cut because it answers yes" in notes
    code, _, err = run_cli(capsys, "replay", str(run))
    assert code == 0, err


def test_a_finding_that_answers_the_question_beyond_its_claims_is_not_used(capsys, fake, isolated):
    fake.answering = True  # every finding opens "Dropout improve the test accuracy ...;"
    code, err, run = planted_run(capsys, fake, isolated)
    assert code == 0, err
    report = Report.model_validate_json((run / "report.json").read_text())
    notes = " ".join(report.unwritten)
    refused = re.findall(
        r'finding (\d+): "([^"]*)" was not used because it answers the question yes and '
        r"none of (C\d+(?:, C\d+)*) does",
        notes,
    )
    assert refused, notes
    claims = {c.id: c for c in report.claims}
    for number, statement, ids in refused:
        # none of the claims it rested on answers yes, and a claim's own words stand instead
        assert all(claims[c].stance.answer != "yes" for c in ids.split(", ") if claims[c].stance)
        finding = report.findings[int(number) - 1]
        assert finding.statement != statement and finding.from_claim is not None
    code, _, err = run_cli(capsys, "replay", str(run))
    assert code == 0, err


def test_only_sentences_that_state_a_result_are_judged_against_their_claims():
    from synth.agents.writer import Draft, FindingOut
    from synth.pipeline.checking import result_sentences

    draft = Draft(
        title="Warmup in small transformers",
        abstract=(
            "This study investigates the effect of learning-rate warmup on small transformers. "
            "Warmup reduced the divergence rate from 31 percent to 3 percent in post-norm runs."
        ),
        introduction="Divergence early in training wastes whole runs of compute.",
        findings=[FindingOut(statement="Warmup reduced divergence.", claim_ids=["C1"])],
        discussion=(
            "Does learning-rate warmup stabilise training of small transformers? "
            "In pre-norm models, training without warmup converged in every run."
        ),
        limitations="The runs were short.",
    )
    question = "Does learning-rate warmup stabilise training of small transformers?"
    assert result_sentences(draft, question) == [
        (
            "abstract",
            "Warmup reduced the divergence rate from 31 percent to 3 percent in post-norm runs.",
        ),
        ("discussion", "In pre-norm models, training without warmup converged in every run."),
    ]


def test_a_claim_stating_its_papers_answer_is_supported_by_the_papers_on_its_side(
    capsys, fake, isolated
):
    """Corroboration end to end: a claim that gives its paper's answer is supported by the
    result that placed each other paper on the same side, recorded as "answers alike" and said
    in the rationale; no passage of a paper on the other side is counted so."""
    code, err, run = planted_run(capsys, fake, isolated)
    assert code == 0, err
    report = Report.model_validate_json((run / "report.json").read_text())
    placed = {p.paper_id: p for p in report.placements}
    backed = [c for c in report.claims if "answers alike" in c.judgements.values()]
    assert backed
    for claim in backed:
        own = placed[claim.paper_id]
        assert claim.stance is not None and claim.stance.answer == own.answer
        alike = {p.split("#")[0] for p, s in claim.judgements.items() if s == "answers alike"}
        for paper_id in alike:
            assert placed[paper_id].answer == own.answer and paper_id != claim.paper_id
        # Counted on the supporting side: here the other side's two papers contradict each
        # such claim (the planted disagreement), and disagreement wins the count.
        assert claim.signals is not None
        supporting = (
            claim.signals.papers_for
            if claim.label.value == "SUPPORTED"
            else claim.signals.papers_against
        )
        assert supporting >= len(alike)
        assert "its paper's own result answers the research question" in claim.rationale
    assert (
        f"{len(backed)} claims giving their paper's answer were also counted as "
        "supported by each other paper placed on the same side"
    ) in report.sections["method"]
