"""Reviews that mean something: a score counts only when its justification quotes the
draft, a reviewer without one is left out of the scores, the criteria code can measure are
computed and shown as such, and a revision that changes nothing is not a round."""

from __future__ import annotations

from synth.domain.records import Report
from tests.helpers import only_run, run_args, run_cli


def finished_report(capsys, corpus, fake, isolated) -> tuple[Report, str]:
    code, _, err = run_cli(capsys, *run_args(corpus, fake, "--no-cache"))
    assert code == 0, err
    run = only_run(isolated / "runs")
    return Report.model_validate_json((run / "report.json").read_text()), (
        run / "report.md"
    ).read_text()


def test_quoted_justifications_count_and_code_measures_its_criteria(capsys, corpus, fake, isolated):
    report, markdown = finished_report(capsys, corpus, fake, isolated)
    models = [r for r in report.reviews if not r.measured]
    assert models and all(r.counted for r in models)
    assert all(s.checked and s.quote for r in models for s in r.scores.values())
    measured = [r for r in report.reviews if r.measured]
    assert len(measured) == 1
    assert set(measured[0].scores) == {
        "grounding",
        "citation_correctness",
        "disagreements_reported",
        "coverage",
    }
    assert "of" in measured[0].scores["coverage"].justification
    assert "Measured by code" in markdown and "computed from the report" in markdown
    assert "| Quote from the draft |" in markdown


def test_a_reviewer_whose_quotes_are_not_in_the_draft_is_not_counted(
    capsys, corpus, fake, isolated
):
    fake.unquoted_reviews = True
    report, markdown = finished_report(capsys, corpus, fake, isolated)
    models = [r for r in report.reviews if not r.measured]
    assert models and not any(r.counted for r in models)
    assert all(not s.checked for r in models for s in r.scores.values())
    assert "(not counted: no justification quotes the draft)" in markdown
    # Scores without a checked reason steer nothing: no revision was asked for.
    assert not [r for r in report.revisions if r.step.startswith("revision")]
    assert "| methodologist | — |" in markdown


def test_a_revision_that_changes_nothing_is_not_a_round(capsys, corpus, fake, isolated):
    fake.idle_revisions = True
    report, markdown = finished_report(capsys, corpus, fake, isolated)
    assert [r.step for r in report.revisions][:1] == ["revision 1"]
    assert report.revisions[0].changed == []
    assert {r.round for r in report.reviews if not r.measured} == {0}
    assert "changed nothing, so it is not counted as a round" in markdown
