"""The judge: does one text support, contradict, or say nothing about another?

Every check of one text against another goes through here: a claim against an evidence
passage (the verifier), a finding the writer stated against the claims it rests on, and a
claim against the research question (its stance: yes, no or depends). One judge, so that the
report's sentences are held to the same standard as its claims.

The question is asked without a grammar, and the answer is read from what the model holds
where its answer begins, so a small model's doubt is measured rather than hidden behind the
word it happens to write: the probabilities of its first answer token ("True", "False" or
"Unknown"), read by a multinomial logistic regression over them. The verifier (a claim
against a paper's passage) reads more where it can: the embedded model's hidden state at the
last token of the prompt (served by a second llama.cpp server of the same weights), read by a
linear probe. Both heads are fitted on SciFact train by `bench/fit_judge.py` and shipped under
`agents/judges/`. The probe measured well above the answer words as a verifier, and below
them on a claim's stance on a question (bench/RESULTS.md), so only the verifier uses it.
A model with no head gets the token probabilities renormalised over the options, and a
server that gives no log-probabilities is asked the verifier's JSON question instead, its
stated stance counting as certain. A claim's stance on a yes/no question is the same
question with the claim as the passage and "the answer to the question is yes" as the
claim. (A prompt asking "yes, no or unclear?" directly was tried on the quick start's
claims: it answered yes far more often, three times the opposite of the claim's paper.)
"""

from __future__ import annotations

import json
import math
import re
from functools import cache
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field, ValidationError

from synth.agents.calibration import file_name, identity, on_curve
from synth.domain.records import Strict
from synth.domain.text import REVERSING, plain_words
from synth.model import prompts
from synth.model.llm import Model, NoLogprobs
from synth.model.logprobs import Choice
from synth.model.transport import NoStates
from synth.store import paths

Stance = Literal["supports", "contradicts", "unrelated"]
STANCES: tuple[Stance, ...] = ("supports", "contradicts", "unrelated")
# The answer words each prompt offers, and what they mean.
ENTAILMENT_WORDS = {"True": "supports", "False": "contradicts", "Unknown": "unrelated"}
SHIPPED = Path(__file__).resolve().parent / "judges"


class Head(Strict):
    """A fitted multinomial logistic regression to the labels' probabilities, from either
    the answer words' log-probabilities (in the order of `features`, each renormalised over
    the options) or the model's hidden state at the last token of the judge prompt (a linear
    probe; the standardisation of the state is folded into the weights)."""

    model: str  # identity: name@weights revision
    prompt_hash: str  # the judge prompt it was fitted with; another prompt needs another fit
    dataset: str
    pairs: int = Field(ge=1)
    input: Literal["answer_logprobs", "hidden_state"] = "answer_logprobs"
    features: list[str]  # the answer words' stances; empty for a hidden-state probe
    labels: list[str]
    weights: list[list[float]]  # (inputs + 1 bias) x labels
    fitted: str  # what the fit measured on its held-out pairs, for people
    claim_ids: list[int] = Field(default_factory=list)  # SciFact claims it was fitted on
    created: str = ""
    # Per verdict label: an isotonic curve from the verifier's judged confidence to the
    # chance the verdict is right, fitted on whole claims (`bench/scifact.py --fit-verdicts`):
    # the head is fitted on single pairs, and a verdict over retrieved passages is not one.
    verdicts: dict[str, list[tuple[float, float]]] = Field(default_factory=dict)
    # Per stance: a log-odds shift of the head's probabilities for the verifier's passages,
    # fitted with the verdict curves. The head's pairs were balanced across stances; the
    # passages a run retrieves are mostly unrelated to the claim.
    offsets: dict[str, float] = Field(default_factory=dict)
    verdict_claim_ids: list[int] = Field(default_factory=list)
    verdict_fit: str = ""  # what cross-fitting measured, for people


class Judged(Strict):
    """One judgement: the probability of each outcome and where it came from."""

    probabilities: dict[str, float]
    source: Literal["probe", "head", "tokens", "stated", "restated"]

    @property
    def best(self) -> str:
        return max(sorted(self.probabilities), key=lambda k: self.probabilities[k])

    @property
    def confidence(self) -> float:
        return self.probabilities[self.best]


def head_file(model_identity: str, input: str) -> str:
    """A model's heads, one per input: `NAME.json` reads the answer words, `NAME.probe.json`
    the hidden state."""
    name = file_name(model_identity)
    return name.removesuffix(".json") + ".probe.json" if input == "hidden_state" else name


def save_head(head: Head, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / head_file(head.model, head.input)
    path.write_text(json.dumps(head.model_dump(mode="json"), indent=1) + "\n", encoding="utf-8")
    find_head.cache_clear()
    return path


@cache
def find_head(model_identity: str, prompt_hash: str, input: str = "answer_logprobs") -> Head | None:
    """The head fitted for this model, prompt and input: the user's own fit first, then
    synth's."""
    for folder in (paths.data_dir() / "judges", SHIPPED):
        path = folder / head_file(model_identity, input)
        if not path.is_file():
            continue
        try:
            head = Head.model_validate(json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, ValidationError):
            continue
        if head.prompt_hash == prompt_hash and head.input == input:
            return head
    return None


def features(choice: Choice, names: list[str]) -> list[float]:
    """The options' log-probabilities renormalised over the options, in `names` order."""
    top = max(choice.logprobs[n] for n in names)
    total = sum(math.exp(choice.logprobs[n] - top) for n in names)
    return [choice.logprobs[n] - top - math.log(total) for n in names]


def apply_head(head: Head, inputs: list[float]) -> dict[str, float]:
    """The labels' probabilities for `inputs`: the answer words' features, or a hidden state."""
    weights = _weights(head)
    if len(inputs) + 1 != len(weights):
        raise ValueError(f"the head takes {len(weights) - 1} inputs, not {len(inputs)}")
    z = np.append(np.asarray(inputs, dtype=float), 1.0) @ weights
    mass = np.exp(z - z.max())
    mass /= mass.sum()
    return {label: round(float(m), 4) for label, m in zip(head.labels, mass, strict=True)}


@cache
def _weights_of(rows: tuple[tuple[float, ...], ...]) -> np.ndarray:
    return np.array(rows, dtype=float)


def _weights(head: Head) -> np.ndarray:
    return _weights_of(tuple(tuple(r) for r in head.weights))


def describe(head: Head) -> str:
    """The sentence the report gives on where the confidences come from."""
    reads = (
        "the model's hidden state where its answer begins"
        if head.input == "hidden_state"
        else "the answer words' probabilities"
    )
    text = (
        f"The head reads {reads}; it was fitted for {head.model} on {head.pairs} "
        f"claim-passage pairs of {head.dataset} ({head.fitted})"
    )
    if head.verdicts:
        shift = "the verifier's stance odds were shifted and " if head.offsets else ""
        text += (
            f"; {shift}verdict confidences calibrated on {len(head.verdict_claim_ids)} whole "
            f"claims of the same data ({head.verdict_fit})"
        )
    return (
        f"{text}; it says how often such a judgement was right there, not on this "
        "question's papers."
    )


def shifted(judged: Judged, offsets: dict[str, float]) -> Judged:
    """`judged` with each stance's probability scaled by exp(its offset), renormalised."""
    if not offsets:
        return judged
    mass = {k: p * math.exp(offsets.get(k, 0.0)) for k, p in judged.probabilities.items()}
    total = sum(mass.values()) or 1.0
    return Judged(
        probabilities={k: round(m / total, 4) for k, m in mass.items()}, source=judged.source
    )


def verdict_confidence(
    curves: dict[str, list[tuple[float, float]]], label: str, judged: float
) -> float:
    """A verdict's confidence from its judged probability: through the verdict curve for
    its label where there is one (`Head.verdicts`)."""
    return round(min(0.99, max(0.01, on_curve(curves.get(label), judged))), 2)


def model_identity(model: Model) -> str:
    return identity(model.endpoint.model, model.endpoint.revision)


def head_for(model: Model, input: str = "answer_logprobs") -> Head | None:
    return find_head(model_identity(model), prompts.load("judge").sha256, input)


def verifier_head(model: Model) -> Head | None:
    """The head the verifier judges with: the hidden-state probe where the model has one and
    its states can be read (a state server, or a replay of one), else the answer words'."""
    probe = head_for(model, "hidden_state")
    if probe is not None and (model.endpoint.states_url or model.replay is not None):
        return probe
    return head_for(model)


async def entailment_choice(
    model: Model, *, item: str, premise: str, hypothesis: str
) -> Choice | None:
    """The answer-word log-probabilities for "does `premise` (paper text, fenced as data)
    support `hypothesis`?"; None when the server gives no log-probabilities."""
    template = prompts.load("judge")
    try:
        return await model.ask_choice(
            agent="verifier",  # the verifier's model is the one judge of every check
            item=item,
            prompt=template,
            messages=template.messages(
                passage=prompts.data_block("passage", premise), claim=hypothesis
            ),
            options=ENTAILMENT_WORDS,
            untrusted=["passage"],
        )
    except NoLogprobs:
        return None


async def entailment_state(
    model: Model, *, item: str, premise: str, hypothesis: str
) -> list[float] | None:
    """The model's hidden state at the end of the same question the answer words are read
    from (where its answer would begin); None without a hidden-state server."""
    template = prompts.load("judge")
    try:
        return await model.ask_state(
            agent="verifier",
            item=item,
            prompt=template,
            messages=template.messages(
                passage=prompts.data_block("passage", premise), claim=hypothesis
            ),
            untrusted=["passage"],
        )
    except NoStates:
        return None


async def entailment(
    model: Model, *, item: str, premise: str, hypothesis: str, probe: bool = False
) -> Judged | None:
    """Whether `premise` supports, contradicts or says nothing about `hypothesis`; None when
    the server gives no log-probabilities (the caller then asks its own question). With
    `probe` (the verifier: a claim against a paper's passage, what the probe was fitted on)
    the model's hidden state is read by its probe where it has one. Every other check reads
    the answer words: on stance sentences the probe measured worse (bench/RESULTS.md,
    "Stance on a yes/no question")."""
    head = verifier_head(model) if probe else head_for(model)
    if head is not None and head.input == "hidden_state":
        state = await entailment_state(model, item=item, premise=premise, hypothesis=hypothesis)
        if state is not None:
            return Judged(probabilities=apply_head(head, state), source="probe")
        head = head_for(model)  # no state to read after all: the answer words
    choice = await entailment_choice(model, item=item, premise=premise, hypothesis=hypothesis)
    if choice is None:
        return None
    if head is not None:
        inputs = features(choice, head.features)
        return Judged(probabilities=apply_head(head, inputs), source="head")
    return Judged(probabilities=choice.probabilities, source="tokens")


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


UNSURE = Judged(probabilities={"yes": 0.25, "no": 0.25, "depends": 0.5}, source="head")


def guarded(judged: Judged, *, question: str, claim: str) -> Judged:
    """`judged`, with code reading the negation a small judge leaves out. The judge reads a
    claim by its topic: "learning-rate warmup did not reduce loss spikes" comes out as a yes
    to "does warmup stabilise training?". So where the judge answers yes, the claim states
    a negation and the question states none:
    - a claim that states the effect was absent (`states_no_effect`) answers no, with the
      probability the judge gave its yes (it read the claim as on the question's topic;
      code read which way);
    - a claim with any other negation answers depends: a wrong side would put its paper on
      the wrong side of the report's count, and a depends only leaves it uncounted.
    Measured on labelled sentences and on SciFact (bench/RESULTS.md, "Stance on a yes/no
    question")."""
    if judged.best != "yes" or not states_null(claim) or states_null(question):
        return judged
    if states_no_effect(claim):
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
