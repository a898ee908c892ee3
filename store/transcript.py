"""The transcript: one JSON line per model-call attempt, appended as it happens.

The recorder is handed the secrets of the session and blanks them out of every line before it
reaches the disk, as a second guard behind the rule that keys are never put into an entry.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable
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


def read_transcript(path: Path) -> list[dict[str, Any]]:
    """All complete lines; a line cut short by a crash is skipped."""
    if not path.exists():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return entries
