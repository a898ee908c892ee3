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
    def __init__(self, path: Path) -> None:
        super().__init__(
            path,
            "responses",
            "key TEXT PRIMARY KEY, value TEXT NOT NULL, created REAL NOT NULL",
            sized_by="value",
        )

    def get(self, key: str) -> dict[str, Any] | None:
        row = self._fetch_one("SELECT value FROM responses WHERE key = ?", (key,))
        return json.loads(row[0]) if row else None

    def put(self, key: str, value: dict[str, Any]) -> None:
        self._write(
            "INSERT OR REPLACE INTO responses (key, value, created) VALUES (?, ?, ?)",
            (key, json.dumps(value, sort_keys=True), time.time()),
        )
