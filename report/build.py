"""Assemble the `Report` from a run's validated stage outputs.

Everything a reader could check is filled in here by code, never by a model: reference numbers
(in order of first citation), citations on findings, the claims table, counts, the Method
section and the report checks (lint).
"""

from __future__ import annotations

from typing import Any

from synth.agents.verifier import CONFIDENCE_RULE, JUDGED_CONFIDENCE
from synth.domain.agreement import (
    cell,
    dissent_beyond,
    finding_answer,
    paper_answers,
    paper_of,
    question_answers,
    sides,
    strength,
)
from synth.domain.records import (
    Agreement,
    AgreementRow,
    Claim,
    Contradiction,
    Finding,
    Label,
    OffTopicPaper,
    Paper,
    PlacedPaper,
    QuestionAnswer,
    Reference,
    Report,
    ReportClaim,
    Stats,
)
from synth.domain.text import plural
from synth.model.cost import cost_of, is_sent, tokens_of
from synth.report.facts import RunFacts
from synth.report.lint import NO_DISCUSSION, NO_INTRODUCTION, lint, with_counts
from synth.report.measured import measured_review
from synth.report.method import limitations_text, method_text
from synth.store.chunking import normalise


class _Numbering:
    def __init__(self) -> None:
        self.order: list[str] = []

    def cite(self, paper_id: str) -> int:
        if paper_id not in self.order:
            self.order.append(paper_id)
        return self.order.index(paper_id) + 1

    def get(self, paper_id: str) -> int | None:
        return self.order.index(paper_id) + 1 if paper_id in self.order else None


def transcript_totals(entries: list[dict[str, Any]]) -> dict[str, int]:
    """Calls sent to a model and their tokens; cache hits and replays cost nothing."""
    sent = [tokens_of(e) for e in entries if is_sent(e)]
    return {
        "calls": len(sent),
        "tokens_in": sum(t[0] for t in sent),
        "tokens_out": sum(t[1] for t in sent),
    }


def build_report(facts: RunFacts) -> Report:
    papers = {p.id: p for p in facts.papers}
    claims = {c.id: c for c in facts.claims}
    numbering = _Numbering()

    findings = []
    taken_by_finding = []
    answers = question_answers(facts.placements, claims, facts.verdicts)
    for f in facts.draft.findings:
        taken = sides(f.claim_ids, f.disagreeing_ids, claims, facts.verdicts)
        taken_by_finding.append(taken)
        for paper_id in taken:
            numbering.cite(paper_id)
        supporting = sorted(numbering.cite(p) for p, t in taken.items() if "supports" in t)
        disputing = sorted(numbering.cite(p) for p, t in taken.items() if "contradicts" in t)
        dissent = dissent_beyond(taken, f.claim_ids, claims, facts.verdicts, answers)
        findings.append(
            Finding(
                statement=f.statement,
                claim_ids=f.claim_ids,
                refs=sorted({*supporting, *disputing}),
                against_claim_ids=f.disagreeing_ids,
                supporting_refs=supporting,
                disputing_refs=disputing,
                strength=str(strength(len(supporting), len(disputing), len(dissent))),
                answer=finding_answer(f.claim_ids, claims, facts.verdicts),
                from_claim=f.from_claim,
                writer_asked=f.writer_asked,
            )
        )
    if not facts.draft.findings:
        # No finding to cite from: every claim's paper is a reference, so the claims table
        # and references.bib still say where each claim comes from.
        for claim in facts.claims:
            numbering.cite(claim.paper_id)
    answer, placed = placed_answers(facts, claims, numbering)

    contradictions = []
    for claim in facts.claims:
        verdict = facts.verdicts[claim.id]
        if verdict.label != Label.CONTRADICTED:
            continue
        contradictions.append(
            Contradiction(
                claim_id=claim.id,
                statement=claim.text,
                quote=claim.quote,
                ref=numbering.cite(claim.paper_id),
                evidence=[
                    {
                        "passage_id": passage_id,
                        "ref": numbering.cite(paper_of(passage_id)),
                        "text": facts.passage_texts.get(passage_id, ""),
                    }
                    for passage_id in verdict.evidence
                ],
                confidence=verdict.confidence,
            )
        )
    # Disagreements the writer named inside a finding: the disagreeing claim against the
    # claims the finding rests on, each side in its paper's own words.
    for number, f in enumerate(facts.draft.findings, start=1):
        for cid in f.disagreeing_ids:
            claim = claims[cid]
            contradictions.append(
                Contradiction(
                    claim_id=cid,
                    statement=claim.text,
                    quote=claim.quote,
                    ref=numbering.cite(claim.paper_id),
                    evidence=[
                        {
                            "passage_id": claims[other].passage_id,
                            "ref": numbering.cite(claims[other].paper_id),
                            "text": claims[other].quote,
                        }
                        for other in f.claim_ids
                    ],
                    finding=number,
                )
            )

    references = [_reference(n, papers[pid]) for n, pid in enumerate(numbering.order, start=1)]
    report_claims = [
        ReportClaim(
            **c.model_dump(),
            ref=numbering.get(c.paper_id),
            **facts.verdicts[c.id].model_dump(
                include={
                    "label",
                    "confidence",
                    "evidence",
                    "rationale",
                    "signals",
                    "judgements",
                    "stance",
                }
            ),
        )
        for c in facts.claims
    ]
    totals = transcript_totals(facts.transcript)
    cost, unpriced = cost_of(facts.transcript, facts.prices)
    labels = [facts.verdicts[c.id].label for c in facts.claims]
    stats = Stats(
        papers_found=facts.screening.candidates,
        papers_screened_out=len(facts.screening.excluded),
        papers_included=len(facts.papers),
        papers_cited=len(references),
        passages=facts.passages,
        claims=len(facts.claims),
        supported=labels.count(Label.SUPPORTED),
        contradicted=labels.count(Label.CONTRADICTED),
        insufficient=labels.count(Label.INSUFFICIENT),
        dropped=len(facts.dropped),
        calls=totals["calls"],
        tokens_in=totals["tokens_in"],
        tokens_out=totals["tokens_out"],
        cost_usd=cost,
        wall_s=round(facts.wall_s, 1),
        claims_stated=facts.stated_claims,
    )
    sections = {
        "abstract": with_counts(facts.draft.abstract, [f.strength for f in findings], answer),
        "introduction": facts.draft.introduction or NO_INTRODUCTION,
        "discussion": facts.draft.discussion or NO_DISCUSSION,
        "method": method_text(facts, stats),
        "limitations": limitations_text(facts, unpriced),
        "confidence": (
            f"{JUDGED_CONFIDENCE} {facts.judge_note}"
            if facts.judge_note
            else f"{CONFIDENCE_RULE} {facts.calibration_note}"
        ),
    }
    report = Report(
        question=facts.question,
        title=facts.draft.title,
        created=facts.created,
        run_id=facts.run_id,
        models=facts.models,
        sections=sections,
        findings=findings,
        contradictions=contradictions,
        claims=report_claims,
        reviews=facts.reviews,
        references=references,
        stats=stats,
        screening=facts.screening,
        lint=[],
        revisions=facts.revisions,
        calibration=facts.calibrated,
        judge=facts.judge_note,
        answer=answer,
        placements=placed,
        off_topic=[
            OffTopicPaper(paper_id=pid, title=papers[pid].title, similarity=sim)
            for pid, sim in sorted(facts.off_topic.items())
            if pid in papers
        ],
        unwritten=facts.unwritten,
        agreement=Agreement(
            refs=list(range(1, len(references) + 1)),
            rows=[
                AgreementRow(
                    finding=i,
                    cells=[cell(taken.get(paper_id)) for paper_id in numbering.order],
                )
                for i, taken in enumerate(taken_by_finding, start=1)
            ],
        ),
    )
    report.lint = lint(report, facts.question)
    if report.findings:
        report.reviews = [*report.reviews, measured_review(report, facts.unwritten)]
    failed = [line.removeprefix("FAIL: ") for line in report.lint if line.startswith("FAIL")]
    if failed:
        report.sections["limitations"] += (
            f"\n\nThe report checks found {plural(len(failed), 'problem')} that "
            f"{'was' if len(failed) == 1 else 'were'} not fixed: {'; '.join(failed)}."
        )
    return report


def placed_answers(
    facts: RunFacts, claims: dict[str, Claim], numbering: _Numbering
) -> tuple[QuestionAnswer | None, list[PlacedPaper]]:
    """For a yes/no question, the papers read by the answer they were placed at, each cited so
    the tally can be checked (a run of an earlier version, placed from its claims' stances,
    has no readings)."""
    if not facts.placements:
        answers = paper_answers(claims, facts.verdicts)
        if not answers:
            return None, []
        refs = {side: [numbering.cite(p) for p, a in answers.items() if a == side]
                for side in ("yes", "no", "depends", "mixed")}  # fmt: skip
        return QuestionAnswer(**{k: sorted(v) for k, v in refs.items()}), []
    placed = []
    for paper_id, placement in sorted(facts.placements.items()):
        decisive = {normalise(placement.readings[i].sentence) for i in placement.decisive}
        quoting = [
            c.id for c in facts.claims if c.paper_id == paper_id and normalise(c.quote) in decisive
        ]
        placed.append(
            PlacedPaper(**placement.model_dump(), ref=numbering.cite(paper_id), claim_ids=quoting)
        )
    sides = {"yes": "yes", "no": "no", "mixed": "mixed", "unplaced": "depends"}
    tally: dict[str, list[int]] = {side: [] for side in sides.values()}
    for p in placed:
        tally[sides[p.answer]].append(p.ref)
    return QuestionAnswer(**{k: sorted(v) for k, v in tally.items()}), sorted(
        placed, key=lambda p: p.ref
    )


def _reference(n: int, paper: Paper) -> Reference:
    return Reference(n=n, **paper.model_dump(include=set(Reference.model_fields) - {"n"}))
