"""One run from start to end, the same for `run`, `resume`, `batch` and `replay`: the session
over its opened parts, and the run's record kept (status, wall time summed over resumes, the
error that stopped it) with its outputs written once it is complete."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from synth.app import config
from synth.app.parts import open_literature, open_models, paper_store_for, response_cache
from synth.app.ui import StageProgress, print_summary
from synth.domain.errors import BudgetReached, Interrupted, SynthError, Unreachable
from synth.domain.records import PaperText, Report
from synth.domain.settings import RunSettings
from synth.model.endpoint import Endpoint
from synth.model.llm import Model
from synth.pipeline.session import Session, Ui
from synth.report import render
from synth.sources.literature import Literature
from synth.store.cache import ResponseCache
from synth.store.library import Library
from synth.store.papers import PaperStore
from synth.store.runs import RunFolder

CorpusLoader = Callable[[], list[PaperText]]


@dataclass
class Shared:
    """What the runs of one process share: the library and the response cache, and in a batch
    the model endpoint and the bound on model calls in flight."""

    library: Library
    cache: ResponseCache | None
    base: Endpoint | None = None
    calls: asyncio.Semaphore | None = None


def new_run(settings: RunSettings, question: str, status: str = "running") -> RunFolder:
    now = datetime.now(timezone.utc)
    run = RunFolder.create(Path(settings.paths.runs_dir), question, now)
    run.write_record(
        {
            "id": run.id,
            "question": question,
            "created": now.strftime("%Y-%m-%d %H:%M UTC"),
            "settings": config.settings_record(settings),
            "status": status,
            "warnings": [],
            "wall_s": 0.0,
        }
    )
    return run


async def session_report(
    run: RunFolder,
    settings: RunSettings,
    question: str,
    models: dict[str, Model],
    library: Library,
    ui: Ui,
    corpus: CorpusLoader,
    *,
    literature: Literature | None = None,
    paper_store: PaperStore | None = None,
    origin: RunFolder | None = None,
) -> Report:
    """The session's report. `literature` and `paper_store` serve the online sources; a
    replay passes the run it reads as `origin`."""
    session = Session(
        run,
        settings,
        question,
        models,
        library,
        ui,
        local_papers=corpus,
        literature=literature,
        paper_store=paper_store,
        origin=origin,
    )
    return await session.execute()


async def execute(
    run: RunFolder,
    settings: RunSettings,
    question: str,
    corpus: CorpusLoader,
    shared: Shared,
    ui: Ui,
) -> Report:
    """Run the session in `run` and keep its record: the status it ended in and its wall time,
    whether it completed, failed, ran out of budget or was interrupted."""
    started = time.monotonic()
    try:
        async with (
            open_models(
                settings, run, shared.cache, base=shared.base, semaphore=shared.calls
            ) as models,
            open_literature(settings) as literature,
        ):
            report = await session_report(
                run,
                settings,
                question,
                models,
                shared.library,
                ui,
                corpus,
                literature=literature,
                paper_store=paper_store_for(shared.library.location),
            )
    except SynthError as error:
        finish(run, started, ended_as(error), error.line())
        raise
    except (asyncio.CancelledError, KeyboardInterrupt):
        finish(run, started, "interrupted")
        raise
    report.stats.wall_s = round(finish(run, started, "running"), 1)
    complete(run, report)
    return report


def run_to_end(
    run: RunFolder, settings: RunSettings, question: str, corpus: CorpusLoader, library: Library
) -> int:
    """`synth run` and `synth resume`: one run with a progress display; its summary printed."""
    with response_cache(settings) as cache:
        try:
            with StageProgress() as progress:
                report = asyncio.run(
                    execute(run, settings, question, corpus, Shared(library, cache), progress)
                )
        except KeyboardInterrupt:
            raise Interrupted("interrupted", f"run `synth resume {run.path}` to continue") from None
        except Unreachable as error:
            raise Unreachable(error.what, f"{error.todo}: synth resume {run.path}") from None
    print_summary(report, run.path)
    return 0


def ended_as(error: SynthError) -> str:
    """The status a run that stopped on `error` is left in."""
    return "budget reached" if isinstance(error, BudgetReached) else "failed"


def complete(run: RunFolder, report: Report) -> None:
    """Write the report's outputs into the run folder and mark the run complete."""
    run.write_outputs(render.outputs(report))
    run.update_record(status="complete")


def finish(run: RunFolder, started: float, status: str, error: str | None = None) -> float:
    """Add this process's time to run.json's wall time and set the status; return the total."""
    record = run.read_record()
    record["wall_s"] = round(float(record.get("wall_s", 0.0)) + time.monotonic() - started, 2)
    record["status"] = status
    record["error"] = error
    run.write_record(record)
    return float(record["wall_s"])
