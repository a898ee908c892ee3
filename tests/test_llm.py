"""The model door: retries, re-asks, drops, dialects, cache and transcript (respx fakes)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
import respx

from synth.agents.schemas import PlanDraft
from synth.domain.errors import CheckFailed, Unreachable
from synth.model import prompts
from synth.model.dialects import response_format
from synth.model.endpoint import Endpoint
from synth.model.llm import ItemDropped, Model
from synth.store.cache import ResponseCache
from synth.store.transcript import Recorder, read_transcript
from tests.helpers import ask

URL = "http://127.0.0.1:9/v1"
VALID = {"sub_questions": ["What is known?"], "searches": [{"query": "warmup", "rationale": "r"}]}


def completion(content: str, finish: str = "stop") -> dict:
    return {
        "id": "x",
        "object": "chat.completion",
        "created": 0,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "finish_reason": finish,
                "message": {"role": "assistant", "content": content},
            }
        ],
        "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
    }


def make_model(tmp_path: Path, *, cache: bool = False, replay=None, key=None, reasks=2) -> Model:
    return Model(
        Endpoint(URL, "m", api_key=key),
        recorder=Recorder(tmp_path / "t.jsonl", secrets=[key or ""]),
        cache=ResponseCache(tmp_path / "c.sqlite3") if cache else None,
        semaphore=asyncio.Semaphore(2),
        replay=replay,
        max_reasks=reasks,
        max_retries=3,
        retry_max_wait=0.01,
    )


@respx.mock
def test_retries_429_then_succeeds(tmp_path):
    route = respx.post(f"{URL}/chat/completions").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "0"}, json={"error": {"message": "slow"}}),
            httpx.Response(200, json=completion(json.dumps(VALID))),
        ]
    )
    plan = ask(make_model(tmp_path))
    assert plan.searches[0].query == "warmup"
    assert route.call_count == 2
    (entry,) = read_transcript(tmp_path / "t.jsonl")
    assert entry["retries"] == 1 and entry["usage"]["prompt_tokens"] == 11


@respx.mock
def test_no_retry_on_401_and_key_stays_out_of_the_error(tmp_path):
    route = respx.post(f"{URL}/chat/completions").mock(
        return_value=httpx.Response(401, json={"error": {"message": "bad key"}})
    )
    with pytest.raises(Unreachable) as error:
        ask(make_model(tmp_path, key="sk-secret-key-123456"))
    assert route.call_count == 1
    assert error.value.exit_code == 3 and "401" in str(error.value)
    assert "sk-secret" not in str(error.value)


@respx.mock
def test_5xx_exhausted_is_unreachable(tmp_path):
    route = respx.post(f"{URL}/chat/completions").mock(return_value=httpx.Response(503))
    with pytest.raises(Unreachable):
        ask(make_model(tmp_path))
    assert route.call_count == 4  # one try and three retries


@respx.mock
def test_reask_after_invalid_json_with_the_error(tmp_path):
    route = respx.post(f"{URL}/chat/completions").mock(
        side_effect=[
            httpx.Response(200, json=completion("not json at all")),
            httpx.Response(200, json=completion(json.dumps(VALID))),
        ]
    )
    ask(make_model(tmp_path))
    second = json.loads(route.calls[1].request.content)
    assert second["messages"][-2]["content"] == "not json at all"
    assert "not valid" in second["messages"][-1]["content"]
    entries = read_transcript(tmp_path / "t.jsonl")
    assert [e["attempt"] for e in entries] == [0, 1]
    assert entries[0]["error"] and entries[0]["parsed"] is None and entries[1]["parsed"]


@respx.mock
def test_item_dropped_after_reasks_run_out(tmp_path):
    respx.post(f"{URL}/chat/completions").mock(
        return_value=httpx.Response(200, json=completion('{"sub_questions": []}'))
    )
    with pytest.raises(ItemDropped) as dropped:
        ask(make_model(tmp_path, reasks=1))
    assert "sub_questions" in dropped.value.reason
    assert len(read_transcript(tmp_path / "t.jsonl")) == 2


PASSAGE_TEXT = (
    "Does warmup still matter once a run converges? Across 80 converged runs, final "
    "perplexity differed by less than 1 percent with and without warmup."
)
QUESTION_CLAIM = {
    "text": "Does warmup still matter once a run converges?",
    "sentence_ids": ["S1"],
    "kind": "finding",
}
RESULT_CLAIM = {
    "text": "Across 80 converged runs, final perplexity differed by less than 1 percent "
    "with and without warmup.",
    "sentence_ids": ["S2"],
    "kind": "finding",
}


def extract_from(model: Model):
    from synth.agents.extractor import extract
    from synth.domain.records import Passage

    passage = Passage(
        id="p1#001", paper_id="p1", section="Abstract", text=PASSAGE_TEXT, char_start=0,
        char_end=len(PASSAGE_TEXT),
    )  # fmt: skip
    return asyncio.run(extract(model, question="Does warmup help?", passage=passage, max_claims=2))


@respx.mock
def test_extraction_keeps_its_valid_claims_without_asking_again(tmp_path):
    # One faulty claim (a question) beside a valid one: the valid one is kept at once, since a
    # small model asked again writes the same list; why the other was left out is kept too.
    route = respx.post(f"{URL}/chat/completions").mock(
        return_value=httpx.Response(
            200, json=completion(json.dumps({"claims": [QUESTION_CLAIM, RESULT_CLAIM]}))
        )
    )
    found = extract_from(make_model(tmp_path))
    assert route.call_count == 1
    assert [c.text for c in found.claims] == [RESULT_CLAIM["text"]]
    assert found.claims[0].quote.startswith("Across 80 converged runs")
    assert found.rejected == ["the claim is a question: state what the passage reports"]


@respx.mock
def test_extraction_with_no_valid_claim_is_asked_again(tmp_path):
    route = respx.post(f"{URL}/chat/completions").mock(
        side_effect=[
            httpx.Response(200, json=completion(json.dumps({"claims": [QUESTION_CLAIM]}))),
            httpx.Response(200, json=completion(json.dumps({"claims": [RESULT_CLAIM]}))),
        ]
    )
    found = extract_from(make_model(tmp_path))
    assert route.call_count == 2
    assert (
        "the claim is a question"
        in json.loads(route.calls[1].request.content)["messages"][-1]["content"]
    )
    assert [c.text for c in found.claims] == [RESULT_CLAIM["text"]]


@respx.mock
def test_cut_off_answer_is_reasked(tmp_path):
    respx.post(f"{URL}/chat/completions").mock(
        side_effect=[
            httpx.Response(200, json=completion('{"sub_questions": ["a', finish="length")),
            httpx.Response(200, json=completion(json.dumps(VALID))),
        ]
    )
    ask(make_model(tmp_path))
    first = read_transcript(tmp_path / "t.jsonl")[0]
    assert "max_tokens" in first["error"]


@respx.mock
def test_cache_answers_an_identical_request(tmp_path):
    route = respx.post(f"{URL}/chat/completions").mock(
        return_value=httpx.Response(200, json=completion(json.dumps(VALID)))
    )
    ask(make_model(tmp_path, cache=True))
    ask(make_model(tmp_path, cache=True))
    assert route.call_count == 1
    hits = [e["cache_hit"] for e in read_transcript(tmp_path / "t.jsonl")]
    assert hits == [False, True]


@respx.mock
def test_replay_answers_from_the_transcript_and_names_a_missing_call(tmp_path):
    respx.post(f"{URL}/chat/completions").mock(
        return_value=httpx.Response(200, json=completion(json.dumps(VALID)))
    )
    ask(make_model(tmp_path))
    recorded = {e["request_hash"]: e for e in read_transcript(tmp_path / "t.jsonl")}
    respx.reset()
    assert ask(make_model(tmp_path, replay=recorded)).searches[0].query == "warmup"
    with pytest.raises(CheckFailed) as missing:
        ask(make_model(tmp_path, replay={}))
    assert "planner" in str(missing.value) and "not in the transcript" in str(missing.value)


@respx.mock
def test_falls_back_to_json_mode_when_the_dialect_is_refused(tmp_path):
    route = respx.post(f"{URL}/chat/completions").mock(
        side_effect=[
            httpx.Response(400, json={"error": {"message": "response_format not supported"}}),
            httpx.Response(200, json=completion(json.dumps(VALID))),
        ]
    )
    ask(make_model(tmp_path))
    second = json.loads(route.calls[1].request.content)
    assert second["response_format"] == {"type": "json_object"}
    assert "JSON schema" in second["messages"][0]["content"]


def test_strict_dialect_requires_every_property():
    fmt = response_format("json_schema", "planner", PlanDraft.model_json_schema())
    schema = fmt["json_schema"]["schema"]
    assert fmt["json_schema"]["strict"] is True
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == set(schema["properties"])


def test_endpoint_public_view_has_no_secrets():
    endpoint = Endpoint("http://user:pw-secret@host:1/v1?key=abc", "m", api_key="sk-1234567")
    public = json.dumps(endpoint.public())
    assert "pw-secret" not in public and "sk-1234567" not in public and "abc" not in public


def test_the_cache_keeps_under_its_cap_by_dropping_the_least_recently_used(tmp_path):
    from synth.store import sqlite

    cache = ResponseCache(tmp_path / "c.sqlite3", cap_bytes=10_000)
    payload = {"raw": "x" * 900}
    for i in range(sqlite.CHECK_EVERY + 1):
        cache.put(f"k{i}", payload)
        if i == 0:
            continue
        assert cache.get("k0") == payload  # k0 stays the most recently used
    assert cache.info()["bytes"] <= 10_000
    assert cache.get("k0") == payload and cache.get("k1") is None
    cache.close()


@respx.mock
def test_a_context_length_error_shortens_the_paper_text_and_asks_again(tmp_path):
    from synth.domain.records import Strict

    class Answer(Strict):
        ok: bool

    too_long = {"error": {"message": "This model's maximum context length is 4096 tokens."}}
    route = respx.post(f"{URL}/chat/completions").mock(
        side_effect=[
            httpx.Response(400, json=too_long),
            httpx.Response(200, json=completion('{"ok": true}')),
        ]
    )
    passage = "Warmup reduced early loss spikes in every run we tried. " * 40
    template = prompts.parse_template("t", "[system]\nJudge.\n[user]\nPassage:\n$passage")
    model = make_model(tmp_path)
    answer = asyncio.run(
        model.ask(
            agent="verifier",
            item="c1",
            prompt=template,
            messages=template.messages(passage=prompts.data_block("E1", passage)),
            schema=Answer,
            max_tokens=20,
        )
    )
    assert answer.ok and route.call_count == 2
    first, second = (json.loads(c.request.content) for c in route.calls)
    long_text, short_text = (body["messages"][1]["content"] for body in (first, second))
    assert len(short_text) < 0.7 * len(long_text) and "[…]" in short_text
    assert short_text.rstrip().endswith(">>>")  # the data block is still closed


@respx.mock
def test_an_input_that_never_fits_is_dropped_not_fatal(tmp_path):
    too_long = {"error": {"message": "context_length_exceeded"}}
    respx.post(f"{URL}/chat/completions").mock(return_value=httpx.Response(400, json=too_long))
    with pytest.raises(ItemDropped, match="longer than the model's context"):
        ask(make_model(tmp_path))


@respx.mock
@pytest.mark.parametrize(
    "first",
    [
        httpx.Response(429),  # no Retry-After
        httpx.Response(429, headers={"Retry-After": "0"}),
        httpx.Response(500),
        httpx.Response(502),
        httpx.Response(503),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("connection reset by peer"),
        httpx.Response(200, json={**completion(""), "choices": []}),  # empty choices
        httpx.Response(200, json=completion('{"sub_questions": ["cut')),  # truncated JSON
        httpx.Response(200, text="<html>gateway</html>"),  # not JSON at all
    ],
    ids=[
        "429",
        "429-retry-after",
        "500",
        "502",
        "503",
        "read-timeout",
        "reset",
        "no-choices",
        "truncated",
        "html",
    ],
)
def test_transient_faults_and_bad_answers_recover(tmp_path, first):
    route = respx.post(f"{URL}/chat/completions").mock(
        side_effect=[first, httpx.Response(200, json=completion(json.dumps(VALID)))]
    )
    assert ask(make_model(tmp_path)).searches[0].query == "warmup"
    assert route.call_count == 2
