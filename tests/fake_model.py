"""A fake OpenAI-compatible model server, started by tests on a free 127.0.0.1 port.

It answers each agent (told apart by the response_format's schema name) with content derived
from the prompt and valid against the offered schema: the extractor restates numbered
sentences, the verifier compares word overlap and negation, the writer groups the offered claim
ids, reviewers score every criterion in the schema. It counts calls and can inject faults.
One module of some 460 lines: every test reads it as one server, whose answers for each agent
depend on what it answered the others.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

NEGATION = re.compile(r"\b(not|no|did not|does not|failed to|without benefit|worse)\b", re.I)


@dataclass
class Faults:
    """Per-agent scripted failures: a list of HTTP statuses (or 'garbage') used up in order."""

    scripted: dict[str, list[Any]] = field(default_factory=dict)
    fail_always: dict[str, int] = field(default_factory=dict)
    retry_after: str | None = None
    fail_containing: str | None = None  # a 500 for every request whose messages contain it
    garbage_containing: str | None = None  # not JSON, for every request that contains it
    # Not JSON for the first N requests that contain TEXT, or every text of a tuple (then
    # answered as usual): re-asks.
    garbage_first: dict[str | tuple[str, ...], int] = field(default_factory=dict)

    def next_for(self, agent: str, body: dict[str, Any] | None = None) -> Any:
        if self.fail_containing and body and self.fail_containing in json.dumps(body):
            return 500
        if self.garbage_containing and body and self.garbage_containing in json.dumps(body):
            return "garbage"
        for texts, left in self.garbage_first.items():
            asked = json.dumps(body) if body else ""
            wanted = (texts,) if isinstance(texts, str) else texts
            if left and asked and all(t in asked for t in wanted):
                self.garbage_first[texts] = left - 1
                return "garbage"
        if agent in self.fail_always:
            return self.fail_always[agent]
        queue = self.scripted.get(agent)
        return queue.pop(0) if queue else None


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up mid-answer (cancelled on purpose) is not a test failure


class FakeModel:
    """An OpenAI-compatible server. `json_schema=False` makes it one that refuses schemas in
    `response_format` (as many servers do) and only knows JSON mode; `models` is what its
    model list names."""

    def __init__(self, json_schema: bool = True, models: tuple[str, ...] = ("fake-model",)) -> None:
        self.json_schema = json_schema
        self.models = models
        self.refused = 0  # requests refused for their response_format
        self.calls: Counter[str] = Counter()
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.faults = Faults()
        self.delay = 0.0  # seconds before each answer, to leave time for an interruption
        self.vague_abstract = ""  # "first" or "always": see _write
        # "first" or "always": findings that say the opposite; "unbacked": findings that say
        # something none of their claims states
        self.invert_findings = ""
        self.invert_abstract = False  # True: the abstract states the opposite of finding 1
        self.harsh_reviews = False  # True: revisions never satisfy the reviewers (see _review)
        self.unquoted_reviews = False  # True: justifications quote words not in the draft
        self.idle_revisions = False  # True: a revision gives back the draft unchanged
        # True: the title, the discussion and the introduction give yes alone
        self.one_sided = False
        self.answering = False  # True: every finding opens by answering the question yes
        self.logprobs = "give"  # or "refuse": a 400 for requests that ask for log-probabilities
        self.embedded = 0  # texts sent to /v1/embeddings
        self._lock = threading.Lock()
        handler = self._handler()
        self._server = _QuietServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> FakeModel:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # ------------------------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                listed = [{"id": name, "object": "model"} for name in fake.models]
                self._send(200, {"object": "list", "data": listed})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if self.path.endswith("/apply-template"):
                    # llama.cpp's: the chat template applied, as one prompt string.
                    self._send(200, {"prompt": _templated(body["messages"])})
                    return
                if self.path.endswith("/embeddings") and isinstance(body["input"], str):
                    # A hidden-state server (llama.cpp, embeddings on, pooling "last").
                    with fake._lock:
                        fake.calls["state"] += 1
                    self._send(200, _state(body["input"]))
                    return
                if self.path.endswith("/embeddings"):
                    with fake._lock:
                        fake.calls["embeddings"] += 1
                        fake.embedded += len(body["input"])
                        fake.headers.append(dict(self.headers))
                    self._send(200, _embeddings(body))
                    return
                fmt = body.get("response_format") or {}
                if fmt.get("type") == "json_schema" and not fake.json_schema:
                    with fake._lock:
                        fake.refused += 1
                    message = "response_format type 'json_schema' is not supported by this server"
                    self._send(400, {"error": {"message": message, "type": "invalid_request"}})
                    return
                agent = (fmt.get("json_schema") or {}).get("name") or _agent_from_prompt(body)
                if any('{"ok": true}' in m["content"] for m in body["messages"]):
                    agent = "probe"
                with fake._lock:
                    fake.requests.append(body)
                    fake.headers.append(dict(self.headers))
                    fault = fake.faults.next_for(agent, body)
                if isinstance(fault, int):
                    headers = (
                        {"Retry-After": fake.faults.retry_after} if fake.faults.retry_after else {}
                    )
                    self._send(fault, {"error": {"message": "injected", "type": "fault"}}, headers)
                    return
                if fake.delay:
                    time.sleep(fake.delay)
                if body.get("logprobs") and fake.logprobs == "refuse":
                    message = "logprobs are not supported for this model"
                    self._send(400, {"error": {"message": message, "type": "invalid_request"}})
                    return
                one_word = body.get("max_tokens") == 1 and not body.get("response_format")
                chosen = _judge(body) if one_word and fault != "garbage" else None
                if chosen is not None:
                    content = chosen[0]
                else:
                    content = (
                        "this is not json"
                        if fault == "garbage"
                        else json.dumps(answer(agent, body, fake))
                    )
                with fake._lock:
                    fake.calls[agent] += 1
                choice: dict[str, Any] = {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": content},
                }
                if chosen is not None:
                    choice["logprobs"] = {"content": [chosen[1]]}
                self._send(
                    200,
                    {
                        "id": "chatcmpl-fake",
                        "object": "chat.completion",
                        "created": 0,
                        "model": body["model"],
                        "choices": [choice],
                        "usage": {
                            "prompt_tokens": 100,
                            "completion_tokens": 20,
                            "total_tokens": 120,
                        },
                    },
                )

            def _send(
                self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
            ) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

        return Handler


# Answers ----------------------------------------------------------------------------------------

DIMENSION = 64


def _embeddings(body: dict[str, Any]) -> dict[str, Any]:
    """Bag-of-word-stems vectors: texts that share words are near, as retrieval needs."""
    data = []
    for i, text in enumerate(body["input"]):
        vector = [0.0] * DIMENSION
        for word in _words(text):
            vector[sum(map(ord, word)) % DIMENSION] += 1.0
        norm = sum(x * x for x in vector) ** 0.5 or 1.0
        data.append({"object": "embedding", "index": i, "embedding": [x / norm for x in vector]})
    return {"object": "list", "data": data[::-1], "model": body["model"]}


def _templated(messages: list[dict[str, str]]) -> str:
    return "".join(f"<|{m['role']}|>\n{m['content']}\n" for m in messages) + "<|assistant|>\n"


STATE_DIMENSION = 8


def _state(prompt: str) -> dict[str, Any]:
    """A judge prompt's "hidden state": the fake judge's answer one-hot in the first three
    places (True, False, Unknown), then word counts hashed into the rest, so that a probe
    fitted on such states can read the answer from them."""
    chosen, _ = _judge({"messages": [{"role": "user", "content": prompt}]})
    vector = [3.0 if w == chosen else 0.0 for w in ("True", "False", "Unknown")]
    vector += [0.0] * (STATE_DIMENSION - 3)
    for word in _words(prompt):
        vector[3 + sum(map(ord, word)) % (STATE_DIMENSION - 3)] += 0.1
    return {
        "object": "list",
        "data": [{"object": "embedding", "index": 0, "embedding": vector}],
        "usage": {"prompt_tokens": len(prompt.split()), "total_tokens": len(prompt.split())},
    }


def _judge(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A one-token answer to "does the passage support the claim?" (True, False or Unknown)
    or, for the reader, "how does this result answer the question?" (Yes, No or Unclear),
    with its top log-probabilities, by word overlap and negation (as `_verify`). The chosen
    word has probability 0.80."""
    user = _user(body)
    passage = re.search(r"<<<DATA \w+ \w+>>>\n(.*?)\n<<<END DATA", user, re.S).group(1)
    asked = re.search(r"^Question: (.*)$", user, re.M)
    claim = asked.group(1) if asked else re.search(r"^Claim: (.*)$", user, re.M).group(1)
    overlap = len(_words(claim) & _words(passage))
    words = ("Yes", "No", "Unclear") if asked else ("True", "False", "Unknown")
    if overlap >= 3 and bool(NEGATION.search(passage)) != bool(NEGATION.search(claim)):
        chosen = words[1]
    elif overlap >= 4:
        chosen = words[0]
    else:
        chosen = words[2]
    top = [{"token": w, "logprob": -0.2231 if w == chosen else -2.3026} for w in words]
    top.append({"token": "The", "logprob": -4.0})
    return chosen, {"token": chosen, "logprob": -0.2231, "top_logprobs": top}


def _user(body: dict[str, Any]) -> str:
    return next(m["content"] for m in body["messages"] if m["role"] == "user")


def _schema(body: dict[str, Any]) -> dict[str, Any]:
    """The answer's schema: in response_format, or in JSON mode at the end of the system
    prompt, where llm.py puts it."""
    fmt = body.get("response_format") or {}
    if fmt.get("json_schema"):
        return fmt["json_schema"]["schema"]
    system = body["messages"][0]["content"]
    return json.loads(system[system.rindex("schema:\n") + len("schema:\n") :])


# In JSON mode the request names no schema, so the agent is known by its system prompt.
_OPENINGS = {
    "You plan": "planner",
    "You screen": "screener",
    "You extract": "extractor",
    "You check one claim": "verifier",
    "You judge whether": "verifier",  # the judge's one-word questions: see _judge
    "You read one result": "verifier",  # the reader's one-word answers: see _judge
    "You write": "writer",
    "You revise": "writer",
}


def _agent_from_prompt(body: dict[str, Any]) -> str:
    system = body["messages"][0]["content"]
    if "reviewing a draft" in system:
        return "reviewer"
    return next((a for opening, a in _OPENINGS.items() if system.startswith(opening)), "?")


def _words(text: str) -> set[str]:
    return {w[:5] for w in re.findall(r"[a-z]{4,}", text.lower())}


def answer(agent: str, body: dict[str, Any], fake: FakeModel | None = None) -> dict[str, Any]:
    if agent == "writer":
        if fake is None:
            return _write(body)
        modes = (fake.vague_abstract, fake.invert_findings)
        flags = (fake.invert_abstract, fake.idle_revisions, fake.one_sided, fake.answering)
        return _write(body, *modes, *flags)
    if agent == "reviewer":
        if fake is None:
            return _review(body)
        return _review(body, fake.harsh_reviews, fake.unquoted_reviews)
    return {
        "probe": lambda _: {"ok": True},
        "planner": _plan,
        "screener": _screen,
        "extractor": _extract,
        "verifier": _verify,
    }[agent](body)


def _plan(body: dict[str, Any]) -> dict[str, Any]:
    question = re.search(r"Research question: (.*)", _user(body)).group(1)
    words = question.rstrip("?").split()
    planned: dict[str, Any] = {"sub_questions": [f"What do studies report about: {question}"]}
    if "searches" in _schema(body).get("properties", {}):
        planned["searches"] = [
            {"query": " ".join(words[:6]), "rationale": "the question's own terms"},
            {"query": "training stability results", "rationale": "outcomes"},
        ]
    return planned


def _screen(body: dict[str, Any]) -> dict[str, Any]:
    """Relevant when the candidate's title or abstract mentions warmup."""
    candidate = re.search(r"<<<DATA P1 \w+>>>\n(.*?)\n<<<END DATA", _user(body), re.S).group(1)
    if "warmup" in candidate.lower() or "warm-up" in candidate.lower():
        return {"relevance": "high", "reason": "It studies learning-rate warmup directly."}
    return {"relevance": "none", "reason": "It is about a different topic."}


def _extract(body: dict[str, Any]) -> dict[str, Any]:
    limit = _schema(body)["properties"]["claims"].get("maxItems", 3)
    claims = []
    for number, text in re.findall(r"^S(\d+): (.*)$", _user(body), re.M):
        if len(claims) >= limit:
            break
        lowered = text.lower()
        if len(text.split()) < 8 or re.search(
            r"\b(we|our|this paper|table|the authors)\b", lowered
        ):
            continue
        claims.append({"text": text, "sentence_ids": [f"S{number}"], "kind": "finding"})
    return {"claims": claims}


def _verify(body: dict[str, Any]) -> dict[str, Any]:
    user = _user(body)
    if re.search(r"^Result: ", user, re.M):  # the reader, asked for JSON: as `_judge` reads it
        word = _judge(body)[0]
        return {"answer": {"Yes": "yes", "No": "no"}.get(word, "unclear")}
    claim = re.search(r"^Claim: (.*)$", user, re.M).group(1)
    passage = re.search(r"<<<DATA E1 \w+>>>\n(.*?)\n<<<END DATA", user, re.S).group(1)
    overlap = len(_words(claim) & _words(passage))
    if overlap >= 3 and bool(NEGATION.search(passage)) != bool(NEGATION.search(claim)):
        stance, why = "contradicts", "The passage reports the opposite outcome."
    elif overlap >= 4:
        stance, why = "supports", "The passage states the same result."
    else:
        stance, why = "unrelated", "The passage is about something else."
    return {"stances": {"E1": stance}, "rationale": why}


def _opposite(text: str) -> str:
    """The sentence saying the opposite: its negations taken out, or one put in."""
    if NEGATION.search(text):
        return " ".join(NEGATION.sub("", text).split())
    return f"it is not true that {text[0].lower()}{text[1:]}"


def _write(
    body: dict[str, Any],
    vague_abstract: str = "",
    invert: str = "",
    invert_abstract: bool = False,
    idle: bool = False,
    one_sided: bool = False,
    answering: bool = False,
) -> dict[str, Any]:
    """`vague_abstract`: "first" leaves the first draft's abstract without the answer (a
    revision gives it), "always" never gives it. `invert`: "first" states a finding as the
    opposite of its claims until told it was refused, "always" every time, "unbacked" states
    what none of its claims says."""
    schema = _schema(body)
    properties = schema["properties"]
    if "claim_ids" in properties:  # one finding for a group of claims
        items = properties["claim_ids"]["items"]
        ids = items.get("enum") or [items["const"]]
        texts = dict(re.findall(r"^(C\d+) \([^)]*\): (.*)$", _user(body), re.M))
        first = texts[ids[0]].rstrip(".")
        # A claim whose negation differs from the first claim's reports the opposite.
        against = [
            i for i in ids if bool(NEGATION.search(texts[i])) != bool(NEGATION.search(first))
        ]
        told = "was refused" in _user(body)
        if invert == "always" or (invert == "first" and not told):
            first = _opposite(first)
        elif invert == "unbacked":
            # Two of the claim's words that the question lacks, so that it validates; too few
            # for the judge to back it.
            asked = re.search(r"^Research question: (.*)$", _user(body), re.M)
            common = {"with", "that", "than", "from", "were"} | _words(
                asked.group(1) if asked else ""
            )
            shared = sorted(_words(first) - common)[:2]
            first = f"The choice of tokenizer mattered more than {' or '.join(shared)}"
        statement = f"In the reported settings, {first[0].lower()}{first[1:]}."
        if answering:  # "Does X improve Y?" answered yes whatever the claims say
            asked = re.search(r"^Research question: \w+ (.*?)\?", _user(body), re.M)
            said = asked.group(1)
            statement = f"{said[0].upper()}{said[1:]}; {statement[0].lower()}{statement[1:]}"
        answer = {
            "statement": statement,
            "claim_ids": [i for i in ids if i not in against][:3],
        }
        if "disagreeing_ids" in properties:
            answer["disagreeing_ids"] = against
        return answer
    stated = re.findall(r"^Finding \d+ \(evidence ([a-z]+)[^)]*\): (.*)$", _user(body), re.M)
    # A revision restates the findings only where the writer states them (writer_findings).
    revising = body["messages"][0]["content"].startswith("You revise")
    if stated and not (vague_abstract == "always" or (vague_abstract == "first" and not revising)):
        strength, statement = stated[0]
        if invert_abstract:
            statement = _opposite(statement)
        answer = f"The evidence is {strength}: {statement[0].lower()}{statement[1:]}"
    else:
        answer = "This synthesis reviews what is known about the topic."
    frame = {
        "title": "What the evidence says about warmup and stability",
        "abstract": "The question asks whether learning-rate warmup stabilises training. " + answer,
        "introduction": "Warmup is a common practice whose benefits are debated.",
        "discussion": "The papers mostly agree; the disagreement concerns small batch sizes.",
        "limitations": "The evidence comes from short training runs on small models.",
    }
    if one_sided:  # "Does X improve Y?" answered yes for every paper
        asked = re.search(r"^Research question: (\w+) (.*?)\?", _user(body), re.M)
        frame["title"] = f"Yes, {asked.group(2)}"
        frame["discussion"] = f"All the studies agree that {asked.group(2)}."
        frame["introduction"] += f" Earlier work showed that {asked.group(2)}."
    if revising:
        frame["title"] = frame["title"] if idle else "Revised: " + frame["title"]
    if "findings" in properties:  # asked to, a revision restates every finding
        n = properties["findings"]["minItems"]
        frame["findings"] = [statement for _, statement in stated][:n]
    return frame


def _review(body: dict[str, Any], harsh: bool = False, unquoted: bool = False) -> dict[str, Any]:
    """One criterion under the usual threshold (7) on a first draft; a revised draft meets it
    unless `harsh`. Each justification quotes the draft's first words of its abstract, or,
    when `unquoted`, words the draft does not hold."""
    schema = _schema(body)
    criteria = list(schema["$defs"]["Scores"]["properties"])
    abstract = re.search(r"Abstract: (.*)", _user(body))
    quote = " ".join(abstract.group(1).split()[:6]) if abstract else "the draft"
    if unquoted:
        quote = "words that appear nowhere in it"
    scores = {
        c: {"score": 8, "quote": quote, "justification": f"The draft handles {c} well."}
        for c in criteria
    }
    if harsh or "Title: Revised:" not in _user(body):
        scores[criteria[0]] = {
            "score": 6,
            "quote": quote,
            "justification": "Some findings overstate the evidence.",
        }
    return {"scores": scores, "requests": ["State the strength of each finding."]}
