"""When a request does not fit the model's context window: how servers say so, and the
messages with their longest paper-text block cut, to ask again."""

from __future__ import annotations

import re


class ContextTooLong(Exception):
    """The request is longer than the model's context window."""


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
