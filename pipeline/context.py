"""What every stage of a run works with: the run folder, settings, question, models, library and
sources, and the way a stage runs its items (checkpointed, concurrent, in id order, with
progress and its time in run.json)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel

from synth.domain import stages
from synth.domain.errors import BudgetReached
from synth.domain.records import PaperText
from synth.domain.settings import RunSettings
from synth.domain.stages import Stage
from synth.model.llm import Model
from synth.sources.literature import Literature
from synth.store.library import Library
from synth.store.papers import PaperStore
from synth.store.runs import RunFolder


class Ui(Protocol):
    def stage(self, name: Stage, total: int) -> None: ...
    def advance(self, name: Stage) -> None: ...
    def warn(self, message: str) -> None: ...


M = TypeVar("M", bound=BaseModel)


@dataclass
class RunContext:
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

    async def each(
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
        self.stage(stage, len(ordered))
        results: dict[str, M] = {}
        todo = []
        for item in ordered:
            saved = self.run.load(stage, key(item), model)
            if saved is None:
                todo.append(item)
            else:
                results[key(item)] = saved
                self.advance(stage)

        async def run_one(item: Any) -> None:
            value = await work(item)
            if keep(value):
                await self.save(stage, key(item), value)
            results[key(item)] = value
            self.advance(stage)

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

    async def save(self, stage: Stage, item: str, value: BaseModel) -> None:
        """Checkpoint `value`, off the event loop: its fsync waits for the disk, not for the
        model calls in flight."""
        await asyncio.to_thread(self.run.save, stage, item, value)

    @contextlib.contextmanager
    def timed(self, stage: Stage) -> Iterator[None]:
        """Add the stage's time in this process to run.json's timings (summed over resumes)."""
        started = time.monotonic()
        try:
            yield
        finally:
            record = self.run.read_record()
            timings = record.get("timings", {})
            timings[stage] = round(timings.get(stage, 0.0) + time.monotonic() - started, 2)
            self.run.update_record(timings=timings)

    def stage(self, name: Stage, total: int) -> None:
        self.working_on(name)
        self.progress[name] = [0, total]
        self.ui.stage(name, total)

    def working_on(self, name: Stage) -> None:
        """The stage that model calls from here on (and from tasks started here) record."""
        stages.CURRENT.set(name)

    def advance(self, name: Stage) -> None:
        self.progress[name][0] += 1
        self.ui.advance(name)

    def warn(self, message: str) -> None:
        record = self.run.read_record()
        if message not in record.get("warnings", []):
            self.run.update_record(warnings=[*record.get("warnings", []), message])
        self.ui.warn(message)
