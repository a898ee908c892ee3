"""The response cache: raw model answers keyed by everything that determines them.

SQLite in WAL mode, so several processes and runs can share it safely. Every raw answer is
stored, valid or not: a re-run then follows the same re-asks and is answered in full from here.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from synth.store.sqlite import SqliteTable


class ResponseCache(SqliteTable):
    def __init__(self, path: Path, cap_bytes: int | None = None) -> None:
        super().__init__(
            path,
            "responses",
            "key TEXT PRIMARY KEY, value TEXT NOT NULL, created REAL NOT NULL",
            sized_by="value",
            cap_bytes=cap_bytes,
        )

    def get(self, key: str) -> dict[str, Any] | None:
        row = self._fetch_one("SELECT value FROM responses WHERE key = ?", (key,))
        if row is None:
            return None
        self._touch(key)
        return json.loads(row[0])

    def put(self, key: str, value: dict[str, Any]) -> None:
        now = time.time()
        self._write(
            "INSERT OR REPLACE INTO responses (key, value, created, used) VALUES (?, ?, ?, ?)",
            (key, json.dumps(value, sort_keys=True), now, now),
        )
