"""Gathering: the plan, then papers from the local folder and the online sources (search, metadata,
screening, full text), merged into one corpus."""

from __future__ import annotations

from synth.agents import planner, screener
from synth.domain.errors import CheckFailed, Unreachable
from synth.domain.records import Exclusion, Paper, PaperText, Plan, Screening
from synth.domain.stages import Stage
from synth.model.llm import ItemDropped
from synth.pipeline.checkpoints import Corpus, FetchOutcome, ScreenResult, SearchOutcome
from synth.pipeline.context import RunContext
from synth.sources.http import SourceError
from synth.sources.literature import NETWORK_SOURCES, SOURCE_NAMES, needs_metadata
from synth.sources.merge import merge_papers
from synth.sources.records import SearchRequest


async def make_plan(ctx: RunContext) -> Plan:
    ctx.stage(Stage.PLAN, 1)
    plan = ctx.run.load(Stage.PLAN, "plan", Plan)
    if plan is None:
        try:
            sources = ctx.settings.literature.sources
            searched = any(s in NETWORK_SOURCES for s in sources)
            plan = await planner.plan(ctx.models["planner"], ctx.question, sources, searched)
        except ItemDropped as dropped:
            # Without a plan the question itself is the one search.
            ctx.warn(f"the planner's answers failed validation ({dropped.reason})")
            plan = Plan(question=ctx.question, sub_questions=[ctx.question], searches=[])
        await ctx.save(Stage.PLAN, "plan", plan)
    ctx.advance(Stage.PLAN)
    return plan


async def gather(ctx: RunContext, plan: Plan) -> Corpus:
    """Search, merge, screen and fetch: the papers whose text enters extraction, and the
    record of how they were chosen."""
    saved = ctx.run.load(Stage.PAPERS, "corpus", Corpus)
    if saved is not None:
        return saved
    local = ctx.local_papers() if "local" in ctx.settings.literature.sources else []
    local = await complete_metadata(ctx, local)
    outcomes = await search(ctx, plan)
    failed = [
        f"the {SOURCE_NAMES[o.source]} search for '{o.query}' failed ({o.error})"
        for o in outcomes
        if o.error
    ]
    if outcomes and len(failed) == len(outcomes) and not local:
        first = outcomes[0]
        raise Unreachable(
            f"every source search failed ({SOURCE_NAMES[first.source]}: {first.error})",
            "check the network, or work offline with --corpus DIR --sources local, "
            "then resume the run",
        )
    for message in failed:
        ctx.warn(message)

    per_source: dict[str, dict[str, Paper]] = {}
    for o in outcomes:
        for paper in o.papers:
            per_source.setdefault(o.source, {}).setdefault(paper.id, paper)
    if local:
        per_source["local"] = {t.paper.id: t.paper for t in local}
    records = [p for source in sorted(per_source) for p in per_source[source].values()]
    works, duplicates = merge_papers(records)

    to_screen = [w for w in works if "local" not in w.found_in]
    screened = {r.paper_id: r for r in await screen(ctx, to_screen)}
    excluded = [
        Exclusion(
            paper_id=w.id,
            title=w.title,
            reason=f"relevance {screened[w.id].relevance}: {screened[w.id].reason}",
        )
        for w in to_screen
        if screened[w.id].relevance not in (*screener.INCLUDED, None)
    ]
    out = {e.paper_id for e in excluded}

    order = {"high": 1, "medium": 2, None: 3}

    def priority(work: Paper) -> tuple[int, str]:
        # The user's own papers first, then the most relevant, then the unrated; by id.
        result = screened.get(work.id)
        return (0 if result is None else order[result.relevance], work.id)

    kept = sorted((w for w in works if w.id not in out), key=priority)
    cap = ctx.settings.literature.max_papers
    for w in kept[cap:]:
        excluded.append(
            Exclusion(
                paper_id=w.id,
                title=w.title,
                reason=f"beyond the cap of {cap} papers (--max-papers)",
            )
        )
    kept = kept[:cap]

    texts = {t.paper.id: t for t in local}
    fetched = await fetch(ctx, [w for w in kept if w.id not in texts])
    corpus: list[PaperText] = []
    for work in kept:
        if work.id in texts:
            corpus.append(PaperText(paper=work, sections=texts[work.id].sections))
            continue
        outcome = fetched[work.id]
        if outcome.text is None:
            excluded.append(
                Exclusion(paper_id=work.id, title=work.title, reason=outcome.note or "no text")
            )
            continue
        full = outcome.text.paper.full_text_available
        paper = work.model_copy(update={"full_text_available": full})
        corpus.append(outcome.text.model_copy(update={"paper": paper}))
    if not corpus:
        raise CheckFailed(
            f"no paper was left to read: {len(works)} found, all screened out or without text",
            "broaden the question, relax --since/--until, or add --sources",
        )
    full = sum(1 for t in corpus if t.paper.full_text_available)
    result = Corpus(
        papers=sorted(corpus, key=lambda t: t.paper.id),
        screening=Screening(
            sources=ctx.settings.literature.sources,
            found={source: len(found) for source, found in sorted(per_source.items())},
            failed=failed,
            records=len(records),
            candidates=len(works),
            duplicates=duplicates,
            screened=len(to_screen),
            excluded=sorted(excluded, key=lambda e: e.paper_id),
            included=len(corpus),
            full_text=full,
            abstract_only=len(corpus) - full,
        ),
    )
    await ctx.save(Stage.PAPERS, "corpus", result)
    return result


async def complete_metadata(ctx: RunContext, local: list[PaperText]) -> list[PaperText]:
    """Local papers with the DOI, authors and year OpenAlex knows, when the run is online."""
    if ctx.literature is None:
        return local
    literature = ctx.literature

    async def one(paper: Paper) -> Paper:
        try:
            return await literature.complete_metadata(paper)
        except SourceError as error:
            ctx.warn(f"no metadata lookup for {paper.path or paper.id} ({error})")
            return paper

    todo = [t.paper for t in local if needs_metadata(t.paper)]
    done = {p.id: p for p in await ctx.each(Stage.METADATA, todo, lambda p: p.id, one, Paper)}
    return [t.model_copy(update={"paper": done.get(t.paper.id, t.paper)}) for t in local]


async def search(ctx: RunContext, plan: Plan) -> list[SearchOutcome]:
    if ctx.literature is None:
        return []
    literature = ctx.literature
    sources = [s for s in ctx.settings.literature.sources if s in NETWORK_SOURCES]
    wanted = {(s.source, s.query) for s in plan.searches if s.source in sources}
    for source in sources:
        if not any(src == source for src, _ in wanted):
            wanted.add((source, ctx.question))  # no plan: the question is the search
    request = dict(
        limit=ctx.settings.literature.results_per_search,
        since=ctx.settings.literature.since,
        until=ctx.settings.literature.until,
        categories=tuple(ctx.settings.literature.arxiv_categories),
    )

    async def one(item: tuple[str, str]) -> SearchOutcome:
        source, query = item
        try:
            papers = await literature.search(source, SearchRequest(query=query, **request))
        except SourceError as error:
            return SearchOutcome(source=source, query=query, papers=[], error=str(error))
        return SearchOutcome(source=source, query=query, papers=papers)

    return await ctx.each(
        Stage.SEARCH,
        wanted,
        lambda item: f"{item[0]}-{item[1]}",
        one,
        SearchOutcome,
        keep=lambda outcome: outcome.error is None,  # a failed search is tried again
    )


async def screen(ctx: RunContext, works: list[Paper]) -> list[ScreenResult]:
    async def one(paper: Paper) -> ScreenResult:
        try:
            rated = await screener.screen(
                ctx.models["screener"], question=ctx.question, paper=paper
            )
        except ItemDropped as dropped:
            # Unrated is kept, not lost: screening errs on the side of reading a paper.
            ctx.warn(f"the screener could not rate '{paper.title}' ({dropped.reason}); it was kept")
            return ScreenResult(paper_id=paper.id, relevance=None, reason=dropped.reason)
        return ScreenResult(paper_id=paper.id, relevance=rated.relevance, reason=rated.reason)

    return await ctx.each(Stage.SCREEN, works, lambda p: p.id, one, ScreenResult)


async def fetch(ctx: RunContext, works: list[Paper]) -> dict[str, FetchOutcome]:
    literature, store = ctx.literature, ctx.paper_store

    async def one(paper: Paper) -> FetchOutcome:
        assert literature is not None  # only papers found online are fetched
        result, _ = await literature.full_text(paper, store)
        return FetchOutcome(paper_id=paper.id, text=result.text, note=result.note)

    done = await ctx.each(Stage.FETCH, works, lambda p: p.id, one, FetchOutcome)
    return {o.paper_id: o for o in done}
