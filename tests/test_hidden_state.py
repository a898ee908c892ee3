"""The judge's hidden-state probe: the state is asked of a llama.cpp-style server beside the
chat server, recorded and replayed like any call, and read by a head fitted on such states."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import numpy as np
import pytest

from synth.agents import judge
from synth.agents.calibration import identity
from synth.model import prompts
from synth.model.endpoint import Endpoint
from synth.model.llm import Model
from synth.model.transport import NoStates, decode_state, encode_state
from synth.store import paths
from synth.store.cache import ResponseCache
from synth.store.transcript import Recorder, read_transcript
from tests.fake_model import STATE_DIMENSION, FakeModel

SUPPORTED = ("Warmup reduced loss spikes in small transformers.", "Warmup reduces loss spikes.")
CONTRADICTED = (
    "Warmup did not reduce loss spikes in small transformers.",
    "Warmup reduces loss spikes in small transformers.",
)


def model_for(fake: FakeModel, tmp_path: Path, states: bool = True, **kw) -> Model:
    root = fake.url.removesuffix("/v1")
    tmp_path.mkdir(parents=True, exist_ok=True)
    endpoint = Endpoint(fake.url, "fake-model", states_url=root if states else "")
    return Model(
        endpoint,
        recorder=Recorder(tmp_path / "transcript.jsonl"),
        semaphore=asyncio.Semaphore(2),
        **({"cache": None} | kw),
    )


def probe_head() -> judge.Head:
    """A head that reads the fake state's answer places: True → supports, and so on."""
    weights = np.zeros((STATE_DIMENSION + 1, 3))
    weights[:3, :3] = np.eye(3)
    return judge.Head(
        model=identity("fake-model", ""),
        prompt_hash=prompts.load("judge").sha256,
        dataset="test",
        pairs=3,
        input="hidden_state",
        features=[],
        labels=list(judge.STANCES),
        weights=weights.tolist(),
        fitted="",
    )


def test_a_state_survives_the_transcript_encoding_to_float16_precision():
    vector = [1.5, -2.25, 55.5, 0.001]
    assert decode_state(encode_state(vector)) == pytest.approx(vector, rel=1e-3, abs=1e-3)


def test_the_state_is_asked_recorded_cached_and_replayed(tmp_path):
    template = prompts.load("judge")
    messages = template.messages(passage=prompts.data_block("passage", SUPPORTED[0]), claim="x")
    asked = {"agent": "verifier", "item": "c1", "prompt": template, "messages": messages}
    cache = ResponseCache(tmp_path / "cache.sqlite3")
    with FakeModel() as fake, contextlib.closing(cache):
        first = asyncio.run(model_for(fake, tmp_path, cache=cache).ask_state(**asked))
        again = asyncio.run(model_for(fake, tmp_path / "b", cache=cache).ask_state(**asked))
        assert fake.calls["state"] == 1  # the second came from the cache
    assert len(first) == STATE_DIMENSION and again == first
    [entry] = read_transcript(tmp_path / "transcript.jsonl")
    assert entry["dialect"] == "state" and entry["parsed"] == {"dimensions": STATE_DIMENSION}
    assert entry["usage"]["prompt_tokens"] > 0
    # A replay answers from the transcript alone, with no server at all.
    replayed = Model(
        Endpoint("http://127.0.0.1:9/v1", "fake-model"),
        recorder=Recorder(tmp_path / "replay.jsonl"),
        cache=None,
        semaphore=asyncio.Semaphore(1),
        replay={entry["request_hash"]: entry},
    )
    assert asyncio.run(replayed.ask_state(**asked)) == first


def test_without_a_state_server_the_state_is_refused(tmp_path):
    template = prompts.load("judge")
    with FakeModel() as fake, pytest.raises(NoStates):
        asyncio.run(
            model_for(fake, tmp_path, states=False).ask_state(
                agent="verifier", item="c1", prompt=template, messages=[]
            )
        )


def test_a_probe_head_judges_from_the_state_and_falls_back_to_the_answer_words(
    tmp_path, saved_heads
):
    judge.save_head(probe_head(), paths.data_dir() / "judges")
    with FakeModel() as fake:
        model = model_for(fake, tmp_path)
        found = asyncio.run(
            judge.entailment(
                model, item="a", premise=CONTRADICTED[0], hypothesis=CONTRADICTED[1], probe=True
            )
        )
        assert found is not None and found.source == "probe" and found.best == "contradicts"
        assert fake.calls["state"] == 1
        # Every check other than the verifier's reads the answer words.
        found = asyncio.run(
            judge.entailment(
                model_for(fake, tmp_path / "check"),
                item="a",
                premise=CONTRADICTED[0],
                hypothesis=CONTRADICTED[1],
            )
        )
        assert found is not None and found.source == "tokens" and fake.calls["state"] == 1
        # No state server: the answer words, renormalised, say where they came from.
        plain = model_for(fake, tmp_path / "plain", states=False)
        found = asyncio.run(
            judge.entailment(
                plain, item="b", premise=SUPPORTED[0], hypothesis=SUPPORTED[1], probe=True
            )
        )
        assert found is not None and found.source == "tokens" and found.best == "supports"
