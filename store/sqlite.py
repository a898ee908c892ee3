"""One SQLite table shared safely by threads and processes: WAL mode, a lock, and the
bookkeeping every cache needs: its size, a cap with least-recently-used eviction, clearing."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

CHECK_EVERY = 25  # writes between two size checks


class SqliteTable:
    """`columns` must start with `key TEXT PRIMARY KEY`; a `used` time column is added."""

    def __init__(
        self, path: Path, table: str, columns: str, sized_by: str, cap_bytes: int | None = None
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.cap_bytes = cap_bytes
        self._table = table
        self._sized_by = sized_by
        self._writes = 0
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, timeout=30, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"CREATE TABLE IF NOT EXISTS {table} ({columns})")
        known = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
        if "used" not in known:  # tables made before eviction existed
            self._db.execute(f"ALTER TABLE {table} ADD COLUMN used REAL NOT NULL DEFAULT 0")
        self._db.commit()

    def _touch(self, key: str) -> None:
        with self._lock:
            self._db.execute(f"UPDATE {self._table} SET used = ? WHERE key = ?", (time.time(), key))
            self._db.commit()

    def _written(self) -> None:
        """After a write: now and then, evict the least recently used entries over the cap."""
        self._writes += 1
        if self.cap_bytes is None or self._writes % CHECK_EVERY != 1:
            return
        with self._lock:
            total = self._db.execute(
                f"SELECT COALESCE(SUM(LENGTH({self._sized_by})), 0) FROM {self._table}"
            ).fetchone()[0]
            if total <= self.cap_bytes:
                return
            goal = total - int(self.cap_bytes * 0.9)  # evict below the cap, not to it
            freed = 0
            doomed = []
            for key, size in self._db.execute(
                f"SELECT key, LENGTH({self._sized_by}) FROM {self._table} "
                "ORDER BY MAX(used, 0) ASC, rowid ASC"
            ):
                if freed >= goal:
                    break
                doomed.append((key,))
                freed += size
            self._db.executemany(f"DELETE FROM {self._table} WHERE key = ?", doomed)
            self._db.commit()

    def _fetch_one(self, sql: str, params: tuple[Any, ...]) -> Any:
        with self._lock:
            return self._db.execute(sql, params).fetchone()

    def _write(self, sql: str, params: tuple[Any, ...]) -> None:
        with self._lock:
            self._db.execute(sql, params)
            self._db.commit()
        self._written()

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
