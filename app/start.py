"""Commands that start or continue runs: run (or its dry-run estimate), resume and batch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from synth.app import config
from synth.app.checks import (
    check_offline,
    check_sources,
    load_corpus,
    network_sources,
    uses_local_model,
)
from synth.app.inspect import read_report, table
from synth.app.lifecycle import new_run, run_to_end
from synth.app.parts import open_library
from synth.app.ui import err_console
from synth.domain.errors import BadInput
from synth.domain.records import PaperText
from synth.domain.settings import RunSettings
from synth.domain.text import plural
from synth.model.endpoint import OPENAI_URL
from synth.store.chunking import chunk_paper
from synth.store.runs import RunFolder


def start(question_text: str, flags: dict[str, Any], dry: bool, pdf: bool) -> int:
    """`synth run`: a new run of the question, or with `dry` its estimate only."""
    question = config.check_question(question_text)
    settings = config.resolve(flags)
    check_sources(settings)
    check_offline(settings)
    corpus = load_corpus(settings)  # bad input is found before a run folder exists
    if dry:
        return dry_run(settings, corpus)
    # The library is opened (locked, checked) before the run folder exists: a busy or damaged
    # library is bad input, which leaves no run folder behind.
    with open_library(settings) as library:
        run = new_run(settings, question)
        err_console.print(f"run folder: {run.path}")
        code = run_to_end(run, settings, question, lambda: corpus, library)
    return with_pdf(run, code, pdf)


def with_pdf(run: RunFolder, code: int, wanted: bool) -> int:
    """`--pdf`: the typeset report beside report.md, once the run is complete."""
    if code == 0 and wanted:
        from synth.report.pdf import to_pdf

        path = run.write_output("report.pdf", to_pdf(read_report(run)))
        err_console.print(f"pdf: {path}", soft_wrap=True, highlight=False)
    return code


def dry_run(settings: RunSettings, corpus: list[PaperText]) -> int:
    """The estimate of what the run would spend; nothing is asked, no run folder is made."""
    from synth.report.estimate import estimate

    online = len(network_sources(settings))
    papers = len(corpus) + (settings.literature.max_papers if online else 0)
    passages = None if online else sum(len(chunk_paper(p)) for p in corpus)
    local = uses_local_model(settings)
    url = "http://127.0.0.1/v1" if local else settings.model.base_url or OPENAI_URL
    rows = estimate(
        settings,
        papers=papers,
        passages=passages,
        online_sources=online,
        model=settings.model.model,
        base_url=url,
    )

    def money(value: float | None) -> str:
        return "unpriced" if value is None else f"${value:.4f}"

    total_cost = (
        None if any(r.cost_usd is None for r in rows) else sum(r.cost_usd or 0.0 for r in rows)
    )
    table(
        f"synth dry run: at most, before re-asks ({plural(papers, 'paper')})",
        ["stage", "calls", "tokens in", "tokens out", "cost"],
        [[r.stage, r.calls, r.tokens_in, r.tokens_out, money(r.cost_usd)] for r in rows]
        + [
            [
                "total",
                sum(r.calls for r in rows),
                sum(r.tokens_in for r in rows),
                sum(r.tokens_out for r in rows),
                money(total_cost),
            ]
        ],
    )
    return 0


def batch(questions_file: str, flags: dict[str, Any], dry: bool, parallel: int) -> int:
    from synth.app.batch import read_questions, run_batch

    settings = config.resolve(flags)
    check_sources(settings)
    check_offline(settings)
    if dry:
        raise BadInput("--dry-run estimates one run", "use synth run QUESTION --dry-run")
    if parallel < 1:
        raise BadInput(f"--parallel {parallel} is not a positive number", "use 1 or more")
    questions = read_questions(Path(questions_file))
    corpus = load_corpus(settings)
    with open_library(settings) as library:
        return run_batch(questions, settings, library, corpus, parallel)


def resume(run_ref: str, flags: dict[str, Any], dry: bool, pdf: bool) -> int:
    if dry:  # an estimate of a new run; a resume would spend tokens instead
        raise BadInput("--dry-run estimates a new run", "use synth run QUESTION --dry-run")
    run = RunFolder.find(run_ref, config.runs_dir(flags.get("runs_dir")))
    record = run.read_record()
    settings = config.resolve(flags, base=record.get("settings", {}))
    check_sources(settings)  # the same checks as `synth run`, for flags given to the resume
    check_offline(settings)
    with open_library(settings) as library:
        run.update_record(settings=config.settings_record(settings), status="running")
        err_console.print(f"resuming {run.path}")
        code = run_to_end(run, settings, record["question"], lambda: load_corpus(settings), library)
    return with_pdf(run, code, pdf)
