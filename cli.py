"""The `synth` command line.

Every failure the user can act on is a `SynthError` and ends as one line on stderr with the
exit code of DESIGN "Exit codes"; nothing here prints a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, NoReturn

from synth import __version__
from synth.app import config, inspect, start, tools
from synth.app.ui import err_console
from synth.domain.errors import BadInput, Interrupted, SynthError
from synth.domain.settings import RunSettings
from synth.pipeline.session import AGENTS


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
    _setting_flags(ingest, {"sources", "library"})
    ingest.set_defaults(handler=cmd_ingest)

    replay = verbs.add_parser(
        "replay", help="re-run a finished run from its transcript and compare the report"
    )
    replay.add_argument("run", metavar="RUN", help="run folder or id")
    replay.add_argument("--runs-dir", dest="runs_dir", help="where run folders are (./runs)")
    replay.set_defaults(handler=cmd_replay)

    export = verbs.add_parser(
        "export", help="write a run's report in another format, or all its records as SQLite"
    )
    export.add_argument("run", metavar="RUN", help="run folder or id")
    export.add_argument("--format", required=True, choices=sorted(inspect.EXPORTS), dest="fmt")
    export.add_argument("-o", "--output", help="file to write, or - for standard output")
    export.add_argument("--runs-dir", dest="runs_dir", help="where run folders are (./runs)")
    export.set_defaults(handler=cmd_export)

    serve = verbs.add_parser(
        "serve", help="browse the runs, their reports and transcripts in a web browser"
    )
    serve.add_argument("--runs-dir", dest="runs_dir", help="where run folders are (./runs)")
    serve.add_argument(
        "--port", type=_port, default=8765, metavar="N", help="port on 127.0.0.1 (default 8765)"
    )
    serve.set_defaults(handler=cmd_serve)

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


def _setting_flags(parser: argparse.ArgumentParser, groups: set[str]) -> None:
    """The flags of the settings in `groups`, built from RunSettings' fields (their `flag`
    metadata): a new setting is a flag by one line in domain/settings.py."""
    for name, field in RunSettings.flat_fields().items():
        spec = (field.json_schema_extra or {}).get("flag")  # type: ignore[union-attr]
        if not spec or spec["group"] not in groups:
            continue
        option = spec["name"] or "--" + name.replace("_", "-")
        common: dict[str, Any] = {"dest": name, "help": spec["help"], "default": None}
        if field.annotation is bool:
            # A flag turns the default off (--no-cache) or on (--offline).
            action = "store_false" if field.default else "store_true"
            parser.add_argument(option, action=action, **common)
            continue
        if spec["metavar"]:
            common["metavar"] = spec["metavar"]
        if spec["form"] == "repeat":
            parser.add_argument(option, action="append", **common)
        elif spec["form"] == "comma":
            parser.add_argument(option, type=_comma_list, **common)
        elif spec["form"] == "year":
            parser.add_argument(option, type=_year, **common)
        else:
            parser.add_argument(option, type=_scalar_type(field.annotation), **common)


def _scalar_type(annotation: Any) -> type:
    """int, float or str, from a field's annotation (optional or not)."""
    kinds = set(getattr(annotation, "__args__", (annotation,))) - {type(None)}
    return next((kind for kind in (int, float) if kinds == {kind}), str)


def _year(value: str) -> int:
    if not value.isdigit() or not 1900 <= int(value) <= 2100:
        raise argparse.ArgumentTypeError(f"'{value}' is not a year such as 2019")
    return int(value)


def _port(value: str) -> int:
    if not value.isdigit() or not 0 <= int(value) <= 65535:
        raise argparse.ArgumentTypeError(
            f"'{value}' is not a port (0 to 65535; 0 picks a free one)"
        )
    return int(value)


def _comma_list(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _run_flags(parser: argparse.ArgumentParser) -> None:
    _setting_flags(parser, {"run", "sources", "library"})
    parser.add_argument(
        "--agent-model",
        dest="agent_model",
        action="append",
        metavar="AGENT=NAME",
        help=f"model for one agent ({', '.join(AGENTS)}); repeatable",
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
    """The settings the flags gave (None: not given), for config.resolve."""
    flags: dict[str, Any] = {name: getattr(args, name, None) for name in RunSettings.flat_fields()}
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


# Commands: each turns its flags into one call of the app -----------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    return start.start(args.question, _flags(args), args.dry_run, args.pdf)


def cmd_resume(args: argparse.Namespace) -> int:
    return start.resume(args.run, _flags(args), args.dry_run, args.pdf)


def cmd_batch(args: argparse.Namespace) -> int:
    return start.batch(args.questions, _flags(args), args.dry_run, args.parallel)


def cmd_export(args: argparse.Namespace) -> int:
    return inspect.export(args.run, args.runs_dir, args.fmt, args.output)


def cmd_serve(args: argparse.Namespace) -> int:
    from synth.web.serve import serve

    return serve(config.runs_dir(args.runs_dir), args.port)


def cmd_runs(args: argparse.Namespace) -> int:
    return inspect.list_runs(args.runs_dir, args.json)


def cmd_audit(args: argparse.Namespace) -> int:
    return inspect.audit_run(args.run, args.runs_dir, args.call, args.claim, args.json)


def cmd_diff(args: argparse.Namespace) -> int:
    return inspect.diff_runs(args.run_a, args.run_b, args.runs_dir, args.json)


def cmd_replay(args: argparse.Namespace) -> int:
    return inspect.replay(args.run, args.runs_dir)


def cmd_models(args: argparse.Namespace) -> int:
    flags = {"model": args.model, "base_url": args.base_url, "api_key_env": args.api_key_env}
    return tools.models(flags)


def cmd_cache(args: argparse.Namespace) -> int:
    return tools.cache(args.action)


def cmd_ingest(args: argparse.Namespace) -> int:
    return tools.ingest_papers(args.target, _flags(args))


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
