"""How reviews read in every rendering: the heading of a reviewer's scores, each criterion with
its quoted justification, the scores table and what each revision changed."""

from __future__ import annotations

from synth.domain.records import (
    CriterionScore,
    Report,
    Review,
    Revision,
)
from synth.domain.text import table_cell


def stage_name(round_no: int) -> str:
    return "first draft" if round_no == 0 else f"revision {round_no}"


REVIEW_NOTE = (
    "Each reviewer scored every criterion of its rubric from 0 to 10, quoting the words of the "
    "draft each score is about; a score whose quote is not in the draft has no checked reason "
    "and does not count, and a reviewer with no such reason is left out of the scores. A "
    "reviewer's overall score is the mean of its counted criteria; the spread is the highest "
    "overall score of a round minus the lowest. The last table is computed by code."
)


def review_heading(review: Review) -> str:
    """A review's title: who, which draft, and its overall score or why it has none."""
    title = review.reviewer.replace("_", " ").capitalize()
    stage = stage_name(review.round)
    if review.measured:
        return f"{title}, {stage} (overall {review.overall:.1f} / 10, computed from the report)"
    if not review.counted:
        return f"{title}, {stage} (not counted: no justification quotes the draft)"
    return f"{title}, {stage} (overall {review.overall:.1f} / 10)"


def justified(score: CriterionScore) -> str:
    """A justification with the words of the draft it quotes, and whether they are there."""
    if not score.quote:
        return score.justification
    found = "" if score.checked else " (not in the draft)"
    return f'{score.justification} Quote: "{score.quote}"{found}'


def score_table(report: Report) -> list[list[str]]:
    """Rows of overall scores per reviewer and round, with a header row and a spread row; a
    review that was not counted shows a dash."""
    counted = [r for r in report.reviews if r.counted and not r.measured]
    rounds = sorted({r.round for r in report.reviews if not r.measured})
    overall = {(r.reviewer, r.round): r.overall for r in counted}
    rows = [["Reviewer", *(stage_name(n) for n in rounds)]]
    for name in dict.fromkeys(r.reviewer for r in report.reviews if not r.measured):
        cells = [f"{overall[(name, n)]:.1f}" if (name, n) in overall else "—" for n in rounds]
        rows.append([name.replace("_", " "), *cells])
    spreads = []
    for n in rounds:
        values = [v for (_, r), v in overall.items() if r == n]
        spreads.append(f"{max(values) - min(values):.1f}" if values else "—")
    return [*rows, ["spread", *spreads]]


def revision_outcome(revision: Revision) -> str:
    """What a revision did, in words: failed, changed these parts, or changed nothing."""
    if revision.failed:
        return "failed validation"
    if revision.changed:
        return f"changed: {', '.join(revision.changed)}"
    return "changed nothing, so it is not counted as a round"


def review_summary(report: Report) -> list[str]:
    """Overall scores per reviewer and round, their spread, and what each revision changed."""
    if not any(not r.measured for r in report.reviews):
        return []
    header, *rows = score_table(report)
    out = [REVIEW_NOTE, "", "| " + " | ".join(header) + " |", "|---|" + "---|" * (len(header) - 1)]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    out.append("")
    for revision in report.revisions:
        outcome = revision_outcome(revision)
        out += [f"**{revision.step.capitalize()}** {outcome}. It was asked to:", ""]
        out += [f"- {table_cell(r)}" for r in revision.requests] + [""]
    return out
