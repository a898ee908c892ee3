"""A paper's own answer to a yes/no question, from the readings of the sentences that report its
results (code; the reader gives each sentence its probabilities).

A sentence takes a side when the reader prefers that answer by at least MARGIN over the other.
A paper answers yes (or no) when its sentences that take a side take only that one, and mixed
when they take both: a result that holds in one setting and not another. A paper none of whose
sentences takes a side is unplaced, and the report counts it as such before it says how the
placed papers divide. The margin is chosen on gold papers by `bench/depth.py`. A sentence in
which code reads that the effect was absent on the question's own outcome is a no whatever
the margin: the model's doubt between yes and no does not outweigh a stated null result.

A paper's abstract is its own summary of what it found. Where a sentence of the abstract takes
a side, the abstract's sentences alone place the paper, and a result elsewhere that answers the
other way qualifies the answer (a setting where it did not hold) instead of dividing it: a paper
whose abstract reports a fivefold gain is not "both ways" for a null result at the smallest
learning rates in its Results. Measured on the gold sets (bench/RESULTS.md, "Placement by the
reader on gold papers"). A paper whose abstract takes no side, or that is nothing but an
abstract, is placed from all its readings.
"""

from __future__ import annotations

from collections.abc import Collection

from synth.domain.records import PaperText, Placement, SentenceReading

MARGIN = 0.1
SUMMARY = "abstract"


def side(reading: SentenceReading, margin: float = MARGIN) -> str | None:
    """ "yes" or "no" where the reading prefers it by `margin`, else None."""
    p = reading.probabilities
    if reading.answer == "yes" and p.get("yes", 0.0) - p.get("no", 0.0) >= margin:
        return "yes"
    if reading.answer == "no" and p.get("no", 0.0) - p.get("yes", 0.0) >= margin:
        return "no"
    if reading.answer == "no" and (reading.null_on_outcome or p.get("yes", 0.0) > p.get("no", 0.0)):
        # Code read a stated absence of the effect on the question's outcome: the model's
        # margin does not decide it, whether it leaned yes (a reading of an earlier version
        # records only that) or no by less than the margin.
        return "no"
    return None


def taking_sides(readings: list[SentenceReading], margin: float = MARGIN) -> list[int]:
    """The indices of the readings that take a side, in order."""
    return [i for i, r in enumerate(readings) if side(r, margin)]


def in_summary(text: PaperText, readings: list[SentenceReading]) -> list[int]:
    """The indices of the readings whose sentence is in the paper's abstract."""
    summary = " ".join(
        " ".join(s.text.split()) for s in text.sections if s.name.strip().lower() == SUMMARY
    )
    return [
        i for i, r in enumerate(readings) if summary and " ".join(r.sentence.split()) in summary
    ]


def place(
    paper_id: str,
    readings: list[SentenceReading],
    margin: float = MARGIN,
    summary: Collection[int] = (),
) -> Placement:
    """The paper's answer from its readings, best candidate first; `summary`: the indices of
    the readings from its abstract (see the module docstring)."""
    sided = taking_sides(readings, margin)
    decisive = [i for i in sided if i in summary] or sided
    taken = {side(readings[i], margin) for i in decisive}
    if not taken:
        return Placement(paper_id=paper_id, answer="unplaced", readings=readings)
    answer = "mixed" if len(taken) == 2 else str(taken.pop())
    return Placement(paper_id=paper_id, answer=answer, readings=readings, decisive=decisive)
