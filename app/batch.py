"""`synth batch QUESTIONS.txt --parallel N`: many questions, one process.

The runs are tasks on one event loop. They share the library (an embedded Chroma store is not
safe across processes), the response cache, the model endpoint (the embedded model is started
once) and one bound on model calls in flight; `--parallel` bounds how many runs work at once.
Every question gets its run folder before any work starts, so a question that fails can be
resumed alone with `synth resume RUN`; its failure does not stop the others.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from rich.live import Live
from rich.table import Table

from synth.app import config
from synth.app.lifecycle import Shared, ended_as, execute, new_run
from synth.app.parts import model_endpoint, response_cache
from synth.app.ui import err_console, out_console
from synth.domain.errors import BadInput, SynthError
from synth.domain.records import PaperText, Report
from synth.domain.settings import RunSettings
from synth.domain.stages import Stage
from synth.store.library import Library
from synth.store.runs import RunFolder


def read_questions(path: Path) -> list[str]:
    """One question per line; blank lines and lines starting with # are skipped. Every line
    is checked before any run folder is made."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise BadInput(
            f"cannot read the questions file {path} ({getattr(error, 'strerror', None) or error})",
            "pass a UTF-8 text file with one question per line",
        ) from None
    questions = []
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            questions.append(config.check_question(line))
        except BadInput as error:
            raise BadInput(f"{path}, line {number}: {error.what}", error.todo) from None
    if not questions:
        raise BadInput(f"{path} holds no question", "write one research question per line")
    return questions


@dataclass
class Row:
    """One question's state, shown in the live table and the summary."""

    question: str
    run: RunFolder
    status: str = "waiting"
    stage: Stage | None = None
    done: int = 0
    total: int = 0
    warnings: int = 0
    report: Report | None = None
    error: str | None = None
    exit_code: int = 0


@dataclass
class Board:
    """The live table of a batch; each run's session reports to it through its RowUi."""

    rows: list[Row]
    live: Live | None = None

    def render(self) -> Table:
        table = Table(title=f"synth batch: {len(self.rows)} questions", title_justify="left")
        for column in ("#", "question", "status", "stage", "progress", "warnings"):
            table.add_column(column, overflow="fold")
        for i, row in enumerate(self.rows, start=1):
            progress = f"{row.done}/{row.total}" if row.total else ""
            table.add_row(
                str(i),
                row.question[:60] + ("…" if len(row.question) > 60 else ""),
                row.status,
                (row.stage.label or str(row.stage)) if row.stage else "",
                progress,
                str(row.warnings or ""),
            )
        return table

    def refresh(self) -> None:
        if self.live is not None:
            self.live.update(self.render())


@dataclass
class RowUi:
    """The session's `Ui` for one run of a batch."""

    board: Board
    row: Row

    def stage(self, name: Stage, total: int) -> None:
        self.row.stage, self.row.done, self.row.total = name, 0, total
        self.board.refresh()

    def advance(self, name: Stage) -> None:
        self.row.done += 1
        self.board.refresh()

    def warn(self, message: str) -> None:
        self.row.warnings += 1
        self.board.refresh()


async def run_all(
    rows: list[Row],
    settings: RunSettings,
    library: Library,
    corpus: list[PaperText],
    parallel: int,
    board: Board,
) -> None:
    runs = asyncio.Semaphore(parallel)
    with response_cache(settings) as cache:
        async with model_endpoint(settings) as base:
            # One endpoint, and one bound on model calls in flight, for all the runs.
            shared = Shared(library, cache, base, asyncio.Semaphore(settings.model.concurrency))

            async def one(row: Row) -> None:
                async with runs:
                    await run_one(row, settings, corpus, board, shared)

            await asyncio.gather(*(one(row) for row in rows))


async def run_one(
    row: Row, settings: RunSettings, corpus: list[PaperText], board: Board, shared: Shared
) -> None:
    row.status = "running"
    row.run.update_record(status="running")
    board.refresh()
    try:
        report = await execute(
            row.run, settings, row.question, lambda: corpus, shared, RowUi(board, row)
        )
    except SynthError as error:
        row.status, row.error, row.exit_code = ended_as(error), error.line(), error.exit_code
    except asyncio.CancelledError:
        row.status = "interrupted"
        raise
    else:
        row.status, row.report = "complete", report
    finally:
        board.refresh()


def summary(rows: list[Row]) -> Table:
    table = Table(title="synth batch summary", title_justify="left")
    columns = ("run", "status", "papers", "claims", "S/C/I", "review", "tokens", "cost")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        r = row.report
        if r is None:
            table.add_row(row.run.id, row.error or row.status, "", "", "", "", "", "")
            continue
        s = r.stats
        last = max((v.round for v in r.reviews), default=0)
        scores = [v.overall for v in r.reviews if v.round == last]
        table.add_row(
            row.run.id,
            row.status,
            str(s.papers_included),
            str(s.claims),
            f"{s.supported}/{s.contradicted}/{s.insufficient}",
            f"{min(scores):.1f}–{max(scores):.1f}" if scores else "",
            str(s.tokens_in + s.tokens_out),
            f"${s.cost_usd:.4f}",
        )
    return table


def run_batch(
    questions: list[str],
    settings: RunSettings,
    library: Library,
    corpus: list[PaperText],
    parallel: int,
) -> int:
    rows = [Row(q, new_run(settings, q, status="waiting")) for q in questions]
    board = Board(rows)
    try:
        with Live(board.render(), console=err_console, refresh_per_second=4) as live:
            board.live = live
            asyncio.run(run_all(rows, settings, library, corpus, parallel, board))
    except KeyboardInterrupt:
        for row in rows:
            if row.status in ("waiting", "running"):
                row.run.update_record(status="interrupted")
        raise
    out_console.print(summary(rows))
    failed = [row for row in rows if row.status != "complete"]
    done = len(rows) - len(failed)
    if not failed:
        err_console.print(f"all {len(rows)} questions complete", highlight=False)
        return 0
    for row in failed:
        err_console.print(
            f"synth: {row.run.id}: {row.error or row.status}; resume it alone with "
            f"synth resume {row.run.path}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    err_console.print(f"{done} of {len(rows)} questions complete", highlight=False)
    return max(row.exit_code for row in failed) or 1
