"""What the transcript records of one call: its line before the answer (request, prompt hash,
token estimate), the answer's fields, and an answer read back from a line (cache, resume,
replay). The request hash is the transcript's key; the cache key adds the endpoint."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from typing import Any

from synth.domain import stages
from synth.model import tokens
from synth.model.endpoint import Endpoint
from synth.model.prompts import PromptTemplate
from synth.model.transport import RawAnswer, Usage


def request_digest(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def call_entry(
    endpoint: Endpoint,
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
    """A call's request hash (the transcript's key), its cache key (with the endpoint), and
    its transcript line as far as it is known before the answer."""
    request_hash = request_digest(request)
    cache_key = request_digest(
        {"endpoint": endpoint.identity(), "revision": endpoint.revision, **request}
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
        "model": endpoint.model,
        "endpoint": endpoint.public(),
        "dialect": dialect,
        "messages": request["messages"],
        "untrusted_spans": untrusted or [],
        "schema": schema,
        "params": params,
        "tokens_estimate": tokens.count_messages(request["messages"], endpoint.model),
        "started": time.time(),
    }
    stage = stages.CURRENT.get()
    if stage is not None:
        entry["stage"] = stage.value
    return request_hash, cache_key, entry


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


def raw_from_record(record: Mapping[str, Any]) -> RawAnswer:
    usage = record.get("usage") or {}
    return RawAnswer(
        record.get("raw") or "",
        record.get("finish_reason") or "stop",
        Usage(usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0)),
        0,
        record.get("logprobs"),
    )


def reask_text(error: str) -> str:
    return (
        f"That answer was not valid: {error}. Answer again with one JSON object that fits the "
        "schema and follows every rule above. Do not repeat the mistake."
    )
