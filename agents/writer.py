"""Writer: one finding per group of related claims, then the prose around the findings.

A small question per call: state what these few claims say (the claim ids offered are an
enum, so a finding can only rest on claims of its group), then frame the findings with a
title, abstract, introduction, discussion and limitations. The writer never writes citation
numbers, claim ids or counts; the report builder derives those from the findings' claim ids.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Literal

from pydantic import BaseModel, Field, TypeAdapter, field_validator, model_validator

from synth.agents.schemas import FrameDraft, Statement
from synth.domain.agreement import Strength, most_given
from synth.domain.records import Claim, Label, Strict, Verdict
from synth.domain.text import (
    check_prose,
    content_stems,
    keeping_the_rules,
    prose_sentences,
    repeats,
    tidy_statement,
    whole_sentences,
    without_counts,
    without_repeats,
)
from synth.model import prompts
from synth.model.llm import Model

FINDING_TOKENS = 400
# A finding about the evidence rather than the world: "the claim that … is supported by other
# papers" restates the listing the writer was given instead of saying what was found.
ABOUT_THE_EVIDENCE = re.compile(
    r"\bthe claims?\b|\bclaims? (that|is|are)\b|\b(supported|contradicted) by (other |the )?"
    r"(papers|claims|studies|evidence)\b",
    re.IGNORECASE,
)
FRAME_TOKENS = 1400
VERDICT_WORDS = {
    Label.SUPPORTED: "supported by other papers",
    Label.CONTRADICTED: "contradicted by other papers",
    Label.INSUFFICIENT: "not checked by other papers",
}


def check_finding(text: str) -> str:
    """A finding states a result in prose, not what the claims or papers say about it."""
    if ABOUT_THE_EVIDENCE.search(text):
        raise ValueError(
            "state the result itself (what was found, in which setting), not what claims or "
            "papers say or whether they are supported"
        )
    return check_prose(text)


class FindingOut(Strict):
    statement: str
    claim_ids: list[str]
    disagreeing_ids: list[str] = Field(default_factory=list)
    from_claim: str | None = None  # set when the statement is this claim's own text
    writer_asked: bool = True  # False: the writer was not asked to word it (writer_findings)


class Draft(Strict):
    """The writer's answer, stored as a checkpoint and rendered into the report."""

    title: str
    abstract: str
    introduction: str
    findings: list[FindingOut]
    discussion: str
    limitations: str


def finding_schema(offered: dict[str, str], question: str) -> type[BaseModel]:
    """A finding resting on some of the `offered` claims (id → text)."""
    ClaimId = Literal[tuple(offered)]  # type: ignore[valid-type]
    most = len(offered)
    asked = content_stems(question)

    class FindingDraft(Strict):
        statement: Statement
        claim_ids: list[ClaimId] = Field(min_length=1, max_length=most)  # type: ignore[valid-type]

        @field_validator("statement", mode="before")
        @classmethod
        def _tidy(cls, value: object) -> object:
            return tidy_statement(value) if isinstance(value, str) else value

        @field_validator("statement")
        @classmethod
        def _prose(cls, value: str) -> str:
            return check_finding(value)

        @model_validator(mode="after")
        def _grounded(self) -> FindingDraft:
            said = content_stems(self.statement)
            claimed = content_stems(" ".join(offered[c] for c in self.claim_ids))
            new = said - asked
            if len(new) < 2:
                raise ValueError(
                    "the finding only repeats the research question: state what the claims "
                    "report (methods, settings, outcomes)"
                )
            if len(new & claimed) < 2:
                raise ValueError(
                    "the finding does not use the content of the claims it lists: state their "
                    "results (methods, settings, outcomes)"
                )
            return self

    return FindingDraft


def revision_schema(n_findings: int) -> type[BaseModel]:
    class Revision(FrameDraft):
        findings: list[Statement] = Field(min_length=n_findings, max_length=n_findings)

        @field_validator("findings", mode="before")
        @classmethod
        def _tidy(cls, value: object) -> object:
            if not isinstance(value, list):
                return value
            return [tidy_statement(v) if isinstance(v, str) else v for v in value]

        @field_validator("findings")
        @classmethod
        def _distinct(cls, value: list[str]) -> list[str]:
            for text in value:
                check_finding(text)
            if len({t.lower() for t in value}) < len(value):
                raise ValueError("each finding must say something different")
            return value

    return Revision


def claims_listing(
    claims: list[Claim], verdicts: dict[str, Verdict], titles: dict[str, str]
) -> str:
    """The claims as the writer reads them: each with its verdict, its answer to a yes/no
    question where the judge read one, and its paper's title."""

    def notes(c: Claim) -> str:
        stance = verdicts[c.id].stance
        answer = f"answers the question: {stance.answer}; " if stance is not None else ""
        return f'{answer}{VERDICT_WORDS[verdicts[c.id].label]}; from "{titles[c.paper_id]}"'

    lines = [f"{c.id} ({notes(c)}): {c.text}" for c in claims]
    return prompts.data_block("claims", "\n".join(lines))


def findings_listing(findings: list[FindingOut], strengths: list[Strength]) -> str:
    """The findings with the strength of their evidence, worded by code from the papers that
    support and dispute each. The writer gets the word without the counts: it would copy a
    finding's count of papers into the abstract as if it were the whole run's."""
    lines = [
        f"Finding {i} (evidence {strength.level}): {f.statement}"
        for i, (f, strength) in enumerate(zip(findings, strengths, strict=True), start=1)
    ]
    return prompts.data_block("findings", "\n".join(lines))


def answers_line(answers: dict[str, str]) -> str:
    """How the papers' own results answer a yes/no question, in words and without counts
    (the writer would copy a count into its prose as its own): "more answer yes than no".
    Empty where no paper answers either way."""
    given = {a for a in answers.values() if a in ("yes", "no", "mixed")}
    most = most_given(answers)
    if not given:
        return ""
    if given in ({"yes"}, {"no"}):
        words = f"every paper that answers it answers {most}"
    elif most is None:
        words = "as many papers answer yes as answer no"
    else:
        words = f"more papers answer {most} than {'no' if most == 'yes' else 'yes'}"
    return f"How the papers answer, read paper by paper from their own results: {words}."


PROSE = ("abstract", "introduction", "discussion", "limitations")


# A sentence that opens by turning against the one before it ("However, the results for
# smaller models are mixed"): with that sentence cut, the turn points at nothing.
TURNING = re.compile(
    r"^(however|but|yet|in contrast|by contrast|nevertheless|nonetheless|still|on the other "
    r"hand|conversely|instead)\b,?\s*",
    re.IGNORECASE,
)


def without_sentences(draft: Draft, cut: list[tuple[str, str]]) -> Draft:
    """The draft less the (section, sentence) pairs in `cut`, and less the same sentences
    wherever else the prose repeats them (a small model copies one sentence into several
    sections; a sentence cut from one must not stand in another). A sentence left after a
    cut one no longer turns against it ("However, ...")."""
    gone = {x for _, x in cut}
    named = {n for n, _ in cut}
    repeating = {n for n in PROSE if gone & set(prose_sentences(getattr(draft, n)))}
    update = {}
    for name in named | repeating:
        kept: list[str] = []
        after_cut = False
        for x in prose_sentences(getattr(draft, name)):
            if x in gone:
                after_cut = True
                continue
            turn = TURNING.match(x) if after_cut else None
            if turn and turn.end() < len(x):
                rest = x[turn.end() :]
                x = rest[0].upper() + rest[1:]
            kept.append(x)
            after_cut = False
        update[name] = " ".join(kept)
    return draft.model_copy(update=update)


def without_framing(reason: str, findings: list[FindingOut]) -> Draft:
    """The draft of a run whose writer failed: it says so, and the report's claims, verdicts
    and references (and any finding stated in a claim's own words) stand as the run's whole
    result."""
    words = (
        " Each finding below is one claim in its own words, not a statement of the writer's."
        if findings
        else ""
    )
    return Draft(
        title="No finding could be written",
        abstract=(
            f"No finding could be written: {reason.rstrip('.')}. The claims below, their "
            "verdicts and the references are what this run established; they have not been "
            f"turned into an answer.{words}"
        ),
        introduction="",
        findings=findings,
        discussion="",
        limitations="",
    )


def changed_parts(old: Draft, new: Draft) -> list[str]:
    """The sections and findings whose text a revision changed."""
    names = ("title", "abstract", "introduction", "discussion", "limitations")
    changed = [n for n in names if getattr(old, n) != getattr(new, n)]
    changed += [
        f"finding {i}"
        for i, (a, b) in enumerate(zip(old.findings, new.findings, strict=False), start=1)
        if a.statement != b.statement
    ]
    return changed


def draft_text(draft: Draft, strengths: list[Strength] | None = None) -> str:
    """The draft as reviewers read it; with `strengths`, each finding carries the strength of
    its evidence as the code counted it, so that a reviewer can judge overstatement."""
    notes = [f" (evidence {s})" for s in strengths] if strengths else [""] * len(draft.findings)
    findings = "\n".join(
        f"- {f.statement}{note}" for f, note in zip(draft.findings, notes, strict=True)
    )
    return (
        f"Title: {draft.title}\n\nAbstract: {draft.abstract}\n\nIntroduction: "
        f"{draft.introduction}\n\nFindings:\n{findings}\n\nDiscussion: {draft.discussion}\n\n"
        f"Limitations: {draft.limitations}"
    )


async def write_finding(
    model: Model,
    *,
    number: int,
    question: str,
    claims: list[Claim],
    verdicts: dict[str, Verdict],
    titles: dict[str, str],
    refused: str = "",
) -> FindingOut:
    """One finding for a group of claims; `refused` says why an earlier statement for the
    same group was refused (the check against its claims), and makes this a new item."""
    template = prompts.load("writer_finding")
    messages = template.messages(question=question, claims=claims_listing(claims, verdicts, titles))
    if refused:
        messages[-1] = {**messages[-1], "content": messages[-1]["content"] + "\n\n" + refused}
    answer = await model.ask(
        agent="writer",
        item=f"finding-{number}" + ("-again" if refused else ""),
        prompt=template,
        messages=messages,
        schema=finding_schema({c.id: c.text for c in claims}, question),
        max_tokens=FINDING_TOKENS,
        untrusted=["claims"],
    )
    return FindingOut(statement=answer.statement, claim_ids=list(dict.fromkeys(answer.claim_ids)))


async def write_frame(
    model: Model,
    *,
    question: str,
    findings: list[FindingOut],
    strengths: list[Strength],
    answers: dict[str, str],
) -> Draft:
    """The title, abstract, introduction, discussion and limitations around the findings;
    `answers` (paper id → its answer to a yes/no question) tells the writer which way most
    papers answer, so that its framing does not lead with the side fewer papers take."""
    template = prompts.load("writer")
    answer = await model.ask(
        agent="writer",
        item="draft-0",
        prompt=template,
        messages=template.messages(
            question=question,
            findings=findings_listing(findings, strengths),
            answers=answers_line(answers),
        ),
        schema=FrameDraft,
        max_tokens=FRAME_TOKENS,
        untrusted=["findings"],
        salvage=lambda raw: salvage_frame(raw, question),
    )
    return Draft(findings=findings, **answer.model_dump())


def salvage_frame(raw: str, question: str, fallback: FrameDraft | None = None) -> FrameDraft | None:
    """Keep what is valid of a last invalid answer: each section on its own, less the
    sentences that break the prose rules or repeat another section (the abstract's copies of
    the limitations, the other sections' copies of the abstract). A section with nothing valid
    left takes the `fallback`'s (the draft being revised) where that does not repeat the new
    abstract, or a line saying it was left out, so that the report is still written and
    honest."""
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    limitations = data.get("limitations")
    kept: dict[str, str] = {}
    for name in ("title", "abstract", "introduction", "discussion", "limitations"):
        value = data.get(name)
        try:
            field = FrameDraft.model_fields[name]
            if isinstance(value, str) and name != "title":
                value = keeping_the_rules(without_counts(whole_sentences(value)))
                if name == "abstract" and isinstance(limitations, str):
                    value = without_repeats(limitations, value)
                elif name != "abstract":
                    value = without_repeats(kept.get("abstract", ""), value)
            checked = TypeAdapter(Annotated[(str, *field.metadata)]).validate_python(value)
            kept[name] = check_prose(checked, complete=name != "title")
        except ValueError:
            earlier = getattr(fallback, name) if fallback is not None else None
            if earlier is not None and not repeats(kept.get("abstract", ""), earlier):
                kept[name] = earlier
            elif name == "title":
                kept[name] = question
            else:
                kept[name] = (
                    f"The writer's {name} did not pass validation and is left out; "
                    "the findings stand on their own."
                )
    try:
        return FrameDraft.model_validate(kept)
    except ValueError:
        return None


def salvage_revision(raw: str, question: str, draft: Draft) -> BaseModel | None:
    """A revision's valid sections over the draft's own; findings that are not valid keep
    their earlier statement."""
    frame = salvage_frame(raw, question, fallback=draft)
    if frame is None:
        return None
    try:
        restated = json.loads(raw).get("findings")
    except (ValueError, AttributeError):
        restated = None
    findings = []
    for i, old in enumerate(draft.findings):
        text = restated[i] if isinstance(restated, list) and i < len(restated) else None
        try:
            findings.append(check_finding(tidy_statement(text)) if isinstance(text, str) else "")
        except ValueError:
            findings.append("")
        if not findings[-1] or len(findings[-1]) < 20:
            findings[-1] = old.statement
    if len({f.lower() for f in findings}) < len(findings):
        findings = [f.statement for f in draft.findings]
    try:
        return revision_schema(len(draft.findings)).model_validate(
            {**frame.model_dump(), "findings": findings}
        )
    except ValueError:
        return None


RESTATE = ", and every finding restated in the same order (one entry per finding, each different)"


async def revise(
    model: Model,
    *,
    item: str,
    question: str,
    draft: Draft,
    requests: list[str],
    strengths: list[Strength],
    restate_findings: bool = True,
) -> Draft:
    """The draft revised for `requests`. Without `restate_findings` the writer returns the
    prose around the findings only, and each finding keeps its words (its claim's own, where
    the writer does not state findings): measured, a revision copied every finding back word
    for word, a quarter of its answer."""
    template = prompts.load("writer_revise")
    answer = await model.ask(
        agent="writer",
        item=item,
        prompt=template,
        messages=template.messages(
            question=question,
            restate=RESTATE if restate_findings else "",
            findings=findings_listing(draft.findings, strengths),
            draft=prompts.data_block("draft", draft_text(draft)),
            requests=prompts.data_block("requests", "\n".join(f"- {r}" for r in requests)),
        ),
        schema=revision_schema(len(draft.findings)) if restate_findings else FrameDraft,
        max_tokens=FRAME_TOKENS + (FINDING_TOKENS if restate_findings else 0),
        untrusted=["findings", "draft", "requests"],
        salvage=(
            (lambda raw: salvage_revision(raw, question, draft))
            if restate_findings
            else (lambda raw: salvage_frame(raw, question, fallback=draft))
        ),
    )
    values = answer.model_dump()
    statements = values.pop("findings", None) or [f.statement for f in draft.findings]
    findings = [
        old.model_copy(update={"statement": text})
        for text, old in zip(statements, draft.findings, strict=True)
    ]
    return Draft(findings=findings, **values)
