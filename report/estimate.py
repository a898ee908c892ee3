"""`--dry-run`: what a run would ask of the model, stage by stage, before anything is spent.

Counts are upper bounds from the settings (every passage yields its full number of claims,
every claim is checked against its full evidence), before re-asks; tokens in are the prompt
templates plus the text each call carries, tokens out the calls' `max_tokens` allowances.
"""

from __future__ import annotations

from pydantic import BaseModel

from synth.agents import extractor, planner, reviewer, screener, verifier, writer
from synth.agents.checks import SENTENCE_CLAIMS
from synth.domain.settings import RunSettings
from synth.model import prompts, tokens
from synth.model.cost import price_for

PASSAGE_TOKENS = 180  # a passage of about 130 words
CLAIM_TOKENS = 45
SENTENCE_TOKENS = 60  # a sentence, the question and the paper's title
SENTENCE_ANSWER_TOKENS = 8
SEARCHES_PER_SOURCE = 5  # the planner writes at most this many queries


class StageEstimate(BaseModel):
    stage: str
    calls: int
    tokens_in: int
    tokens_out: int
    cost_usd: float | None


def _template_tokens(name: str) -> int:
    template = prompts.load(name)
    return sum(tokens.count_text(part) for part in template.parts.values())


def estimate(
    settings: RunSettings,
    *,
    papers: int,
    passages: int | None,
    online_sources: int,
    model: str,
    base_url: str,
) -> list[StageEstimate]:
    """Stage by stage, for `papers` papers (`passages` of them when known)."""
    s = settings
    read = min(
        passages if passages is not None else papers * s.retrieval.passages_per_paper,
        papers * s.retrieval.passages_per_paper,
    )
    claims = read * s.retrieval.claims_per_passage
    if s.retrieval.claims_from == "sentences":
        # Each result sentence read is a claim, whether it stands as written or is restated.
        claims = papers * s.retrieval.results_per_paper
    candidates = online_sources * SEARCHES_PER_SOURCE * s.literature.results_per_search
    rounds = s.review.revision_rounds + 1 if s.review.review_revised else 1
    personas = len(
        [p for p in reviewer.personas() if p in s.review.reviewers] or reviewer.personas()
    )
    # The judge's checks of the writer: each finding against its group (twice when refused),
    # each sentence of abstract and discussion against its claims, after every draft.
    lint = s.review.report_check_rounds
    checks = s.review.max_findings * 5 * 2 + 12 * SENTENCE_CLAIMS * (lint + 1)
    draft = s.review.max_findings * 60 + 400
    rows = [
        ("plan", 1, _template_tokens("planner") + 60, planner.MAX_TOKENS),
        ("screen", candidates, _template_tokens("screener") + 350, screener.MAX_TOKENS),
        (
            # Each paper's result sentences, and each claim's quote, read against a yes/no
            # question (a server without log-probabilities answers in a few JSON tokens).
            "answers",
            papers * s.retrieval.results_per_paper + claims,
            _template_tokens("reader") + SENTENCE_TOKENS,
            SENTENCE_ANSWER_TOKENS,
        ),
        (
            "extract",
            read,
            _template_tokens("extractor") + PASSAGE_TOKENS + 60,
            extractor.MAX_TOKENS,
        ),
        (
            # One judgement per evidence passage; a server without log-probabilities is asked
            # the verifier's JSON question instead, hence its bound.
            "verify",
            claims * s.retrieval.evidence_k,
            _template_tokens("verifier") + CLAIM_TOKENS + PASSAGE_TOKENS,
            verifier.MAX_TOKENS,
        ),
        ("check", checks, _template_tokens("judge") + 2 * CLAIM_TOKENS, 1),
        (
            "findings",
            s.review.max_findings if s.review.writer_findings else 0,
            _template_tokens("writer_finding")
            + CLAIM_TOKENS
            * min(claims, s.review.writer_max_claims)
            // max(1, s.review.max_findings),
            writer.FINDING_TOKENS,
        ),
        (
            "write",
            1 + s.review.revision_rounds + lint,  # the report checks may send it back too
            _template_tokens("writer") + draft,
            writer.FRAME_TOKENS + (writer.FINDING_TOKENS if s.review.writer_findings else 0),
        ),
        (
            "review",
            personas * rounds,
            _template_tokens("reviewer") + 250 + draft,
            reviewer.MAX_TOKENS,
        ),
    ]
    price = price_for({"model": model, "endpoint": {"base_url": base_url}}, s.budget.prices)
    out = []
    for stage, calls, per_in, per_out in rows:
        if calls == 0:
            continue
        t_in, t_out = calls * per_in, calls * per_out
        cost = None if price is None else (t_in * price.input + t_out * price.output) / 1e6
        out.append(
            StageEstimate(
                stage=stage,
                calls=calls,
                tokens_in=t_in,
                tokens_out=t_out,
                cost_usd=None if cost is None else round(cost, 4),
            )
        )
    return out
