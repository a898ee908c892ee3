"""Assemble the `Report` from a run's validated stage outputs.

Everything a reader could check is filled in here by code, never by a model: reference numbers
(in order of first citation), citations on findings, the claims table, counts, the Method
section and the report checks (lint).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from synth.agents.verifier import CONFIDENCE_RULE, JUDGED_CONFIDENCE
from synth.agents.writer import Draft
from synth.domain.agreement import (
    cell,
    dissent_beyond,
    finding_answer,
    joined,
    paper_answers,
    paper_of,
    sides,
    strength,
    strength_summary,
)
from synth.domain.records import (
    Agreement,
    AgreementRow,
    Calibration,
    Claim,
    Contradiction,
    Finding,
    Label,
    Paper,
    QuestionAnswer,
    Reference,
    Report,
    ReportClaim,
    Review,
    Revision,
    Screening,
    Stats,
    Verdict,
)
from synth.domain.settings import Price
from synth.domain.text import COUNTED, claim_text_problem, content_stems
from synth.model.cost import cost_of, is_sent, tokens_of
from synth.report.measured import measured_review
from synth.sources.literature import SOURCE_NAMES

CITATION = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")


@dataclass
class RunFacts:
    """What the session knows about a run, handed to the builder in one piece."""

    run_id: str
    question: str
    created: str
    models: dict[str, str]
    sources: list[str]
    papers: list[Paper]  # the included papers, whose text entered extraction
    screening: Screening
    passages: int
    passages_read: int
    passages_per_paper: int
    evidence_k: int
    claims: list[Claim]
    verdicts: dict[str, Verdict]
    draft: Draft
    reviews: list[Review]
    dropped: list[str]
    warnings: list[str]
    transcript: list[dict[str, Any]]
    wall_s: float
    passage_texts: dict[str, str] = field(default_factory=dict)
    prices: dict[str, Price] = field(default_factory=dict)
    calibration_note: str = "Confidence is uncalibrated."
    calibrated: Calibration | None = None  # the calibration the run used, if any
    judge_note: str | None = None  # the fitted judge whose probabilities are the confidences
    revisions: list[Revision] = field(default_factory=list)
    unwritten: list[str] = field(default_factory=list)  # statements the judge refused


class _Numbering:
    def __init__(self) -> None:
        self.order: list[str] = []

    def cite(self, paper_id: str) -> int:
        if paper_id not in self.order:
            self.order.append(paper_id)
        return self.order.index(paper_id) + 1

    def get(self, paper_id: str) -> int | None:
        return self.order.index(paper_id) + 1 if paper_id in self.order else None


def cite_text(refs: list[int]) -> str:
    return f"[{', '.join(str(r) for r in refs)}]" if refs else ""


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
    for f in facts.draft.findings:
        taken = sides(f.claim_ids, f.disagreeing_ids, claims, facts.verdicts)
        taken_by_finding.append(taken)
        for paper_id in taken:
            numbering.cite(paper_id)
        supporting = sorted(numbering.cite(p) for p, t in taken.items() if "supports" in t)
        disputing = sorted(numbering.cite(p) for p, t in taken.items() if "contradicts" in t)
        dissent = dissent_beyond(taken, f.claim_ids, claims, facts.verdicts)
        findings.append(
            Finding(
                statement=f.statement,
                claim_ids=f.claim_ids,
                refs=sorted({*supporting, *disputing}),
                against_claim_ids=f.disagreeing_ids,
                supporting_refs=supporting,
                disputing_refs=disputing,
                strength=strength(len(supporting), len(disputing), len(dissent)),
                answer=finding_answer(f.claim_ids, claims, facts.verdicts),
                from_claim=f.from_claim,
            )
        )
    if not facts.draft.findings:
        # No finding to cite from: every claim's paper is a reference, so the claims table
        # and references.bib still say where each claim comes from.
        for claim in facts.claims:
            numbering.cite(claim.paper_id)
    answers = paper_answers(claims, facts.verdicts)
    answer = None
    if answers:
        # Every paper that answered the question is cited, so the tally can be checked.
        answer = QuestionAnswer(
            **{
                side: sorted(numbering.cite(p) for p, a in answers.items() if a == side)
                for side in ("yes", "no", "depends", "mixed")
            }
        )

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
    )
    sections = {
        "abstract": with_counts(facts.draft.abstract, [f.strength for f in findings], answer),
        "introduction": facts.draft.introduction,
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


def _reference(n: int, paper: Paper) -> Reference:
    return Reference(n=n, **paper.model_dump(include=set(Reference.model_fields) - {"n"}))


def method_text(facts: RunFacts, stats: Stats) -> str:
    names = dict.fromkeys(r.reviewer.replace("_", " ") for r in facts.reviews)
    reviewed = (
        f"Reviewers ({', '.join(names)}) scored the draft against their rubrics."
        if names
        else "No reviewer's answer passed validation, so the draft was not reviewed."
    )
    done = [r for r in facts.revisions if not r.failed]
    after_review = sum(r.step.startswith("revision") for r in done)
    after_lint = len(done) - after_review
    failed_review = any(r.failed and r.step.startswith("revision") for r in facts.revisions)
    revision = (
        f"The writer then revised the draft {times(after_review)} in response to their "
        "requests and to every criterion scored under the threshold."
        if after_review
        else ""
        if failed_review or not names
        else "No revision was needed."
    )
    if failed_review:
        revision += (
            " The last revision the reviewers asked for failed validation, so the draft before "
            "it stands."
        )
    if after_lint:
        revision += (
            " The report checks (see the appendix) sent the draft back to the writer "
            f"{times(after_lint)} with the problems they found."
        )
    revision = revision.strip()
    return (
        f"{search_text(facts.screening)} "
        f"The included papers' text was cut into {stats.passages} passages of whole sentences "
        "and embedded in the library. For each paper, the passages nearest to the planner's "
        f"searches were read (up to {facts.passages_per_paper} per paper, "
        f"{facts.passages_read} in all), and the extractor drew {stats.claims} claims from "
        "them; every claim's quote was copied from the paper's text by code, not written by "
        f"the model. The verifier checked each claim against up to {facts.evidence_k} passages "
        "retrieved from the run's papers, excluding the claim's own passage: "
        f"{stats.supported} supported, {stats.contradicted} contradicted and "
        f"{stats.insufficient} insufficient. {reviewed} {revision}".rstrip()
        + f" {stats.papers_cited} papers are cited in the references."
    )


def times(n: int) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{n} times")


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def search_text(screening: Screening) -> str:
    """How the papers were found, merged, screened and included, PRISMA-style, in counts."""
    s = screening
    if s.sources == ["local"]:
        held = (
            f"The {plural(s.candidates, 'paper')} came from the local folder"
            if s.records == s.candidates
            else f"The local folder held {plural(s.records, 'readable file')}, "
            f"{plural(s.candidates, 'distinct paper')}"
        )
        left_out = f", {len(s.excluded)} left out (see Screening)" if s.excluded else ""
        return (
            f"{held}; papers the user supplies are not screened. "
            f"{plural(s.included, 'paper was', 'papers were')} read{left_out}."
        )
    found = ", ".join(f"{SOURCE_NAMES[src]} {n}" for src, n in s.found.items())
    parts = [
        f"Sources searched: {', '.join(SOURCE_NAMES[src] for src in s.sources)}. "
        f"They returned {plural(s.records, 'record')} ({found})"
    ]
    parts[0] += (
        f"; merging records of the same work by DOI, arXiv id and title left "
        f"{plural(s.candidates, 'distinct paper')} ({s.duplicates} merged)."
        if s.duplicates
        else f", {plural(s.candidates, 'distinct paper')}."
    )
    if s.failed:
        parts.append(f"{plural(len(s.failed), 'search')} failed and returned nothing.")
    if s.screened:
        parts.append(
            f"The screener rated {plural(s.screened, 'paper')} for relevance from title and "
            "abstract; papers from the local folder were not screened."
            if "local" in s.found
            else f"The screener rated all {s.screened} for relevance from title and abstract."
        )
    if s.excluded:
        parts.append(
            f"{plural(len(s.excluded), 'paper was', 'papers were')} left out, each for the "
            "reason listed under Screening."
        )
    parts.append(
        f"{plural(s.included, 'paper was', 'papers were')} included: {s.full_text} with full "
        f"text and {s.abstract_only} from the abstract only."
    )
    return " ".join(parts)


def limitations_text(facts: RunFacts, unpriced: list[str] | None = None) -> str:
    parts = [facts.draft.limitations]
    if facts.dropped:
        parts.append(
            "Items dropped after the model's answers failed validation: "
            + "; ".join(facts.dropped)
            + "."
        )
    if facts.warnings:
        parts.append("Warnings: " + "; ".join(facts.warnings) + ".")
    if facts.unwritten:
        parts.append(
            "Statements of the writer's that code did not let stand, because the claims they "
            "rested on say the opposite or none of them states it, or the papers' counted "
            "answers deny them: " + "; ".join(facts.unwritten) + "."
        )
    if unpriced:
        parts.append(
            f"The cost leaves out the calls to {', '.join(unpriced)}, which has no price in the "
            'price table (add one under [prices."NAME"] in synth.toml).'
        )
    if not facts.calibrated and not facts.judge_note:
        parts.append(
            "Confidence values are uncalibrated for this model: they follow the rule stated with "
            "the claims table, not a measured error rate."
        )
    return "\n\n".join(p for p in parts if p)


# ---------------------------------------------------------------------------------------------
# Report checks


LINT_ROUNDS = 2  # times a draft failing the report checks goes back to the writer
_SMALL = "zero one two three four five six seven eight nine ten eleven twelve"
NUMBER_WORDS = {w: i for i, w in enumerate(_SMALL.split())} | {"fifteen": 15, "twenty": 20}
STRENGTH_WORDS = re.compile(
    # Not "few" or "single": "the first few hundred steps" says nothing of the evidence.
    r"\b(strong|moderate|limited|weak|contested|disputed|consistent|mixed|tentative|"
    r"conflicting|agree|disagree)",
    re.IGNORECASE,
)


def with_strength(abstract: str, strengths: list[str]) -> str:
    """The writer's abstract, and a sentence by code on how strong the evidence of each
    finding is when the abstract says nothing of it: the strengths are the code's count, and
    a small model asked again to state them seldom does (bench/RESULTS.md)."""
    summary = strength_summary(strengths)
    if not abstract.strip() or not summary or STRENGTH_WORDS.search(abstract):
        return abstract
    return f"{abstract.rstrip()} The evidence is {summary}."


NO_DISCUSSION = (
    "The writer gave no discussion that passed its checks; the limitations say what is "
    "missing and why."
)


DIVIDED_WORDS = re.compile(
    r"\b(disagree|divide|both ways|conflict|contest|disput|mixed|inconsistent|contradict)",
    re.IGNORECASE,
)


def with_answers(abstract: str, answer: QuestionAnswer | None) -> str:
    """The abstract, and a sentence by code on how the cited papers answer a yes/no question
    when they answer it both ways and the abstract does not say they disagree: an abstract
    that gives one side of a divided answer misleads a reader who stops there."""
    if not abstract.strip() or answer is None or not answer.divided:
        return abstract
    if DIVIDED_WORDS.search(abstract):
        return abstract
    counted = (("yes", answer.yes), ("no", answer.no), ("both ways", answer.mixed))
    parts = [
        f"{len(refs)} answer{'s' if len(refs) == 1 else ''} {side}"
        for side, refs in counted
        if refs
    ]
    return (
        f"{abstract.rstrip()} The papers divide on the question: of those cited, {joined(parts)}."
    )


def with_counts(abstract: str, strengths: list[str], answer: QuestionAnswer | None) -> str:
    """The writer's abstract with what code counted and it leaves out: how the papers answer
    the question, then how strong each finding's evidence is. In that order, so that the
    strengths' own words ("disputed for finding 3") do not pass for saying that the papers
    divide on the question."""
    return with_strength(with_answers(abstract, answer), strengths)


@dataclass(frozen=True)
class Check:
    ok: bool
    passed: str
    failed: str
    writer_can_fix: bool = False  # a failure the writer can mend by revising its prose

    def line(self) -> str:
        return f"pass: {self.passed}" if self.ok else f"FAIL: {self.failed}"


def lint(report: Report, question: str) -> list[str]:
    """Each check as one line starting with `pass` or `FAIL`; `question` is the run's own."""
    return [c.line() for c in checks(report, question)]


def writer_fixes(report: Report, question: str) -> list[str]:
    """The failed checks a revision of the writer's prose could fix, as requests to it."""
    return [c.failed for c in checks(report, question) if not c.ok and c.writer_can_fix]


def model_prose(report: Report) -> dict[str, str]:
    texts = {k: report.sections.get(k, "") for k in ("abstract", "introduction", "discussion")}
    texts |= {f"finding {i}": f.statement for i, f in enumerate(report.findings, start=1)}
    return texts


def wrong_counts(texts: dict[str, str], report: Report) -> list[str]:
    """Counts of papers or claims in the text that match none of the run's real counts."""
    s = report.stats
    papers = {s.papers_found, s.papers_included, s.papers_cited, s.papers_screened_out}
    papers |= {s.papers_found + s.papers_screened_out, report.screening.records}
    claims = {s.claims, s.supported, s.contradicted, s.insufficient, s.dropped}
    real = {"claims": claims}
    wrong = []
    for name, text in texts.items():
        for match in COUNTED.finditer(text):
            said = match.group(1).lower()
            n = int(said) if said.isdigit() else NUMBER_WORDS.get(said)
            noun = match.group(3).lower()
            if n is not None and n not in real.get(noun, papers):
                truth = (
                    f"the run has {s.claims} claims"
                    if noun == "claims"
                    else f"the run included {s.papers_included} papers and cites {s.papers_cited}"
                )
                wrong.append(f"{name} says '{match.group(0)}' where {truth}")
    return wrong


def checks(report: Report, question: str) -> list[Check]:
    n_refs = len(report.references)
    prose = model_prose(report)
    cut = [f"{name} ('…{text[-30:]}')" for name, text in prose.items() if _cut_off(text)]
    stray = [
        f"{name} has {m.group(0)}" for name, text in prose.items() for m in CITATION.finditer(text)
    ]
    cited = {r for f in report.findings for r in f.refs}
    cited |= {c.ref for c in report.contradictions}
    cited |= {int(e["ref"]) for c in report.contradictions for e in c.evidence}
    if report.answer is not None:
        cited |= {r for side in report.answer.model_dump().values() for r in side}
    if not report.findings:
        cited |= {c.ref for c in report.claims if c.ref is not None}
    uncited = sorted(set(range(1, n_refs + 1)) - cited)
    dangling = sorted(r for r in cited if not 1 <= r <= n_refs)
    bad = [c.id for c in report.claims if claim_text_problem(c.text)]
    texts = [c.text.lower() for c in report.claims]
    known = {c.id for c in report.claims}
    unknown = sorted(
        {i for f in report.findings for i in f.claim_ids + f.against_claim_ids} - known
    )
    counted = wrong_counts({**prose, "method": report.sections.get("method", "")}, report)
    found = content_stems(" ".join(f.statement for f in report.findings)) - content_stems(question)
    abstract = report.sections.get("abstract", "")
    s = report.stats
    return [
        Check(
            bool(question.strip()) and report.question == question,
            "the question is present in full",
            "the question is missing or altered",
        ),
        Check(
            not cut,
            "no prose is cut off mid-sentence",
            f"prose is cut off mid-sentence in {', '.join(cut)}: end every sentence",
            writer_can_fix=True,
        ),
        Check(
            not stray,
            "model prose has no citation numbers",
            f"citation numbers in the prose ({'; '.join(stray)}): remove them, the code cites",
            writer_can_fix=True,
        ),
        Check(
            not counted,
            "counts in the text equal the run's counts",
            f"counts that are not the run's ({'; '.join(counted)}): do not state counts",
            writer_can_fix=True,
        ),
        Check(
            len(content_stems(abstract) & found) >= 2,
            "the abstract states what was found",
            "the abstract does not state what the findings found: give the answer they give",
            writer_can_fix=True,
        ),
        Check(
            bool(STRENGTH_WORDS.search(abstract)),
            "the abstract says how strong the evidence is",
            "the abstract does not say how strong or consistent the evidence is: say so, using "
            "the strength given with each finding",
            writer_can_fix=True,
        ),
        Check(
            bool(report.findings) and all(f.refs for f in report.findings),
            "every finding has a citation",
            "a finding has no citation",
        ),
        Check(
            not unknown,
            "every claim a finding names is in the claims table",
            f"findings name claims that are not in the claims table: {unknown}",
        ),
        Check(
            all(1 <= r <= n_refs for r in cited),
            "every citation resolves to a reference",
            f"citations point past the reference list: {dangling}",
        ),
        Check(not uncited, "every reference is cited", f"uncited references {uncited}"),
        Check(not bad, "no meta-claims or fragments among claims", f"bad claims {bad}"),
        Check(len(texts) == len(set(texts)), "no duplicated claims", "duplicated claims"),
        Check(
            all(c.quote_found for c in report.claims),
            "every claim's quote is located in its passage",
            "a claim's quote was not found in its passage",
        ),
        Check(
            s.claims == len(report.claims) == s.supported + s.contradicted + s.insufficient
            and s.papers_cited == n_refs,
            "the statistics equal the run's records",
            "the statistics disagree with the run's records",
        ),
    ]


def _cut_off(text: str) -> bool:
    return bool(text.strip()) and not re.search(r"[.!?][\"')\]]?$", text.strip())
