"""Prompt templates: one file per agent or reviewer persona under `prompts/`.

A template file has named parts, each opened by a line `[name]` (`[system]`, `[user]`, and for
reviewers `[criteria]`). Placeholders are `$name` (string.Template), so JSON braces in a prompt
need no escaping. The hash of the file is recorded with every call made from it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from string import Template

_PART = re.compile(r"^\[([a-z_]+)\]\s*$", re.MULTILINE)


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    parts: dict[str, str]
    sha256: str

    def render(self, part: str, **values: str) -> str:
        return Template(self.parts[part]).substitute(values).strip()

    def messages(self, **values: str) -> list[dict[str, str]]:
        return [
            {"role": "system", "content": self.render("system", **values)},
            {"role": "user", "content": self.render("user", **values)},
        ]


def parse_template(name: str, text: str) -> PromptTemplate:
    pieces = _PART.split(text)
    parts = {pieces[i]: pieces[i + 1].strip() for i in range(1, len(pieces) - 1, 2)}
    return PromptTemplate(name, parts, hashlib.sha256(text.encode()).hexdigest())


@cache
def load(name: str) -> PromptTemplate:
    text = resources.files("synth.prompts").joinpath(f"{name}.md").read_text(encoding="utf-8")
    return parse_template(name, text)


def combined(base: PromptTemplate, extra: PromptTemplate) -> PromptTemplate:
    """A template whose recorded name and hash cover both files (a reviewer and its persona)."""
    digest = hashlib.sha256((base.sha256 + extra.sha256).encode()).hexdigest()
    return PromptTemplate(extra.name, {**base.parts, **extra.parts}, digest)


def available(prefix: str) -> list[str]:
    """Names of the templates whose file name starts with `prefix`, sorted."""
    folder = resources.files("synth.prompts")
    return sorted(
        p.name[:-3]
        for p in folder.iterdir()
        if p.name.startswith(prefix) and p.name.endswith(".md")
    )


def data_block(label: str, text: str) -> str:
    """Wrap untrusted text (paper content) in a block that the text itself cannot close.

    The fence carries a digest of the content, so a paper would have to contain the digest of
    itself to forge the closing line; any `<<<` in the text is defused as well.
    """
    safe = text.replace("<<<", "‹‹‹").replace(">>>", "›››")
    # The label can carry paper text too (a section name): one line, no angle brackets.
    label = " ".join(label.replace("<", "‹").replace(">", "›").split())
    tag = hashlib.sha256(safe.encode()).hexdigest()[:12]
    return f"<<<DATA {label} {tag}>>>\n{safe}\n<<<END DATA {tag}>>>"


_DATA_BLOCK = re.compile(r"<<<DATA [^\n]* ([0-9a-f]{12})>>>\n.*?\n<<<END DATA \1>>>", re.S)


def split_data(message: str) -> list[tuple[bool, str]]:
    """A message cut into (is a data block, text) pieces, in order: what an audit shows as
    paper text sent as data, apart from the instructions around it."""
    pieces: list[tuple[bool, str]] = []
    at = 0
    for block in _DATA_BLOCK.finditer(message):
        if block.start() > at:
            pieces.append((False, message[at : block.start()]))
        pieces.append((True, block.group(0)))
        at = block.end()
    if at < len(message):
        pieces.append((False, message[at:]))
    return pieces
