"""BM25, reciprocal-rank fusion, and the library's hybrid search."""

from __future__ import annotations

from synth.domain.records import Passage
from synth.store.embeddings import MiniLM
from synth.store.lexical import Bm25, fused, terms
from synth.store.library import Library


def test_terms_keep_compounds_whole_and_split_and_drop_stopwords():
    assert terms("The pre-norm model of GPT-2 uses 1.5B weights") == [
        "pre-norm", "pre", "norm", "model", "gpt-2", "gpt", "2", "uses", "1.5b", "1", "5b",
        "weights",
    ]  # fmt: skip


def test_bm25_ranks_the_rare_word_over_the_common_ones():
    index = Bm25(
        {
            "a": "warmup training training training of transformers",
            "b": "the BRCA1 gene in training of transformers",
            "c": "unrelated text about birds",
        }
    )
    assert [i for i, _ in index.top("BRCA1 training", k=3)] == ["b", "a"]
    assert index.top("nothing shared", k=3) == []
    # A passage with the term many times scores higher, but less than in proportion.
    (first, s1), (second, s2) = Bm25({"x": "warmup " * 8 + "end", "y": "warmup end"}).top(
        "warmup", k=2
    )
    assert (first, second) == ("x", "y")
    assert s2 < s1 < 8 * s2


def test_bm25_keeps_ties_by_id_when_more_passages_score_than_are_asked_for():
    texts = {f"p{i}": f"warmup note {i}" for i in range(9, 0, -1)}
    texts["best"] = "warmup warmup"
    index = Bm25(texts)
    assert [i for i, _ in index.top("warmup", k=3)] == ["best", "p1", "p2"]
    assert index.top("warmup", k=0) == []


def test_fusion_rewards_agreement_between_rankings_and_breaks_ties_by_id():
    assert fused([["a", "b", "c"], ["b", "c", "a"]], k=3) == ["b", "a", "c"]
    assert fused([["x"], ["y"]], k=2) == ["x", "y"]
    assert fused([["a", "b"], []], k=1) == ["a"]


def passage(paper: str, n: int, text: str) -> Passage:
    return Passage(
        id=f"{paper}#{n:03d}",
        paper_id=paper,
        section="Results",
        text=text,
        char_start=0,
        char_end=len(text),
    )


def test_hybrid_search_finds_the_passage_with_the_exact_term_and_keeps_its_similarity(tmp_path):
    passages = [
        passage("doi:10.1/a", 1, "Warmup of the learning rate helped deep networks converge."),
        passage("doi:10.1/a", 2, "Training schedules matter for large language models."),
        passage("doi:10.1/b", 1, "The mutation of CYP2C19 reduced clopidogrel response."),
        passage("doi:10.1/c", 1, "Optimisers and schedules were compared on image tasks."),
    ]
    query = "Does CYP2C19 change how training schedules work?"
    with Library(tmp_path / "lib", MiniLM()) as library:
        library.add(passages)
        dense = library.search(query, paper_ids=None, k=4, hybrid=False)
        hybrid = library.search(query, paper_ids=None, k=2)
        within = library.search(query, paper_ids=["doi:10.1/a"], k=3, exclude=["doi:10.1/a#002"])
        library.add([passage("doi:10.1/d", 1, "CYP2C19 and training schedules, together.")])
        after = library.search(query, paper_ids=None, k=1)
    assert "doi:10.1/b#001" in [e.passage_id for e in hybrid]
    similarity = {e.passage_id: e.score for e in dense}
    assert all(e.score == similarity[e.passage_id] for e in hybrid)
    assert [e.passage_id for e in within] == ["doi:10.1/a#001"]
    assert after[0].passage_id == "doi:10.1/d#001"  # the lexical index follows new passages
