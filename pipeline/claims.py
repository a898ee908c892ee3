"""Claims: passages cut and embedded, claims extracted from the passages the filter chose, and each
claim verified against the library (with its answer to a yes/no question read first)."""

from __future__ import annotations

import asyncio

from synth.agents import calibration, extractor, judge, verifier
from synth.domain.placing import side
from synth.domain.records import (
    Claim,
    Corroboration,
    PaperText,
    Passage,
    Placement,
    SentenceReading,
    Verdict,
)
from synth.domain.selection import Candidate
from synth.domain.stages import Stage
from synth.domain.text import standalone_problem
from synth.model.llm import ItemDropped
from synth.pipeline.checkpoints import (
    CalibrationInUse,
    ExtractedClaim,
    Extraction,
    Passages,
    Verification,
    numbered,
)
from synth.pipeline.context import RunContext
from synth.pipeline.reading import as_stance, claim_readings
from synth.store.chunking import chunk_paper, locate_quote, normalise, sentences


async def cut_passages(ctx: RunContext, corpus: list[PaperText]) -> list[Passage]:
    saved = ctx.run.load(Stage.LIBRARY, "passages", Passages)
    if saved is None:
        saved = Passages(passages=[p for paper in corpus for p in chunk_paper(paper)])
        await ctx.save(Stage.LIBRARY, "passages", saved)
    ctx.stage(Stage.LIBRARY, len(saved.passages))
    await asyncio.to_thread(ctx.library.add, saved.passages)  # embedding takes seconds
    for _ in saved.passages:
        ctx.advance(Stage.LIBRARY)
    return saved.passages


def stated_claims(
    candidates: dict[str, list[Candidate]], passages: dict[str, Passage]
) -> tuple[list[Extraction], list[str]]:
    """Claims in the papers' own words (`claims_from = "sentences"`): each result sentence the
    filter chose that stands alone as a claim, by passage in the passage's order, and the ids
    of the passages holding those that do not (the extractor restates them)."""
    stated: dict[str, list[str]] = {}
    restate: set[str] = set()
    for candidate in (c for found in candidates.values() for c in found):
        if standalone_problem(candidate.sentence):
            restate.add(candidate.passage_id)
        else:
            stated.setdefault(candidate.passage_id, []).append(candidate.sentence)
    extractions = []
    for passage_id, found in sorted(stated.items()):
        order = {normalise(t): i for i, t in enumerate(sentences(passages[passage_id].text))}
        found = sorted(dict.fromkeys(found), key=lambda t: order.get(normalise(t), len(order)))
        extractions.append(
            Extraction(
                passage_id=passage_id,
                claims=[ExtractedClaim(text=t, quote=t, kind="finding") for t in found],
            )
        )
    return extractions, sorted(restate)


def merged(stated: list[Extraction], extracted: list[Extraction]) -> list[Extraction]:
    """The sentences taken as claims and the extractor's claims, one extraction per passage."""
    by_passage = {e.passage_id: e for e in stated}
    for e in extracted:
        own = by_passage.get(e.passage_id)
        by_passage[e.passage_id] = (
            e if own is None else e.model_copy(update={"claims": own.claims + e.claims})
        )
    return [by_passage[p] for p in sorted(by_passage)]


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
    ctx: RunContext,
    extractions: list[Extraction],
    passages: list[Passage],
    corpus: list[PaperText],
    placements: dict[str, Placement],
    off_topic: dict[str, float],
) -> list[Verification]:
    by_id = {p.id: p for p in passages}
    # Evidence comes from the run's papers that bear on the question (an off-topic paper was
    # not read, and its passages would only crowd out those that bear on a claim).
    on_topic = sorted(p.paper.id for p in corpus if p.paper.id not in off_topic)
    paper_ids = None if ctx.settings.retrieval.whole_library else on_topic
    provisional = provisional_claims(extractions, by_id)
    in_use = (await asyncio.to_thread(calibration_in_use, ctx)).calibration
    readings = await claim_readings(ctx, provisional, placements, corpus)
    stances = {cid: as_stance(r) for cid, r in readings.items()}

    def answering(claim: Claim, alike: bool) -> frozenset[str]:
        """The other papers whose own answer to the question is the one `claim` gives
        (`alike`), or the other one."""
        own = stances[claim.id]
        if own is None or own.answer not in ("yes", "no"):
            return frozenset()
        wanted = own.answer if alike else {"yes": "no", "no": "yes"}[own.answer]
        papers = {p for p, placed in placements.items() if placed.answer == wanted}
        return frozenset(papers - {claim.paper_id})

    async def one(claim: Claim) -> Verification:
        # Evidence from the other papers only: a claim is supported or contradicted by what
        # another paper found, never by the paper that states it.
        others = None if paper_ids is None else [p for p in paper_ids if p != claim.paper_id]
        evidence = await asyncio.to_thread(
            ctx.library.search,
            claim.text,
            paper_ids=others,
            k=ctx.settings.retrieval.evidence_k,
            exclude=[claim.passage_id],
        )
        backing = corroborating(claim, readings[claim.id], placements)
        found = await asyncio.to_thread(
            ctx.library.passages, claim.text, [b.passage_id for b in backing]
        )
        try:
            verdict = await verifier.verify(
                ctx.models["verifier"],
                claim=claim,
                evidence=evidence,
                calibration=in_use,
                agreeing=answering(claim, alike=True),
                opposing=answering(claim, alike=False),
                corroborating=[
                    Corroboration(
                        evidence=found[b.passage_id],
                        sentence=b.sentence,
                        answer=b.answer,
                        # A stated answer is recorded as certain; it measured nothing.
                        probability=None
                        if b.probabilities[b.answer] == 1.0
                        else b.probabilities[b.answer],
                    )
                    for b in backing
                    if b.passage_id in found
                ],
            )
        except ItemDropped as dropped:
            return Verification(claim=claim, verdict=None, dropped=dropped.reason)
        verdict = verdict.model_copy(update={"stance": stances[claim.id]})
        return Verification(claim=claim, verdict=verdict)

    return await ctx.each(Stage.VERIFY, provisional, lambda c: c.id, one, Verification)


def corroborating(
    claim: Claim, reading: SentenceReading | None, placements: dict[str, Placement]
) -> list[SentenceReading]:
    """For a claim that gives its own paper's answer to a yes/no question (its quote read as
    taking the side the paper was placed on), the result that placed each other paper on the
    same side: that paper's first decisive reading. Empty for any other claim: background, a
    method, a result that qualifies its paper's answer or takes no side, or a paper placed on
    neither side."""
    own = placements.get(claim.paper_id)
    answer = side(reading) if reading is not None else None
    if own is None or answer is None or own.answer != answer:
        return []
    return [
        placed.readings[placed.decisive[0]]
        for paper_id, placed in sorted(placements.items())
        if paper_id != claim.paper_id and placed.answer == answer and placed.decisive
    ]


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
