"""Concurrency and token efficiency of the pipeline, against a fake model with a fixed latency.

A fake OpenAI-compatible server (the one the tests use) answers every call after `latency`
seconds. The pipeline runs on 20 papers (SciFact abstracts, or the invented records in
tests/scifact_format), and from its transcript:

- concurrency efficiency = bound / measured, where the bound is the sum over stages of
  max(longest chain of attempts for one item, ceil(calls / concurrency)) × latency, and
  measured is the time of the stages that call the model (run.json timings);
- token efficiency = necessary / sent prompt tokens, where necessary counts each passage once
  for the extractor and each offered evidence passage once for the verifier;
- tokens per agent, and the tokens of an identical re-run (answered from the cache).

    python bench/pipeline.py --quick     # latency 0.05 s
    python bench/pipeline.py             # latency 0.5 s
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

from results import abstracts_from, fake_model, machine, options, publish, run_synth

from synth.domain.stages import Stage

QUESTION = "What do these studies report about their main outcomes?"
MODEL_STAGES = (Stage.PLAN, Stage.EXTRACT, Stage.VERIFY, Stage.WRITE)


def make_corpus(folder: Path, data: Path, n: int) -> None:
    docs = [json.loads(line) for line in (data / "corpus.jsonl").open()][:n]
    for doc in docs:
        body = " ".join(doc["abstract"])
        (folder / f"{doc['doc_id']}.md").write_text(
            f"---\ntitle: {doc['title']}\n---\n# {doc['title']}\n\n## Abstract\n{body}\n"
        )


def stage_of(entry: dict) -> str:
    agent, item = entry["agent"], str(entry["item"])
    if agent == "writer":
        return "findings" if item.startswith("finding") else f"write-{item}"
    if agent == "reviewer":
        return f"review-{item.rsplit('-', 1)[-1]}"
    return agent


def bound_seconds(entries: list[dict], concurrency: int, latency: float) -> float:
    stages: dict[str, list[dict]] = defaultdict(list)
    for e in entries:
        stages[stage_of(e)].append(e)
    total = 0.0
    for calls in stages.values():
        chain = max(Counter(str(e["item"]) for e in calls).values())
        total += max(chain, math.ceil(len(calls) / concurrency)) * latency
    return total


def necessary_tokens(entries: list[dict]) -> int:
    from synth.model import tokens

    block = re.compile(r"<<<DATA [^\n]*>>>\n(.*?)\n<<<END DATA", re.S)
    seen: set[tuple[str, str]] = set()
    total = 0
    for e in entries:
        if e["agent"] not in ("extractor", "verifier") or e["attempt"] != 0:
            continue
        user = next(m["content"] for m in e["messages"] if m["role"] == "user")
        for text in block.findall(user):
            key = (str(e["item"]), text)
            if key not in seen:
                seen.add(key)
                total += tokens.count_text(text)
    return total


def main() -> int:
    parser = options(__doc__, "latency 0.05 s", data=True)
    parser.add_argument("--papers", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    args.data = abstracts_from(args.data)
    latency = 0.05 if args.quick else 0.5
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        os.environ["SYNTH_HOME"] = str(home / "user")
        corpus = home / "corpus"
        corpus.mkdir()
        make_corpus(corpus, args.data, args.papers)
        os.chdir(home)
        with fake_model() as fake:
            fake.delay = latency
            common = [
                "run",
                QUESTION,
                "--corpus",
                str(corpus),
                "--base-url",
                fake.url,
                "--model",
                "m",
                "--concurrency",
                str(args.concurrency),
            ]
            first = run_synth(common)
            fake.delay = 0.0
            second = run_synth(common)  # identical: from the cache
        entries = [json.loads(line) for line in (first / "transcript.jsonl").open()]
        again = [json.loads(line) for line in (second / "transcript.jsonl").open()]
        timings = json.loads((first / "run.json").read_text())["timings"]
        papers = len(list(corpus.iterdir()))
    measured = sum(timings.get(stage, 0.0) for stage in MODEL_STAGES)
    bound = bound_seconds(entries, args.concurrency, latency)
    sent = [e for e in entries if not e.get("cache_hit")]
    sent_tokens = sum(int(e["tokens_estimate"]) for e in sent)
    per_agent: Counter[str] = Counter()
    for e in sent:
        per_agent[e["agent"]] += int(e["tokens_estimate"])
    rerun_tokens = sum(int(e["tokens_estimate"]) for e in again if not e.get("cache_hit"))
    mode = "quick" if args.quick else "full"
    lines = [
        f"## Pipeline efficiency against a fake model, {mode} (bench/pipeline.py)",
        "",
        f"Machine: {machine()}. {papers} papers, {len(entries)} calls, concurrency "
        f"{args.concurrency}, {latency} s per call.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| concurrency efficiency: {bound / measured:.2f} | bound {bound:.1f} s / "
        f"measured {measured:.1f} s |",
        f"| token efficiency: {necessary_tokens(entries) / sent_tokens:.2f} | "
        f"necessary {necessary_tokens(entries)} / sent {sent_tokens} prompt tokens |",
        f"| prompt tokens of an identical re-run | {rerun_tokens} |",
    ]
    lines += [f"| prompt tokens, {agent} | {n} |" for agent, n in sorted(per_agent.items())]
    publish(lines, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
