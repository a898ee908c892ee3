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
from functools import cache
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field, ValidationError

from synth.agents.calibration import file_name, identity, on_curve
from synth.domain.records import Strict
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
    # The sentences of each passage the judge read when it was fitted (verifier.bearing);
    # None: whole passages.
    judged_sentences: int | None = None
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


def reads_states(model: Model) -> bool:
    """Whether the model's hidden states can be read: a state server, or a replay of one."""
    return bool(model.endpoint.states_url) or model.replay is not None


def verifier_head(model: Model) -> Head | None:
    """The head the verifier judges with: the hidden-state probe where the model has one and
    its states can be read, else the answer words'."""
    probe = head_for(model, "hidden_state")
    if probe is not None and reads_states(model):
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
