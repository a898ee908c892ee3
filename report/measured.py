"""The review criteria that code can measure, computed from the report itself.

A reviewer model's score on "are the findings grounded?" is an opinion; the share of the
writer's statements that stood against their claims is a count. These scores are shown as a
review of their own, marked as measured, with the count behind each in its justification.
"""

from __future__ import annotations

from synth.domain.records import CriterionScore, Label, Report, Review

MEASURED = "measured by code"


def _score(share: float) -> int:
    return round(10 * share)


def measured_review(report: Report, unwritten: list[str]) -> Review:
    findings = report.findings
    refused = len(unwritten)
    stated = len(findings) + refused
    grounding = CriterionScore(
        score=_score(len(findings) / stated) if stated else 10,
        justification=(
            f"{len(findings)} of {stated} statements for findings, abstract and discussion "
            "stood when the judge held them against their claims"
            + (f"; {refused} were refused or cut for saying the opposite." if refused else ".")
        ),
    )
    citation_lines = [line for line in report.lint if "citation" in line or "reference" in line]
    failed = [line for line in citation_lines if line.startswith("FAIL")]
    citations = CriterionScore(
        score=0 if failed else 10,
        justification=(
            f"{len(citation_lines) - len(failed)} of {len(citation_lines)} citation checks "
            "pass" + (f": {failed[0].removeprefix('FAIL: ')}." if failed else ".")
        ),
    )
    answer = report.answer
    divided = answer is not None and answer.divided
    contradicted = [c.id for c in report.claims if c.label == Label.CONTRADICTED]
    disputed = [f for f in findings if f.disputing_refs or f.against_claim_ids]
    exists = divided or bool(contradicted)
    shown = bool(report.contradictions) or divided
    if not exists:
        told = "the run found no contradicted claim and no divided answer to report."
    elif shown:
        told = (
            f"{len(report.contradictions)} disagreements are quoted on both sides"
            + (", and the papers' answers to the question are shown each way" if divided else "")
            + f"; {len(disputed)} findings carry papers against them."
        )
    else:
        told = "the run found disagreement, but the report quotes none of it."
    disagreement = CriterionScore(score=10 if shown or not exists else 0, justification=told)
    decisive = {c.id for c in report.claims if c.label != Label.INSUFFICIENT}
    used = {i for f in findings for i in f.claim_ids + f.against_claim_ids}
    share = len(decisive & used) / len(decisive) if decisive else 1.0
    coverage = CriterionScore(
        score=_score(share),
        justification=(
            f"{len(decisive & used)} of {len(decisive)} claims that other papers support or "
            "contradict are stated in a finding, for or against it."
        ),
    )
    scores = {
        "grounding": grounding,
        "citation_correctness": citations,
        "disagreements_reported": disagreement,
        "coverage": coverage,
    }
    return Review(
        reviewer=MEASURED,
        round=max((r.round for r in report.reviews), default=0),
        scores=scores,
        overall=round(sum(s.score for s in scores.values()) / len(scores), 1),
        requests=[],
        measured=True,
    )
