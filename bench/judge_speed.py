"""Seconds per judgement: the hidden-state probe against the answer words, in one run, and
the probe on the sentences of the passage it reads in use against the whole passage.

The judge reads either the model's hidden state where its answer begins (a second llama.cpp
server of the same weights serves it) or the log-probabilities of its first answer token (a
one-token chat completion). Both are asked of the same SciFact pairs (claims of the quick
sample, each with its gold or cited passage), one call at a time, without the response cache,
alternating which goes first; the ratio is the probe's time over the answer words' time.

    python bench/judge_speed.py            # the embedded local model, 24 pairs
    python bench/judge_speed.py --quick --fake   # CI: the harness only
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from fit_judge import pair_for
from results import machine
from scifact import load, main_with, parser_for, quick_claims, verifier_model

from synth.agents import judge, verifier

BEARING = 2  # sentences of each passage timed beside the whole passage, unless told otherwise


async def run(args: argparse.Namespace) -> str:
    claims, corpus = load(args.data)
    pairs = [(c, made) for c in quick_claims(claims) if (made := pair_for(c, corpus))]
    pairs = pairs[: 4 if args.quick else args.pairs]
    seconds: dict[str, float] = {"state": 0.0, "words": 0.0, "bearing": 0.0}
    args.cache, args.concurrency = False, 1
    with tempfile.TemporaryDirectory() as tmp:
        async with verifier_model(args, Path(tmp) / "transcript.jsonl") as model:
            probe = judge.head_for(model, "hidden_state")
            # The sentences the probe in use reads, or two where it reads whole passages.
            keep = args.judged_sentences or (probe and probe.judged_sentences) or BEARING
            in_use = probe is not None and probe.judged_sentences == keep
            ways = {
                "state": judge.entailment_state,
                "words": judge.entailment_choice,
                "bearing": judge.entailment_state,
            }
            for n, (claim, (passage, _)) in enumerate(pairs):
                order = list(ways) if n % 2 == 0 else list(reversed(ways))
                for way in order:
                    started = time.perf_counter()
                    await ways[way](
                        model,
                        item=f"{way}-{claim['id']}",
                        premise=(
                            verifier.bearing(passage, claim["claim"], keep)
                            if way == "bearing"
                            else passage
                        ),
                        hypothesis=claim["claim"],
                    )
                    seconds[way] += time.perf_counter() - started
            name = "the fake test model (harness check only)" if args.fake else model.endpoint.model
    each = {k: v / len(pairs) for k, v in seconds.items()}
    whole = " (in use)" if probe is not None and probe.judged_sentences is None else ""
    rows = [
        f"| answer words (one-token completion) | {each['words']:.2f} |",
        f"| hidden state (probe), whole passage{whole} | {each['state']:.2f} |",
        f"| ratio, probe over answer words | {each['state'] / each['words']:.2f} |",
        f"| hidden state (probe), the {keep} sentences that bear on the claim"
        f"{' (in use)' if in_use else ''} | {each['bearing']:.2f} |",
        f"| ratio, those sentences over the whole passage | "
        f"{each['bearing'] / each['state']:.2f} |",
    ]
    return "\n".join(
        [
            "## Seconds per judgement (bench/judge_speed.py)",
            "",
            f"Machine: {machine()}; model: {name}. {len(pairs)} SciFact pairs (claims of the "
            f"quick sample with their gold or cited passage), each judged each of {len(ways)} "
            "ways, one call at a time, no cache, the order of the ways turned on every pair.",
            "",
            "| input | seconds per judgement |",
            "|---|---|",
            *rows,
        ]
    )


def main() -> int:
    parser = parser_for(__doc__, "4 pairs", "print only; leave bench/RESULTS.md alone")
    parser.add_argument("--pairs", type=int, default=24)
    return main_with(parser, run)


if __name__ == "__main__":
    raise SystemExit(main())
