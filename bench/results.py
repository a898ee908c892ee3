"""Shared by the benchmarks: the machine line, writing one section of bench/RESULTS.md, and
the fake model server of the tests for the quick modes."""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
SCIFACT = ROOT.parent / "shared" / "data" / "scifact"
SMALL_SCIFACT = ROOT / "tests" / "scifact_format"


def options(
    doc: str,
    quick: str,
    *,
    data: bool = False,
    write_help: str = "print only; leave bench/RESULTS.md alone",
) -> argparse.ArgumentParser:
    """The options every benchmark takes: --quick (`quick` says what it does) and --no-write;
    with `data`, --data for a folder in SciFact's format."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=quick)
    if data:
        parser.add_argument(
            "--data", type=Path, default=SCIFACT, help="a folder in SciFact's format"
        )
    parser.add_argument("--no-write", dest="write", action="store_false", help=write_help)
    return parser


def run_synth(args: list[str], runs: Path = Path("runs")) -> Path:
    """Run synth in this process with `args`; the run folder it made under `runs`."""
    from synth.cli import main

    before = set(runs.iterdir()) if runs.exists() else set()
    if main(args) != 0:
        raise SystemExit(f"synth {' '.join(args[:1])} failed")
    (new,) = sorted(set(runs.iterdir()) - before)
    return new


def abstracts_from(data: Path) -> Path:
    """`data` where it holds a SciFact corpus, else the invented records the tests use: the
    benchmarks that only need abstracts to read also run without the real data."""
    return data if (data / "corpus.jsonl").is_file() else SMALL_SCIFACT


@contextlib.contextmanager
def fake_model() -> Iterator[Any]:
    """The fake OpenAI-compatible server the tests use, running for the length of the block."""
    sys.path.insert(0, str(ROOT))
    from tests.fake_model import FakeModel

    with FakeModel() as fake:
        yield fake


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def update_results(section: str, path: Path = RESULTS) -> None:
    """Replace the section with the same `## ` heading, or add it at the end."""
    text = path.read_text() if path.exists() else "# Benchmark results\n\n"
    heading = section.splitlines()[0]
    if heading in text:
        start = text.index(heading)
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + ("\n" + text[end + 1 :] if end != -1 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)


def publish(lines: list[str], write: bool) -> None:
    """Print a benchmark's section and, unless told not to, put it into RESULTS.md."""
    text = "\n".join(lines).rstrip("\n") + "\n"
    print(text)
    if write:
        update_results(text)
