"""Reading finished runs back: the audit of a run's calls, one call in full, the evidence trail
of one claim, the run history, and what changed between two runs. Pure functions of the run
folder's files; the command line prints them as tables or JSON."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from synth.domain.records import Passage, Report
from synth.domain.settings import Price
from synth.model.cost import is_sent, price_for, tokens_of


class AgentAudit(BaseModel):
    agent: str
    calls: int  # attempts recorded, re-asks included
    sent: int  # attempts that went to a model (not cache hits or replays)
    cache_hits: int
    tokens_in: int
    tokens_out: int
    cost_usd: float | None  # None when a model has no price
    latency_p50_s: float | None
    latency_p95_s: float | None
    retries: int  # transport retries (429, 5xx, timeouts)
    invalid: int  # answers that failed validation
    reasks: int  # attempts after the first for one item
    dropped: int  # items given up after their last attempt failed


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile by the nearest-rank rule (q in 0..100)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def audit(entries: list[dict[str, Any]], prices: Mapping[str, Price]) -> list[AgentAudit]:
    by_agent: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        by_agent.setdefault(str(entry.get("agent")), []).append(entry)
    rows = []
    for agent, calls in sorted(by_agent.items()):
        sent = [e for e in calls if is_sent(e)]
        latencies = [float(e["latency_s"]) for e in sent if e.get("latency_s") is not None]
        cost: float | None = 0.0
        for e in sent:
            price = price_for(e, prices)
            if price is None:
                cost = None
                break
            t_in, t_out = tokens_of(e)
            cost += (t_in * price.input + t_out * price.output) / 1_000_000
        final = {}
        for e in calls:  # the last attempt of each item decides whether it was dropped
            item = str(e.get("item"))
            if item not in final or int(e.get("attempt", 0)) >= int(final[item].get("attempt", 0)):
                final[item] = e
        rows.append(
            AgentAudit(
                agent=agent,
                calls=len(calls),
                sent=len(sent),
                cache_hits=sum(1 for e in calls if e.get("cache_hit")),
                tokens_in=sum(tokens_of(e)[0] for e in sent),
                tokens_out=sum(tokens_of(e)[1] for e in sent),
                cost_usd=None if cost is None else round(cost, 6),
                latency_p50_s=percentile(latencies, 50),
                latency_p95_s=percentile(latencies, 95),
                retries=sum(int(e.get("retries") or 0) for e in calls),
                invalid=sum(1 for e in calls if e.get("error")),
                reasks=sum(1 for e in calls if int(e.get("attempt", 0)) > 0),
                dropped=sum(1 for e in final.values() if e.get("error")),
            )
        )
    return rows


def call_detail(entries: list[dict[str, Any]], number: int) -> dict[str, Any]:
    """Transcript entry `number` (1-based, in the order the calls were recorded)."""
    if not 1 <= number <= len(entries):
        raise IndexError(f"the transcript has calls 1 to {len(entries)}")
    return {"call": number, **entries[number - 1]}


class ClaimTrail(BaseModel):
    claim: dict[str, Any]
    paper: dict[str, Any] | None
    passage: dict[str, Any] | None
    evidence: list[dict[str, Any]]
    cited_in: list[str]


def claim_trail(report: Report, passages: Mapping[str, Passage], claim_id: str) -> ClaimTrail:
    """Claim → quote → passage (where in the paper) → verdict and evidence → report text."""
    wanted = claim_id if claim_id.upper().startswith("C") else f"C{claim_id}"
    claim = next((c for c in report.claims if c.id.upper() == wanted.upper()), None)
    if claim is None:
        raise KeyError(f"the report has no claim {wanted} (it has C1 to C{len(report.claims)})")
    reference = next((r for r in report.references if r.id == claim.paper_id), None)
    refs = {r.id: r.n for r in report.references}

    def passage(pid: str) -> dict[str, Any] | None:
        found = passages.get(pid)
        if found is None:
            return None
        return {**found.model_dump(), "ref": refs.get(found.paper_id)}

    cited_in = [
        f"finding {n}: {f.statement}"
        for n, f in enumerate(report.findings, start=1)
        if claim.id in f.claim_ids
    ]
    cited_in += [
        f"finding {n} (disputes it): {f.statement}"
        for n, f in enumerate(report.findings, start=1)
        if claim.id in f.against_claim_ids
    ]
    cited_in += [
        f"contradiction: {c.statement}"
        for c in report.contradictions
        if c.claim_id == claim.id and c.finding is None
    ]
    return ClaimTrail(
        claim=claim.model_dump(mode="json"),
        paper=reference.model_dump() if reference else {"id": claim.paper_id, "cited": False},
        passage=passage(claim.passage_id),
        evidence=[passage(pid) or {"id": pid} for pid in claim.evidence],
        cited_in=cited_in,
    )


class RunSummary(BaseModel):
    id: str
    question: str
    created: str
    model: str
    status: str
    papers: int | None
    claims: int | None
    verdicts: str | None
    tokens: int | None
    cost_usd: float | None


def run_summary(folder: Path) -> RunSummary | None:
    """One line of the run history, or None for a folder that is not a run."""
    try:
        record = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    settings = record.get("settings") or {}
    report = None
    if (folder / "report.json").is_file():
        try:
            report = Report.model_validate_json((folder / "report.json").read_text("utf-8"))
        except ValueError:
            report = None
    s = report.stats if report else None
    return RunSummary(
        id=folder.name,
        question=str(record.get("question", "")),
        created=str(record.get("created", "")),
        model=str(settings.get("model", "")),
        status=str(record.get("status", "unknown")),
        papers=s.papers_included if s else None,
        claims=s.claims if s else None,
        verdicts=f"{s.supported}/{s.contradicted}/{s.insufficient}" if s else None,
        tokens=s.tokens_in + s.tokens_out if s else None,
        cost_usd=s.cost_usd if s else None,
    )


def run_history(runs_dir: Path) -> list[RunSummary]:
    if not runs_dir.is_dir():
        return []
    found = (run_summary(p) for p in sorted(runs_dir.iterdir()) if p.is_dir())
    return [s for s in found if s is not None]


class RunDiff(BaseModel):
    papers_added: list[str]
    papers_removed: list[str]
    claims_added: list[str]
    claims_removed: list[str]
    verdicts_changed: list[dict[str, Any]]
    scores: list[dict[str, Any]]
    stats: dict[str, list[Any]]


def diff_reports(a: Report, b: Report) -> RunDiff:
    """What changed from run A to run B: papers cited, claims (matched by text), verdicts of
    the claims both have, reviewer scores, and the counts that differ."""
    papers_a = {r.id: r.title for r in a.references}
    papers_b = {r.id: r.title for r in b.references}
    claims_a = {c.text: c for c in a.claims}
    claims_b = {c.text: c for c in b.claims}
    changed = [
        {
            "claim": text,
            "a": f"{claims_a[text].label.value} {claims_a[text].confidence:.2f}",
            "b": f"{claims_b[text].label.value} {claims_b[text].confidence:.2f}",
        }
        for text in sorted(set(claims_a) & set(claims_b))
        if (claims_a[text].label, claims_a[text].confidence)
        != (claims_b[text].label, claims_b[text].confidence)
    ]

    def final_scores(report: Report) -> dict[str, float]:
        last: dict[str, float] = {}
        for review in sorted(report.reviews, key=lambda r: r.round):
            last[review.reviewer] = review.overall
        return last

    scores_a, scores_b = final_scores(a), final_scores(b)
    scores = [
        {"reviewer": name, "a": scores_a.get(name), "b": scores_b.get(name)}
        for name in sorted(set(scores_a) | set(scores_b))
        if scores_a.get(name) != scores_b.get(name)
    ]
    stats_a, stats_b = a.stats.model_dump(), b.stats.model_dump()
    return RunDiff(
        papers_added=sorted(papers_b[p] for p in set(papers_b) - set(papers_a)),
        papers_removed=sorted(papers_a[p] for p in set(papers_a) - set(papers_b)),
        claims_added=sorted(set(claims_b) - set(claims_a)),
        claims_removed=sorted(set(claims_a) - set(claims_b)),
        verdicts_changed=changed,
        scores=scores,
        stats={
            k: [stats_a[k], stats_b[k]]
            for k in stats_a
            if stats_a[k] != stats_b[k] and k != "wall_s"
        },
    )


# ---------------------------------------------------------------------------------------------
# As text for the terminal


def call_text(detail: Mapping[str, Any]) -> str:
    lines = [
        f"call {detail['call']}: {detail.get('agent')} / {detail.get('item')}, attempt "
        f"{detail.get('attempt')}, model {detail.get('model')}",
        f"prompt {detail.get('prompt')} ({str(detail.get('prompt_hash', ''))[:12]}), "
        f"request {str(detail.get('request_hash'))[:12]}, "
        f"{'cache hit' if detail.get('cache_hit') else 'sent'}",
    ]
    for message in detail.get("messages", []):
        lines += ["", f"--- {message['role']} ---", str(message["content"])]
    lines += ["", f"--- answer ({detail.get('finish_reason')}) ---", str(detail.get("raw"))]
    lines += ["", "--- validation ---", str(detail.get("error") or "valid")]
    return "\n".join(lines)


def trail_text(trail: ClaimTrail) -> str:
    c = trail.claim
    located = "located in the passage" if c["quote_found"] else "NOT located in the passage"
    paper = trail.paper or {}
    ref = f"[{paper['n']}] " if paper.get("n") else "(not cited) "
    lines = [f"{c['id']}: {c['text']}", "", f"quote (verbatim, {located}):", f"  {c['quote']}"]
    lines += ["", f"paper: {ref}{paper.get('title', paper.get('id'))}"]
    if trail.passage:
        p = trail.passage
        lines += [
            "",
            f"passage {p['id']}, section '{p['section']}', characters "
            f"{p['char_start']}-{p['char_end']} of the paper's text:",
            f"  {p['text']}",
        ]
    lines += ["", f"verdict: {c['label']}, confidence {c['confidence']:.2f}. {c['rationale']}"]
    if c.get("signals"):
        s = c["signals"]
        doubt = s.get("model_probability")
        lines.append(
            f"counted: {s['papers_for']} other papers for the label, {s['papers_against']} "
            f"against, {s['passages_judged']} passages judged, best retrieval similarity "
            f"{s['best_score']:.2f}, model probability "
            + ("not given" if doubt is None else f"{doubt:.2f}")
        )
    if c.get("judgements"):
        lines.append(
            "judged: " + ", ".join(f"{pid} {stance}" for pid, stance in c["judgements"].items())
        )
    for e in trail.evidence:
        ref = f" [{e['ref']}]" if e.get("ref") else ""
        lines += ["", f"evidence {e['id']}{ref}:", f"  {e.get('text', '(text not in the run)')}"]
    lines += ["", "cited in the report:"]
    lines += [f"  {line}" for line in trail.cited_in or ["(by no finding)"]]
    return "\n".join(lines)


def diff_text(a_id: str, b_id: str, changes: RunDiff) -> str:
    lines = [f"A: {a_id}", f"B: {b_id}"]
    for title, items in (
        ("papers cited only in B", changes.papers_added),
        ("papers cited only in A", changes.papers_removed),
        ("claims only in B", changes.claims_added),
        ("claims only in A", changes.claims_removed),
    ):
        lines += ["", f"{title}: {len(items)}", *(f"  - {item}" for item in items)]
    lines += ["", f"verdicts changed: {len(changes.verdicts_changed)}"]
    lines += [f"  - {v['claim']}: {v['a']} -> {v['b']}" for v in changes.verdicts_changed]
    lines += ["", f"review scores changed: {len(changes.scores)}"]
    lines += [f"  - {s['reviewer']}: {s['a']} -> {s['b']}" for s in changes.scores]
    lines += ["", "counts changed:" + ("" if changes.stats else " none")]
    lines += [f"  - {k.replace('_', ' ')}: {a} -> {b}" for k, (a, b) in changes.stats.items()]
    return "\n".join(lines)
