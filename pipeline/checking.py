"""Checking the report: the facts the report is built from, the writer's sentences that state the
opposite of their claims, and findings that leave out a side."""

from __future__ import annotations

import asyncio
import hashlib

import numpy as np

from synth.agents import calibration, checks, writer
from synth.domain.agreement import finding_strength, question_answers
from synth.domain.records import (
    Claim,
    Passage,
    Placement,
    QuestionAnswer,
    Report,
    Revision,
    Verdict,
)
from synth.domain.sentences import reports_result
from synth.domain.stages import Stage
from synth.domain.text import content_stems, prose_sentences
from synth.pipeline.checkpoints import Corpus
from synth.pipeline.claims import calibration_in_use
from synth.pipeline.context import RunContext
from synth.pipeline.writing import revise
from synth.report.answers import cite_text
from synth.report.build import build_report
from synth.report.facts import RunFacts
from synth.report.lint import writer_fixes
from synth.store.transcript import read_transcript


async def checked_report(ctx: RunContext, facts: RunFacts) -> Report:
    """Build the report and lint it; failures the writer can mend go back to it, up to
    `report_check_rounds` times or until a round changes nothing, and whatever still fails
    is stated in the report."""
    # Checking and mending the report's sentences is writing, even after the review rounds.
    ctx.working_on(Stage.WRITE)
    report = build_report(facts)
    by_id = {c.id: c for c in facts.claims}
    texts = {c.id: c.text for c in facts.claims}
    # The sentences of the current draft that its claims contradict, judged once per draft.
    inverted = await inverted_sentences(ctx, facts.draft, by_id)
    answers = question_answers(facts.placements, by_id, facts.verdicts)
    for attempt in range(1, ctx.settings.review.report_check_rounds + 1):
        asks = [f"(report check) {a}" for a in writer_fixes(report, ctx.question)]
        asks += [
            f"(report check) {checks.refusal(sentence, against, texts)}"
            for _, sentence, against in inverted
        ]
        if not asks:
            break
        strengths = [
            finding_strength(f.claim_ids, f.disagreeing_ids, by_id, facts.verdicts, answers)
            for f in facts.draft.findings
        ]
        fixed = await revise(
            ctx, f"lint-{attempt}", f"report-check fix {attempt}", facts.draft, asks, strengths
        )
        if fixed is None:
            failed = Revision(
                step=f"report-check fix {attempt}", requests=asks, changed=[], failed=True
            )
            facts.revisions = [*facts.revisions, failed]
            report = build_report(facts)
            break
        changed = writer.changed_parts(facts.draft, fixed)
        facts.revisions = [
            *facts.revisions,
            Revision(step=f"report-check fix {attempt}", requests=asks, changed=changed),
        ]
        if not changed:
            # The same draft would fail the same checks and be sent back with the same asks:
            # a small model that changed nothing once changes nothing again (bench/RESULTS.md).
            break
        facts.draft = fixed
        report = rebuilt(ctx, facts)
        inverted = await inverted_sentences(ctx, facts.draft, by_id)
    if inverted:
        # Still the opposite of their claims after the writer's fixes: cut and listed.
        facts.draft = writer.without_sentences(facts.draft, [(n, x) for n, x, _ in inverted])
        facts.unwritten = [
            *facts.unwritten,
            *(
                f'the {name} sentence "{sentence}" was cut because '
                f"{', '.join(against)} say{'s' if len(against) == 1 else ''} the opposite"
                for name, sentence, against in inverted
            ),
        ]
    if report.answer is not None:
        facts.draft, notes = await one_sided(ctx, facts.draft, report.answer)
        facts.unwritten = [*facts.unwritten, *notes]
    # Built once more, so that its counts include the calls of the last checks.
    return rebuilt(ctx, facts)


async def one_sided(
    ctx: RunContext, draft: writer.Draft, answer: QuestionAnswer
) -> tuple[writer.Draft, list[str]]:
    """The draft less what it says of the papers' answers to a yes/no question that the
    counted answers deny, and the notes saying so: a sentence that says the papers agree
    while they divide is cut; a title that answers the question one way while a cited
    paper answers it the other gives way to the question itself; an introduction or
    discussion that gives alone the answer fewer papers give loses the sentences that give
    it (`checks.side_alone`)."""
    notes = []
    names = ("abstract", "introduction", "discussion")
    sections = {name: getattr(draft, name) for name in names}
    agreeing = checks.agreement_sentences(sections, answer)
    if agreeing:
        draft = writer.without_sentences(
            draft, [(n, x) for n in names for x in agreeing if x in sections[n]]
        )
        yes, no = sorted(answer.yes + answer.mixed), sorted(answer.no + answer.mixed)
        sides = f"yes {cite_text(yes)}, no {cite_text(no)}"
        notes += [
            f'"{x}" was cut because it says the papers agree, and they answer the question '
            f"both ways ({sides})"
            for x in agreeing
        ]
    for name in ("introduction", "discussion"):
        sentences = prose_sentences(getattr(draft, name))
        sides = await asyncio.gather(
            *(
                checks.answer_given(
                    ctx.models["verifier"], text=x, question=ctx.question, kind="framing"
                )
                for x in sentences
            )
        )
        alone = checks.side_alone(list(sides), answer)
        if alone is None:
            continue
        cut = [x for x, side in zip(sentences, sides, strict=True) if side == alone]
        draft = writer.without_sentences(draft, [(name, x) for x in cut])
        more = "no" if alone == "yes" else "yes"
        taking = sorted(getattr(answer, alone))
        notes += [
            f'the {name} sentence "{x}" was cut because it answers {alone}, as fewer papers '
            f"do {cite_text(taking)} than answer {more} "
            f"{cite_text(sorted(getattr(answer, more)))}, and the {name} gave no other side"
            for x in cut
        ]
    side = await checks.answer_given(
        ctx.models["verifier"], text=draft.title, question=ctx.question, kind="title"
    )
    otherwise = checks.answered_otherwise(side, answer)
    if otherwise and draft.title.strip() != ctx.question.strip():
        notes.append(
            f'the title "{draft.title}" gave way to the question, because it answers '
            f"{side} and {cite_text(otherwise)} answer{'s' if len(otherwise) == 1 else ''} "
            "otherwise"
        )
        draft = draft.model_copy(update={"title": ctx.question})
    return draft, notes


def rebuilt(ctx: RunContext, facts: RunFacts) -> Report:
    """The report again, with the calls and warnings the writer's work added."""
    origin = ctx.origin or ctx.run
    facts.transcript = read_transcript(origin.transcript)
    facts.warnings = origin.read_record().get("warnings", [])
    return build_report(facts)


def result_sentences(draft: writer.Draft, question: str) -> list[tuple[str, str]]:
    """(section, sentence) for each sentence of the abstract and the discussion that states a
    result: only such a sentence can state the opposite of one. One that restates the
    question, or says what a study set out to do, is not judged (a small judge has called
    "this study investigates the effect of warmup" the opposite of a result)."""
    asked = content_stems(question) | content_stems("the question asks whether")
    return [
        (name, sentence)
        for name in ("abstract", "discussion")
        for sentence in prose_sentences(getattr(draft, name))
        if len(content_stems(sentence) - asked) >= 2 and reports_result(sentence)
    ]


async def inverted_sentences(
    ctx: RunContext, draft: writer.Draft, claims: dict[str, Claim]
) -> list[tuple[str, str, list[str]]]:
    """(section, sentence, contradicting claim ids) for each sentence of the abstract and
    the discussion that the claims it rests on contradict. A sentence rests on the finding
    nearest to it (by embedding) and is judged against that finding's claims nearest to
    it, at most checks.SENTENCE_CLAIMS of them."""
    if not draft.findings:
        return []
    sentences = result_sentences(draft, ctx.question)
    if not sentences:
        return []
    embed = ctx.library.embedder.embed  # called off the loop: embedding takes seconds
    statements = np.asarray(await asyncio.to_thread(embed, [f.statement for f in draft.findings]))
    resting = {c for f in draft.findings for c in f.claim_ids if c in claims}
    ids = sorted(resting, key=lambda c: int(c[1:]))
    claim_texts = [claims[c].text for c in ids]
    claim_vectors = dict(
        zip(ids, np.asarray(await asyncio.to_thread(embed, claim_texts)), strict=True)
    )
    found = []
    vectors = await asyncio.to_thread(embed, [x for _, x in sentences])
    for (name, sentence), vector in zip(sentences, vectors, strict=True):
        nearest = draft.findings[int(np.argmax(statements @ np.asarray(vector)))]
        rest = [c for c in nearest.claim_ids if c in claims]
        if not rest:
            continue
        near = np.asarray([claim_vectors[c] @ np.asarray(vector) for c in rest])
        top = set(np.argsort(-near, kind="stable")[: checks.SENTENCE_CLAIMS].tolist())
        chosen = [claims[c] for i, c in enumerate(rest) if i in top]  # in the claims' order
        key = hashlib.sha256(sentence.encode()).hexdigest()[:10]
        check = await checks.check_statement(
            ctx.models["verifier"], item=f"{name}-{key}", statement=sentence, claims=chosen
        )
        against = check.contradicting()
        if against:
            found.append((name, sentence, against))
    return found


def run_facts(
    ctx: RunContext,
    gathered: Corpus,
    passages: list[Passage],
    selected: list[Passage],
    claims: list[Claim],
    verdicts: dict[str, Verdict],
    dropped: list[str],
    *,
    placements: dict[str, Placement],
    off_topic: dict[str, float],
    stated: int = 0,
) -> RunFacts:
    """What the report is built from, but for the writer's work: the draft, reviews and
    revisions are the caller's to set."""
    in_use = calibration_in_use(ctx)
    # A replay reports the facts of the run it replays: its id, dates, timings, warnings
    # and calls (DESIGN "Determinism and replay").
    origin = ctx.origin or ctx.run
    record = origin.read_record()
    transcript = read_transcript(origin.transcript)
    used = {entry["agent"] for entry in transcript}
    return RunFacts(
        run_id=origin.id,
        question=ctx.question,
        created=record["created"],
        models={a: m.endpoint.model for a, m in sorted(ctx.models.items()) if a in used},
        sources=ctx.settings.literature.sources,
        papers=[p.paper for p in gathered.papers],
        screening=gathered.screening,
        passages=len(passages),
        passages_read=len(selected),
        stated_claims=stated,
        results_per_paper=ctx.settings.retrieval.results_per_paper,
        evidence_k=ctx.settings.retrieval.evidence_k,
        claims=claims,
        verdicts=verdicts,
        draft=writer.Draft(
            title="", abstract="", introduction="", findings=[], discussion="", limitations=""
        ),
        reviews=[],
        dropped=dropped,
        warnings=record.get("warnings", []),
        transcript=transcript,
        wall_s=float(record.get("wall_s", 0.0)),
        passage_texts={p.id: p.text for p in passages},
        prices=ctx.settings.budget.prices,
        calibration_note=calibration.describe(in_use.calibration, in_use.model),
        calibrated=in_use.calibration,
        judge_note=in_use.judge,
        placements=placements,
        off_topic=off_topic,
    )
