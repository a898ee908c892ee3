"""The report checks (lint): what a finished report must hold before it is written, and the
sentences code adds to the abstract (strength of evidence, how the papers answer, counts).
A failing check sends the draft back to the writer, up to `report_check_rounds` times."""

from __future__ import annotations

import re
from dataclasses import dataclass

from synth.domain.agreement import (
    strength_summary,
)
from synth.domain.records import (
    QuestionAnswer,
    Report,
    corroborated_claims,
)
from synth.domain.text import COUNTED, claim_text_problem, content_stems, without_aims
from synth.report.answers import answer_summary

CITATION = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")


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


NO_INTRODUCTION = "The writer gave no introduction that passed its checks."
NO_DISCUSSION = (
    "The writer gave no discussion that passed its checks; the limitations say what is "
    "missing and why."
)


def with_answers(abstract: str, answer: QuestionAnswer | None) -> str:
    """Code's sentence on how the papers read answer a yes/no question (report/answers.py:
    the unplaced first, then how the placed divide), then the writer's abstract. First,
    because it is the answer the abstract owes the reader: a small writer opens with the
    study's aim ("This study investigates ...") or gives one side, or a balance the unplaced
    papers could overturn, and a reader who stops at the first sentence still gets the
    count."""
    if not abstract.strip() or answer is None:
        return abstract
    summary = answer_summary(answer, cited=False)
    if summary in abstract:
        return abstract
    return f"{summary} {abstract.strip()}"


def with_counts(abstract: str, strengths: list[str], answer: QuestionAnswer | None) -> str:
    """The writer's abstract with what code counted and it leaves out: how the papers answer
    the question before it, how strong each finding's evidence is after it. Apart, so that the
    strengths' own words ("disputed for finding 3") do not pass for saying that the papers
    divide on the question. The writer's sentences that only state the aim go; where nothing
    else was written, code's count of the answers stands alone."""
    kept = without_aims(abstract)
    if abstract.strip() and not kept and answer is not None:
        return with_strength(answer_summary(answer, cited=False), strengths)
    return with_strength(with_answers(kept, answer), strengths)


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
    """The prose a model wrote, without the tally code adds to the abstract."""
    texts = {k: report.sections.get(k, "") for k in ("abstract", "introduction", "discussion")}
    if report.answer is not None:
        summary = answer_summary(report.answer, cited=False)
        texts["abstract"] = texts["abstract"].replace(summary, "").strip()
    texts |= {f"finding {i}": f.statement for i, f in enumerate(report.findings, start=1)}
    return texts


def wrong_counts(texts: dict[str, str], report: Report) -> list[str]:
    """Counts of papers or claims in the text that match none of the run's real counts."""
    s = report.stats
    papers = {s.papers_found, s.papers_included, s.papers_cited, s.papers_screened_out}
    papers |= {s.papers_found + s.papers_screened_out, report.screening.records}
    # What code says of the reading: the papers set aside as off-topic, those read, and how
    # the read ones answer a yes/no question.
    papers |= {len(report.off_topic), s.papers_included - len(report.off_topic)}
    if report.answer is not None:
        sides = report.answer.model_dump().values()
        papers |= {len(side) for side in sides} | {sum(len(side) for side in sides)}
    claims = {s.claims, s.supported, s.contradicted, s.insufficient, s.dropped}
    # The Method section says how many claims are result sentences and how many the extractor drew.
    claims |= {s.claims_stated, s.claims - s.claims_stated}
    # The Method section counts the claims other papers' placing results backed.
    claims.add(corroborated_claims(c.judgements for c in report.claims))
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
    abstract = prose["abstract"]
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
