"""The session: runs the stages in order, each item checkpointed, resuming where it stopped.

question → plan → papers → passages (library) → selection → each paper's answer (a yes/no
question) → claims → verdicts → draft → reviews → revision → report. Every stage orders its
items by id before it calls a model, and a finished item is read back from its checkpoint
instead of being asked again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from synth.agents import writer
from synth.domain.errors import BudgetReached, CheckFailed
from synth.domain.records import Report
from synth.domain.stages import Stage
from synth.pipeline.checking import checked_report, run_facts
from synth.pipeline.checkpoints import Extraction
from synth.pipeline.claims import (
    cut_passages,
    extract_claims,
    merged,
    number_claims,
    stated_claims,
    verify_claims,
)
from synth.pipeline.context import RunContext, Ui  # noqa: F401 (Ui: what a caller passes)
from synth.pipeline.gather import gather, make_plan
from synth.pipeline.reading import extraction_passages, read_papers, select
from synth.pipeline.writing import NoFinding, write_and_review
from synth.report import render
from synth.report.build import build_report
from synth.report.partial import partial_report
from synth.store.chunking import normalise

AGENTS = ("planner", "screener", "extractor", "verifier", "writer", "reviewer")


@dataclass
class Session(RunContext):
    """One run's stages in order over its context."""

    async def execute(self) -> Report:
        self.run.on_damaged = lambda path: self.warn(
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
        with self.timed(Stage.PLAN):
            plan = await make_plan(self)
        with self.timed(Stage.SEARCH):
            gathered = await gather(self, plan)
        corpus = gathered.papers
        with self.timed(Stage.LIBRARY):
            passages = await cut_passages(self, corpus)
            selection = await select(self, plan, corpus, passages)
        with self.timed(Stage.STANCE):
            placements = await read_papers(self, selection, corpus)
        by_id = {p.id: p for p in passages}
        stated: list[Extraction] = []
        if self.settings.retrieval.claims_from == "sentences" and selection.candidates:
            stated, to_extract = stated_claims(selection.candidates, by_id)
        else:
            per_paper = self.settings.retrieval.passages_per_paper
            to_extract = extraction_passages(selection, placements, per_paper)
        selected = [by_id[p] for p in to_extract]
        with self.timed(Stage.EXTRACT):
            extractions = merged(stated, await extract_claims(self, selected))
        with self.timed(Stage.VERIFY):
            verifications = await verify_claims(
                self, extractions, passages, corpus, placements, selection.off_topic
            )
        claims, verdicts, dropped = number_claims(self, extractions, verifications)
        own_words = {normalise(c.text) for e in stated for c in e.claims}
        read = {
            "placements": placements,
            "off_topic": selection.off_topic,
            "stated": sum(normalise(c.text) in own_words for c in claims),
        }
        if not claims:
            raise CheckFailed(
                "no claim survived extraction and verification, so there is nothing to report",
                "check the corpus and the question, or try a stronger --model",
            )
        with self.timed(Stage.WRITE):
            try:
                draft, reviews, revisions = await write_and_review(
                    self, claims, verdicts, corpus, placements
                )
            except NoFinding as failed:
                # What the run established still reaches the user: claims, verdicts and
                # references, under a report that says no finding could be written.
                facts = run_facts(
                    self, gathered, passages, selected, claims, verdicts, dropped, **read
                )
                facts.unwritten = self.refused
                unwritten = writer.without_framing(failed.what, failed.findings)
                report = build_report(replace(facts, draft=unwritten))
                self.run.write_outputs(render.outputs(report))
                raise CheckFailed(
                    f"{failed.what}; report.md lists the claims, their verdicts and the references",
                    failed.todo,
                ) from None
            facts = run_facts(self, gathered, passages, selected, claims, verdicts, dropped, **read)
            facts.unwritten = self.refused
            return await checked_report(
                self, replace(facts, draft=draft, reviews=reviews, revisions=revisions)
            )
