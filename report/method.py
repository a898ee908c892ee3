"""The sections code writes, not a model: Method (how the papers were found, screened and
checked) and Limitations (what the run could not do), from the run's own counts."""

from __future__ import annotations

from synth.domain.records import (
    Screening,
    Stats,
    corroborated_claims,
)
from synth.domain.text import plural, times
from synth.report.facts import RunFacts
from synth.sources.literature import SOURCE_NAMES


def method_text(facts: RunFacts, stats: Stats) -> str:
    names = dict.fromkeys(r.reviewer.replace("_", " ") for r in facts.reviews)
    reviewed = (
        f"Reviewers ({', '.join(names)}) scored the draft against their rubrics."
        if names
        else "No reviewer's answer passed validation, so the draft was not reviewed."
    )
    done = [r for r in facts.revisions if not r.failed]
    after_review = sum(r.step.startswith("revision") for r in done)
    after_lint = len(done) - after_review
    failed_review = any(r.failed and r.step.startswith("revision") for r in facts.revisions)
    revision = (
        f"The writer then revised the draft {times(after_review)} in response to their "
        "requests and to every criterion scored under the threshold."
        if after_review
        else ""
        if failed_review or not names
        else "No revision was needed."
    )
    if failed_review:
        revision += (
            " The last revision the reviewers asked for failed validation, so the draft before "
            "it stands."
        )
    if after_lint:
        revision += (
            " The report checks (see the appendix) sent the draft back to the writer "
            f"{times(after_lint)} with the problems they found."
        )
    revision = revision.strip()
    return (
        f"{search_text(facts.screening)} "
        f"The included papers' text was cut into {stats.passages} passages of whole sentences "
        f"and embedded in the library. {reading_text(facts)} {claims_text(facts, stats)}; "
        "every claim's quote was copied from the paper's text by code, not written by the "
        "model, and no sentence reporting another work's finding could be quoted. The verifier "
        "checked "
        f"each claim against up to {facts.evidence_k} passages "
        "retrieved from the run's papers, excluding the claim's own passage"
        f"{corroboration_text(facts)}: "
        f"{stats.supported} supported, {stats.contradicted} contradicted and "
        f"{stats.insufficient} insufficient. {reviewed} {revision}".rstrip()
        + f" {plural(stats.papers_cited, 'paper is', 'papers are')} cited in the references."
    )


def claims_text(facts: RunFacts, stats: Stats) -> str:
    """Where the claims came from: the extractor, or result sentences taken whole."""
    drawn = stats.claims - stats.claims_stated
    extracted = (
        f"the extractor drew {plural(drawn, 'claim')} from {plural(facts.passages_read, 'passage')}"
    )
    if not stats.claims_stated:
        return extracted[0].upper() + extracted[1:]
    are = plural(stats.claims_stated, "claim is a result sentence", "claims are result sentences")
    text = f"{are} that the filter chose, each taken whole in its paper's own words"
    return text + (f", and {extracted} where a sentence could not stand alone" if drawn else "")


def corroboration_text(facts: RunFacts) -> str:
    """How many claims other papers' placing results backed without a judgement
    (`ANSWERS_ALIKE`); empty where none did."""
    backed = corroborated_claims(v.judgements for v in facts.verdicts.values())
    if not backed:
        return ""
    were = "was" if backed == 1 else "were"
    return (
        f"; {plural(backed, 'claim')} giving their paper's answer {were} also "
        "counted as supported by each other paper placed on the same side, for the answer "
        "to the question, not the details"
    )


def reading_text(facts: RunFacts) -> str:
    """How deeply the papers were read: every passage scored by code, the off-topic papers
    named, and, for a yes/no question, how many sentences were read for each paper's answer."""
    titles = {p.id: p.title for p in facts.papers}
    off = [titles.get(pid, pid) for pid in sorted(facts.off_topic)]
    text = (
        "Code scored every passage of every paper against the question and the planner's "
        "sub-questions (embedding similarity and word overlap), and every sentence in which a "
        "paper reports a result of its own"
    )
    text += (
        "; sentences that report another work's finding were set aside."
        if not off
        else f"; sentences that report another work's finding were set aside. "
        f"{plural(len(off), 'paper was', 'papers were')} off-topic (no passage near the "
        f"question) and not read: {'; '.join(f'“{t}”' for t in off)}."
    )
    if facts.placements:
        read = sum(len(p.readings) for p in facts.placements.values())
        other = "other " if off else ""
        text += (
            f" For each of the {other}{plural(len(facts.placements), 'paper')}, its result "
            f"sentences nearest the question (up to {facts.results_per_paper}, {read} in all) "
            "were each read by the model against the question, and the paper was placed from "
            "those readings alone: never from its background, its aims or another work it "
            "cites."
        )
    return text


def search_text(screening: Screening) -> str:
    """How the papers were found, merged, screened and included, PRISMA-style, in counts."""
    s = screening
    if s.sources == ["local"]:
        held = (
            f"The {plural(s.candidates, 'paper')} came from the local folder"
            if s.records == s.candidates
            else f"The local folder held {plural(s.records, 'readable file')}, "
            f"{plural(s.candidates, 'distinct paper')}"
        )
        left_out = f", {len(s.excluded)} left out (see Screening)" if s.excluded else ""
        return (
            f"{held}; papers the user supplies are not screened. "
            f"{plural(s.included, 'paper was', 'papers were')} included{left_out}."
        )
    found = ", ".join(f"{SOURCE_NAMES[src]} {n}" for src, n in s.found.items())
    parts = [
        f"Sources searched: {', '.join(SOURCE_NAMES[src] for src in s.sources)}. "
        f"They returned {plural(s.records, 'record')} ({found})"
    ]
    parts[0] += (
        f"; merging records of the same work by DOI, arXiv id and title left "
        f"{plural(s.candidates, 'distinct paper')} ({s.duplicates} merged)."
        if s.duplicates
        else f", {plural(s.candidates, 'distinct paper')}."
    )
    if s.failed:
        parts.append(f"{plural(len(s.failed), 'search')} failed and returned nothing.")
    if s.screened:
        parts.append(
            f"The screener rated {plural(s.screened, 'paper')} for relevance from title and "
            "abstract; papers from the local folder were not screened."
            if "local" in s.found
            else f"The screener rated all {s.screened} for relevance from title and abstract."
        )
    if s.excluded:
        parts.append(
            f"{plural(len(s.excluded), 'paper was', 'papers were')} left out, each for the "
            "reason listed under Screening."
        )
    parts.append(
        f"{plural(s.included, 'paper was', 'papers were')} included: {s.full_text} with full "
        f"text and {s.abstract_only} from the abstract only."
    )
    return " ".join(parts)


def limitations_text(facts: RunFacts, unpriced: list[str] | None = None) -> str:
    parts = [facts.draft.limitations]
    if facts.dropped:
        parts.append(
            "Items dropped after the model's answers failed validation: "
            + "; ".join(facts.dropped)
            + "."
        )
    if facts.warnings:
        parts.append("Warnings: " + "; ".join(facts.warnings) + ".")
    if facts.unwritten:
        parts.append(
            "Statements of the writer's that code did not let stand, because the claims they "
            "rested on say the opposite or none of them states it, or the papers' counted "
            "answers deny them: " + "; ".join(facts.unwritten) + "."
        )
    if unpriced:
        parts.append(
            f"The cost leaves out the calls to {', '.join(unpriced)}, which has no price in the "
            'price table (add one under [prices."NAME"] in synth.toml).'
        )
    if not facts.calibrated and not facts.judge_note:
        parts.append(
            "Confidence values are uncalibrated for this model: they follow the rule stated with "
            "the claims table, not a measured error rate."
        )
    return "\n\n".join(p for p in parts if p)
