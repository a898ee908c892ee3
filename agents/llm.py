"""The one door to a model.

`Model.ask` sends one structured request to an OpenAI-compatible endpoint and returns a
validated pydantic object. Around that single job it owns: the endpoint's schema dialect,
re-asking with the validation error, transport retries (429/5xx/timeouts/connection errors, with
backoff and Retry-After; never on 401/403/404), token accounting, one transcript line per
attempt and the response cache. It is handed the recorder and the cache; it owns neither file.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import functools
import hashlib
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit, urlunsplit

import httpx
import numpy as np
import openai
from pydantic import BaseModel, ValidationError
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt

from synth.agents import tokens
from synth.agents.budget import Budget
from synth.agents.logprobs import CHOICE_LOGPROBS, Choice, compact, read_choice
from synth.agents.prompts import PromptTemplate
from synth.domain.errors import CheckFailed, Unreachable
from synth.retrying import backoff_seconds, retry_after
from synth.store.cache import ResponseCache
from synth.store.transcript import Recorder

T = TypeVar("T", bound=BaseModel)
Dialect = Literal["auto", "json_schema", "llamacpp", "json_object"]
RETRYABLE_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


class ItemDropped(Exception):
    """Re-asks ran out: the caller drops this item and records why."""

    def __init__(self, agent: str, item: str, reason: str) -> None:
        self.agent, self.item, self.reason = agent, item, reason
        super().__init__(f"{agent} {item}: {reason}")


@dataclass(frozen=True)
class Endpoint:
    """Where a model lives. `api_key` is held in memory only: it is excluded from `public()`."""

    base_url: str
    model: str
    api_key: str | None = field(default=None, repr=False)
    dialect: Dialect = "auto"
    revision: str = ""
    label: str = ""  # a stable name for the cache key (the local server's port changes per run)
    # A llama.cpp server of the same weights that serves the last token's hidden state
    # (embeddings on, pooling "last"); the embedded local model has one beside it.
    states_url: str = ""

    def public(self) -> dict[str, str]:
        return {
            "base_url": strip_credentials(self.base_url),
            "model": self.model,
            "dialect": self.resolved_dialect(),
            "revision": self.revision,
        }

    def resolved_dialect(self) -> str:
        if self.dialect != "auto":
            return self.dialect
        host = urlsplit(self.base_url).hostname or ""
        return "json_schema" if host.endswith("openai.com") else "llamacpp"

    def identity(self) -> str:
        return self.label or strip_credentials(self.base_url)


def strip_credentials(url: str) -> str:
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts._replace(query="", fragment=""))


# ---------------------------------------------------------------------------------------------
# Schema dialects


def _strict_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """OpenAI strict mode: every property required, no extra keys, no length keywords.
    pydantic still enforces the real bounds on the answer."""
    schema = copy.deepcopy(schema)

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            for key in ("maxLength", "minLength", "default", "title"):
                node.pop(key, None)
            if node.get("type") == "object" and "properties" in node:
                node["required"] = list(node["properties"])
                node["additionalProperties"] = False
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(schema)
    return schema


def response_format(dialect: str, name: str, schema: dict[str, Any]) -> dict[str, Any]:
    if dialect == "json_schema":
        strict = _strict_schema(schema)
        return {
            "type": "json_schema",
            "json_schema": {"name": name, "schema": strict, "strict": True},
        }
    if dialect == "llamacpp":
        return {"type": "json_schema", "json_schema": {"name": name, "schema": schema}}
    return {"type": "json_object"}


def schema_instruction(schema: dict[str, Any]) -> str:
    return (
        "Answer with one JSON object, and nothing else, that validates against this JSON "
        f"schema:\n{json.dumps(schema, sort_keys=True)}"
    )


def _hash(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


# ---------------------------------------------------------------------------------------------
# Transport errors


def _status(error: BaseException) -> int | None:
    response = getattr(error, "response", None)  # httpx's errors keep the code there
    return getattr(error, "status_code", None) or getattr(response, "status_code", None)


class NotACompletion(Exception):
    """The server answered 200 with something that is not a chat completion (an HTML page from
    a proxy, or a base URL that points at the wrong service)."""


def _transient_http(error: BaseException) -> bool:
    if isinstance(error, httpx.HTTPStatusError):
        return error.response.status_code in RETRYABLE_STATUS
    return isinstance(error, httpx.TransportError)


def is_transient(error: BaseException) -> bool:
    if isinstance(error, openai.APITimeoutError | openai.APIConnectionError | NotACompletion):
        return True
    status = _status(error)
    return status in RETRYABLE_STATUS or (status is not None and status >= 500)


def retry_after_seconds(error: BaseException) -> float | None:
    response = getattr(error, "response", None)
    return retry_after(response.headers) if response is not None else None


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass
class RawAnswer:
    content: str
    finish_reason: str
    usage: Usage
    retries: int
    logprobs: list[dict[str, Any]] | None = None  # compact token log-probabilities, if asked


# ---------------------------------------------------------------------------------------------


class Model:
    """An endpoint plus the recorder, cache and limits of one session."""

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        recorder: Recorder,
        cache: ResponseCache | None,
        semaphore: asyncio.Semaphore,
        replay: Mapping[str, dict[str, Any]] | None = None,
        earlier: Mapping[str, dict[str, Any]] | None = None,
        dialects: dict[str, str] | None = None,
        budget: Budget | None = None,
        max_reasks: int = 2,
        max_retries: int = 4,
        retry_max_wait: float = 20.0,
        timeout: float = 120.0,
    ) -> None:
        self.endpoint = endpoint
        self.recorder = recorder
        self.cache = cache
        self.replay = replay
        # Answers this run received before it stopped (from its own transcript): a resumed run
        # reuses them even without the response cache, so no finished call is paid for twice.
        self.earlier = earlier or {}
        self._answered: dict[str, dict[str, Any]] = {}  # this session's answers, by request
        self.max_reasks = max_reasks
        self.max_retries = max_retries
        self.retry_max_wait = retry_max_wait
        self._semaphore = semaphore
        # The dialect each server was found to accept, shared by the models of one session,
        # so that a server refusing schemas is found out once, not once per agent.
        self._dialects = dialects if dialects is not None else {}
        self.budget = budget
        self._client = openai.AsyncOpenAI(
            base_url=endpoint.base_url,
            api_key=endpoint.api_key or "no-key",
            max_retries=0,
            timeout=timeout,
        )
        self._http = httpx.AsyncClient(timeout=timeout)  # the hidden-state server's

    @property
    def _dialect(self) -> str:
        return self._dialects.get(self.endpoint.identity(), self.endpoint.resolved_dialect())

    def _json_mode_calls(self) -> set[tuple[Any, ...]]:
        return {
            (e.get("agent"), e.get("item"), e.get("attempt"), e.get("dialect"))
            for e in (self.replay or {}).values()
        }

    @property
    def _logprobs_accepted(self) -> bool:
        return self.endpoint.identity() + "#no-logprobs" not in self._dialects

    def _asked_without_logprobs(self, entry: dict[str, Any]) -> bool:
        """Whether the replayed run asked this call without log-probabilities, or its server
        gave none at all (it refused them, or answered a one-word choice without them, and
        the run asked no more such calls from then on, in whichever order they came)."""
        same = (entry["agent"], entry["item"], entry["attempt"])
        recorded = (self.replay or {}).values()
        return not any(e.get("dialect") == "choice" and e.get("logprobs") for e in recorded) or any(
            (e.get("agent"), e.get("item"), e.get("attempt")) == same
            and not (e.get("params") or {}).get("logprobs")
            for e in recorded
        )

    def _fall_back(self) -> None:
        self._dialects[self.endpoint.identity()] = "json_object"

    def public(self) -> dict[str, str]:
        """The endpoint as run.json records it, with the dialect in effect."""
        return {**self.endpoint.public(), "dialect": self._dialect}

    async def close(self) -> None:
        await self._client.close()
        await self._http.aclose()

    async def ask(
        self,
        *,
        agent: str,
        item: str,
        prompt: PromptTemplate,
        messages: list[dict[str, str]],
        schema: type[T],
        max_tokens: int,
        untrusted: list[str] | None = None,
        salvage: Callable[[str], T | None] | None = None,
        _shrunk: int = 0,
    ) -> T:
        """Send, validate, re-ask on invalid answers; raise ItemDropped when re-asks run out.

        `salvage`, when given, may keep the valid part of the last answer (for example the
        valid claims of a list) before the item is given up.
        """
        json_schema = schema.model_json_schema()
        original = messages
        messages = list(messages)
        dialect = self._dialect
        if dialect == "json_object":
            messages[0] = {
                "role": "system",
                "content": messages[0]["content"] + "\n\n" + schema_instruction(json_schema),
            }
        last_error = ""
        for attempt in range(self.max_reasks + 1):
            params: dict[str, Any] = {"temperature": 0, "max_tokens": max_tokens, "seed": 0}
            fmt = response_format(dialect, agent, json_schema)
            request = {
                "model": self.endpoint.model,
                "messages": messages,
                "response_format": fmt,
                **params,
            }
            request_hash, cache_key, entry = self._entry(
                agent=agent,
                item=item,
                attempt=attempt,
                prompt=prompt,
                request=request,
                dialect=dialect,
                untrusted=untrusted,
                schema=schema.__name__,
            )
            again = functools.partial(
                self.ask,
                agent=agent,
                item=item,
                prompt=prompt,
                schema=schema,
                max_tokens=max_tokens,
                untrusted=untrusted,
                salvage=salvage,
            )
            try:
                raw = await self._answer(request, request_hash, cache_key, entry, dialect)
            except _DialectFallback:
                return await again(messages=original, _shrunk=_shrunk)
            except _ContextTooLong:
                # The input does not fit the model: ask again with the paper text shortened.
                shorter = shrink_messages(original) if _shrunk < MAX_SHRINKS else None
                if shorter is None:
                    raise ItemDropped(
                        agent, item, "the input is longer than the model's context window"
                    ) from None
                return await again(messages=shorter, _shrunk=_shrunk + 1)
            entry.update(answered_fields(raw))
            if raw.logprobs is not None:
                entry["logprobs"] = raw.logprobs
            value, last_error = self._validate(raw, schema)
            entry["parsed"] = value.model_dump(mode="json") if value is not None else None
            entry["error"] = last_error or None
            self.recorder.record(entry)
            if value is not None:
                return value
            messages = [
                *messages,
                {"role": "assistant", "content": raw.content[:4000]},
                {"role": "user", "content": _reask_text(last_error)},
            ]
        kept = salvage(raw.content) if salvage is not None else None
        if kept is not None:
            return kept
        raise ItemDropped(agent, item, last_error)

    def _entry(
        self,
        *,
        agent: str,
        item: str,
        attempt: int,
        prompt: PromptTemplate,
        request: dict[str, Any],
        dialect: str,
        untrusted: list[str] | None,
        schema: str,
    ) -> tuple[str, str, dict[str, Any]]:
        """The request's hash (the transcript's key), its cache key, and its transcript line
        as far as it is known before the answer."""
        request_hash = _hash(request)
        cache_key = _hash(
            {"endpoint": self.endpoint.identity(), "revision": self.endpoint.revision, **request}
        )
        unsent = ("model", "messages", "response_format")
        params = {k: v for k, v in request.items() if k not in unsent}
        entry: dict[str, Any] = {
            "agent": agent,
            "item": item,
            "attempt": attempt,
            "request_hash": request_hash,
            "prompt": prompt.name,
            "prompt_hash": prompt.sha256,
            "model": self.endpoint.model,
            "endpoint": self.endpoint.public(),
            "dialect": dialect,
            "messages": request["messages"],
            "untrusted_spans": untrusted or [],
            "schema": schema,
            "params": params,
            "tokens_estimate": tokens.count_messages(request["messages"], self.endpoint.model),
            "started": time.time(),
        }
        return request_hash, cache_key, entry

    async def ask_choice(
        self,
        *,
        agent: str,
        item: str,
        prompt: PromptTemplate,
        messages: list[dict[str, str]],
        options: Mapping[str, str],
        untrusted: list[str] | None = None,
    ) -> Choice:
        """The model's probabilities for a closed set of one-word answers, read from the
        log-probabilities of its first answer token, asked without a grammar (a grammar
        would hide the model's own distribution). `options` maps each answer word the prompt
        offers to the name it is returned under. One call, no re-ask: at temperature 0 the
        same question gets the same answer. Raises NoLogprobs when the server gives none,
        and ItemDropped when no option is among the top tokens."""
        request: dict[str, Any] = {
            "model": self.endpoint.model,
            "messages": messages,
            "temperature": 0,
            "max_tokens": 1,
            "seed": 0,
            "logprobs": True,
            "top_logprobs": CHOICE_LOGPROBS,
        }
        if not self._logprobs_accepted:
            raise NoLogprobs(self.endpoint.model)
        try:
            raw, entry = await self._ask_once(
                agent, item, prompt, request, "choice", untrusted, Choice.__name__
            )
        except _DialectFallback:
            raise NoLogprobs(self.endpoint.model) from None
        entry["logprobs"] = raw.logprobs
        if raw.logprobs is None and self.replay is None:
            # A server that answers but leaves out log-probabilities gives nothing to read.
            self._dialects[self.endpoint.identity() + "#no-logprobs"] = "yes"
        choice, error = read_choice(raw.logprobs, options)
        entry["parsed"] = choice.model_dump(mode="json") if choice is not None else None
        entry["error"] = error or None
        self.recorder.record(entry)
        if choice is None:
            if raw.logprobs is None:
                raise NoLogprobs(self.endpoint.model)
            raise ItemDropped(agent, item, error)
        return choice

    async def ask_state(
        self,
        *,
        agent: str,
        item: str,
        prompt: PromptTemplate,
        messages: list[dict[str, str]],
        untrusted: list[str] | None = None,
    ) -> list[float]:
        """The model's hidden state at the last token of the prompt, where its answer would
        begin: what a probe fitted on such states reads. Recorded, cached and replayed like
        any call; its answer is the state as `encode_state` writes it, and the state returned
        is always the decoded one, so that a replay reads exactly what the run read. Raises
        NoStates when the endpoint has no hidden-state server."""
        if self.replay is None and not self.endpoint.states_url:
            raise NoStates(self.endpoint.model)
        request: dict[str, Any] = {
            "model": self.endpoint.model,
            "messages": messages,
            "hidden_state": "last_token",
            "max_tokens": 0,
        }
        raw, entry = await self._ask_once(
            agent, item, prompt, request, "state", untrusted, "HiddenState"
        )
        state = decode_state(raw.content)
        entry["parsed"] = {"dimensions": len(state)}
        entry["error"] = None if state else "the server returned no hidden state"
        self.recorder.record(entry)
        if not state:
            raise ItemDropped(agent, item, "the server returned no hidden state")
        return state

    async def _ask_once(
        self,
        agent: str,
        item: str,
        prompt: PromptTemplate,
        request: dict[str, Any],
        dialect: str,
        untrusted: list[str] | None,
        schema: str,
    ) -> tuple[RawAnswer, dict[str, Any]]:
        """One call that is never re-asked (a one-word choice, a hidden state): its answer
        and its transcript line, not yet recorded. An input longer than the model's context
        drops the item."""
        request_hash, cache_key, entry = self._entry(
            agent=agent,
            item=item,
            attempt=0,
            prompt=prompt,
            request=request,
            dialect=dialect,
            untrusted=untrusted,
            schema=schema,
        )
        try:
            raw = await self._answer(request, request_hash, cache_key, entry, dialect)
        except _ContextTooLong:
            raise ItemDropped(
                agent, item, "the input is longer than the model's context window"
            ) from None
        entry.update(answered_fields(raw))
        return raw, entry

    def _validate(self, raw: RawAnswer, schema: type[T]) -> tuple[T | None, str]:
        if raw.finish_reason == "length":
            return None, "the answer was cut off at max_tokens: answer more briefly"
        text = raw.content.strip()
        if text.startswith("```"):
            text = text.strip("`").removeprefix("json").strip()
        try:
            return schema.model_validate_json(text), ""
        except ValidationError as error:
            problems = [
                f"{'.'.join(str(p) for p in e['loc']) or 'answer'}: {e['msg']}"
                for e in error.errors()[:6]
            ]
            return None, "; ".join(problems)

    async def _answer(
        self,
        request: dict[str, Any],
        request_hash: str,
        cache_key: str,
        entry: dict[str, Any],
        dialect: str,
    ) -> RawAnswer:
        if self.replay is not None:
            recorded = self.replay.get(request_hash)
            asked = (entry["agent"], entry["item"], entry["attempt"], "json_object")
            if recorded is None and dialect != "json_object" and asked in self._json_mode_calls():
                # The run fell back to JSON mode for this call: ask as it then did.
                self._fall_back()
                raise _DialectFallback()
            if recorded is None and "logprobs" in request and self._asked_without_logprobs(entry):
                # The run's server refused log-probabilities: ask as the run then did.
                self._dialects[self.endpoint.identity() + "#no-logprobs"] = "yes"
                raise _DialectFallback()
            if recorded is None:
                raise CheckFailed(
                    f"replay: the {entry['agent']} call for {entry['item']} (attempt "
                    f"{entry['attempt']}, request {request_hash[:12]}) is not in the transcript",
                    "the prompts, settings or inputs changed since the run; run it again instead",
                )
            entry["cache_hit"] = False
            entry["replayed"] = True
            return _raw_from_record(recorded)
        if request_hash in self.earlier:
            entry["cache_hit"] = True
            entry["reused"] = True
            return _raw_from_record(self.earlier[request_hash])
        if request_hash in self._answered:
            # The same question twice in one run (a check repeated after a revision that
            # left the sentence as it was) is answered once, with or without the cache.
            entry["cache_hit"] = True
            entry["reused"] = True
            return _raw_from_record(self._answered[request_hash])
        if self.cache is not None:
            cached = self.cache.get(cache_key)
            if cached is not None:
                entry["cache_hit"] = True
                return _raw_from_record(cached)
        entry["cache_hit"] = False
        async with self._semaphore:
            held = (
                self.budget.hold(
                    self.endpoint.model,
                    self.endpoint.base_url,
                    int(entry["tokens_estimate"]),
                    int(request["max_tokens"]),
                )
                if self.budget is not None
                else (0, 0.0)
            )
            try:
                started = time.monotonic()
                raw = await self._send(request, dialect)
                entry["latency_s"] = round(time.monotonic() - started, 4)
            finally:
                if self.budget is not None:
                    self.budget.release(held)
        if self.budget is not None:
            self.budget.spend(
                {
                    "model": self.endpoint.model,
                    "endpoint": {"base_url": self.endpoint.base_url},
                    "tokens_estimate": entry["tokens_estimate"],
                    "usage": {
                        "prompt_tokens": raw.usage.prompt_tokens,
                        "completion_tokens": raw.usage.completion_tokens,
                    },
                }
            )
        answered = {**answered_fields(raw), "logprobs": raw.logprobs}
        self._answered[request_hash] = answered
        if self.cache is not None:
            self.cache.put(cache_key, answered)
        return raw

    async def _send(self, request: dict[str, Any], dialect: str) -> RawAnswer:
        if dialect == "state":
            return await self._send_state(request)
        retries = 0

        def wait(state: Any) -> float:
            error = state.outcome.exception() if state.outcome else None
            hinted = retry_after_seconds(error) if error else None
            return backoff_seconds(hinted, state.attempt_number, self.retry_max_wait)

        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(self.max_retries + 1),
                wait=wait,
                retry=retry_if_exception(is_transient),
                reraise=True,
            ):
                with attempt:
                    retries = attempt.retry_state.attempt_number - 1
                    response = await self._client.chat.completions.create(**request)
                    if not hasattr(response, "choices"):
                        raise NotACompletion()
        except openai.BadRequestError as error:
            if any(sign in str(error).lower() for sign in CONTEXT_SIGNS):
                raise _ContextTooLong() from error
            if "logprobs" in request and "logprob" in str(error).lower():
                # The endpoint does not give log-probabilities: ask without them from now on.
                self._dialects[self.endpoint.identity() + "#no-logprobs"] = "yes"
                raise _DialectFallback() from error
            if dialect != "json_object" and "response_format" in str(error):
                # The endpoint does not take this schema dialect: fall back to plain JSON mode.
                # (`dialect` is this request's: concurrent requests may each be refused.)
                self._fall_back()
                raise _DialectFallback() from error
            raise self._refused(error) from None
        except openai.APIStatusError as error:
            if is_transient(error):
                raise self._unreachable(error) from None
            raise self._refused(error) from None
        except (openai.APITimeoutError, openai.APIConnectionError) as error:
            raise self._unreachable(error) from None
        except NotACompletion:
            raise Unreachable(
                f"the server at {strip_credentials(self.endpoint.base_url)} answered with "
                "something other than a chat completion",
                "check --base-url (an OpenAI-compatible API usually ends in /v1), then resume",
            ) from None
        if not response.choices:
            return RawAnswer("", "empty", Usage(), retries)
        choice = response.choices[0]
        usage = Usage()
        if response.usage is not None:
            usage = Usage(response.usage.prompt_tokens or 0, response.usage.completion_tokens or 0)
        scored = getattr(choice, "logprobs", None)
        return RawAnswer(
            choice.message.content or "",
            choice.finish_reason or "stop",
            usage,
            retries,
            compact(getattr(scored, "content", None)),
        )

    async def _send_state(self, request: dict[str, Any]) -> RawAnswer:
        """Ask the hidden-state server: the chat template applied by the server itself (so the
        prompt is the one the chat server would see), then the last token's state."""
        base = self.endpoint.states_url.rstrip("/")
        retries = 0
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(self.max_retries + 1),
                wait=lambda state: backoff_seconds(None, state.attempt_number, self.retry_max_wait),
                retry=retry_if_exception(_transient_http),
                reraise=True,
            ):
                with attempt:
                    retries = attempt.retry_state.attempt_number - 1
                    templated = await self._http.post(
                        f"{base}/apply-template", json={"messages": request["messages"]}
                    )
                    templated.raise_for_status()
                    answer = await self._http.post(
                        f"{base}/v1/embeddings",
                        json={"input": templated.json()["prompt"], "model": request["model"]},
                    )
                    answer.raise_for_status()
        except httpx.HTTPStatusError as error:
            if any(sign in error.response.text.lower() for sign in CONTEXT_SIGNS):
                raise _ContextTooLong() from error
            if _transient_http(error):
                raise self._unreachable(error) from None
            raise self._refused(error) from None
        except httpx.TransportError as error:
            raise self._unreachable(error) from None
        body = answer.json()
        used = (body.get("usage") or {}).get("prompt_tokens", 0)
        return RawAnswer(
            encode_state(body["data"][0]["embedding"]), "stop", Usage(used, 0), retries
        )

    def _unreachable(self, error: BaseException) -> Unreachable:
        where = strip_credentials(self.endpoint.base_url)
        status = _status(error)
        detail = f"HTTP {status}" if status else type(error).__name__
        return Unreachable(
            f"the model server at {where} did not answer after {self.max_retries + 1} tries "
            f"({detail})",
            "start the server or fix --base-url, then resume the run",
        )

    def _refused(self, error: BaseException) -> Unreachable:
        where = strip_credentials(self.endpoint.base_url)
        status = _status(error)
        hints = {
            401: "check the API key in the environment (OPENAI_API_KEY or SYNTH_API_KEY)",
            403: "check that the API key may use this model",
            404: f"check the model name '{self.endpoint.model}' and the base URL",
        }
        return Unreachable(
            f"the model server at {where} refused the request (HTTP {status})",
            hints.get(status or 0, "check --model and --base-url"),
        )


class NoStates(Exception):
    """The endpoint has no hidden-state server beside it."""

    def __init__(self, model: str) -> None:
        self.model = model
        super().__init__(f"{model} has no hidden-state server")


def encode_state(vector: list[float]) -> str:
    """A hidden state as the text a transcript records: float16 bytes in base64."""
    return base64.b64encode(np.asarray(vector, dtype="<f2").tobytes()).decode("ascii")


def decode_state(text: str) -> list[float]:
    return np.frombuffer(base64.b64decode(text), dtype="<f2").astype(float).tolist()


class NoLogprobs(Exception):
    """The endpoint gives no token log-probabilities: a choice cannot be read from them."""

    def __init__(self, model: str) -> None:
        self.model = model
        super().__init__(f"{model} gives no token log-probabilities")


class _DialectFallback(Exception):
    """Internal: the endpoint rejected the response_format; ask again in json_object mode."""


class _ContextTooLong(Exception):
    """Internal: the request is longer than the model's context window."""


# How servers say a request does not fit (OpenAI, vLLM, llama.cpp, Ollama).
CONTEXT_SIGNS = (
    "context length",
    "context_length_exceeded",
    "maximum context",
    "context window",
    "exceeds the available context",
    "too many tokens",
)
MAX_SHRINKS = 2
_DATA = re.compile(r"(<<<DATA \S+ \w+>>>\n)(.*?)(\n<<<END DATA \w+>>>)", re.S)


def shrink_messages(messages: list[dict[str, str]]) -> list[dict[str, str]] | None:
    """The messages with the longest data block cut to about 60 %, at a sentence end; None
    when there is nothing long enough to cut."""
    user = max(
        (i for i, m in enumerate(messages) if m["role"] == "user"),
        key=lambda i: max(
            (len(b.group(2)) for b in _DATA.finditer(messages[i]["content"])), default=0
        ),
    )
    content = messages[user]["content"]
    blocks = list(_DATA.finditer(content))
    if not blocks:
        return None
    longest = max(blocks, key=lambda b: len(b.group(2)))
    body = longest.group(2)
    if len(body) < 400:
        return None
    cut = body[: int(len(body) * 0.6)]
    end = max(cut.rfind(". "), cut.rfind(".\n"))
    cut = (cut[: end + 1] if end > len(cut) // 2 else cut) + " […]"
    shorter = content[: longest.start(2)] + cut + content[longest.end(2) :]
    return [*messages[:user], {**messages[user], "content": shorter}, *messages[user + 1 :]]


def answered_fields(raw: RawAnswer) -> dict[str, Any]:
    """What a transcript line records of an answer."""
    return {
        "raw": raw.content,
        "finish_reason": raw.finish_reason,
        "usage": {
            "prompt_tokens": raw.usage.prompt_tokens,
            "completion_tokens": raw.usage.completion_tokens,
        },
        "retries": raw.retries,
    }


def _raw_from_record(record: Mapping[str, Any]) -> RawAnswer:
    usage = record.get("usage") or {}
    return RawAnswer(
        record.get("raw") or "",
        record.get("finish_reason") or "stop",
        Usage(usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0)),
        0,
        record.get("logprobs"),
    )


def _reask_text(error: str) -> str:
    return (
        f"That answer was not valid: {error}. Answer again with one JSON object that fits the "
        "schema and follows every rule above. Do not repeat the mistake."
    )


# ---------------------------------------------------------------------------------------------
# Capabilities, detected rather than assumed (`synth models`)


@dataclass
class Capabilities:
    reachable: bool
    listed: bool | None  # None: the server has no model list to look in
    dialect: str | None  # the structured-output dialect it accepted, None if none
    detail: str


DIALECT_NAMES = {
    "json_schema": "strict JSON schema",
    "llamacpp": "JSON schema",
    "json_object": "JSON mode only",
}
_PROBE_SCHEMA = {
    "type": "object",
    "properties": {"ok": {"type": "boolean"}},
    "required": ["ok"],
    "additionalProperties": False,
}


async def probe(endpoint: Endpoint, timeout: float = 30.0) -> Capabilities:
    """Whether the endpoint answers, lists the model, and which schema dialect it accepts:
    one model-list request and at most two one-word completions."""
    client = openai.AsyncOpenAI(
        base_url=endpoint.base_url,
        api_key=endpoint.api_key or "no-key",
        max_retries=0,
        timeout=timeout,
    )
    try:
        try:
            names = {m.id async for m in client.models.list()}
            listed: bool | None = endpoint.model in names
        except openai.NotFoundError:
            listed = None
        for dialect in dict.fromkeys((endpoint.resolved_dialect(), "json_object")):
            messages = [{"role": "user", "content": 'Reply with the JSON object {"ok": true}.'}]
            if dialect == "json_object":
                messages.insert(0, {"role": "system", "content": schema_instruction(_PROBE_SCHEMA)})
            try:
                await client.chat.completions.create(
                    model=endpoint.model,
                    messages=messages,  # type: ignore[arg-type]
                    response_format=response_format(dialect, "probe", _PROBE_SCHEMA),  # type: ignore[arg-type]
                    max_tokens=16,
                    temperature=0,
                )
            except openai.BadRequestError as error:
                if dialect != "json_object" and "response_format" in str(error):
                    continue
                return Capabilities(True, listed, None, f"refused a test request: {error.message}")
            return Capabilities(True, listed, dialect, DIALECT_NAMES[dialect])
        return Capabilities(True, listed, None, "no structured output")
    except openai.AuthenticationError:
        return Capabilities(True, None, None, "refused the API key (HTTP 401)")
    except openai.PermissionDeniedError:
        return Capabilities(True, None, None, "refused: no access to this model (HTTP 403)")
    except openai.NotFoundError:
        return Capabilities(True, False, None, f"does not know the model '{endpoint.model}'")
    except (openai.APIConnectionError, openai.APITimeoutError) as error:
        return Capabilities(False, None, None, f"unreachable ({type(error).__name__})")
    except openai.APIStatusError as error:
        return Capabilities(True, None, None, f"answered HTTP {error.status_code}")
    finally:
        await client.close()
