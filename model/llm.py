"""The one door to a model.

`Model.ask` sends one structured request to an OpenAI-compatible endpoint and returns a
validated pydantic object. Around that single job it owns: the endpoint's schema dialect
(`dialects`), re-asking with the validation error, a shorter input when the context is full
(`context`), token accounting and budgets, one transcript line per attempt, the response cache
and replay. Sending and transport retries are `transport`'s. It is handed the recorder and the
cache; it owns neither file.

It stays one module of some 440 lines on purpose: the three kinds of call (a validated answer,
a one-word choice, a hidden state) go through one `_answer`, which holds replay, resume, the
cache, the budget and the dialect fallbacks; split apart, each part would reach into the
others' state.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from synth.domain.errors import CheckFailed
from synth.model.budget import Budget
from synth.model.calls import answered_fields, call_entry, raw_from_record, reask_text
from synth.model.context import MAX_SHRINKS, ContextTooLong, shrink_messages
from synth.model.dialects import response_format, schema_instruction
from synth.model.endpoint import Endpoint
from synth.model.logprobs import CHOICE_LOGPROBS, Choice, read_choice
from synth.model.prompts import PromptTemplate
from synth.model.transport import (
    NoStates,
    RawAnswer,
    Refused,
    Transport,
    decode_state,
)
from synth.store.cache import ResponseCache
from synth.store.transcript import Recorder

T = TypeVar("T", bound=BaseModel)


class ItemDropped(Exception):
    """Re-asks ran out: the caller drops this item and records why."""

    def __init__(self, agent: str, item: str, reason: str) -> None:
        self.agent, self.item, self.reason = agent, item, reason
        super().__init__(f"{agent} {item}: {reason}")


class NoLogprobs(Exception):
    """The endpoint gives no token log-probabilities: a choice cannot be read from them."""

    def __init__(self, model: str) -> None:
        self.model = model
        super().__init__(f"{model} gives no token log-probabilities")


class _DialectFallback(Exception):
    """Internal: the endpoint rejected the response_format; ask again in json_object mode."""


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
        self._semaphore = semaphore
        # The dialect each server was found to accept, shared by the models of one session,
        # so that a server refusing schemas is found out once, not once per agent.
        self._dialects = dialects if dialects is not None else {}
        self.budget = budget
        self.transport = Transport(
            endpoint, max_retries=max_retries, retry_max_wait=retry_max_wait, timeout=timeout
        )

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

    def _without_logprobs(self) -> None:
        """Ask this endpoint no more log-probabilities (it refused or left them out)."""
        self._dialects[self.endpoint.identity() + "#no-logprobs"] = "yes"

    def public(self) -> dict[str, str]:
        """The endpoint as run.json records it, with the dialect in effect."""
        return {**self.endpoint.public(), "dialect": self._dialect}

    async def close(self) -> None:
        await self.transport.close()

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
        salvage_first: bool = False,
        _shrunk: int = 0,
    ) -> T:
        """Send, validate, re-ask on invalid answers; raise ItemDropped when re-asks run out.

        `salvage`, when given, may keep the valid part of the last answer (for example the
        valid claims of a list) before the item is given up. With `salvage_first`, the valid
        part of any answer is kept at once, and only an answer with no valid part is re-asked:
        for lists of independent items, where a re-ask writes the whole list again for the
        sake of one item.
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
            request_hash, cache_key, entry = call_entry(
                self.endpoint,
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
                salvage_first=salvage_first,
            )
            try:
                raw = await self._answer(request, request_hash, cache_key, entry, dialect)
            except _DialectFallback:
                return await again(messages=original, _shrunk=_shrunk)
            except ContextTooLong:
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
            await self.recorder.write(entry)
            if value is not None:
                return value
            kept = salvage(raw.content) if salvage is not None and salvage_first else None
            if kept is not None:
                return kept
            messages = [
                *messages,
                {"role": "assistant", "content": raw.content[:4000]},
                {"role": "user", "content": reask_text(last_error)},
            ]
        kept = salvage(raw.content) if salvage is not None else None
        if kept is not None:
            return kept
        raise ItemDropped(agent, item, last_error)

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
            self._without_logprobs()
        choice, error = read_choice(raw.logprobs, options)
        entry["parsed"] = choice.model_dump(mode="json") if choice is not None else None
        entry["error"] = error or None
        await self.recorder.write(entry)
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
        await self.recorder.write(entry)
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
        request_hash, cache_key, entry = call_entry(
            self.endpoint,
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
        except ContextTooLong:
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
                self._without_logprobs()
                raise _DialectFallback()
            if recorded is None:
                raise CheckFailed(
                    f"replay: the {entry['agent']} call for {entry['item']} (attempt "
                    f"{entry['attempt']}, request {request_hash[:12]}) is not in the transcript",
                    "the prompts, settings or inputs changed since the run; run it again instead",
                )
            entry["cache_hit"] = False
            entry["replayed"] = True
            return raw_from_record(recorded)
        if request_hash in self.earlier:
            entry["cache_hit"] = True
            entry["reused"] = True
            return raw_from_record(self.earlier[request_hash])
        if request_hash in self._answered:
            # The same question twice in one run (a check repeated after a revision that
            # left the sentence as it was) is answered once, with or without the cache.
            entry["cache_hit"] = True
            entry["reused"] = True
            return raw_from_record(self._answered[request_hash])
        if self.cache is not None:
            cached = await asyncio.to_thread(self.cache.get, cache_key)
            if cached is not None:
                entry["cache_hit"] = True
                return raw_from_record(cached)
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
                try:
                    raw = await self.transport.send(request, dialect)
                except Refused as refusal:
                    if refusal.what == "logprobs":
                        self._without_logprobs()
                    else:
                        self._fall_back()
                    raise _DialectFallback() from refusal
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
            await asyncio.to_thread(self.cache.put, cache_key, answered)
        return raw
