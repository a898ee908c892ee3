"""Reader: how one result a paper reports answers a yes/no research question.

The model reads one sentence of a paper, with the paper's title, and says Yes, No or Unclear.
The answer is read from the probabilities of its first answer token, as the judge's are, so
its doubt is measured. Worked examples from other fields open the prompt. They teach the two
readings a small model misses when it reads by topic: an effect shown by what happened without
the treatment ("without irrigation, 12 of 20 seedlings died") is a yes, and no difference is a
no. The examples are the same for every call, so llama.cpp's prompt cache serves them once per
slot and each call pays only for its sentence. A server without log-probabilities is asked for
the answer as JSON, and its stated answer counts as certain.
"""

from __future__ import annotations

import hashlib
from typing import Literal

from synth.agents.answering import names_outcome, states_no_effect, states_null
from synth.domain.records import Strict
from synth.model import prompts
from synth.model.llm import ItemDropped, Model, NoLogprobs

Answer = Literal["yes", "no", "unclear"]
ANSWERS: tuple[Answer, ...] = ("yes", "no", "unclear")
OPTIONS = {"Yes": "yes", "No": "no", "Unclear": "unclear"}


class Read(Strict):
    """One sentence's answer to the question, with the probability of each answer."""

    answer: Answer
    probabilities: dict[str, float]
    source: Literal["tokens", "stated"]
    null_on_outcome: bool = False  # see `null_on_outcome`

    @property
    def confidence(self) -> float:
        return self.probabilities[self.answer]


def item(passage_id: str, sentence: str) -> str:
    """The transcript item of a sentence's reading: its passage and a digest of its text, so
    that a sentence read as a candidate and quoted by a claim is read once."""
    digest = hashlib.sha256(" ".join(sentence.split()).encode()).hexdigest()[:10]
    return f"{passage_id}|read-{digest}"


class StatedAnswer(Strict):
    answer: Answer


def null_on_outcome(question: str, sentence: str) -> bool:
    """Whether code reads in `sentence` that the effect was absent on the question's own
    outcome ("did not reduce nitrate leaching", "equally stable"), where the question states no
    negation of its own: a no, however the model divides its doubt between yes and no."""
    return (
        not states_null(question)
        and states_no_effect(sentence)
        and names_outcome(question, sentence)
    )


def reading(
    probabilities: dict[str, float],
    source: Literal["tokens", "stated"],
    question: str,
    sentence: str,
) -> Read:
    """The Read of `sentence`: the answer `settled` gives and whether it states a null result
    on the question's outcome."""
    return Read(
        answer=settled(probabilities, question=question, sentence=sentence),
        probabilities=probabilities,
        source=source,
        null_on_outcome=null_on_outcome(question, sentence),
    )


def settled(probabilities: dict[str, float], *, question: str, sentence: str) -> Answer:
    """The answer from the probabilities, with code reading what a small model reads by topic,
    where the question states no negation of its own:
    - a sentence that states the effect was absent on the question's outcome ("did not
      reduce nitrate leaching", "equally stable") is a no, though read as a yes; one that
      states it absent on another outcome ("drainage volume did not differ") answers nothing;
    - a no needs a negation or a no-difference in the sentence. The model answers No for a
      sentence on the question's topic that does not answer it: on SciFact, 77 of 107 such
      sentences of papers that answer yes were read No, 64 of them with no negation
      (bench/RESULTS.md, "Placement by the reader"). A result that went the other way with
      no negation ("rose" for "does it lower") is left unclear: uncounted, not misplaced."""
    best: Answer = max(ANSWERS, key=lambda a: (probabilities.get(a, 0.0), a == "unclear"))
    if states_null(question):
        return best
    if best == "yes" and states_no_effect(sentence):
        return "no" if null_on_outcome(question, sentence) else "unclear"
    if best == "no" and not states_null(sentence):
        return "unclear"
    return best


async def read(model: Model, *, item: str, question: str, title: str, sentence: str) -> Read | None:
    """How `sentence` (paper text, fenced as data) answers the yes/no `question`; None when
    no valid answer came back."""
    template = prompts.load("reader")
    messages = template.messages(
        question=question,
        title=" ".join(title.split()),
        sentence=prompts.data_block("result", sentence),
    )
    try:
        choice = await model.ask_choice(
            agent="verifier",  # the verifier's model is the one judge of every check
            item=item,
            prompt=template,
            messages=messages,
            options=OPTIONS,
            untrusted=["result"],
        )
    except NoLogprobs:
        return await _stated(model, item, template, messages, question, sentence)
    except ItemDropped:
        return None
    probabilities = {a: round(choice.probabilities.get(a, 0.0), 4) for a in ANSWERS}
    return reading(probabilities, "tokens", question, sentence)


async def _stated(
    model: Model,
    item: str,
    template: prompts.PromptTemplate,
    messages: list[dict[str, str]],
    question: str,
    sentence: str,
) -> Read | None:
    try:
        stated = await model.ask(
            agent="verifier",
            item=item,
            prompt=template,
            messages=messages,
            schema=StatedAnswer,
            max_tokens=20,
            untrusted=["result"],
        )
    except ItemDropped:
        return None
    probabilities = {a: 1.0 if a == stated.answer else 0.0 for a in ANSWERS}
    return reading(probabilities, "stated", question, sentence)
