"""A fixed run's facts (papers, claims, verdicts, a draft) that report tests build from, with
and without a disagreement between papers."""

from __future__ import annotations

from synth.agents.writer import Draft, FindingOut
from synth.domain.records import Claim, Label, Paper, Review, Revision, Screening, Verdict
from synth.report.build import build_report
from synth.report.facts import RunFacts

QUESTION = "Does warmup help small transformers train stably, even at high learning rates?"


def facts() -> RunFacts:
    papers = [
        Paper(
            id=f"local:{i}",
            title=f"Paper {name}",
            authors=[f"Author {name}"],
            year=2020 + i,
            source="local",
        )
        for i, name in enumerate(["A", "B", "C", "D"])
    ]
    claims = [
        Claim(
            id="C1",
            paper_id="local:2",
            passage_id="local:2#001",
            text="Warmup reduced divergence in small transformer training runs.",
            quote="Warmup reduced divergence.",
            quote_found=True,
            kind="finding",
        ),
        Claim(
            id="C2",
            paper_id="local:0",
            passage_id="local:0#001",
            text="Pre-norm models trained without warmup converged in all runs.",
            quote="Pre-norm models converged.",
            quote_found=True,
            kind="finding",
        ),
        Claim(
            id="C3",
            paper_id="local:1",
            passage_id="local:1#002",
            text="Vocabulary size changed perplexity by less than two percent.",
            quote="Vocabulary size mattered little.",
            quote_found=True,
            kind="finding",
        ),
    ]
    verdicts = {
        cid: Verdict(
            claim_id=cid,
            label=label,
            evidence=evidence,
            quote_found=True,
            confidence=confidence,
            rationale="r",
        )
        for cid, label, evidence, confidence in (
            ("C1", Label.SUPPORTED, ["local:1#001"], 0.85),
            ("C2", Label.CONTRADICTED, ["local:2#001"], 0.7),
            ("C3", Label.INSUFFICIENT, [], 0.55),
        )
    }
    draft = Draft(
        title="Warmup and stability",
        abstract="The evidence is mixed: warmup reduces divergence, but pre-norm models may not "
        "need it.",
        introduction="Intro.",
        findings=[
            FindingOut(statement="Warmup reduces divergence.", claim_ids=["C1"]),
            FindingOut(statement="Pre-norm may not need warmup.", claim_ids=["C2", "C1"]),
        ],
        discussion="Discussion.",
        limitations="Few papers.",
    )
    review = Review(
        reviewer="methodologist",
        round=0,
        overall=7.0,
        requests=["Say more."],
        scores={"evidence_strength": {"score": 7, "justification": "Fine."}},
    )
    return RunFacts(
        run_id="20260101-000000-q",
        question=QUESTION,
        created="2026-01-01 00:00 UTC",
        models={"writer": "m"},
        sources=["local"],
        papers=papers,
        screening=Screening(
            sources=["local"],
            found={"local": len(papers)},
            records=len(papers),
            candidates=len(papers),
            duplicates=0,
            screened=0,
            included=len(papers),
            full_text=len(papers),
            abstract_only=0,
        ),
        passages=9,
        passages_read=6,
        results_per_paper=2,
        evidence_k=4,
        claims=claims,
        verdicts=verdicts,
        draft=draft,
        reviews=[review],
        revisions=[Revision(step="revision 1", requests=["Say more."], changed=["abstract"])],
        dropped=["passage local:3#001 (bad)"],
        warnings=[],
        transcript=[],
        wall_s=3.0,
        passage_texts={"local:2#001": "Warmup reduced divergence."},
    )


def facts_with_disagreement() -> RunFacts:
    """The fixed run, where the verifier judged passages of two more papers on C1 and the
    second finding names C2 as disagreeing with it."""
    run = facts()
    run.verdicts["C1"] = run.verdicts["C1"].model_copy(
        update={"judgements": {"local:1#001": "supports", "local:3#002": "contradicts"}}
    )
    run.draft.findings[1] = FindingOut(
        statement="Pre-norm may not need warmup.", claim_ids=["C1"], disagreeing_ids=["C2"]
    )
    return run


def report_with_disagreement():
    return build_report(facts_with_disagreement())
