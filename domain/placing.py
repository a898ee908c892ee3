"""A paper's own answer to a yes/no question, from the readings of the sentences that report its
results (code; the reader gives each sentence its probabilities).

A sentence takes a side when the reader prefers that answer by at least MARGIN over the other.
A paper answers yes (or no) when its sentences that take a side take only that one, and mixed
when they take both: a result that holds in one setting and not another. A paper none of whose
sentences takes a side is unplaced, and the report counts it as such before it says how the
placed papers divide. The margin is chosen on gold papers by `bench/depth.py`.
"""

from __future__ import annotations

from synth.domain.records import Placement, SentenceReading

MARGIN = 0.1


def side(reading: SentenceReading, margin: float = MARGIN) -> str | None:
    """ "yes" or "no" where the reading prefers it by `margin`, else None."""
    p = reading.probabilities
    if reading.answer == "yes" and p.get("yes", 0.0) - p.get("no", 0.0) >= margin:
        return "yes"
    if reading.answer == "no" and p.get("no", 0.0) - p.get("yes", 0.0) >= margin:
        return "no"
    if reading.answer == "no" and p.get("yes", 0.0) > p.get("no", 0.0):
        return "no"  # code read a stated null result the reader took for a yes
    return None


def place(paper_id: str, readings: list[SentenceReading], margin: float = MARGIN) -> Placement:
    """The paper's answer from its readings, best candidate first (see the module docstring)."""
    sides = [side(r, margin) for r in readings]
    taken = {s for s in sides if s}
    if not taken:
        return Placement(paper_id=paper_id, answer="unplaced", readings=readings)
    answer = "mixed" if len(taken) == 2 else taken.pop()
    decisive = [i for i, s in enumerate(sides) if s is not None]
    return Placement(paper_id=paper_id, answer=answer, readings=readings, decisive=decisive)
