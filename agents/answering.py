"""A claim's answer to a yes/no research question, read by the judge and settled by code: the
question turned into a statement, two readings that must agree, and the rules for wording the
judge reads by topic alone (a stated absence of effect is a no; any other negation is unsure)."""

from __future__ import annotations

import re

from synth.agents.judge import Judged, entailment
from synth.domain.text import REVERSING, plain_words
from synth.model.llm import Model


def as_hypothesis(question: str) -> str:
    """A yes/no question as a statement the judge can hold a claim against."""
    return f'The answer to the question "{question.strip()}" is yes.'


def as_statement(question: str) -> str | None:
    """A do-question as the statement it asks about ("Does X improve Y?" reads "X improve
    Y.", grammar aside); None for other questions, whose subject code cannot find."""
    words = question.strip().rstrip("?").split()
    if len(words) < 3 or words[0].lower() not in ("does", "do", "did"):
        return None
    rest = " ".join(words[1:])
    return f"{rest[0].upper()}{rest[1:]}."


ANSWERS = {"supports": "yes", "contradicts": "no", "unrelated": "depends"}


def as_answers(judged: Judged) -> Judged:
    return Judged(
        probabilities={ANSWERS[k]: v for k, v in judged.probabilities.items()},
        source=judged.source,
    )


def agreed(first: Judged, second: Judged | None) -> Judged:
    """One answer from two readings of a claim's stance: yes or no only where both readings
    give it, with the lower of their two probabilities for it; where they differ, depends
    at 0.5 (the readings disagree; nothing more is known). A small judge reads the side of
    a claim wrongly often enough that one reading alone put a third of the labelled yes/no
    sentences on the wrong side (bench/RESULTS.md, "Stance on a yes/no question")."""
    if second is None:
        return first
    side = first.best
    if side != "depends" and second.best == side:
        low = min(first.probabilities[side], second.probabilities[side])
        others = (1.0 - low) / 2
    else:
        side, low, others = "depends", 0.5, 0.25
    return Judged(
        probabilities={a: low if a == side else others for a in ("yes", "no", "depends")},
        source=first.source,
    )


# Words by which a sentence states that something did not happen or made no difference.
# ("without" is left out: "loss spikes seen without warmup" reports an effect of warmup; a
# lone "t" is left out, "CD4+ T cells" is no negation, and "n't" is found as written.)
NULL_RESULT = (REVERSING - {"without", "t"}) | {"equally", "same", "unchanged", "unaffected"}
# Verbs of an effect: "did not <one of these>" states that the effect was absent.
EFFECT_VERB = (
    r"(?:improv|reduc|chang|affect|alter|increas|decreas|lower|rais|help|benefit|stabili[sz]"
    r"|prevent|matter|differ|enhanc|boost|impair|harm|hurt|speed|slow|shorten|lengthen)\w*"
)
NO_EFFECT = re.compile(
    rf"(?:\bnot|\bnever|n['’]t)\s+(?:\w+\s+)?{EFFECT_VERB}\b"  # did not (measurably) improve
    r"|\bno\s+(?:\w+\s+)?(?:effect|difference|benefit|improvement|change|gain|advantage|loss"
    r"|drop|reduction|increase|decrease)s?\b"  # no measurable difference, no loss of accuracy
    r"|\bno\s+(?:more|less|better|worse|higher|lower|fewer)\b"  # recalled no more items
    r"|\b(?:was|were|is|are|remained|stayed|reached|achieved|gave|showed|yielded)\s+"
    r"(?:\w+\s+)?the\s+same\b"  # was the same after (but not "the same models trained")
    r"|\bequally\b|\bunchanged\b|\bunaffected\b|\bindistinguishable\b",
    re.IGNORECASE,
)


def states_null(text: str) -> bool:
    """Whether `text` holds a negation or a no-difference phrase ("did not improve",
    "equally stable with and without", "the same after")."""
    return bool(set(plain_words(text)) & NULL_RESULT) or bool(re.search(r"n['’]t\b", text))


def states_no_effect(text: str) -> bool:
    """Whether `text` states that an effect was absent: a negated verb of effect ("did not
    reduce", "didn't improve"), no difference ("no measurable effect", "equally stable",
    "was the same", "unchanged"). Narrower than `states_null`: "binds single- but not
    double-stranded DNA" and "runs with warmup did not diverge" state a negation, not a
    null result."""
    return bool(NO_EFFECT.search(text))


# Verbs that say which way an effect goes but not what it acts on: the outcome a question asks
# about lies in the words after them ("reduce nitrate leaching"). Other verbs of effect name
# the outcome themselves ("stabilise training": stability).
DIRECTION_ONLY = re.compile(
    r"(?:improv|reduc|chang|affect|alter|increas|decreas|lower|rais|help|benefit|matter|differ"
    r"|enhanc|boost|impair|harm|hurt)\w*",
    re.IGNORECASE,
)
OUTCOME_STOP = {"does", "that", "with", "from", "into", "than", "their", "when", "true"}


def outcome_words(question: str) -> set[str]:
    """What a yes/no question asks is affected, as four-letter word starts: its words from
    its verb of effect on, less a verb that only gives the direction ("nitr", "leac",
    "maiz", "fiel" for "Does rye reduce nitrate leaching from maize fields?"); all its words
    where code finds no such verb."""
    found = re.search(rf"\b{EFFECT_VERB}\b", question, re.IGNORECASE)
    asked = question
    if found is not None:
        asked = question[found.start() :]
        if DIRECTION_ONLY.fullmatch(found.group(0)):
            asked = question[found.end() :]
    return {w[:4] for w in plain_words(asked) if len(w) >= 4 and w not in OUTCOME_STOP}


def names_outcome(question: str, text: str) -> bool:
    """Whether `text` names the outcome the question asks about."""
    return bool(outcome_words(question) & {w[:4] for w in plain_words(text) if len(w) >= 4})


def states_outcome_absent(question: str, text: str) -> bool:
    """Whether `text` states that the effect was absent (`states_no_effect`) on the outcome
    the question asks about. "Drainage volume did not differ between treatments" states a
    null result, but not on nitrate leaching: it answers no question about leaching."""
    return states_no_effect(text) and names_outcome(question, text)


UNSURE = Judged(probabilities={"yes": 0.25, "no": 0.25, "depends": 0.5}, source="head")


def guarded(judged: Judged, *, question: str, claim: str) -> Judged:
    """`judged`, with code reading the negation a small judge leaves out. The judge reads a
    claim by its topic: "learning-rate warmup did not reduce loss spikes" comes out as a yes
    to "does warmup stabilise training?". So where the judge answers yes, the claim states
    a negation and the question states none:
    - a claim that states the effect was absent on the question's outcome
      (`states_outcome_absent`) answers no, with the probability the judge gave its yes (it
      read the claim as on the question's topic; code read which way);
    - a claim with any other negation answers depends: a wrong side would put its paper on
      the wrong side of the report's count, and a depends only leaves it uncounted.
    Measured on labelled sentences and on SciFact (bench/RESULTS.md, "Stance on a yes/no
    question")."""
    if judged.best != "yes" or not states_null(claim) or states_null(question):
        return judged
    if states_outcome_absent(question, claim):
        p = judged.probabilities
        swapped = {"yes": p["no"], "no": p["yes"], "depends": p["depends"]}
        return Judged(probabilities=swapped, source=judged.source)
    return UNSURE.model_copy(update={"source": judged.source})


def asks_again(read: Judged, answer: Judged) -> bool:
    """Whether a second reading can change `answer` (the first reading `read`, guarded): not
    a depends, nor a yes that code turned into a no (the second reading leaves out the
    negation just as the first did)."""
    return answer.best != "depends" and answer.best == read.best


def settle(question: str, claim: str, first: Judged, second: Judged | None) -> Judged:
    """The stance from the two readings (the judge's stances, not yet answers), as `stance`
    takes it; `second` is ignored where it could not change the answer."""
    read = as_answers(first)
    answer = guarded(read, question=question, claim=claim)
    if second is None or not asks_again(read, answer):
        return answer
    return agreed(answer, as_answers(second))


async def stance(model: Model, *, item: str, question: str, claim: str) -> Judged | None:
    """How `claim` answers a yes/no `question`: yes, no or depends, by the same judge as
    every other check, with the same head; None without log-probabilities. Two readings:
    does the claim support "the answer is yes", and (for a do-question) does it support the
    statement the question asks about; a side is taken only where both give it, and the
    negations the judge leaves out are read by code (`guarded`). The second reading is asked
    only when it can change the answer (`asks_again`), right after the first, so that the
    server can reuse the claim's part of the prompt."""
    first = await entailment(model, item=item, premise=claim, hypothesis=as_hypothesis(question))
    if first is None:
        return None
    read = as_answers(first)
    said = as_statement(question)
    if said is None or not asks_again(read, guarded(read, question=question, claim=claim)):
        return settle(question, claim, first, None)
    second = await entailment(model, item=f"{item}-says", premise=claim, hypothesis=said)
    return settle(question, claim, first, second)


YES_NO_OPENINGS = (
    "does", "do", "did", "is", "are", "was", "were", "can", "could", "should", "will", "would",
    "has", "have", "had", "may", "might", "must",
)  # fmt: skip


def is_yes_no(question: str) -> bool:
    """A question answered by yes or no: it opens with an auxiliary verb ("Does warmup …?",
    "Is A better than B?")."""
    words = question.strip().split()
    return bool(words) and words[0].lower().strip("\"'(") in YES_NO_OPENINGS
