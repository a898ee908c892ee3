"""The library's speed: ingestion against the embedding model alone, query latency at size.

- Ingestion: real passages (SciFact abstracts, chunked) embedded and added to a fresh Chroma
  library, in passages per second, against the embedding model's own rate on the same texts
  (goal: at least 0.8 of it).
- Queries: k = 8 nearest neighbours among 10k (and, in full mode, 100k) passages with random
  unit vectors (embedding 100k real passages takes hours on 2 cores), p50 and p95 latency.
- Peak memory of the process.

    python bench/store.py --quick    # 300 passages, 10k vectors
    python bench/store.py            # 1,000 passages, 10k and 100k vectors
"""

from __future__ import annotations

import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

from results import abstracts_from, machine, options, publish

from synth.domain.records import Paper, PaperText, Section
from synth.store.chunking import chunk_paper
from synth.store.embeddings import MiniLM
from synth.store.library import Library

DIM = 384


def real_passages(data: Path, limit: int) -> list:
    passages = []
    for line in (data / "corpus.jsonl").open():
        doc = json.loads(line)
        paper = Paper(id=f"scifact:{doc['doc_id']}", title=doc["title"], source="scifact")
        text = " ".join(doc["abstract"])
        passages += chunk_paper(
            PaperText(paper=paper, sections=[Section(name="A", text=text, start=0)])
        )
        if len(passages) >= limit:
            break
    return passages[:limit]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(q / 100 * len(ordered)) - 1)]


def unit(rng: random.Random) -> list[float]:
    v = [rng.gauss(0, 1) for _ in range(DIM)]
    norm = sum(x * x for x in v) ** 0.5
    return [x / norm for x in v]


def query_latency(size: int, queries: int, folder: Path) -> tuple[float, float]:
    import chromadb
    from chromadb.config import Settings

    client = chromadb.PersistentClient(
        path=str(folder), settings=Settings(anonymized_telemetry=False)
    )
    collection = client.get_or_create_collection(f"bench-{size}", metadata={"hnsw:space": "cosine"})
    rng = random.Random(size)
    for start in range(0, size, 5000):
        n = min(5000, size - start)
        collection.add(
            ids=[f"p{start + i}" for i in range(n)],
            embeddings=[unit(rng) for _ in range(n)],
            metadatas=[{"paper_id": f"x{(start + i) % 500}"} for i in range(n)],
        )
    seconds = []
    for _ in range(queries):
        vector = unit(rng)
        started = time.perf_counter()
        collection.query(query_embeddings=[vector], n_results=8)
        seconds.append(time.perf_counter() - started)
    return percentile(seconds, 50), percentile(seconds, 95)


def main() -> int:
    args = options(__doc__, "300 passages, 10k vectors", data=True).parse_args()
    args.data = abstracts_from(args.data)
    count = 300 if args.quick else 1000
    passages = real_passages(args.data, count)
    embedder = MiniLM()
    embedder.embed(["warm up the model"])  # load once, outside the timing
    started = time.perf_counter()
    for i in range(0, len(passages), 64):
        embedder.embed([p.text for p in passages[i : i + 64]])
    raw = len(passages) / (time.perf_counter() - started)
    with tempfile.TemporaryDirectory() as tmp:
        with Library(Path(tmp) / "lib", embedder) as library:
            started = time.perf_counter()
            library.add(passages)
            ingest = len(passages) / (time.perf_counter() - started)
        sizes = (10_000,) if args.quick else (10_000, 100_000)
        latency = {size: query_latency(size, 200, Path(tmp) / "vectors") for size in sizes}
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    mode = "quick" if args.quick else "full"
    lines = [
        f"## Library speed, {mode} (bench/store.py)",
        "",
        f"Machine: {machine()}. {len(passages)} real passages; queries on random unit vectors.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| embedding model alone | {raw:.1f} passages/s |",
        f"| library ingestion | {ingest:.1f} passages/s |",
        f"| ingestion / embedding alone | {ingest / raw:.2f} |",
    ]
    for size, (p50, p95) in latency.items():
        lines.append(
            f"| query k=8 at {size:,} passages, p50 / p95 | {p50 * 1000:.1f} / "
            f"{p95 * 1000:.1f} ms |"
        )
    lines.append(f"| peak memory | {peak_mb:.0f} MB |")
    publish(lines, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
