"""The transcript: one JSON line per model-call attempt, appended as it happens.

The recorder is handed the secrets of the session and blanks them out of every line before it
reaches the disk, as a second guard behind the rule that keys are never put into an entry.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REDACTED = "[redacted]"


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    return text


class Recorder:
    def __init__(self, path: Path, secrets: Iterable[str] = ()) -> None:
        self.path = path
        self._secrets = tuple(s for s in secrets if s)
        self._lock = threading.Lock()

    def record(self, entry: dict[str, Any]) -> None:
        line = redact(json.dumps(entry, ensure_ascii=False, sort_keys=True), self._secrets)
        with self._lock, open(self.path, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    async def write(self, entry: dict[str, Any]) -> None:
        """`record`, off the event loop: the fsync waits for the disk, not the other calls."""
        await asyncio.to_thread(self.record, entry)


@dataclass(frozen=True)
class Line:
    """One line of a transcript file: a call (numbered 1, 2, … in the order recorded, as
    `synth audit --call` counts them) or a damaged line that is no JSON object."""

    line: int  # 1-based line number in the file
    call: int | None  # None for a damaged line
    entry: dict[str, Any] | None
    text: str  # the line as stored, kept for a damaged one


def read_lines(path: Path) -> list[Line]:
    """Every non-empty line, damaged ones marked rather than skipped."""
    if not path.exists():
        return []
    lines: list[Line] = []
    calls = 0
    raw = path.read_bytes().decode("utf-8", errors="replace")
    for number, text in enumerate(raw.splitlines(), start=1):
        if not text.strip():
            continue
        try:
            entry = json.loads(text)
        except json.JSONDecodeError:
            entry = None
        if isinstance(entry, dict):
            calls += 1
            lines.append(Line(number, calls, entry, ""))
        else:
            lines.append(Line(number, None, None, text))
    return lines


def read_transcript(path: Path) -> list[dict[str, Any]]:
    """All complete lines; a line cut short by a crash is skipped."""
    return [line.entry for line in read_lines(path) if line.entry is not None]
