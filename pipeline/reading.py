"""What the model reads of each paper, and each paper's own answer to a yes/no question.

Every passage of every paper is scored by code against the question and the planner's
sub-questions (domain/selection.py): a paper far from the question is off-topic and is not read;
in the others, the sentences of the paper's own that may report its result are its candidates.
For a yes/no question the reader reads each candidate, and the paper's answer is placed from
those readings (domain/placing.py). The extractor reads the passages that hold the sentences
that placed the paper, or its best candidate.
"""

from __future__ import annotations

import asyncio

from synth.agents import answering, reader
from synth.domain.agreement import paper_of
from synth.domain.placing import in_summary, place, taking_sides
from synth.domain.records import (
    Claim,
    Paper,
    PaperText,
    Passage,
    Placement,
    Plan,
    QuestionStance,
    SentenceReading,
)
from synth.domain.selection import (
    MARGIN,
    Candidate,
    Chosen,
    choose,
    first_passages,
    off_topic,
    own_results,
)
from synth.domain.sentences import reports_result
from synth.domain.stages import Stage
from synth.model.llm import Model
from synth.pipeline.checkpoints import Selection, SentenceRead
from synth.pipeline.context import RunContext
from synth.store.chunking import normalise, sentences
from synth.store.library import Library

STANCE_ANSWERS = {"yes": "yes", "no": "no", "unclear": "depends"}


def questions(question: str, plan: Plan | None = None) -> list[str]:
    """What a passage is scored against: the question, the statement it asks about, and the
    planner's sub-questions."""
    said = answering.as_statement(question)
    subs = plan.sub_questions if plan is not None else []
    return list(dict.fromkeys([question, *([said] if said else []), *subs]))


async def select(
    ctx: RunContext, plan: Plan, corpus: list[PaperText], passages: list[Passage]
) -> Selection:
    """Each on-topic paper's candidate sentences, best first, and the off-topic papers. The
    embedding and BM25 work runs off the event loop."""
    saved = ctx.run.load(Stage.SELECT, "selection", Selection)
    if saved is not None and saved.candidates is not None:
        return saved
    chosen = await asyncio.to_thread(
        filtered,
        ctx.library,
        ctx.question,
        questions(ctx.question, plan),
        passages,
        ctx.settings.retrieval.results_per_paper,
    )
    selection = Selection(
        passage_ids=chosen.first_passages,
        candidates=chosen.candidates,
        off_topic=chosen.off_topic,
    )
    await ctx.save(Stage.SELECT, "selection", selection)
    return selection


def filtered(
    library: Library,
    question: str,
    asked: list[str],
    passages: list[Passage],
    per_paper: int,
    margin: float = MARGIN,
) -> Chosen:
    """The reading filter over `passages` (domain/selection.py): off-topic papers by their
    best passage, then each other paper's candidates among its own results."""
    paper_ids = sorted({p.paper_id for p in passages})
    similarity = library.similarities(asked, [p.id for p in passages])
    far = off_topic(paper_ids, passages, similarity, library.word_scores(asked, paper_ids))
    near = [p for p in passages if p.paper_id not in far]
    results = own_results(near, {p.id: sentences(p.text) for p in near})
    near_sim = library.text_similarities([r.sentence for r in results], asked)
    candidates = choose(results, near_sim, question, per_paper=per_paper, margin=margin)
    first = first_passages(candidates, passages, similarity, far)
    return Chosen(candidates=candidates, first_passages=first, off_topic=far)


def sentence_key(candidate: Candidate) -> str:
    return reader.item(candidate.passage_id, candidate.sentence)


async def read_papers(
    ctx: RunContext, selection: Selection, corpus: list[PaperText]
) -> dict[str, Placement]:
    """For a yes/no question, each on-topic paper's answer from its candidates' readings;
    empty for any other question."""
    if not answering.is_yes_no(ctx.question) or selection.candidates is None:
        return {}
    papers = {t.paper.id: t.paper for t in corpus}
    todo = [c for cs in selection.candidates.values() for c in cs]

    async def one(candidate: Candidate) -> SentenceRead:
        return SentenceRead(
            reading=await read_sentence(
                ctx, papers[candidate.paper_id], candidate.passage_id, candidate.sentence
            )
        )

    done = await ctx.each(Stage.STANCE, todo, sentence_key, one, SentenceRead)
    read = {
        sentence_key(c): r.reading
        for c, r in zip(sorted(todo, key=sentence_key), done, strict=True)
    }
    placements = {}
    for text in corpus:
        if text.paper.id in selection.off_topic:
            continue
        readings = [
            r
            for c in selection.candidates.get(text.paper.id, [])
            if (r := read[sentence_key(c)]) is not None
        ]
        placements[text.paper.id] = place(
            text.paper.id, readings, summary=in_summary(text, readings)
        )
    return dict(sorted(placements.items()))


async def read_sentence(
    ctx: RunContext, paper: Paper, passage_id: str, sentence: str
) -> SentenceReading | None:
    return await reading_of(ctx.models["verifier"], ctx.question, paper.title, passage_id, sentence)


async def reading_of(
    model: Model, question: str, title: str, passage_id: str, sentence: str
) -> SentenceReading | None:
    """The reader's answer to `question` from one sentence of a paper; None when no valid
    answer came back."""
    got = await reader.read(
        model,
        item=reader.item(passage_id, sentence),
        question=question,
        title=title,
        sentence=sentence,
    )
    if got is None:
        return None
    return SentenceReading(
        passage_id=passage_id,
        sentence=sentence,
        answer=got.answer,
        probabilities=got.probabilities,
        null_on_outcome=got.null_on_outcome,
    )


def extraction_passages(
    selection: Selection, placements: dict[str, Placement], per_paper: int
) -> list[str]:
    """The passages the extractor reads: of each on-topic paper, the passage of its best
    candidate, then those holding the sentences that take a side (those that placed it and
    those that qualify its answer), best first, up to `per_paper`."""
    chosen = set(selection.passage_ids)
    for placement in placements.values():
        own = [p for p in selection.passage_ids if paper_of(p) == placement.paper_id]
        for i in taking_sides(placement.readings):
            if len(own) >= per_paper:
                break
            passage_id = placement.readings[i].passage_id
            if passage_id not in own:
                own.append(passage_id)
        chosen |= set(own)
    return sorted(chosen)


async def claim_readings(
    ctx: RunContext,
    claims: list[Claim],
    placements: dict[str, Placement],
    corpus: list[PaperText],
) -> dict[str, SentenceReading | None]:
    """Each claim's answer to the yes/no question: the reading of its quote, the paper's own
    words (a quote already read as a candidate is not read again; a quote that reports no
    result is not read and answers nothing)."""
    if not answering.is_yes_no(ctx.question):
        return {c.id: None for c in claims}
    known = {normalise(r.sentence): r for p in placements.values() for r in p.readings}
    papers = {t.paper.id: t.paper for t in corpus}

    async def one(claim: Claim) -> SentenceRead:
        if not reports_result(claim.quote):
            # Background, an aim or a method answers nothing, whatever its topic.
            return SentenceRead(reading=None)
        reading = known.get(normalise(claim.quote))
        if reading is None:
            reading = await read_sentence(
                ctx, papers[claim.paper_id], claim.passage_id, claim.quote
            )
        return SentenceRead(reading=reading)

    read = await ctx.each(Stage.STANCE, claims, lambda c: f"{c.id}|quote", one, SentenceRead)
    ordered = sorted(claims, key=lambda c: f"{c.id}|quote")
    return {c.id: r.reading for c, r in zip(ordered, read, strict=True)}


def as_stance(reading: SentenceReading | None) -> QuestionStance | None:
    if reading is None:
        return None
    answer = STANCE_ANSWERS[reading.answer]
    return QuestionStance(answer=answer, probability=reading.probabilities[reading.answer])
