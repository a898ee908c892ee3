"""Schema dialects: how a JSON schema is asked of each kind of server, and which one a server
accepts (`probe`, for `synth models`), detected rather than assumed."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

import openai

from synth.model.endpoint import Endpoint


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
