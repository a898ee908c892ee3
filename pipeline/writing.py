"""Writing: findings from groups of claims, each checked against the claims it rests on, the frame
around them, and the rounds of review and revision."""

from __future__ import annotations

import asyncio

from synth.agents import answering, checks, reviewer, writer
from synth.agents.grouping import group_claims
from synth.domain.agreement import (
    Strength,
    answer_first,
    finding_answer,
    finding_strength,
    question_answers,
)
from synth.domain.errors import CheckFailed
from synth.domain.records import (
    Claim,
    Label,
    PaperText,
    Placement,
    Review,
    Revision,
    Verdict,
)
from synth.domain.sentences import reports_result, states_measurement
from synth.domain.stages import Stage
from synth.model.llm import ItemDropped
from synth.pipeline.checkpoints import FindingResult, Groups, ReviewResult
from synth.pipeline.context import RunContext


def in_own_words(group: list[Claim], verdicts: dict[str, Verdict]) -> writer.FindingOut:
    """A finding that is one claim of the group in its own words: the claim that best answers
    the question. A limitation or background claim comes last; before it, a claim that
    answers the (yes/no) question either way, one whose quote gives a measured result, one
    that other papers support or contradict, and then the likelier answer, in that order of
    weight. A measurement outranks a verdict: the embedded judge contradicts a general
    sentence ("the largest stable learning rate limits how fast it can learn") by topic far
    more often than it judges the run it came from, and a finding should state the result."""

    def rank(c: Claim) -> tuple[bool, bool, bool, bool, float, int]:
        verdict = verdicts[c.id]
        answers = verdict.stance is not None and verdict.stance.answer in ("yes", "no")
        return (
            c.kind in ("limitation", "background"),
            not answers,
            not states_measurement(c.quote),
            verdict.label == Label.INSUFFICIENT,
            -(verdict.stance.probability if answers and verdict.stance else 0.0),
            int(c.id[1:]),
        )

    chosen = min(group, key=rank)
    return writer.FindingOut(statement=chosen.text, claim_ids=[chosen.id], from_claim=chosen.id)


def side_of(verdict: Verdict) -> str:
    """The side a claim takes on a yes/no question, for grouping: its answer, or "" when it
    has none (an open question, or no stance read)."""
    return verdict.stance.answer if verdict.stance is not None else ""


def revision_requests(reviews: list[Review], threshold: int) -> list[str]:
    """What the writer is asked to change: the reviewers' requests, then every criterion
    scored under the threshold; each once, however many reviewers made it."""
    asks = [r for review in reviews for r in review.requests]
    asks += [
        f"improve '{criterion.replace('_', ' ')}' ({score.justification})"
        for review in reviews
        for criterion, score in review.scores.items()
        if score.score < threshold and score.checked
    ]
    return list(dict.fromkeys(asks))[:12]


class NoFinding(CheckFailed):
    """The writer failed: no finding of its own survived validation and the checks, or its
    framing failed. The report is written with what there is: the claims, their verdicts,
    the references, and any finding stated in a claim's own words."""

    def __init__(self, what: str, todo: str, findings: list[writer.FindingOut]) -> None:
        super().__init__(what, todo)
        self.findings = findings


async def write_and_review(
    ctx: RunContext,
    claims: list[Claim],
    verdicts: dict[str, Verdict],
    corpus: list[PaperText],
    placements: dict[str, Placement],
) -> tuple[writer.Draft, list[Review], list[Revision]]:
    """Findings, framing, then review rounds; returns the final draft, every review and
    the number of revisions made. `placements`: each paper's answer to a yes/no question,
    which a finding's strength counts as dissent."""
    titles = {p.paper.id: p.paper.title for p in corpus}
    by_id = {c.id: c for c in claims}
    groups = await asyncio.to_thread(
        claim_groups, ctx, claims_for_writer(ctx, claims, verdicts), verdicts
    )

    async def one_finding(item: tuple[int, list[str]]) -> FindingResult:
        number, ids = item
        try:
            return await write_finding(ctx, number, [by_id[i] for i in ids], verdicts, titles)
        except ItemDropped as dropped:
            return FindingResult(finding=None, dropped=dropped.reason)

    results = await ctx.each(
        Stage.FINDINGS,
        list(enumerate(groups, start=1)),
        lambda g: f"finding-{g[0]:02d}",
        one_finding,
        FindingResult,
    )
    findings = [r.finding for r in results if r.finding is not None]
    for r, ids in zip(results, groups, strict=True):
        if r.dropped:
            ctx.warn(f"no finding was written for claims {', '.join(ids)} ({r.dropped})")
        elif r.unwritten and r.finding is not None:
            ctx.warn(
                f"the writer's finding for claims {', '.join(ids)} failed validation "
                f"({r.unwritten}); it is stated in the words of claim {r.finding.from_claim}"
            )
    ctx.refused = [line for r in results for line in r.refused]
    if all(r.unwritten or r.finding is None for r in results):
        raise NoFinding(
            "the writer produced no valid finding, so there is no answer to report",
            "resume with a stronger --model (finished stages are kept)",
            findings,
        )

    answers = question_answers(placements, by_id, verdicts)
    given = [finding_answer(f.claim_ids, by_id, verdicts) for f in findings]
    findings = [findings[i] for i in answer_first(given, answers)]
    strengths = [
        finding_strength(f.claim_ids, f.disagreeing_ids, by_id, verdicts, answers) for f in findings
    ]
    ctx.stage(Stage.WRITE, 1)
    draft = ctx.run.load(Stage.WRITE, "draft-0", writer.Draft)
    if draft is None:
        try:
            draft = await writer.write_frame(
                ctx.models["writer"],
                question=ctx.question,
                findings=findings,
                strengths=strengths,
                answers=answers,
            )
        except ItemDropped as dropped:
            raise NoFinding(
                f"the writer's framing failed validation ({dropped.reason})",
                "resume with a stronger --model (finished stages are kept)",
                findings,
            ) from None
        await ctx.save(Stage.WRITE, "draft-0", draft)
    ctx.advance(Stage.WRITE)

    reviews: list[Review] = []
    revisions: list[Revision] = []
    personas = [p for p in reviewer.personas() if p in ctx.settings.review.reviewers] or (
        reviewer.personas()
    )
    for round_no in range(ctx.settings.review.revision_rounds + 1):
        if round_no and not ctx.settings.review.review_revised:
            break  # the revised draft is checked by code alone
        text = writer.draft_text(draft, strengths)

        async def one_review(persona: str, r: int = round_no, text: str = text) -> ReviewResult:
            try:
                review = await reviewer.review(
                    ctx.models["reviewer"],
                    persona=persona,
                    round_no=r,
                    question=ctx.question,
                    draft=text,
                )
            except ItemDropped as dropped:
                return ReviewResult(review=None, dropped=dropped.reason)
            return ReviewResult(review=review)

        results = await ctx.each(
            Stage.REVIEW,
            personas,
            lambda p, r=round_no: f"{p}-{r}",
            one_review,
            ReviewResult,
        )
        for persona, result in zip(personas, results, strict=True):
            if result.dropped:
                ctx.warn(
                    f"the {persona.replace('_', ' ')} review of "
                    f"{'the first draft' if round_no == 0 else f'revision {round_no}'} "
                    f"failed validation and is left out ({result.dropped})"
                )
        round_reviews = [r.review for r in results if r.review is not None]
        reviews += round_reviews
        # Only scores whose justification quotes the draft steer the revision.
        counted = [r for r in round_reviews if r.counted]
        if round_no == ctx.settings.review.revision_rounds or all(
            score.score >= ctx.settings.review.review_threshold
            for review in counted
            for score in review.scores.values()
            if score.checked
        ):
            break
        asks = revision_requests(counted, ctx.settings.review.review_threshold)
        revised = await revise(
            ctx, f"draft-{round_no + 1}", f"revision {round_no + 1}", draft, asks, strengths
        )
        if revised is None:
            revisions.append(
                Revision(step=f"revision {round_no + 1}", requests=asks, changed=[], failed=True)
            )
            break
        changed = writer.changed_parts(draft, revised)
        step = f"revision {round_no + 1}"
        revisions.append(Revision(step=step, requests=asks, changed=changed))
        if not changed:
            # A revision that changes nothing is no new round: its draft is not reviewed.
            break
        draft = revised
    return draft, reviews, revisions


async def revise(
    ctx: RunContext,
    item: str,
    step: str,
    draft: writer.Draft,
    asks: list[str],
    strengths: list[Strength],
) -> writer.Draft | None:
    """The writer's revision `item` (checkpointed), or None with a warning when its
    answers failed validation (the draft before it stands)."""
    revised = ctx.run.load(Stage.WRITE, item, writer.Draft)
    if revised is None:
        try:
            revised = await writer.revise(
                ctx.models["writer"],
                item=item,
                question=ctx.question,
                draft=draft,
                requests=asks,
                strengths=strengths,
                restate_findings=ctx.settings.review.writer_findings,
            )
        except ItemDropped as failed:
            ctx.warn(f"{step} failed validation ({failed.reason})")
            return None
        await ctx.save(Stage.WRITE, item, revised)
    return revised


async def answer_beyond(
    ctx: RunContext, finding: writer.FindingOut, verdicts: dict[str, Verdict], kind: str
) -> str | None:
    """The answer to a yes/no question ("yes" or "no") that the writer's statement gives
    and none of the claims it rests on gives; None when it gives none of its own. A
    statement that adds "warmup stabilises training" to a claim about clipping takes a
    side its claims do not, and the papers counted against that side go unmentioned."""
    if not answering.is_yes_no(ctx.question):
        return None
    side = await checks.answer_given(
        ctx.models["verifier"], text=finding.statement, question=ctx.question, kind=kind
    )
    given = {
        stance.answer
        for c in finding.claim_ids
        if c in verdicts and (stance := verdicts[c].stance) is not None
    }
    return side if side in ("yes", "no") and side not in given else None


async def write_finding(
    ctx: RunContext,
    number: int,
    group: list[Claim],
    verdicts: dict[str, Verdict],
    titles: dict[str, str],
) -> FindingResult:
    """One finding for a group, checked against its claims by the judge. A statement must
    be supported by at least one of the claims it rests on and contradicted by none, and
    answer a yes/no question no way its claims do not. One that a claim contradicts is
    refused and asked again once; one that fails again, that no claim supports, or that
    takes a side its claims do not, gives way to a claim of the group in its own words, which
    cannot say the opposite of itself or more than its claim. Claims of the group it does
    not rest on that contradict it are the claims that disagree with it."""
    texts = {c.id: c.text for c in group}
    refused: list[str] = []
    reason = ""
    unwritten = None
    asked = ctx.settings.review.writer_findings
    for suffix in ("", "-again") if asked else ():
        try:
            finding = await writer.write_finding(
                ctx.models["writer"],
                number=number,
                question=ctx.question,
                claims=group,
                verdicts=verdicts,
                titles=titles,
                refused=reason,
            )
        except ItemDropped as dropped:
            unwritten = dropped.reason
            break
        check = await checks.check_statement(
            ctx.models["verifier"],
            item=f"finding-{number}{suffix}",
            statement=finding.statement,
            claims=group,
        )
        against = check.contradicting(finding.claim_ids)
        # A judge that read none of its claims (a server without log-probabilities)
        # cannot back a statement, and does not refuse it for that.
        backed = check.supporting(finding.claim_ids) or not check.read(finding.claim_ids)
        if backed and not against:
            kind = f"finding-{number}{suffix}-answer"
            answered = await answer_beyond(ctx, finding, verdicts, kind)
            if answered:
                refused.append(
                    f'finding {number}: "{finding.statement}" was not used because it '
                    f"answers the question {answered} and none of "
                    f"{', '.join(finding.claim_ids)} does"
                )
                break
            others = [c.id for c in group if c.id not in finding.claim_ids]
            return FindingResult(
                finding=finding.model_copy(update={"disagreeing_ids": check.contradicting(others)}),
                refused=refused,
            )
        if not against:
            # Stated, but none of its claims states it: asked again, a small model repeats
            # the statement word for word (bench/RESULTS.md), so a claim's words stand.
            ids = finding.claim_ids
            said = (
                f"{ids[0]} does not state it"
                if len(ids) == 1
                else f"none of {', '.join(ids)} states it"
            )
            refused.append(f'finding {number}: "{finding.statement}" was not used because {said}')
            break
        refused.append(
            f'finding {number}: "{finding.statement}" was refused because '
            f"{', '.join(against)} say{'s' if len(against) == 1 else ''} the opposite"
        )
        reason = checks.refusal(finding.statement, against, texts)
    # The writer could not state it, or stated what its claims do not, or was not asked: the
    # finding is one claim in its own words, resting also on the claims that support it.
    own = in_own_words(group, verdicts).model_copy(update={"writer_asked": asked})
    check = await checks.check_statement(
        ctx.models["verifier"],
        item=f"finding-{number}-own",
        statement=own.statement,
        claims=group,
    )
    others = [c.id for c in group if c.id != own.from_claim]
    rest = {own.from_claim, *check.supporting(others)}
    return FindingResult(
        finding=own.model_copy(
            update={
                "claim_ids": [c.id for c in group if c.id in rest],
                "disagreeing_ids": check.contradicting(others),
            }
        ),
        refused=refused,
        unwritten=unwritten,
    )


def claim_groups(
    ctx: RunContext, claims: list[Claim], verdicts: dict[str, Verdict]
) -> list[list[str]]:
    saved = ctx.run.load(Stage.WRITE, "groups", Groups)
    if saved is None:
        embedder = ctx.library.embedder
        vectors = embedder.embed([c.text for c in claims])
        decisive = {c.id for c in claims if verdicts[c.id].label != Label.INSUFFICIENT}
        saved = Groups(
            groups=group_claims(
                [c.id for c in claims],
                vectors,
                embedder.embed([ctx.question])[0],
                decisive,
                max_groups=ctx.settings.review.max_findings,
                partition=[side_of(verdicts[c.id]) for c in claims],
            )
        )
        ctx.run.save(Stage.WRITE, "groups", saved)
    return saved.groups


def claims_for_writer(
    ctx: RunContext, claims: list[Claim], verdicts: dict[str, Verdict]
) -> list[Claim]:
    """The claims a finding may rest on: those that report a result (background, aims and
    methods are never a finding, though the claims table lists them), the strongest first
    when there are more than the writer can take, in id order. Where no claim reports a
    result, all of them."""
    claims = [c for c in claims if reports_result(c.quote)] or claims
    limit = ctx.settings.review.writer_max_claims
    if len(claims) <= limit:
        return claims
    rank = {Label.SUPPORTED: 0, Label.CONTRADICTED: 0, Label.INSUFFICIENT: 1}
    best = sorted(
        claims,
        key=lambda c: (rank[verdicts[c.id].label], -verdicts[c.id].confidence, int(c.id[1:])),
    )[:limit]
    return sorted(best, key=lambda c: int(c.id[1:]))
