"""Terminal output: a progress bar per stage while a run works, a summary when it ends."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from synth.domain.records import Report
from synth.domain.stages import Stage
from synth.domain.text import plural

err_console = Console(stderr=True)
out_console = Console()


class StageProgress:
    """One progress bar per stage (the session's `Ui`)."""

    def __init__(self, console: Console = err_console) -> None:
        self.console = console
        self._progress = Progress(
            TextColumn("{task.description:<22}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self._tasks: dict[str, int] = {}

    def __enter__(self) -> StageProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def stage(self, name: Stage, total: int) -> None:
        if name in self._tasks:
            self._progress.update(self._tasks[name], total=total, completed=0)
            return
        self._tasks[name] = self._progress.add_task(name.label or str(name), total=total)

    def advance(self, name: Stage) -> None:
        self._progress.advance(self._tasks[name])

    def warn(self, message: str) -> None:
        warn_line(message, self._progress.console)


def print_summary(report: Report, run_path: Path, console: Console = out_console) -> None:
    s = report.stats
    table = Table(title=f"synth: {report.title}", show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value", overflow="fold")
    table.add_row("question", report.question)
    left_out = f"{s.papers_screened_out} left out, " if s.papers_screened_out else ""
    abstracts = report.screening.abstract_only
    read = f" ({abstracts} from the abstract only)" if abstracts else ""
    table.add_row(
        "papers",
        f"{s.papers_found} found, {left_out}{s.papers_included} included{read}, "
        f"{s.papers_cited} cited",
    )
    table.add_row("passages", str(s.passages))
    table.add_row("claims", f"{s.claims} ({plural(s.dropped, 'item')} dropped)")
    table.add_row(
        "verdicts",
        f"{s.supported} supported, {s.contradicted} contradicted, {s.insufficient} insufficient",
    )
    by_reviewer: dict[str, list[str]] = {}
    for r in report.reviews:
        # As in the report: a review none of whose scores quoted the draft has no score.
        shown = f"{r.overall:.1f}" if r.counted or r.measured else "not counted"
        by_reviewer.setdefault(r.reviewer.replace("_", " "), []).append(shown)
    reviews = ", ".join(f"{name} {' → '.join(scores)}" for name, scores in by_reviewer.items())
    table.add_row("review scores", reviews or "none")
    table.add_row("model calls", f"{s.calls} ({s.tokens_in} tokens in, {s.tokens_out} out)")
    table.add_row("cost", f"${s.cost_usd:.4f}")
    table.add_row("wall time", f"{s.wall_s:.1f} s")
    failed = [line for line in report.lint if line.startswith("FAIL")]
    table.add_row("report checks", "all passed" if not failed else "; ".join(failed))
    console.print(table)
    console.print(f"report: {run_path / 'report.md'}", soft_wrap=True, highlight=False)


def warn_line(message: str, console: Console = err_console) -> None:
    """A warning on one line (above a progress display when given its console)."""
    console.print(f"[yellow]warning:[/yellow] {message}", highlight=False)
