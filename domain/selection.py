"""Which sentences of each paper a model reads: every passage of every paper is scored by code,
and only what passes reaches the model.

A paper is off-topic when its nearest passage is clearly further from the question than the run's
nearest paper, and far from it by meaning (embedding similarity) or by words (its best BM25 score,
relative to the run's best paper): nothing of it is read, and the Method section names it. In the
other papers, each sentence of the paper's own that reports a result (not one that reports another
work's finding, nor background or an aim) is scored by its embedding similarity to the question, the
share of the question's words it holds, and whether it stands in a section that holds results. The
sentences within a margin of the paper's best are its candidates, best first, up to a bound per
paper: the reader reads them and the extractor reads the passages that hold them. The thresholds are
chosen by their recall of gold decisive sentences (`bench/depth.py --filter`).
"""

from __future__ import annotations

import re

from synth.domain.records import Passage, Strict
from synth.domain.sentences import reports_other_work, reports_result
from synth.domain.text import content_stems

# A paper whose best passage is less similar than this to the question is off-topic. On
# SciFact train the least similar gold abstract scored 0.41 and nine in ten abstracts drawn at
# random scored below 0.29 (bench/depth.py --filter).
OFF_TOPIC = 0.30
# Nor is a paper read whose best BM25 score for the question is under this share of the best
# paper's: it holds none of the question's distinctive words (a gene, a drug, a method).
OFF_TOPIC_WORDS = 0.1
# Yet no paper is off-topic, by meaning or by words, within this of the run's most similar
# paper, nor in a run where no paper is near the question: a question asked in general terms
# ("what outcomes do these studies report?") is far from every paper by meaning and shares
# its common words with few, and then no paper stands out as off-topic.
OFF_TOPIC_GAP = 0.10
# Sections that hold what others found, what was done, or what could not be shown.
OTHER_SECTIONS = re.compile(
    r"intro|background|related|motivation|method|material|setup|procedure|protocol"
    r"|experimental design|data collection|limitation",
    re.IGNORECASE,
)
SECTION_PENALTY = 0.2
WORDS_WEIGHT = 0.5
# Candidates score within this of their paper's best. Chosen by where papers are placed, not
# by recall alone: at most four a paper, 0.5 let through a gold decisive sentence of 7 of the 8
# real-length papers, 10 of 10 examples and 61 of 70 SciFact gold abstracts, 0.3 of 6, 10 and
# 60, but a sentence near the paper's best result is the one that states it, and each further
# one read is another chance for a small reader to take a side by topic: with 0.3, 21 papers
# of 88 were placed on the wrong side where 0.5 placed 31 (bench/depth.py --read,
# bench/RESULTS.md).
MARGIN = 0.3
MIN_WORDS = 5


class OwnResult(Strict):
    """A sentence in which a paper reports a result of its own."""

    paper_id: str
    passage_id: str
    section: str
    sentence: str


class Candidate(Strict):
    """A sentence of a paper's own result that may give its answer, and its score."""

    paper_id: str
    passage_id: str
    sentence: str
    score: float


class Chosen(Strict):
    """What the filter let through: each on-topic paper's candidates (best first), the
    passages the extractor reads first (each on-topic paper's best candidate's, or its passage
    nearest the question where it reports no result), and the off-topic papers with their
    best similarity to the question."""

    candidates: dict[str, list[Candidate]]
    first_passages: list[str]
    off_topic: dict[str, float]


def own_results(passages: list[Passage], sentences_of: dict[str, list[str]]) -> list[OwnResult]:
    """The sentences of `passages` that report a result of their paper's own."""
    return [
        OwnResult(paper_id=p.paper_id, passage_id=p.id, section=p.section, sentence=s)
        for p in passages
        for s in sentences_of.get(p.id, [])
        if len(s.split()) >= MIN_WORDS and not reports_other_work(s) and reports_result(s)
    ]


def off_topic(
    paper_ids: list[str],
    passages: list[Passage],
    similarity: dict[str, float],
    words: dict[str, float],
) -> dict[str, float]:
    """The off-topic papers among `paper_ids`, each with its best passage similarity; `words`
    is each passage's BM25 score for the question."""
    best_sim: dict[str, float] = {}
    best_words: dict[str, float] = {}
    for p in passages:
        best_sim[p.paper_id] = max(best_sim.get(p.paper_id, 0.0), similarity.get(p.id, 0.0))
        best_words[p.paper_id] = max(best_words.get(p.paper_id, 0.0), words.get(p.id, 0.0))
    top_sim = max((best_sim.get(p, 0.0) for p in paper_ids), default=0.0)
    top_words = max(best_words.values(), default=0.0)

    def far(paper_id: str) -> bool:
        sim = best_sim.get(paper_id, 0.0)
        if top_sim < OFF_TOPIC or sim >= top_sim - OFF_TOPIC_GAP:
            return False  # no paper is near the question, or this one is as near as any
        words = best_words.get(paper_id, 0.0)
        return sim < OFF_TOPIC or (top_words > 0 and words < OFF_TOPIC_WORDS * top_words)

    return {p: round(best_sim.get(p, 0.0), 4) for p in sorted(paper_ids) if far(p)}


def first_passages(
    candidates: dict[str, list[Candidate]],
    passages: list[Passage],
    similarity: dict[str, float],
    off: dict[str, float],
) -> list[str]:
    """Each on-topic paper's first passage to extract from (see `Chosen`)."""
    nearest: dict[str, Passage] = {}
    for p in sorted(passages, key=lambda p: (-similarity.get(p.id, 0.0), p.id)):
        nearest.setdefault(p.paper_id, p)
    chosen = {
        cs[0].passage_id if (cs := candidates.get(paper_id)) else p.id
        for paper_id, p in nearest.items()
        if paper_id not in off
    }
    return sorted(chosen)


def score(result: OwnResult, similarity: float, asked: set[str]) -> float:
    """A sentence's score (see the module docstring)."""
    shared = len(content_stems(result.sentence) & asked) / len(asked) if asked else 0.0
    value = similarity + WORDS_WEIGHT * shared
    if OTHER_SECTIONS.search(result.section):
        value -= SECTION_PENALTY
    return round(value, 4)


def choose(
    results: list[OwnResult],
    similarity: list[float],
    question: str,
    per_paper: int,
    margin: float = MARGIN,
) -> dict[str, list[Candidate]]:
    """Each paper's candidates among its `results` (with each one's embedding `similarity` to
    the question, in the same order), best first."""
    asked = content_stems(question)
    by_paper: dict[str, list[Candidate]] = {}
    for result, sim in zip(results, similarity, strict=True):
        by_paper.setdefault(result.paper_id, []).append(
            Candidate(
                paper_id=result.paper_id,
                passage_id=result.passage_id,
                sentence=result.sentence,
                score=score(result, sim, asked),
            )
        )
    chosen = {}
    for paper_id, scored in sorted(by_paper.items()):
        scored.sort(key=lambda c: (-c.score, c.passage_id, c.sentence))
        top = scored[0].score
        chosen[paper_id] = [c for c in scored if c.score >= top - margin][:per_paper]
    return chosen
