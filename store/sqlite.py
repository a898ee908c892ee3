"""One SQLite table shared safely by threads and processes: WAL mode, a lock, and the
bookkeeping every cache needs (its size, clearing it)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any


class SqliteTable:
    def __init__(self, path: Path, table: str, columns: str, sized_by: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._table = table
        self._sized_by = sized_by
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, timeout=30, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"CREATE TABLE IF NOT EXISTS {table} ({columns})")
        self._db.commit()

    def _fetch_one(self, sql: str, params: tuple[Any, ...]) -> Any:
        with self._lock:
            return self._db.execute(sql, params).fetchone()

    def _write(self, sql: str, params: tuple[Any, ...]) -> None:
        with self._lock:
            self._db.execute(sql, params)
            self._db.commit()

    def info(self) -> dict[str, Any]:
        count, size = self._fetch_one(
            f"SELECT COUNT(*), COALESCE(SUM(LENGTH({self._sized_by})), 0) FROM {self._table}", ()
        )
        return {"path": str(self.path), "entries": count, "bytes": size}

    def clear(self) -> int:
        with self._lock:
            removed = self._db.execute(f"DELETE FROM {self._table}").rowcount
            self._db.commit()
        return removed

    def close(self) -> None:
        with self._lock:
            self._db.close()
