"""Claims: passages cut and embedded, the passages chosen, claims extracted, their answers to the
question read, and each claim verified against the library."""

from __future__ import annotations

from synth.agents import answering, calibration, extractor, judge, verifier
from synth.domain.agreement import answers_by_paper
from synth.domain.records import Claim, PaperText, Passage, Plan, QuestionStance, Verdict
from synth.domain.stages import Stage
from synth.model.llm import ItemDropped
from synth.pipeline.checkpoints import (
    CalibrationInUse,
    ExtractedClaim,
    Extraction,
    Passages,
    Selection,
    StanceRead,
    Verification,
    numbered,
)
from synth.pipeline.context import RunContext
from synth.store.chunking import chunk_paper, locate_quote, normalise


def cut_passages(ctx: RunContext, corpus: list[PaperText]) -> list[Passage]:
    saved = ctx.run.load(Stage.LIBRARY, "passages", Passages)
    if saved is None:
        saved = Passages(passages=[p for paper in corpus for p in chunk_paper(paper)])
        ctx.run.save(Stage.LIBRARY, "passages", saved)
    ctx.stage(Stage.LIBRARY, len(saved.passages))
    ctx.library.add(saved.passages)
    for _ in saved.passages:
        ctx.advance(Stage.LIBRARY)
    return saved.passages


def select_passages(
    ctx: RunContext, plan: Plan, corpus: list[PaperText], passages: list[Passage]
) -> list[Passage]:
    """The passages each paper offers the extractor: nearest to the question and searches."""
    by_id = {p.id: p for p in passages}
    saved = ctx.run.load(Stage.SELECT, "selection", Selection)
    if saved is None:
        queries = [ctx.question, *dict.fromkeys(s.query for s in plan.searches)]
        chosen: list[str] = []
        for paper in corpus:
            best: dict[str, float] = {}
            for query in queries:
                for hit in ctx.library.search(
                    query, paper_ids=[paper.paper.id], k=ctx.settings.retrieval.passages_per_paper
                ):
                    best[hit.passage_id] = max(best.get(hit.passage_id, -1.0), hit.score)
            ranked = sorted(best, key=lambda pid: (-best[pid], pid))
            chosen += ranked[: ctx.settings.retrieval.passages_per_paper]
        saved = Selection(passage_ids=sorted(pid for pid in chosen if pid in by_id))
        ctx.run.save(Stage.SELECT, "selection", saved)
    return [by_id[pid] for pid in saved.passage_ids]


async def extract_claims(ctx: RunContext, selected: list[Passage]) -> list[Extraction]:
    async def one(passage: Passage) -> Extraction:
        try:
            found = await extractor.extract(
                ctx.models["extractor"],
                question=ctx.question,
                passage=passage,
                max_claims=ctx.settings.retrieval.claims_per_passage,
            )
        except ItemDropped as dropped:
            return Extraction(passage_id=passage.id, claims=[], dropped=dropped.reason)
        return Extraction(
            passage_id=passage.id,
            claims=[ExtractedClaim(text=c.text, quote=c.quote, kind=c.kind) for c in found.claims],
            rejected=found.rejected,
        )

    return await ctx.each(Stage.EXTRACT, selected, lambda p: p.id, one, Extraction)


async def verify_claims(
    ctx: RunContext, extractions: list[Extraction], passages: list[Passage], corpus: list[PaperText]
) -> list[Verification]:
    by_id = {p.id: p for p in passages}
    paper_ids = None if ctx.settings.retrieval.whole_library else sorted(p.paper.id for p in corpus)
    provisional = provisional_claims(extractions, by_id)
    in_use = calibration_in_use(ctx).calibration
    stances = await read_stances(ctx, provisional)
    answers = answers_by_paper((c.paper_id, s.answer) for c in provisional if (s := stances[c.id]))

    def agreeing(claim: Claim) -> frozenset[str]:
        """The other papers that answer the question as `claim` does."""
        own = stances[claim.id]
        if own is None or own.answer not in ("yes", "no"):
            return frozenset()
        return frozenset(p for p, a in answers.items() if a == own.answer) - {claim.paper_id}

    async def one(claim: Claim) -> Verification:
        evidence = ctx.library.search(
            claim.text,
            paper_ids=paper_ids,
            k=ctx.settings.retrieval.evidence_k,
            exclude=[claim.passage_id],
        )
        try:
            verdict = await verifier.verify(
                ctx.models["verifier"],
                claim=claim,
                evidence=evidence,
                calibration=in_use,
                agreeing=agreeing(claim),
            )
        except ItemDropped as dropped:
            return Verification(claim=claim, verdict=None, dropped=dropped.reason)
        verdict = verdict.model_copy(update={"stance": stances[claim.id]})
        return Verification(claim=claim, verdict=verdict)

    return await ctx.each(Stage.VERIFY, provisional, lambda c: c.id, one, Verification)


async def read_stances(ctx: RunContext, claims: list[Claim]) -> dict[str, QuestionStance | None]:
    """Each claim's answer to a yes/no question (None for every claim of another
    question), read before the verifier, which needs the papers' answers."""
    if not answering.is_yes_no(ctx.question):
        return {c.id: None for c in claims}

    async def one(claim: Claim) -> StanceRead:
        return StanceRead(stance=await read_stance(ctx, claim))

    read = await ctx.each(Stage.STANCE, claims, lambda c: c.id, one, StanceRead)
    return {c.id: r.stance for c, r in zip(sorted(claims, key=lambda c: c.id), read, strict=True)}


async def read_stance(ctx: RunContext, claim: Claim) -> QuestionStance | None:
    """How the claim answers the (yes/no) question; None where the judge cannot say
    (no log-probabilities, or an answer without any of the words)."""
    try:
        judged = await answering.stance(
            ctx.models["verifier"],
            item=f"{claim.id}|question",
            question=ctx.question,
            claim=claim.text,
        )
    except ItemDropped:
        return None
    if judged is None:
        return None
    return QuestionStance(answer=judged.best, probability=round(judged.confidence, 4))


def calibration_in_use(ctx: RunContext) -> CalibrationInUse:
    """The verifier model's calibration, fixed for the run at its first verification so
    that a resume or a replay computes the same confidences."""
    saved = ctx.run.load(Stage.CALIBRATION, "verifier", CalibrationInUse)
    if saved is None:
        endpoint = ctx.models["verifier"].endpoint
        model = calibration.identity(endpoint.model, endpoint.revision)
        head = judge.verifier_head(ctx.models["verifier"])
        if head is not None:
            # The head's probabilities are the confidences; a calibration fitted on the
            # older stated judgements does not apply to them.
            saved = CalibrationInUse(model=model, calibration=None, judge=judge.describe(head))
        else:
            saved = CalibrationInUse(model=model, calibration=calibration.find(model))
        ctx.run.save(Stage.CALIBRATION, "verifier", saved)
    return saved


def provisional_claims(extractions: list[Extraction], passages: dict[str, Passage]) -> list[Claim]:
    """Claims keyed by passage and position; duplicates (same text) are kept once."""
    seen: set[str] = set()
    claims = []
    for extraction in sorted(extractions, key=lambda e: e.passage_id):
        passage = passages[extraction.passage_id]
        for i, found in enumerate(extraction.claims, start=1):
            key = normalise(found.text).lower()
            if key in seen:
                continue
            seen.add(key)
            claims.append(
                Claim(
                    id=f"{passage.id}.{i}",
                    paper_id=passage.paper_id,
                    passage_id=passage.id,
                    text=found.text,
                    quote=found.quote,
                    quote_found=locate_quote(found.quote, passage.text),
                    kind=found.kind,
                )
            )
    return claims


def number_claims(
    ctx: RunContext, extractions: list[Extraction], verifications: list[Verification]
) -> tuple[list[Claim], dict[str, Verdict], list[str]]:
    """Final ids C1…Cm for the verified claims, in provisional-id order."""
    dropped = [f"passage {e.passage_id} ({e.dropped})" for e in extractions if e.dropped]
    dropped += [
        f"a claim from passage {e.passage_id} ({reason})"
        for e in extractions
        for reason in e.rejected
    ]
    dropped += [
        f'claim "{v.claim.text}" ({v.dropped})'
        for v in sorted(verifications, key=lambda v: v.claim.id)
        if v.verdict is None
    ]
    claims: list[Claim] = []
    verdicts: dict[str, Verdict] = {}
    for cid, claim, verdict in numbered(verifications):
        claims.append(claim.model_copy(update={"id": cid}))
        verdicts[cid] = verdict.model_copy(update={"claim_id": cid})
    return claims, verdicts, dropped
