"""Sending one request: the OpenAI-compatible client (and the hidden-state server beside the
embedded model), transport retries on 429/5xx/timeouts/connection errors with backoff and
Retry-After (never on 401/403/404), and the one-line errors a user sees when a server is
unreachable or refuses."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import openai
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt

from synth.domain.errors import Unreachable
from synth.model.context import CONTEXT_SIGNS, ContextTooLong
from synth.model.endpoint import Endpoint
from synth.model.logprobs import compact
from synth.retrying import backoff_seconds, retry_after, retryable
from synth.urls import strip_credentials


def _status(error: BaseException) -> int | None:
    response = getattr(error, "response", None)  # httpx's errors keep the code there
    return getattr(error, "status_code", None) or getattr(response, "status_code", None)


class NotACompletion(Exception):
    """The server answered 200 with something that is not a chat completion (an HTML page from
    a proxy, or a base URL that points at the wrong service)."""


def _transient_http(error: BaseException) -> bool:
    if isinstance(error, httpx.HTTPStatusError):
        return retryable(error.response.status_code)
    return isinstance(error, httpx.TransportError)


def is_transient(error: BaseException) -> bool:
    if isinstance(error, openai.APITimeoutError | openai.APIConnectionError | NotACompletion):
        return True
    status = _status(error)
    return retryable(status)


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


class Refused(Exception):
    """The server refused a part of the request it could do without: `what` is "logprobs"
    (it gives no log-probabilities) or "schema" (it does not take the schema dialect)."""

    def __init__(self, what: str) -> None:
        self.what = what
        super().__init__(what)


class Transport:
    """One endpoint's clients, with the retry policy of a session."""

    def __init__(
        self, endpoint: Endpoint, *, max_retries: int, retry_max_wait: float, timeout: float
    ) -> None:
        self.endpoint = endpoint
        self.max_retries = max_retries
        self.retry_max_wait = retry_max_wait
        self._client = openai.AsyncOpenAI(
            base_url=endpoint.base_url,
            api_key=endpoint.api_key or "no-key",
            max_retries=0,
            timeout=timeout,
        )
        self._http = httpx.AsyncClient(timeout=timeout)  # the hidden-state server's

    async def close(self) -> None:
        await self._client.close()
        await self._http.aclose()

    async def send(self, request: dict[str, Any], dialect: str) -> RawAnswer:
        if dialect == "state":
            return await self.send_state(request)
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
                raise ContextTooLong() from error
            if "logprobs" in request and "logprob" in str(error).lower():
                # The endpoint does not give log-probabilities: ask without them from now on.
                raise Refused("logprobs") from error
            if dialect != "json_object" and "response_format" in str(error):
                # The endpoint does not take this schema dialect: fall back to plain JSON mode.
                # (`dialect` is this request's: concurrent requests may each be refused.)
                raise Refused("schema") from error
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

    async def send_state(self, request: dict[str, Any]) -> RawAnswer:
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
                raise ContextTooLong() from error
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
