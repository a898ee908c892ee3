"""The response cache: raw model answers keyed by everything that determines them.

SQLite in WAL mode, so several processes and runs can share it safely. Every raw answer is
stored, valid or not: a re-run then follows the same re-asks and is answered in full from here.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any


class ResponseCache:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, timeout=30, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS responses ("
            " key TEXT PRIMARY KEY, value TEXT NOT NULL, created REAL NOT NULL)"
        )
        self._db.commit()

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM responses WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, key: str, value: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO responses (key, value, created) VALUES (?, ?, ?)",
                (key, json.dumps(value, sort_keys=True), time.time()),
            )
            self._db.commit()

    def info(self) -> dict[str, Any]:
        with self._lock:
            count, size = self._db.execute(
                "SELECT COUNT(*), COALESCE(SUM(LENGTH(value)), 0) FROM responses"
            ).fetchone()
        return {"path": str(self.path), "entries": count, "bytes": size}

    def clear(self) -> int:
        with self._lock:
            removed = self._db.execute("DELETE FROM responses").rowcount
            self._db.commit()
        return removed

    def close(self) -> None:
        with self._lock:
            self._db.close()
