"""Throughput of `synth batch` with 1, 2 and 4 runs at once, against a fake model that answers
every call after a fixed latency.

Each configuration runs the same questions on the same corpus (SciFact abstracts, or the
invented records in tests/scifact_format) in a fresh process with empty user folders and
`--no-cache`, so every run makes all of its calls. Calls in flight are bounded by
`--concurrency` for the whole batch; `--parallel` bounds the runs. Reported: wall time,
questions per minute, and the speedup over one run at a time (ideal: the number of runs, until
the bound on calls in flight is reached).

    python bench/batch.py --quick      # 3 questions, 6 papers, latency 0.05 s
    python bench/batch.py              # 6 questions, 12 papers, latency 0.3 s
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from results import abstracts_from, fake_model, machine, options, publish

from pipeline import make_corpus

QUESTIONS = [
    "What outcomes do these studies report?",
    "Which methods do these studies use?",
    "What populations were studied?",
    "Which results were negative or null?",
    "What limitations do these studies name?",
    "Which effects were largest?",
]
PARALLEL = (1, 2, 4)


def run_batch(folder: Path, corpus: Path, url: str, parallel: int, questions: int) -> float:
    work = folder / f"parallel-{parallel}"
    work.mkdir()
    (work / "questions.txt").write_text("\n".join(QUESTIONS[:questions]) + "\n")
    (work / "synth.toml").write_text("retry_max_wait = 0.01\n")
    env = {
        **os.environ,
        "SYNTH_HOME": str(work),
    }
    command = [
        sys.executable,
        "-m",
        "synth.cli",
        "batch",
        "questions.txt",
        "--parallel",
        str(parallel),
        "--corpus",
        str(corpus),
        "--base-url",
        url,
        "--model",
        "m",
        "--no-cache",
        "--concurrency",
        "8",
    ]
    started = time.monotonic()
    done = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"batch with --parallel {parallel} failed: {done.stderr[-2000:]}")
    complete = [
        json.loads(p.read_text())["status"] == "complete" for p in work.glob("runs/*/run.json")
    ]
    assert len(complete) == questions and all(complete), "a run did not complete"
    return seconds


def main() -> int:
    args = options(__doc__, "3 questions, 6 papers, latency 0.05 s", data=True).parse_args()
    data = abstracts_from(args.data)
    questions, papers, latency = (3, 6, 0.05) if args.quick else (6, 12, 0.3)
    with tempfile.TemporaryDirectory() as tmp, fake_model() as fake:
        fake.delay = latency
        folder = Path(tmp)
        corpus = folder / "corpus"
        corpus.mkdir()
        make_corpus(corpus, data, papers)
        times = {p: run_batch(folder, corpus, fake.url, p, questions) for p in PARALLEL}
    mode = "quick" if args.quick else "full"
    lines = [
        f"## Batch throughput against a fake model, {mode} (bench/batch.py)",
        "",
        f"Machine: {machine()}. {questions} questions on the same {papers} papers, {latency} s "
        "per call, at most 8 calls in flight; each configuration in a fresh process with empty "
        "caches (the time includes starting Python and loading the embedding model).",
        "",
        "| runs at once | wall time | questions per minute | speedup over 1 |",
        "|---|---|---|---|",
    ]
    for p, seconds in times.items():
        lines.append(
            f"| {p} | {seconds:.1f} s | {questions / seconds * 60:.1f} | {times[1] / seconds:.2f} |"
        )
    publish(["\n".join(lines) + "\n"], args.write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
