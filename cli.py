"""The `synth` command line.

Every failure the user can act on is a `SynthError` and ends as one line on stderr with the
exit code of DESIGN "Exit codes"; nothing here prints a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any, NoReturn

from synth import __version__, urls
from synth.app import config
from synth.app.checks import (
    check_offline,
    check_sources,
    load_corpus,
    network_sources,
    uses_local_model,
)
from synth.app.lifecycle import new_run, run_to_end
from synth.app.parts import open_library, open_literature, paper_store
from synth.app.ui import err_console, out_console, warn_line
from synth.domain.errors import BadInput, Interrupted, SynthError, Unreachable
from synth.domain.records import PaperText, Report
from synth.domain.settings import Price, RunSettings
from synth.domain.stages import Stage
from synth.model.endpoint import OPENAI_URL, Endpoint
from synth.pipeline.session import AGENTS
from synth.report import render
from synth.report.build import plural
from synth.sources.http import HttpCache
from synth.sources.literature import KNOWN_SOURCES
from synth.store import paths
from synth.store.cache import ResponseCache
from synth.store.chunking import chunk_paper
from synth.store.runs import RunFolder, write_atomic
from synth.store.transcript import read_transcript


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise BadInput(f"{message}", f"see `{self.prog} --help`")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="synth", description="Research question in, cited synthesis out.")
    parser.add_argument("--version", action="version", version=f"synth {__version__}")
    verbs = parser.add_subparsers(dest="verb", required=True, parser_class=_Parser)

    run = verbs.add_parser("run", help="answer a research question from the literature")
    run.add_argument("question")
    _run_flags(run)
    run.set_defaults(handler=cmd_run)

    batch = verbs.add_parser(
        "batch", help="answer many questions (one per line of a file) in one process"
    )
    batch.add_argument("questions", metavar="QUESTIONS.txt")
    batch.add_argument(
        "--parallel", type=int, default=2, metavar="N", help="runs at once (default 2)"
    )
    _run_flags(batch)
    batch.set_defaults(handler=cmd_batch)

    resume = verbs.add_parser("resume", help="finish an interrupted run")
    resume.add_argument("run", metavar="RUN", help="run folder or id")
    _run_flags(resume)
    resume.set_defaults(handler=cmd_resume)

    ingest = verbs.add_parser(
        "ingest", help="add papers to the library: a folder or file, or a search query"
    )
    ingest.add_argument("target", metavar="PATH|QUERY")
    _source_flags(ingest)
    ingest.add_argument("--store", help="library folder, or http://host:port for a Chroma server")
    _embedding_flags(ingest)
    ingest.add_argument("--no-cache", dest="cache", action="store_false", default=None)
    ingest.add_argument("--offline", action="store_true", default=None)
    ingest.set_defaults(handler=cmd_ingest)

    replay = verbs.add_parser(
        "replay", help="re-run a finished run from its transcript and compare the report"
    )
    replay.add_argument("run", metavar="RUN", help="run folder or id")
    replay.add_argument("--runs-dir", dest="runs_dir", help="where run folders are (./runs)")
    replay.set_defaults(handler=cmd_replay)

    export = verbs.add_parser("export", help="write a run's report in another format")
    export.add_argument("run", metavar="RUN", help="run folder or id")
    export.add_argument("--format", required=True, choices=sorted(EXPORTS), dest="fmt")
    export.add_argument("-o", "--output", help="file to write, or - for standard output")
    export.add_argument("--runs-dir", dest="runs_dir", help="where run folders are (./runs)")
    export.set_defaults(handler=cmd_export)

    runs = verbs.add_parser("runs", help="the run history")
    runs.add_argument("--runs-dir", dest="runs_dir", help="where run folders are (./runs)")
    runs.add_argument("--json", action="store_true", help="print JSON for scripts")
    runs.set_defaults(handler=cmd_runs)

    audit = verbs.add_parser("audit", help="what the agents did in a run, call by call")
    audit.add_argument("run", metavar="RUN", help="run folder or id")
    which = audit.add_mutually_exclusive_group()
    which.add_argument("--call", type=int, metavar="K", help="print call K in full")
    which.add_argument("--claim", metavar="N", help="print the evidence trail of claim N")
    audit.add_argument("--runs-dir", dest="runs_dir", help="where run folders are (./runs)")
    audit.add_argument("--json", action="store_true", help="print JSON for scripts")
    audit.set_defaults(handler=cmd_audit)

    diff = verbs.add_parser("diff", help="what changed between two runs")
    diff.add_argument("run_a", metavar="RUN_A")
    diff.add_argument("run_b", metavar="RUN_B")
    diff.add_argument("--runs-dir", dest="runs_dir", help="where run folders are (./runs)")
    diff.add_argument("--json", action="store_true", help="print JSON for scripts")
    diff.set_defaults(handler=cmd_diff)

    models = verbs.add_parser("models", help="list the model endpoints and check them")
    models.add_argument("--model", help="model name to check")
    models.add_argument("--base-url", dest="base_url", help="endpoint to check")
    models.add_argument("--api-key-env", dest="api_key_env", metavar="NAME")
    models.set_defaults(handler=cmd_models)

    cache = verbs.add_parser("cache", help="response cache: info or clear")
    cache.add_argument("action", choices=["info", "clear"])
    cache.set_defaults(handler=cmd_cache)
    return parser


def _year(value: str) -> int:
    if not value.isdigit() or not 1900 <= int(value) <= 2100:
        raise argparse.ArgumentTypeError(f"'{value}' is not a year such as 2019")
    return int(value)


def _source_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sources",
        help=f"comma-separated, from {','.join(KNOWN_SOURCES)} (default: local with --corpus, "
        "else arxiv,openalex,s2)",
    )
    parser.add_argument("--since", type=_year, help="only papers from this year on")
    parser.add_argument("--until", type=_year, help="only papers up to this year")
    parser.add_argument(
        "--max-papers", dest="max_papers", type=int, help="cap on papers kept after screening"
    )
    parser.add_argument(
        "--arxiv-category",
        dest="arxiv_categories",
        action="append",
        metavar="CAT",
        help="arXiv category such as cs.LG; repeatable",
    )


def _embedding_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--embeddings",
        metavar="URL",
        help="OpenAI-compatible embeddings endpoint (…/v1) instead of the offline model; "
        "key in SYNTH_EMBEDDINGS_API_KEY",
    )
    parser.add_argument(
        "--embedding-model", dest="embedding_model", metavar="NAME", help="its model name"
    )


def _run_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", help="folder of .pdf/.md/.txt papers")
    _source_flags(parser)
    parser.add_argument("--model", help="model name, or 'local' for the embedded model")
    parser.add_argument("--base-url", dest="base_url", help="OpenAI-compatible endpoint")
    parser.add_argument(
        "--api-key-env",
        dest="api_key_env",
        metavar="NAME",
        help="environment variable holding the API key (default SYNTH_API_KEY, OPENAI_API_KEY)",
    )
    parser.add_argument(
        "--agent-model",
        dest="agent_model",
        action="append",
        metavar="AGENT=NAME",
        help=f"model for one agent ({', '.join(AGENTS)}); repeatable",
    )
    parser.add_argument("--store", help="library folder, or http://host:port for a Chroma server")
    _embedding_flags(parser)
    parser.add_argument("--runs-dir", dest="runs_dir", help="where run folders go (./runs)")
    parser.add_argument("--no-cache", dest="cache", action="store_false", default=None)
    parser.add_argument(
        "--offline",
        action="store_true",
        default=None,
        help="refuse any connection that is not to 127.0.0.1",
    )
    parser.add_argument("--concurrency", type=int, help="model calls at once")
    parser.add_argument(
        "--review-threshold",
        dest="review_threshold",
        type=int,
        metavar="N",
        help="revise until every reviewer criterion scores at least N of 10 (default 7)",
    )
    parser.add_argument(
        "--revision-rounds",
        dest="revision_rounds",
        type=int,
        metavar="N",
        help="at most N revisions after review (default 1)",
    )
    parser.add_argument(
        "--budget-tokens", dest="budget_tokens", type=int, help="stop before spending more tokens"
    )
    parser.add_argument(
        "--budget-cost", dest="budget_cost", type=float, help="stop before spending more dollars"
    )
    parser.add_argument(
        "--pdf", action="store_true", help="also write report.pdf when the run is complete"
    )
    parser.add_argument(
        "--dry-run",
        dest="dry_run",
        action="store_true",
        help="print the estimated calls, tokens and cost per stage, and stop",
    )


def _flags(args: argparse.Namespace) -> dict[str, Any]:
    flags: dict[str, Any] = {
        key: getattr(args, key, None)
        for key in (
            "corpus",
            "model",
            "base_url",
            "store",
            "runs_dir",
            "cache",
            "offline",
            "concurrency",
            "since",
            "until",
            "max_papers",
            "arxiv_categories",
            "api_key_env",
            "budget_tokens",
            "budget_cost",
            "review_threshold",
            "revision_rounds",
            "embeddings",
            "embedding_model",
        )
    }
    if getattr(args, "sources", None):
        flags["sources"] = [s.strip() for s in args.sources.split(",") if s.strip()]
    if getattr(args, "agent_model", None):
        pairs = {}
        for item in args.agent_model:
            agent, _, name = item.partition("=")
            if agent not in AGENTS or not name:
                raise BadInput(
                    f"--agent-model '{item}' is not AGENT=NAME",
                    f"use one of {', '.join(AGENTS)}, e.g. verifier=gpt-4o",
                )
            pairs[agent] = name
        flags["agent_models"] = pairs
    if flags.get("corpus"):
        flags["corpus"] = str(Path(flags["corpus"]).expanduser().resolve())
    return flags


# Commands --------------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    question = config.check_question(args.question)
    settings = config.resolve(_flags(args))
    check_sources(settings)
    check_offline(settings)
    corpus = load_corpus(settings)  # bad input is found before a run folder exists
    if args.dry_run:
        return dry_run(settings, corpus)
    # The library is opened (locked, checked) before the run folder exists: a busy or damaged
    # library is bad input, which leaves no run folder behind.
    with open_library(settings) as library:
        run = new_run(settings, question)
        err_console.print(f"run folder: {run.path}")
        code = run_to_end(run, settings, question, lambda: corpus, library)
    return with_pdf(run, code, args.pdf)


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
    papers = len(corpus) + (settings.max_papers if online else 0)
    passages = None if online else sum(len(chunk_paper(p)) for p in corpus)
    local = uses_local_model(settings)
    url = "http://127.0.0.1/v1" if local else settings.base_url or OPENAI_URL
    rows = estimate(
        settings,
        papers=papers,
        passages=passages,
        online_sources=online,
        model=settings.model,
        base_url=url,
    )

    def money(value: float | None) -> str:
        return "unpriced" if value is None else f"${value:.4f}"

    total_cost = (
        None if any(r.cost_usd is None for r in rows) else sum(r.cost_usd or 0.0 for r in rows)
    )
    _table(
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


def cmd_batch(args: argparse.Namespace) -> int:
    from synth.app.batch import read_questions, run_batch

    settings = config.resolve(_flags(args))
    check_sources(settings)
    check_offline(settings)
    if args.dry_run:
        raise BadInput("--dry-run estimates one run", "use synth run QUESTION --dry-run")
    if args.parallel < 1:
        raise BadInput(f"--parallel {args.parallel} is not a positive number", "use 1 or more")
    questions = read_questions(Path(args.questions))
    corpus = load_corpus(settings)
    with open_library(settings) as library:
        return run_batch(questions, settings, library, corpus, args.parallel)


def cmd_resume(args: argparse.Namespace) -> int:
    if args.dry_run:  # an estimate of a new run; a resume would spend tokens instead
        raise BadInput("--dry-run estimates a new run", "use synth run QUESTION --dry-run")
    flags = _flags(args)
    runs_dir = config.runs_dir(flags.get("runs_dir"))
    run = RunFolder.find(args.run, runs_dir)
    record = run.read_record()
    settings = config.resolve(flags, base=record.get("settings", {}))
    check_sources(settings)  # the same checks as `synth run`, for flags given to the resume
    check_offline(settings)
    with open_library(settings) as library:
        run.update_record(settings=config.settings_record(settings), status="running")
        err_console.print(f"resuming {run.path}")
        code = run_to_end(run, settings, record["question"], lambda: load_corpus(settings), library)
    return with_pdf(run, code, args.pdf)


EXPORTS = {
    "md": "report.md",
    "json": "report.json",
    "csv": "claims.csv",
    "bib": "references.bib",
    "html": "report.html",
    "pdf": "report.pdf",
}


def read_report(run: RunFolder) -> Report:
    from pydantic import ValidationError

    path = run.path / "report.json"
    try:
        return Report.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInput(
            f"run {run.id} has no report yet", f"finish it first: synth resume {run.path}"
        ) from None
    except ValidationError:
        raise BadInput(
            f"{path} is not a report this version of synth can read",
            "run the question again to make a new one",
        ) from None


def cmd_export(args: argparse.Namespace) -> int:
    from synth.pipeline.checkpoints import Passages
    from synth.report.html import to_html

    run = RunFolder.find(args.run, config.runs_dir(args.runs_dir))
    report = read_report(run)
    text: str | bytes
    if args.fmt == "html":
        saved = run.load(Stage.LIBRARY, "passages", Passages)
        text = to_html(report, {p.id: p for p in saved.passages} if saved else {})
    elif args.fmt == "pdf":
        from synth.report.pdf import to_pdf

        text = to_pdf(report)
    else:
        text = render.outputs(report)[EXPORTS[args.fmt]]
    if args.output == "-":
        if isinstance(text, bytes):
            sys.stdout.buffer.write(text)
        else:
            sys.stdout.write(text)
        return 0
    target = Path(args.output) if args.output else run.path / EXPORTS[args.fmt]
    try:
        write_atomic(target, text)
    except OSError as error:
        raise BadInput(
            f"cannot write {target}: {error.strerror}", "pass -o with a writable path"
        ) from None
    print(f"wrote {target}")
    return 0


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    from rich.table import Table

    table = Table(title=title)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    out_console.print(table)


def cmd_runs(args: argparse.Namespace) -> int:
    from synth.report.audit import run_history

    runs_dir = config.runs_dir(args.runs_dir)
    history = run_history(runs_dir)
    if args.json:
        _print_json([r.model_dump() for r in history])
        return 0
    if not history:
        print(f"no runs in {runs_dir}")
        return 0
    _table(
        f"synth runs in {runs_dir}",
        ["run", "question", "model", "status", "papers", "claims", "S/C/I", "tokens", "cost"],
        [
            [
                r.id,
                r.question,
                r.model,
                r.status,
                r.papers,
                r.claims,
                r.verdicts,
                r.tokens,
                None if r.cost_usd is None else f"${r.cost_usd:.4f}",
            ]
            for r in history
        ],
    )
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from synth.pipeline.checkpoints import Passages
    from synth.report.audit import audit, call_detail, call_text, claim_trail, trail_text

    run = RunFolder.find(args.run, config.runs_dir(args.runs_dir))
    entries = read_transcript(run.transcript)
    if args.call is not None:
        try:
            detail = call_detail(entries, args.call)
        except IndexError as error:
            raise BadInput(
                f"no call {args.call} in {run.id}: {error}", "pick another --call"
            ) from None
        if args.json:
            _print_json(detail)
        else:
            print(call_text(detail))
        return 0
    if args.claim is not None:
        report = read_report(run)
        saved = run.load(Stage.LIBRARY, "passages", Passages)
        try:
            trail = claim_trail(
                report, {p.id: p for p in saved.passages} if saved else {}, args.claim
            )
        except KeyError as error:
            raise BadInput(str(error.args[0]), "pick a claim id from the claims table") from None
        if args.json:
            _print_json(trail.model_dump())
        else:
            print(trail_text(trail))
        return 0
    settings = RunSettings.model_validate(run.read_record().get("settings", {}))
    rows = audit(entries, settings.prices)
    if args.json:
        _print_json([r.model_dump() for r in rows])
        return 0
    _table(
        f"synth audit {run.id} ({plural(len(entries), 'call')})",
        [
            "agent",
            "calls",
            "sent",
            "cache hits",
            "tokens in",
            "tokens out",
            "cost",
            "p50 s",
            "p95 s",
            "retries",
            "invalid",
            "re-asks",
            "dropped",
        ],
        [
            [
                r.agent,
                r.calls,
                r.sent,
                r.cache_hits,
                r.tokens_in,
                r.tokens_out,
                "unpriced" if r.cost_usd is None else f"${r.cost_usd:.4f}",
                r.latency_p50_s,
                r.latency_p95_s,
                r.retries,
                r.invalid,
                r.reasks,
                r.dropped,
            ]
            for r in rows
        ],
    )
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    from synth.report.audit import diff_reports, diff_text

    runs_dir = config.runs_dir(args.runs_dir)
    a, b = (read_report(RunFolder.find(r, runs_dir)) for r in (args.run_a, args.run_b))
    changes = diff_reports(a, b)
    if args.json:
        _print_json(changes.model_dump())
        return 0
    print(diff_text(a.run_id, b.run_id, changes))
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from synth.app.replay import replay_run

    run = RunFolder.find(args.run, config.runs_dir(args.runs_dir))
    folder, calls = replay_run(run)
    print(
        f"replay: {folder.path / 'report.md'} is byte-identical to the run's report "
        f"({plural(calls, 'model call')} answered from the transcript)"
    )
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    """The endpoints this folder's settings would use, each checked: reachable, model listed,
    structured-output dialect accepted, and its price."""
    from rich.table import Table

    from synth.model import local_model
    from synth.model.cost import price_for
    from synth.model.dialects import probe

    flags = {"model": args.model, "base_url": args.base_url, "api_key_env": args.api_key_env}
    settings = config.resolve(flags)
    table = Table(title="synth models")
    for column in ("agents", "model", "endpoint", "status", "output", "price per 1M tokens"):
        table.add_column(column, overflow="fold")
    wanted: dict[str, list[str]] = {}
    for agent in AGENTS:
        wanted.setdefault(settings.agent_models.get(agent, settings.model), []).append(agent)
    key = config.api_key(settings.api_key_env)
    for model, agents in wanted.items():
        names = ", ".join(agents) if len(wanted) > 1 else "all"
        if uses_local_model(settings.model_copy(update={"model": model})):
            weights = local_model.weights_for(model)
            table.add_row(
                names,
                weights.name,
                "embedded llama.cpp server on 127.0.0.1",
                local_model.status(weights),
                "llamacpp schemas",
                "0 (local)",
            )
            continue
        url = settings.base_url or OPENAI_URL
        found = asyncio.run(probe(Endpoint(url, model, api_key=key, dialect=settings.dialect)))
        status = "reachable" if found.reachable else found.detail
        if found.reachable and found.listed is not None:
            status += ", model listed" if found.listed else ", model NOT listed"
        price = price_for({"model": model, "endpoint": {"base_url": url}}, settings.prices)
        table.add_row(
            names,
            model,
            urls.strip_credentials(url),
            status,
            found.detail if found.reachable else "",
            _price_text(price),
        )
    out_console.print(table)
    return 0


def _price_text(price: Price | None) -> str:
    if price is None:
        return 'unpriced: add [prices."NAME"] to synth.toml'
    if price.input == price.output == 0:
        return "free (this machine)"
    return f"${price.input:g} in, ${price.output:g} out"


def cmd_cache(args: argparse.Namespace) -> int:
    caches = (
        ("model responses", ResponseCache(paths.cache_dir() / "responses.sqlite3")),
        ("source pages", HttpCache(paths.cache_dir() / "http.sqlite3")),
    )
    for what, cache in caches:
        if args.action == "clear":
            print(f"removed {cache.clear()} cached {what}")
        else:
            info = cache.info()
            print(f"{info['path']}: {info['entries']} {what}, {info['bytes']} bytes")
        cache.close()
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    """Add papers to the library without a model: a local folder or file, or the results of
    one search. Papers already fetched or embedded are neither fetched nor embedded again."""
    from rich.table import Table

    from synth.sources import ingest

    flags = _flags(args)
    target = Path(args.target).expanduser()
    is_path = target.exists()
    if is_path:
        flags["sources"] = flags.get("sources") or ["local"]
        flags["corpus"] = str(target.resolve())
    settings = config.resolve(flags)
    check_sources(settings, corpus_needed=False)
    check_offline(settings)
    if not is_path and not network_sources(settings):
        raise BadInput(
            f"'{args.target}' is not a file or folder, and no online source is selected",
            "pass a path, or a search query with --sources arxiv,openalex,s2",
        )
    store = settings.store or str(paths.default_store())

    async def gather() -> list[tuple[PaperText, str]]:
        async with open_literature(settings) as literature:
            if is_path:
                return await ingest.read_path(target, literature, warn_line)
            assert literature is not None
            return await ingest.search_and_fetch(
                literature,
                args.target,
                settings,
                paper_store(store),
                network_sources(settings),
                warn_line,
            )

    try:
        found = asyncio.run(gather())
    except KeyboardInterrupt:
        raise Interrupted("interrupted", "run the same `synth ingest` again to continue") from None
    if not found:
        raise Unreachable(
            f"nothing to add: no paper with text was found for '{args.target}'",
            "try other words, or check the network",
        )
    table = Table(title=f"synth ingest → {store}")
    for column in ("paper", "text", "new passages"):
        table.add_column(column, overflow="fold")
    new_passages, already = 0, 0
    with open_library(settings) as library:
        for text, how in found:
            added = library.add(chunk_paper(text))
            new_passages += added
            already += added == 0
            table.add_row(f"{text.paper.id} {text.paper.title}", how, str(added))
    out_console.print(table)
    print(
        f"{plural(len(found), 'paper')} ingested: {plural(new_passages, 'new passage')} "
        f"embedded, {plural(already, 'paper was', 'papers were')} already in the library."
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return args.handler(args)
    except SynthError as error:
        err_console.print(f"synth: {error.line()}", highlight=False, markup=False, soft_wrap=True)
        return error.exit_code
    except KeyboardInterrupt:
        err_console.print("synth: interrupted.", highlight=False)
        return Interrupted.exit_code


if __name__ == "__main__":
    sys.exit(main())
