"""Okapi BM25 over a set of passages, and its fusion with the dense ranking.

Dense embeddings find passages that mean the same; they miss the rare exact words (a gene,
a drug, "pre-norm") that decide whether a passage is about the claim at all. BM25 scores
those words. The two rankings are fused by reciprocal rank (Cormack et al., 2009), which
needs no score scale shared between them. How much this adds is measured on SciFact by
`bench/scifact.py` (recall@k of the gold abstract, dense alone against fused).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable

import numpy as np

TOKEN = re.compile(r"[a-z0-9]+(?:[-.][a-z0-9]+)*")
# Words so common in scientific prose that they only add noise to a lexical match.
STOPWORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "been", "but", "by", "can", "could", "do", "does",
    "for", "from", "has", "have", "in", "into", "is", "it", "its", "of", "on", "or", "our",
    "than", "that", "the", "their", "these", "this", "those", "to", "was", "we", "were", "which",
    "while", "with",
})  # fmt: skip
RRF_K = 60  # Cormack et al.'s constant: ranks far down either list still count a little


def terms(text: str) -> list[str]:
    """Lower-case words and numbers (hyphenated or dotted compounds kept whole, and also
    split into their parts), without stopwords."""
    out = []
    for token in TOKEN.findall(text.lower()):
        if token in STOPWORDS:
            continue
        out.append(token)
        if "-" in token or "." in token:
            out.extend(p for p in re.split(r"[-.]", token) if p and p not in STOPWORDS)
    return out


class Bm25:
    """An inverted index whose postings already hold each term's BM25 weight in each
    passage, so a query is a sum over its terms' postings."""

    def __init__(self, texts: dict[str, str], k1: float = 1.2, b: float = 0.75) -> None:
        self.ids = sorted(texts)
        counts = [Counter(terms(texts[i])) for i in self.ids]
        lengths = np.array([sum(c.values()) for c in counts], dtype=np.float64)
        average = float(lengths.mean()) if len(lengths) else 1.0
        rows: dict[str, list[tuple[int, int]]] = {}
        for row, counted in enumerate(counts):
            for term, tf in counted.items():
                rows.setdefault(term, []).append((row, tf))
        n = len(self.ids)
        self._postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for term, hits in rows.items():
            where = np.array([r for r, _ in hits], dtype=np.int64)
            tf = np.array([t for _, t in hits], dtype=np.float64)
            # The "plus one" form of idf never goes negative for a term in most passages.
            idf = math.log(1.0 + (n - len(hits) + 0.5) / (len(hits) + 0.5))
            norm = k1 * (1.0 - b + b * lengths[where] / max(average, 1e-9))
            self._postings[term] = (where, idf * tf * (k1 + 1.0) / (tf + norm))

    def top(self, query: str, k: int) -> list[tuple[str, float]]:
        """The k best-scoring passages with a score above zero, best first (ties by id)."""
        if k <= 0:
            return []
        scores = np.zeros(len(self.ids), dtype=np.float64)
        for term in set(terms(query)):
            posting = self._postings.get(term)
            if posting is not None:
                np.add.at(scores, posting[0], posting[1])
        hit = np.flatnonzero(scores > 0)
        if len(hit) > k:
            # Only passages scoring at least the k-th best can be among the k; every tie with
            # it stays, so that ties still go by id.
            kth = np.partition(scores[hit], len(hit) - k)[len(hit) - k]
            hit = hit[scores[hit] >= kth]
        best = sorted(hit.tolist(), key=lambda r: (-scores[r], self.ids[r]))[:k]
        return [(self.ids[r], float(scores[r])) for r in best]


def fused(rankings: Iterable[list[str]], k: int) -> list[str]:
    """Reciprocal-rank fusion: each id scores the sum of 1 / (RRF_K + rank) over the lists
    it is in; the k best, ties by id so the order is the same every run."""
    score: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            score[item] = score.get(item, 0.0) + 1.0 / (RRF_K + rank)
    return sorted(score, key=lambda i: (-score[i], i))[:k]
