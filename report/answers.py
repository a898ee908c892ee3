"""How the report says the papers answer a yes/no question: the tally, counted by code from each
paper's placement, and each side in its papers' own words. Shared by the Markdown, HTML and
PDF renderings and by the sentence code adds to the abstract.

The tally says how many papers could not be placed before it says how the placed ones divide,
and says so when the unplaced papers could change which side has more.
"""

from __future__ import annotations

from typing import NamedTuple

from synth.domain.records import QuestionAnswer, Report
from synth.domain.text import plural

ANSWERS_HEADING = "Answers to the question, paper by paper:"
SIDES_INTRO = "The papers answer the research question differently, each in its own words:"


def cite_text(refs: list[int]) -> str:
    return f"[{', '.join(str(r) for r in refs)}]" if refs else ""


def answer_summary(answer: QuestionAnswer, cited: bool = True) -> str:
    """The papers read by their answer, unplaced ones first: "Of the 10 papers read, 2 could
    not be placed [4, 9] ...; of the 8 placed, 6 answer yes [...] and 2 no [...]."; without
    the reference numbers where not `cited` (the abstract, which cites nothing)."""

    def cite(refs: list[int]) -> str:
        return f" {cite_text(refs)}" if refs and cited else ""

    placed = len(answer.yes) + len(answer.no) + len(answer.mixed)
    unplaced = len(answer.depends)
    read = placed + unplaced
    if not placed:
        return (
            f"None of the {plural(read, 'paper')} read could be placed: no result of theirs "
            f"that was read answers the question either way{cite(answer.depends)}, so the "
            "papers read do not answer it."
        )
    sides = []
    for refs, words in (
        (answer.yes, "yes"),
        (answer.no, "no"),
        (answer.mixed, "yes in some settings and no in others"),
    ):
        if refs:
            verb = "answers" if len(refs) == 1 else "answer"
            sides.append(f"{len(refs)} {verb} {words}{cite(refs)}")
    divide = sides[0] if len(sides) == 1 else ", ".join(sides[:-1]) + " and " + sides[-1]
    if not unplaced:
        head = f"All {plural(read, 'paper')} read were placed"
        if read == 1:
            head = "The one paper read was placed"
        return f"{head}: {divide}."
    text = (
        f"Of the {plural(read, 'paper')} read, {unplaced} could not be placed: no result of "
        f"theirs that was read answers the question either way{cite(answer.depends)}. Of the "
        f"{placed} placed, {divide}."
    )
    if unplaced >= abs(len(answer.yes) - len(answer.no)):
        text += " The unplaced papers are enough to change which side has more papers."
    return text


class Side(NamedTuple):
    side: str
    ref: int
    claim_id: str | None  # the claim that quotes the sentence, where one does
    quote: str


def answer_sides(report: Report) -> list[Side]:
    """Each side of a divided yes/no question in its papers' own words: for every paper placed
    on a side, the sentence that placed it most surely."""
    answer = report.answer
    if answer is None or not answer.divided:
        return []
    if not report.placements:
        return _sides_from_claims(report)
    out = []
    for side in ("yes", "no"):
        for placed in report.placements:
            chosen = [
                placed.readings[i] for i in placed.decisive if placed.readings[i].answer == side
            ]
            if placed.answer not in (side, "mixed") or not chosen:
                continue
            best = max(chosen, key=lambda r: r.probabilities.get(side, 0.0))
            quoting = [
                c.id for c in report.claims if c.id in placed.claim_ids and c.quote == best.sentence
            ]
            out.append(Side(side, placed.ref, quoting[0] if quoting else None, best.sentence))
    return out


def _sides_from_claims(report: Report) -> list[Side]:
    """A report of an earlier version: each side from the claim that gave it most surely."""
    out = []
    for side in ("yes", "no"):
        best: dict[int, tuple[float, str, str]] = {}
        for c in report.claims:
            if c.stance is None or c.stance.answer != side or c.ref is None:
                continue
            if c.ref not in best or c.stance.probability > best[c.ref][0]:
                best[c.ref] = (c.stance.probability, c.id, c.quote)
        out += [Side(side, ref, cid, quote) for ref, (_, cid, quote) in sorted(best.items())]
    return out
