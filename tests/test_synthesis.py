"""The synthesis end to end against the fake model: disagreements reach the report, the review
loop stops where it should, and the report checks send a draft back to the writer."""

from __future__ import annotations

import json
from pathlib import Path

from synth.domain.records import Report
from tests.fake_model import FakeModel
from tests.helpers import only_run, run_args, run_cli, transcript


def finished(capsys, corpus: Path, fake: FakeModel, isolated: Path, *extra: str) -> Path:
    code, _, err = run_cli(capsys, *run_args(corpus, fake, *extra))
    assert code == 0, err
    return only_run(isolated / "runs")


def report_of(run: Path) -> Report:
    return Report.model_validate_json((run / "report.json").read_text())


def test_disagreements_reach_the_contradictions_section_and_the_matrix(
    capsys, corpus, fake, isolated
):
    run = finished(capsys, corpus, fake, isolated)
    report = report_of(run)
    markdown = (run / "report.md").read_text()
    section = markdown.split("## 3. Agreement and contradictions")[1].split("## 4.")[0]

    contradicted = [c for c in report.claims if c.label.value == "CONTRADICTED"]
    assert contradicted
    listed = [c for c in report.contradictions if c.finding is None]
    assert [c.claim_id for c in listed] == [c.id for c in contradicted]
    for c in listed:
        # Both sides quoted: the claim's own words and each contradicting passage.
        assert f'"{c.quote}"' in section
        assert all(f'"{e["text"]}"' in section for e in c.evidence)
        assert all(
            e["passage_id"] in next(x for x in contradicted if x.id == c.claim_id).evidence
            for e in c.evidence
        )

    # The matrix has a row per finding and a column per reference, and a finding disputed by
    # a paper names it on the "against" side.
    assert len(report.agreement.rows) == len(report.findings)
    assert report.agreement.refs == [r.n for r in report.references]
    assert all(len(row.cells) == len(report.references) for row in report.agreement.rows)
    for finding, row in zip(report.findings, report.agreement.rows, strict=True):
        against = {
            report.agreement.refs[i]
            for i, c in enumerate(row.cells)
            if c in ("contradicts", "mixed")
        }
        assert against == set(finding.disputing_refs)
        assert finding.strength
    assert any(f.disputing_refs for f in report.findings)
    assert "| Finding | [1] |" in section


def test_review_loop_stops_once_every_criterion_meets_the_threshold(capsys, corpus, fake, isolated):
    run = finished(capsys, corpus, fake, isolated, "--revision-rounds", "3")
    report = report_of(run)
    assert sorted({r.round for r in report.reviews}) == [0, 1]
    assert min(s.score for r in report.reviews if r.round == 1 for s in r.scores.values()) >= 7
    assert sorted(p.name for p in (run / "checkpoints" / "write").glob("draft-*")) == [
        "draft-0.json",
        "draft-1.json",
    ]


def test_review_loop_stops_at_the_round_limit(capsys, corpus, fake, isolated):
    fake.harsh_reviews = True
    run = finished(capsys, corpus, fake, isolated, "--revision-rounds", "2")
    report = report_of(run)
    # The fake's second revision gives back the first one's text: it changed nothing, so it
    # is no round and its draft is not reviewed again.
    assert sorted({r.round for r in report.reviews}) == [0, 1]
    assert len(list((run / "checkpoints" / "write").glob("draft-*"))) == 3
    writer_items = [e["item"] for e in transcript(run) if e["agent"] == "writer"]
    assert writer_items.count("draft-1") == 1 and writer_items.count("draft-2") == 1
    assert [r.changed == [] for r in report.revisions[:2]] == [False, True]


def test_a_threshold_already_met_needs_no_revision(capsys, corpus, fake, isolated):
    run = finished(capsys, corpus, fake, isolated, "--review-threshold", "6")
    report = report_of(run)
    assert {r.round for r in report.reviews} == {0}
    assert "No revision was needed." in report.sections["method"]


def test_failing_report_checks_send_the_draft_back_to_the_writer(capsys, corpus, fake, isolated):
    fake.vague_abstract = "first"
    run = finished(capsys, corpus, fake, isolated, "--review-threshold", "6")
    report = report_of(run)
    sent = [e for e in transcript(run) if e["item"] == "lint-1"]
    assert sent and "does not state what the findings found" in sent[0]["messages"][-1]["content"]
    assert not [e for e in transcript(run) if e["item"] == "lint-2"]
    assert all(line.startswith("pass") for line in report.lint), report.lint
    assert "sent the draft back to the writer once" in report.sections["method"]
    assert (run / "checkpoints" / "write" / "lint-1.json").is_file()


def test_a_check_the_writer_cannot_fix_is_stated_in_the_report(capsys, corpus, fake, isolated):
    fake.vague_abstract = "always"
    run = finished(capsys, corpus, fake, isolated, "--review-threshold", "6")
    report = report_of(run)
    items = [e["item"] for e in transcript(run) if e["agent"] == "writer"]
    assert items.count("lint-1") == 1 and items.count("lint-2") == 1
    failed = [line for line in report.lint if line.startswith("FAIL")]
    assert len(failed) == 1
    assert "does not state what the findings found" in failed[0]
    # How strong the evidence is, the code says itself when the abstract does not.
    assert "The evidence is " in report.sections["abstract"]
    assert "pass: the abstract says how strong the evidence is" in report.lint
    assert "The report checks found 1 problem that was not fixed" in report.sections["limitations"]
    markdown = (run / "report.md").read_text()
    assert "- FAIL: the abstract does not state" in markdown
    data = json.loads((run / "report.json").read_text())
    assert data["lint"] == report.lint


def test_a_report_check_round_that_changes_nothing_is_not_repeated(capsys, corpus, fake, isolated):
    fake.vague_abstract = "always"
    fake.idle_revisions = True
    run = finished(capsys, corpus, fake, isolated, "--review-threshold", "6")
    report = report_of(run)
    items = [e["item"] for e in transcript(run) if e["agent"] == "writer"]
    assert items.count("lint-1") == 1 and "lint-2" not in items
    (fix,) = [r for r in report.revisions if r.step.startswith("report-check")]
    assert fix.changed == [] and not fix.failed
    assert any(line.startswith("FAIL: the abstract does not state") for line in report.lint)


def test_findings_in_the_claims_own_words_when_the_writer_is_not_asked(
    capsys, corpus, fake, isolated
):
    settings = isolated / "synth.toml"
    settings.write_text("writer_findings = false\n" + settings.read_text())
    run = finished(capsys, corpus, fake, isolated)
    report = report_of(run)
    calls = transcript(run)
    assert not [e for e in calls if e["agent"] == "writer" and e["item"].startswith("finding")]
    # The revision rewrites the prose around the findings, never the findings' words.
    revisions = [e for e in calls if e["agent"] == "writer" and e["item"] == "draft-1"]
    assert revisions and {e["schema"] for e in revisions} == {"FrameDraft"}
    assert report.title.startswith("Revised: ")
    claims = {c.id: c for c in report.claims}
    assert report.findings
    for finding in report.findings:
        assert finding.from_claim in finding.claim_ids and not finding.writer_asked
        assert finding.statement == claims[finding.from_claim].text
    assert "since writer_findings is off" in (run / "report.md").read_text()


def verdicts_of(run: Path) -> list[dict]:
    folder = run / "checkpoints" / "verify"
    return [json.loads(p.read_text())["verdict"] for p in sorted(folder.glob("*.json"))]


def test_token_probabilities_enter_the_confidence_and_replay(capsys, corpus, fake, isolated):
    run = finished(capsys, corpus, fake, isolated)
    decisive = [v for v in verdicts_of(run) if v and v["label"] != "INSUFFICIENT"]
    assert decisive
    # The fake judge gives its chosen word 0.80 of the three words' probability.
    assert {v["signals"]["model_probability"] for v in decisive} == {0.8}
    calls = [e for e in transcript(run) if e["agent"] == "verifier"]
    assert all(e["params"]["logprobs"] and e["logprobs"] for e in calls)
    report = report_of(run)
    assert "uncalibrated" in report.sections["confidence"] and report.calibration is None
    assert "| Confidence (uncalibrated) |" in (run / "report.md").read_text()
    code, _, err = run_cli(capsys, "replay", str(run))
    assert code == 0, err
    claim = next(c for c in report.claims if c.label.value != "INSUFFICIENT")
    code, out, err = run_cli(capsys, "audit", str(run), "--claim", claim.id)
    assert code == 0, err
    assert "model probability 0.80" in out and f"judged: {claim.evidence[0]} " in out


def test_a_server_without_logprobs_is_asked_without_them(capsys, corpus, fake, isolated):
    fake.logprobs = "refuse"
    run = finished(capsys, corpus, fake, isolated)
    decisive = [v for v in verdicts_of(run) if v and v["label"] != "INSUFFICIENT"]
    assert decisive and all(v["signals"]["model_probability"] is None for v in decisive)
    calls = [e for e in transcript(run) if e["agent"] == "verifier"]
    assert calls and not any(e["params"].get("logprobs") for e in calls)
    code, _, err = run_cli(capsys, "replay", str(run))
    assert code == 0, err


def test_a_calibration_for_the_model_is_used_and_named(capsys, corpus, fake, isolated):
    from synth.agents import calibration
    from synth.domain.records import Label
    from synth.store import paths

    fitted = calibration.Calibration(
        model="m",
        dataset="a test set",
        created="2026-11-30",
        claims=40,
        curves={Label.SUPPORTED: [(0.5, 0.4), (0.95, 0.8)]},
        brier_rule=0.3,
        brier_calibrated=0.2,
    )
    calibration.save(fitted, paths.data_dir() / "calibrations")
    run = finished(capsys, corpus, fake, isolated)
    report = report_of(run)
    assert "calibrated for m on a test set (40 labelled claims" in report.sections["confidence"]
    assert report.calibration is not None and report.calibration.model == "m"
    assert "uncalibrated" not in report.sections["limitations"]
    supported = [v for v in verdicts_of(run) if v and v["label"] == "SUPPORTED"]
    assert supported
    for verdict in supported:
        x = verdict["rule_score"]
        assert verdict["confidence"] == round(0.4 + (x - 0.5) / 0.45 * 0.4, 2) if x > 0.5 else 0.4
    # The run keeps the calibration it used: a later one does not change its replay.
    calibration.save(fitted.model_copy(update={"claims": 99}), paths.data_dir() / "calibrations")
    code, _, err = run_cli(capsys, "replay", str(run))
    assert code == 0, err


def test_a_review_that_never_validates_is_left_out_not_fatal(capsys, corpus, fake, isolated):
    fake.faults.fail_always["reviewer"] = "garbage"
    run = finished(capsys, corpus, fake, isolated)
    report = report_of(run)
    assert [r.reviewer for r in report.reviews] == ["measured by code"]
    assert "so the draft was not reviewed. 4 papers are cited" in report.sections["method"]
    assert "methodologist review of the first draft failed validation" in " ".join(
        report.sections["limitations"].split()
    )


def test_a_revision_that_fails_validation_is_reported_and_the_draft_stands(
    capsys, corpus, fake, isolated
):
    fake.faults.garbage_containing = "You revise a literature synthesis"
    run = finished(capsys, corpus, fake, isolated)
    report = report_of(run)
    assert [(r.step, r.failed) for r in report.revisions] == [("revision 1", True)]
    method = " ".join(report.sections["method"].split())
    assert "failed validation, so the draft before it stands" in method
    assert "No revision was needed" not in method
    assert "**Revision 1** failed validation." in (run / "report.md").read_text()
    assert not report.title.startswith("Revised")
