"""The session: runs the stages in order, each item checkpointed, resuming where it stopped.

question → plan → papers → passages (library) → selection → claims → verdicts → draft →
reviews → revision → report. Every stage orders its items by id before it calls a model, and a
finished item is read back from its checkpoint instead of being asked again.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, TypeVar

import numpy as np
from pydantic import BaseModel, Field

from synth.agents import (
    calibration,
    checks,
    extractor,
    judge,
    planner,
    reviewer,
    screener,
    verifier,
    writer,
)
from synth.agents.grouping import group_claims
from synth.domain.agreement import answers_by_paper, finding_strength
from synth.domain.errors import BudgetReached, CheckFailed, Unreachable
from synth.domain.records import (
    Calibration,
    Claim,
    ClaimKind,
    Exclusion,
    Label,
    Paper,
    PaperText,
    Passage,
    Plan,
    QuestionAnswer,
    QuestionStance,
    Report,
    Review,
    Revision,
    Screening,
    Strict,
    Verdict,
)
from synth.domain.settings import RunSettings
from synth.domain.stages import Stage
from synth.domain.text import content_stems
from synth.model.llm import ItemDropped, Model
from synth.report import render
from synth.report.build import LINT_ROUNDS, RunFacts, build_report, cite_text, writer_fixes
from synth.report.partial import partial_report
from synth.sources.http import SourceError
from synth.sources.literature import NETWORK_SOURCES, SOURCE_NAMES, Literature, needs_metadata
from synth.sources.merge import merge_papers
from synth.sources.records import SearchRequest
from synth.store.chunking import chunk_paper, locate_quote, normalise
from synth.store.library import Library
from synth.store.papers import PaperStore
from synth.store.runs import RunFolder
from synth.store.transcript import read_transcript

M = TypeVar("M", bound=BaseModel)
AGENTS = ("planner", "screener", "extractor", "verifier", "writer", "reviewer")


class NoFinding(CheckFailed):
    """The writer failed: no finding of its own survived validation and the checks, or its
    framing failed. The report is written with what there is: the claims, their verdicts,
    the references, and any finding stated in a claim's own words."""

    def __init__(self, what: str, todo: str, findings: list[writer.FindingOut]) -> None:
        super().__init__(what, todo)
        self.findings = findings


class Ui(Protocol):
    def stage(self, name: Stage, total: int) -> None: ...
    def advance(self, name: Stage) -> None: ...
    def warn(self, message: str) -> None: ...


# Checkpoint shapes ----------------------------------------------------------------------------


class Corpus(Strict):
    papers: list[PaperText]
    screening: Screening


class SearchOutcome(Strict):
    source: str
    query: str
    papers: list[Paper]
    error: str | None = None


class ScreenResult(Strict):
    paper_id: str
    relevance: screener.Relevance | None
    reason: str


class FetchOutcome(Strict):
    paper_id: str
    text: PaperText | None
    note: str | None


class Passages(Strict):
    passages: list[Passage]


class Selection(Strict):
    passage_ids: list[str]


class ExtractedClaim(Strict):
    text: str
    quote: str
    kind: ClaimKind


class Extraction(Strict):
    passage_id: str
    claims: list[ExtractedClaim]
    dropped: str | None = None
    rejected: list[str] = Field(default_factory=list)


class Verification(Strict):
    claim: Claim
    verdict: Verdict | None
    dropped: str | None = None


class StanceRead(Strict):
    stance: QuestionStance | None


class CalibrationInUse(Strict):
    model: str
    calibration: Calibration | None
    judge: str | None = None  # what the fitted judge head is, when the verifier has one


class Groups(Strict):
    groups: list[list[str]]


class ReviewResult(Strict):
    review: Review | None
    dropped: str | None = None


class FindingResult(Strict):
    finding: writer.FindingOut | None
    dropped: str | None = None
    refused: list[str] = Field(default_factory=list)  # statements the judge refused
    unwritten: str | None = None  # why the writer's statement failed, when a claim's is used


def in_own_words(group: list[Claim], verdicts: dict[str, Verdict]) -> writer.FindingOut:
    """A finding that is one claim of the group in its own words: the claim that best answers
    the question. A limitation or background claim comes last; before it, a claim that
    answers the (yes/no) question either way, one that other papers support or contradict,
    and then the likelier answer, in that order of weight."""

    def rank(c: Claim) -> tuple[bool, bool, bool, float, int]:
        verdict = verdicts[c.id]
        answers = verdict.stance is not None and verdict.stance.answer in ("yes", "no")
        return (
            c.kind in ("limitation", "background"),
            not answers,
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


# -----------------------------------------------------------------------------------------------


@dataclass
class Session:
    run: RunFolder
    settings: RunSettings
    question: str
    models: dict[str, Model]
    library: Library
    ui: Ui
    local_papers: Callable[[], list[PaperText]]
    literature: Literature | None = None
    paper_store: PaperStore | None = None
    origin: RunFolder | None = None  # set when replaying that run
    refused: list[str] = field(default_factory=list)  # the writer's statements refused by checks
    progress: dict[Stage, list[int]] = field(default_factory=dict)  # stage: [done, total]

    async def execute(self) -> Report:
        self.run.on_damaged = lambda path: self._warn(
            f"the checkpoint {path.relative_to(self.run.path)} was damaged; its item was redone"
        )
        try:
            return await self._execute()
        except BudgetReached:
            self.run.write_output(
                "report.md", partial_report(self.question, self.run, self.progress)
            )
            raise

    async def _execute(self) -> Report:
        with self._timed(Stage.PLAN):
            plan = await self._plan()
        with self._timed(Stage.SEARCH):
            gathered = await self._gather(plan)
        corpus = gathered.papers
        with self._timed(Stage.LIBRARY):
            passages = self._passages(corpus)
            selected = self._select(plan, corpus, passages)
        with self._timed(Stage.EXTRACT):
            extractions = await self._extract(selected)
        with self._timed(Stage.VERIFY):
            verifications = await self._verify(extractions, passages, corpus)
        claims, verdicts, dropped = self._number(extractions, verifications)
        if not claims:
            raise CheckFailed(
                "no claim survived extraction and verification, so there is nothing to report",
                "check the corpus and the question, or try a stronger --model",
            )
        with self._timed(Stage.WRITE):
            try:
                draft, reviews, revisions = await self._write_and_review(claims, verdicts, corpus)
            except NoFinding as failed:
                # What the run established still reaches the user: claims, verdicts and
                # references, under a report that says no finding could be written.
                facts = self._facts(gathered, passages, selected, claims, verdicts, dropped)
                facts.unwritten = self.refused
                unwritten = writer.without_framing(failed.what, failed.findings)
                report = build_report(replace(facts, draft=unwritten))
                for name, text in render.outputs(report).items():
                    self.run.write_output(name, text)
                raise CheckFailed(
                    f"{failed.what}; report.md lists the claims, their verdicts and the references",
                    failed.todo,
                ) from None
            facts = self._facts(gathered, passages, selected, claims, verdicts, dropped)
            facts.unwritten = self.refused
            return await self._checked_report(
                replace(facts, draft=draft, reviews=reviews, revisions=revisions)
            )

    async def _checked_report(self, facts: RunFacts) -> Report:
        """Build the report and lint it; failures the writer can mend go back to it, up to
        LINT_ROUNDS times, and whatever still fails is stated in the report."""
        report = build_report(facts)
        by_id = {c.id: c for c in facts.claims}
        texts = {c.id: c.text for c in facts.claims}
        # The sentences of the current draft that its claims contradict, judged once per draft.
        inverted = await self._inverted_sentences(facts.draft, by_id)
        for attempt in range(1, LINT_ROUNDS + 1):
            asks = [f"(report check) {a}" for a in writer_fixes(report, self.question)]
            asks += [
                f"(report check) {checks.refusal(sentence, against, texts)}"
                for _, sentence, against in inverted
            ]
            if not asks:
                break
            strengths = [
                finding_strength(f.claim_ids, f.disagreeing_ids, by_id, facts.verdicts)
                for f in facts.draft.findings
            ]
            fixed = await self._revision(
                f"lint-{attempt}", f"report-check fix {attempt}", facts.draft, asks, strengths
            )
            if fixed is None:
                failed = Revision(
                    step=f"report-check fix {attempt}", requests=asks, changed=[], failed=True
                )
                facts.revisions = [*facts.revisions, failed]
                report = build_report(facts)
                break
            facts.revisions = [
                *facts.revisions,
                Revision(
                    step=f"report-check fix {attempt}",
                    requests=asks,
                    changed=writer.changed_parts(facts.draft, fixed),
                ),
            ]
            facts.draft = fixed
            report = self._rebuilt(facts)
            inverted = await self._inverted_sentences(facts.draft, by_id)
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
            facts.draft, notes = await self._one_sided(facts.draft, report.answer)
            facts.unwritten = [*facts.unwritten, *notes]
        # Built once more, so that its counts include the calls of the last checks.
        return self._rebuilt(facts)

    async def _one_sided(
        self, draft: writer.Draft, answer: QuestionAnswer
    ) -> tuple[writer.Draft, list[str]]:
        """The draft less what it says of the papers' answers to a yes/no question that the
        counted answers deny, and the notes saying so: a sentence that says the papers agree
        while they divide is cut; a title that answers the question one way while a cited
        paper answers it the other gives way to the question itself."""
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
        side = await checks.answer_given(
            self.models["verifier"], text=draft.title, question=self.question, kind="title"
        )
        otherwise = checks.answered_otherwise(side, answer)
        if otherwise and draft.title.strip() != self.question.strip():
            notes.append(
                f'the title "{draft.title}" gave way to the question, because it answers '
                f"{side} and {cite_text(otherwise)} answer{'s' if len(otherwise) == 1 else ''} "
                "otherwise"
            )
            draft = draft.model_copy(update={"title": self.question})
        return draft, notes

    def _rebuilt(self, facts: RunFacts) -> Report:
        """The report again, with the calls and warnings the writer's work added."""
        origin = self.origin or self.run
        facts.transcript = read_transcript(origin.transcript)
        facts.warnings = origin.read_record().get("warnings", [])
        return build_report(facts)

    async def _inverted_sentences(
        self, draft: writer.Draft, claims: dict[str, Claim]
    ) -> list[tuple[str, str, list[str]]]:
        """(section, sentence, contradicting claim ids) for each sentence of the abstract and
        the discussion that the claims it rests on contradict. A sentence rests on the finding
        nearest to it (by embedding) and is judged against that finding's claims nearest to
        it, at most checks.SENTENCE_CLAIMS of them."""
        if not draft.findings:
            return []
        asked = content_stems(self.question) | content_stems("the question asks whether")
        # A sentence that only restates the question states no result to check.
        sentences = [
            (name, sentence)
            for name in ("abstract", "discussion")
            for sentence in writer.sentences(getattr(draft, name))
            if len(content_stems(sentence) - asked) >= 2
        ]
        if not sentences:
            return []
        embed = self.library.embedder.embed
        statements = np.asarray(embed([f.statement for f in draft.findings]))
        resting = {c for f in draft.findings for c in f.claim_ids if c in claims}
        ids = sorted(resting, key=lambda c: int(c[1:]))
        claim_vectors = dict(
            zip(ids, np.asarray(embed([claims[c].text for c in ids])), strict=True)
        )
        found = []
        for (name, sentence), vector in zip(
            sentences, embed([x for _, x in sentences]), strict=True
        ):
            nearest = draft.findings[int(np.argmax(statements @ np.asarray(vector)))]
            rest = [c for c in nearest.claim_ids if c in claims]
            if not rest:
                continue
            near = np.asarray([claim_vectors[c] @ np.asarray(vector) for c in rest])
            top = set(np.argsort(-near, kind="stable")[: checks.SENTENCE_CLAIMS].tolist())
            chosen = [claims[c] for i, c in enumerate(rest) if i in top]  # in the claims' order
            key = hashlib.sha256(sentence.encode()).hexdigest()[:10]
            check = await checks.check_statement(
                self.models["verifier"], item=f"{name}-{key}", statement=sentence, claims=chosen
            )
            against = check.contradicting()
            if against:
                found.append((name, sentence, against))
        return found

    def _facts(
        self,
        gathered: Corpus,
        passages: list[Passage],
        selected: list[Passage],
        claims: list[Claim],
        verdicts: dict[str, Verdict],
        dropped: list[str],
    ) -> RunFacts:
        """What the report is built from, but for the writer's work: the draft, reviews and
        revisions are the caller's to set."""
        in_use = self._calibration()
        # A replay reports the facts of the run it replays: its id, dates, timings, warnings
        # and calls (DESIGN "Determinism and replay").
        origin = self.origin or self.run
        record = origin.read_record()
        transcript = read_transcript(origin.transcript)
        used = {entry["agent"] for entry in transcript}
        return RunFacts(
            run_id=origin.id,
            question=self.question,
            created=record["created"],
            models={a: m.endpoint.model for a, m in sorted(self.models.items()) if a in used},
            sources=self.settings.sources,
            papers=[p.paper for p in gathered.papers],
            screening=gathered.screening,
            passages=len(passages),
            passages_read=len(selected),
            passages_per_paper=self.settings.passages_per_paper,
            evidence_k=self.settings.evidence_k,
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
            prices=self.settings.prices,
            calibration_note=calibration.describe(in_use.calibration, in_use.model),
            calibrated=in_use.calibration,
            judge_note=in_use.judge,
        )

    # Stages ------------------------------------------------------------------------------------

    async def _plan(self) -> Plan:
        self._stage(Stage.PLAN, 1)
        plan = self.run.load(Stage.PLAN, "plan", Plan)
        if plan is None:
            try:
                plan = await planner.plan(
                    self.models["planner"], self.question, self.settings.sources
                )
            except ItemDropped as dropped:
                # Without a plan the question itself is the one search.
                self._warn(f"the planner's answers failed validation ({dropped.reason})")
                plan = Plan(question=self.question, sub_questions=[self.question], searches=[])
            self.run.save(Stage.PLAN, "plan", plan)
        self._advance(Stage.PLAN)
        return plan

    async def _gather(self, plan: Plan) -> Corpus:
        """Search, merge, screen and fetch: the papers whose text enters extraction, and the
        record of how they were chosen."""
        saved = self.run.load(Stage.PAPERS, "corpus", Corpus)
        if saved is not None:
            return saved
        local = self.local_papers() if "local" in self.settings.sources else []
        local = await self._complete_metadata(local)
        outcomes = await self._search(plan)
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
            self._warn(message)

        per_source: dict[str, dict[str, Paper]] = {}
        for o in outcomes:
            for paper in o.papers:
                per_source.setdefault(o.source, {}).setdefault(paper.id, paper)
        if local:
            per_source["local"] = {t.paper.id: t.paper for t in local}
        records = [p for source in sorted(per_source) for p in per_source[source].values()]
        works, duplicates = merge_papers(records)

        to_screen = [w for w in works if "local" not in w.found_in]
        screened = {r.paper_id: r for r in await self._screen(to_screen)}
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
        for w in kept[self.settings.max_papers :]:
            excluded.append(
                Exclusion(
                    paper_id=w.id,
                    title=w.title,
                    reason=f"beyond the cap of {self.settings.max_papers} papers (--max-papers)",
                )
            )
        kept = kept[: self.settings.max_papers]

        texts = {t.paper.id: t for t in local}
        fetched = await self._fetch([w for w in kept if w.id not in texts])
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
                sources=self.settings.sources,
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
        self.run.save(Stage.PAPERS, "corpus", result)
        return result

    async def _complete_metadata(self, local: list[PaperText]) -> list[PaperText]:
        """Local papers with the DOI, authors and year OpenAlex knows, when the run is online."""
        if self.literature is None:
            return local
        literature = self.literature

        async def one(paper: Paper) -> Paper:
            try:
                return await literature.complete_metadata(paper)
            except SourceError as error:
                self._warn(f"no metadata lookup for {paper.path or paper.id} ({error})")
                return paper

        todo = [t.paper for t in local if needs_metadata(t.paper)]
        done = {p.id: p for p in await self._each(Stage.METADATA, todo, lambda p: p.id, one, Paper)}
        return [t.model_copy(update={"paper": done.get(t.paper.id, t.paper)}) for t in local]

    async def _search(self, plan: Plan) -> list[SearchOutcome]:
        if self.literature is None:
            return []
        literature = self.literature
        sources = [s for s in self.settings.sources if s in NETWORK_SOURCES]
        wanted = {(s.source, s.query) for s in plan.searches if s.source in sources}
        for source in sources:
            if not any(src == source for src, _ in wanted):
                wanted.add((source, self.question))  # no plan: the question is the search
        request = dict(
            limit=self.settings.results_per_search,
            since=self.settings.since,
            until=self.settings.until,
            categories=tuple(self.settings.arxiv_categories),
        )

        async def one(item: tuple[str, str]) -> SearchOutcome:
            source, query = item
            try:
                papers = await literature.search(source, SearchRequest(query=query, **request))
            except SourceError as error:
                return SearchOutcome(source=source, query=query, papers=[], error=str(error))
            return SearchOutcome(source=source, query=query, papers=papers)

        return await self._each(
            Stage.SEARCH,
            wanted,
            lambda item: f"{item[0]}-{item[1]}",
            one,
            SearchOutcome,
            keep=lambda outcome: outcome.error is None,  # a failed search is tried again
        )

    async def _screen(self, works: list[Paper]) -> list[ScreenResult]:
        async def one(paper: Paper) -> ScreenResult:
            try:
                rated = await screener.screen(
                    self.models["screener"], question=self.question, paper=paper
                )
            except ItemDropped as dropped:
                # Unrated is kept, not lost: screening errs on the side of reading a paper.
                self._warn(
                    f"the screener could not rate '{paper.title}' ({dropped.reason}); it was kept"
                )
                return ScreenResult(paper_id=paper.id, relevance=None, reason=dropped.reason)
            return ScreenResult(paper_id=paper.id, relevance=rated.relevance, reason=rated.reason)

        return await self._each(Stage.SCREEN, works, lambda p: p.id, one, ScreenResult)

    async def _fetch(self, works: list[Paper]) -> dict[str, FetchOutcome]:
        literature, store = self.literature, self.paper_store

        async def one(paper: Paper) -> FetchOutcome:
            assert literature is not None  # only papers found online are fetched
            result, _ = await literature.full_text(paper, store)
            return FetchOutcome(paper_id=paper.id, text=result.text, note=result.note)

        done = await self._each(Stage.FETCH, works, lambda p: p.id, one, FetchOutcome)
        return {o.paper_id: o for o in done}

    def _passages(self, corpus: list[PaperText]) -> list[Passage]:
        saved = self.run.load(Stage.LIBRARY, "passages", Passages)
        if saved is None:
            saved = Passages(passages=[p for paper in corpus for p in chunk_paper(paper)])
            self.run.save(Stage.LIBRARY, "passages", saved)
        self._stage(Stage.LIBRARY, len(saved.passages))
        self.library.add(saved.passages)
        for _ in saved.passages:
            self._advance(Stage.LIBRARY)
        return saved.passages

    def _select(
        self, plan: Plan, corpus: list[PaperText], passages: list[Passage]
    ) -> list[Passage]:
        """The passages each paper offers the extractor: nearest to the question and searches."""
        by_id = {p.id: p for p in passages}
        saved = self.run.load(Stage.SELECT, "selection", Selection)
        if saved is None:
            queries = [self.question, *dict.fromkeys(s.query for s in plan.searches)]
            chosen: list[str] = []
            for paper in corpus:
                best: dict[str, float] = {}
                for query in queries:
                    for hit in self.library.search(
                        query, paper_ids=[paper.paper.id], k=self.settings.passages_per_paper
                    ):
                        best[hit.passage_id] = max(best.get(hit.passage_id, -1.0), hit.score)
                ranked = sorted(best, key=lambda pid: (-best[pid], pid))
                chosen += ranked[: self.settings.passages_per_paper]
            saved = Selection(passage_ids=sorted(pid for pid in chosen if pid in by_id))
            self.run.save(Stage.SELECT, "selection", saved)
        return [by_id[pid] for pid in saved.passage_ids]

    async def _extract(self, selected: list[Passage]) -> list[Extraction]:
        async def one(passage: Passage) -> Extraction:
            try:
                found = await extractor.extract(
                    self.models["extractor"],
                    question=self.question,
                    passage=passage,
                    max_claims=self.settings.claims_per_passage,
                )
            except ItemDropped as dropped:
                return Extraction(passage_id=passage.id, claims=[], dropped=dropped.reason)
            return Extraction(
                passage_id=passage.id,
                claims=[
                    ExtractedClaim(text=c.text, quote=c.quote, kind=c.kind) for c in found.claims
                ],
                rejected=found.rejected,
            )

        return await self._each(Stage.EXTRACT, selected, lambda p: p.id, one, Extraction)

    async def _verify(
        self, extractions: list[Extraction], passages: list[Passage], corpus: list[PaperText]
    ) -> list[Verification]:
        by_id = {p.id: p for p in passages}
        paper_ids = None if self.settings.whole_library else sorted(p.paper.id for p in corpus)
        provisional = self._provisional_claims(extractions, by_id)
        in_use = self._calibration().calibration
        stances = await self._stances(provisional)
        answers = answers_by_paper(
            (c.paper_id, s.answer) for c in provisional if (s := stances[c.id])
        )

        def agreeing(claim: Claim) -> frozenset[str]:
            """The other papers that answer the question as `claim` does."""
            own = stances[claim.id]
            if own is None or own.answer not in ("yes", "no"):
                return frozenset()
            return frozenset(p for p, a in answers.items() if a == own.answer) - {claim.paper_id}

        async def one(claim: Claim) -> Verification:
            evidence = self.library.search(
                claim.text,
                paper_ids=paper_ids,
                k=self.settings.evidence_k,
                exclude=[claim.passage_id],
            )
            try:
                verdict = await verifier.verify(
                    self.models["verifier"],
                    claim=claim,
                    evidence=evidence,
                    calibration=in_use,
                    agreeing=agreeing(claim),
                )
            except ItemDropped as dropped:
                return Verification(claim=claim, verdict=None, dropped=dropped.reason)
            verdict = verdict.model_copy(update={"stance": stances[claim.id]})
            return Verification(claim=claim, verdict=verdict)

        return await self._each(Stage.VERIFY, provisional, lambda c: c.id, one, Verification)

    async def _stances(self, claims: list[Claim]) -> dict[str, QuestionStance | None]:
        """Each claim's answer to a yes/no question (None for every claim of another
        question), read before the verifier, which needs the papers' answers."""
        if not judge.is_yes_no(self.question):
            return {c.id: None for c in claims}

        async def one(claim: Claim) -> StanceRead:
            return StanceRead(stance=await self._stance(claim))

        read = await self._each(Stage.STANCE, claims, lambda c: c.id, one, StanceRead)
        return {
            c.id: r.stance for c, r in zip(sorted(claims, key=lambda c: c.id), read, strict=True)
        }

    async def _stance(self, claim: Claim) -> QuestionStance | None:
        """How the claim answers the (yes/no) question; None where the judge cannot say
        (no log-probabilities, or an answer without any of the words)."""
        try:
            judged = await judge.stance(
                self.models["verifier"],
                item=f"{claim.id}|question",
                question=self.question,
                claim=claim.text,
            )
        except ItemDropped:
            return None
        if judged is None:
            return None
        return QuestionStance(answer=judged.best, probability=round(judged.confidence, 4))

    def _calibration(self) -> CalibrationInUse:
        """The verifier model's calibration, fixed for the run at its first verification so
        that a resume or a replay computes the same confidences."""
        saved = self.run.load(Stage.CALIBRATION, "verifier", CalibrationInUse)
        if saved is None:
            endpoint = self.models["verifier"].endpoint
            model = calibration.identity(endpoint.model, endpoint.revision)
            head = judge.verifier_head(self.models["verifier"])
            if head is not None:
                # The head's probabilities are the confidences; a calibration fitted on the
                # older stated judgements does not apply to them.
                saved = CalibrationInUse(model=model, calibration=None, judge=judge.describe(head))
            else:
                saved = CalibrationInUse(model=model, calibration=calibration.find(model))
            self.run.save(Stage.CALIBRATION, "verifier", saved)
        return saved

    @staticmethod
    def _provisional_claims(
        extractions: list[Extraction], passages: dict[str, Passage]
    ) -> list[Claim]:
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

    def _number(
        self, extractions: list[Extraction], verifications: list[Verification]
    ) -> tuple[list[Claim], dict[str, Verdict], list[str]]:
        """Final ids C1…Cm for the verified claims, in provisional-id order."""
        dropped = [f"passage {e.passage_id} ({e.dropped})" for e in extractions if e.dropped]
        dropped += [
            f"a claim from passage {e.passage_id} ({reason})"
            for e in extractions
            for reason in e.rejected
        ]
        claims: list[Claim] = []
        verdicts: dict[str, Verdict] = {}
        for v in sorted(verifications, key=lambda v: v.claim.id):
            if v.verdict is None:
                dropped.append(f'claim "{v.claim.text}" ({v.dropped})')
                continue
            cid = f"C{len(claims) + 1}"
            claims.append(v.claim.model_copy(update={"id": cid}))
            verdicts[cid] = v.verdict.model_copy(update={"claim_id": cid})
        return claims, verdicts, dropped

    async def _write_and_review(
        self,
        claims: list[Claim],
        verdicts: dict[str, Verdict],
        corpus: list[PaperText],
    ) -> tuple[writer.Draft, list[Review], list[Revision]]:
        """Findings, framing, then review rounds; returns the final draft, every review and
        the number of revisions made."""
        titles = {p.paper.id: p.paper.title for p in corpus}
        by_id = {c.id: c for c in claims}
        groups = self._groups(self._claims_for_writer(claims, verdicts), verdicts)

        async def one_finding(item: tuple[int, list[str]]) -> FindingResult:
            number, ids = item
            try:
                return await self._finding(number, [by_id[i] for i in ids], verdicts, titles)
            except ItemDropped as dropped:
                return FindingResult(finding=None, dropped=dropped.reason)

        results = await self._each(
            Stage.FINDINGS,
            list(enumerate(groups, start=1)),
            lambda g: f"finding-{g[0]:02d}",
            one_finding,
            FindingResult,
        )
        findings = [r.finding for r in results if r.finding is not None]
        for r, ids in zip(results, groups, strict=True):
            if r.dropped:
                self._warn(f"no finding was written for claims {', '.join(ids)} ({r.dropped})")
            elif r.unwritten and r.finding is not None:
                self._warn(
                    f"the writer's finding for claims {', '.join(ids)} failed validation "
                    f"({r.unwritten}); it is stated in the words of claim {r.finding.from_claim}"
                )
        self.refused = [line for r in results for line in r.refused]
        if all(r.unwritten or r.finding is None for r in results):
            raise NoFinding(
                "the writer produced no valid finding, so there is no answer to report",
                "resume with a stronger --model (finished stages are kept)",
                findings,
            )

        strengths = [
            finding_strength(f.claim_ids, f.disagreeing_ids, by_id, verdicts) for f in findings
        ]
        self._stage(Stage.WRITE, 1)
        draft = self.run.load(Stage.WRITE, "draft-0", writer.Draft)
        if draft is None:
            try:
                draft = await writer.write_frame(
                    self.models["writer"],
                    question=self.question,
                    findings=findings,
                    strengths=strengths,
                )
            except ItemDropped as dropped:
                raise NoFinding(
                    f"the writer's framing failed validation ({dropped.reason})",
                    "resume with a stronger --model (finished stages are kept)",
                    findings,
                ) from None
            self.run.save(Stage.WRITE, "draft-0", draft)
        self._advance(Stage.WRITE)

        reviews: list[Review] = []
        revisions: list[Revision] = []
        personas = [p for p in reviewer.personas() if p in self.settings.reviewers] or (
            reviewer.personas()
        )
        for round_no in range(self.settings.revision_rounds + 1):
            if round_no and not self.settings.review_revised:
                break  # the revised draft is checked by code alone
            text = writer.draft_text(draft, strengths)

            async def one_review(persona: str, r: int = round_no, text: str = text) -> ReviewResult:
                try:
                    review = await reviewer.review(
                        self.models["reviewer"],
                        persona=persona,
                        round_no=r,
                        question=self.question,
                        draft=text,
                    )
                except ItemDropped as dropped:
                    return ReviewResult(review=None, dropped=dropped.reason)
                return ReviewResult(review=review)

            results = await self._each(
                Stage.REVIEW,
                personas,
                lambda p, r=round_no: f"{p}-{r}",
                one_review,
                ReviewResult,
            )
            for persona, result in zip(personas, results, strict=True):
                if result.dropped:
                    self._warn(
                        f"the {persona.replace('_', ' ')} review of "
                        f"{'the first draft' if round_no == 0 else f'revision {round_no}'} "
                        f"failed validation and is left out ({result.dropped})"
                    )
            round_reviews = [r.review for r in results if r.review is not None]
            reviews += round_reviews
            # Only scores whose justification quotes the draft steer the revision.
            counted = [r for r in round_reviews if r.counted]
            if round_no == self.settings.revision_rounds or all(
                score.score >= self.settings.review_threshold
                for review in counted
                for score in review.scores.values()
                if score.checked
            ):
                break
            asks = revision_requests(counted, self.settings.review_threshold)
            revised = await self._revision(
                f"draft-{round_no + 1}", f"revision {round_no + 1}", draft, asks, strengths
            )
            if revised is None:
                revisions.append(
                    Revision(
                        step=f"revision {round_no + 1}", requests=asks, changed=[], failed=True
                    )
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

    async def _revision(
        self, item: str, step: str, draft: writer.Draft, asks: list[str], strengths: list[str]
    ) -> writer.Draft | None:
        """The writer's revision `item` (checkpointed), or None with a warning when its
        answers failed validation (the draft before it stands)."""
        revised = self.run.load(Stage.WRITE, item, writer.Draft)
        if revised is None:
            try:
                revised = await writer.revise(
                    self.models["writer"],
                    item=item,
                    question=self.question,
                    draft=draft,
                    requests=asks,
                    strengths=strengths,
                )
            except ItemDropped as failed:
                self._warn(f"{step} failed validation ({failed.reason})")
                return None
            self.run.save(Stage.WRITE, item, revised)
        return revised

    async def _answer_beyond(
        self, finding: writer.FindingOut, verdicts: dict[str, Verdict], kind: str
    ) -> str | None:
        """The answer to a yes/no question ("yes" or "no") that the writer's statement gives
        and none of the claims it rests on gives; None when it gives none of its own. A
        statement that adds "warmup stabilises training" to a claim about clipping takes a
        side its claims do not, and the papers counted against that side go unmentioned."""
        if not judge.is_yes_no(self.question):
            return None
        side = await checks.answer_given(
            self.models["verifier"], text=finding.statement, question=self.question, kind=kind
        )
        given = {
            stance.answer
            for c in finding.claim_ids
            if c in verdicts and (stance := verdicts[c].stance) is not None
        }
        return side if side in ("yes", "no") and side not in given else None

    async def _finding(
        self, number: int, group: list[Claim], verdicts: dict[str, Verdict], titles: dict[str, str]
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
        for suffix in ("", "-again"):
            try:
                finding = await writer.write_finding(
                    self.models["writer"],
                    number=number,
                    question=self.question,
                    claims=group,
                    verdicts=verdicts,
                    titles=titles,
                    refused=reason,
                )
            except ItemDropped as dropped:
                unwritten = dropped.reason
                break
            check = await checks.check_statement(
                self.models["verifier"],
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
                answered = await self._answer_beyond(finding, verdicts, kind)
                if answered:
                    refused.append(
                        f'finding {number}: "{finding.statement}" was not used because it '
                        f"answers the question {answered} and none of "
                        f"{', '.join(finding.claim_ids)} does"
                    )
                    break
                others = [c.id for c in group if c.id not in finding.claim_ids]
                return FindingResult(
                    finding=finding.model_copy(
                        update={"disagreeing_ids": check.contradicting(others)}
                    ),
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
                refused.append(
                    f'finding {number}: "{finding.statement}" was not used because {said}'
                )
                break
            refused.append(
                f'finding {number}: "{finding.statement}" was refused because '
                f"{', '.join(against)} say{'s' if len(against) == 1 else ''} the opposite"
            )
            reason = checks.refusal(finding.statement, against, texts)
        # The writer could not state it, or stated what its claims do not: the finding is one
        # claim in its own words, resting also on the claims that support it.
        own = in_own_words(group, verdicts)
        check = await checks.check_statement(
            self.models["verifier"],
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

    def _groups(self, claims: list[Claim], verdicts: dict[str, Verdict]) -> list[list[str]]:
        saved = self.run.load(Stage.WRITE, "groups", Groups)
        if saved is None:
            embedder = self.library.embedder
            vectors = embedder.embed([c.text for c in claims])
            decisive = {c.id for c in claims if verdicts[c.id].label != Label.INSUFFICIENT}
            saved = Groups(
                groups=group_claims(
                    [c.id for c in claims],
                    vectors,
                    embedder.embed([self.question])[0],
                    decisive,
                    max_groups=self.settings.max_findings,
                    partition=[side_of(verdicts[c.id]) for c in claims],
                )
            )
            self.run.save(Stage.WRITE, "groups", saved)
        return saved.groups

    def _claims_for_writer(self, claims: list[Claim], verdicts: dict[str, Verdict]) -> list[Claim]:
        """The strongest claims when there are more than the writer can take, in id order."""
        limit = self.settings.writer_max_claims
        if len(claims) <= limit:
            return claims
        rank = {Label.SUPPORTED: 0, Label.CONTRADICTED: 0, Label.INSUFFICIENT: 1}
        best = sorted(
            claims,
            key=lambda c: (rank[verdicts[c.id].label], -verdicts[c.id].confidence, int(c.id[1:])),
        )[:limit]
        return sorted(best, key=lambda c: int(c.id[1:]))

    # Helpers -----------------------------------------------------------------------------------

    async def _each(
        self,
        stage: Stage,
        items: Iterable[Any],
        key: Callable[[Any], str],
        work: Callable[[Any], Awaitable[M]],
        model: type[M],
        keep: Callable[[M], bool] = lambda _: True,
    ) -> list[M]:
        """Run `work` on every item not yet checkpointed, concurrently, in id order; a result
        that `keep` refuses is used but not checkpointed, so a resume tries it again."""
        ordered = sorted(items, key=key)
        if not ordered:
            return []  # no progress bar for a stage with nothing to do
        self._stage(stage, len(ordered))
        results: dict[str, M] = {}
        todo = []
        for item in ordered:
            saved = self.run.load(stage, key(item), model)
            if saved is None:
                todo.append(item)
            else:
                results[key(item)] = saved
                self._advance(stage)

        async def run_one(item: Any) -> None:
            value = await work(item)
            if keep(value):
                self.run.save(stage, key(item), value)
            results[key(item)] = value
            self._advance(stage)

        tasks = [asyncio.ensure_future(run_one(item)) for item in todo]
        try:
            await asyncio.gather(*tasks)
        except BudgetReached:
            # Calls already sent are paid for: let them finish and be checkpointed. Every
            # task not yet sent stops at its own budget check.
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        return [results[key(item)] for item in ordered]

    @contextlib.contextmanager
    def _timed(self, stage: Stage) -> Iterator[None]:
        """Add the stage's time in this process to run.json's timings (summed over resumes)."""
        started = time.monotonic()
        try:
            yield
        finally:
            record = self.run.read_record()
            timings = record.get("timings", {})
            timings[stage] = round(timings.get(stage, 0.0) + time.monotonic() - started, 2)
            self.run.update_record(timings=timings)

    def _stage(self, name: Stage, total: int) -> None:
        self.progress[name] = [0, total]
        self.ui.stage(name, total)

    def _advance(self, name: Stage) -> None:
        self.progress[name][0] += 1
        self.ui.advance(name)

    def _warn(self, message: str) -> None:
        record = self.run.read_record()
        if message not in record.get("warnings", []):
            self.run.update_record(warnings=[*record.get("warnings", []), message])
        self.ui.warn(message)
