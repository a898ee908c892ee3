"""One polite HTTP client for every literature source.

- Per-host spacing between requests (arXiv asks for one request every three seconds).
- A User-Agent naming synth and, when configured, a contact address.
- Retries with backoff on 429, 5xx, timeouts and connection errors, honouring Retry-After.
- An on-disk cache of successful answers keyed by the URL without its secret parameters. No
  request header is ever stored, and secret query parameters (API keys) are dropped from the
  key and the stored URL, so no key reaches the disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt

from synth import __version__
from synth.retrying import backoff_seconds, retry_after, retryable
from synth.store.sqlite import SqliteTable

# Seconds between two requests to one host, from each service's published guidance.
HOST_INTERVALS = {
    "export.arxiv.org": 3.0,
    "arxiv.org": 3.0,
    "api.semanticscholar.org": 1.0,
    "api.openalex.org": 0.1,
}
DEFAULT_INTERVAL = 1.0
SECRET_PARAMS = frozenset({"api_key", "apikey", "key", "token", "access_token"})
MAX_BODY_BYTES = 50 * 1024 * 1024


class SourceError(Exception):
    """A request that failed for good: after retries, or refused. The message is one line."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class _Transient(Exception):
    def __init__(self, status: int, headers: Mapping[str, str]) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.headers = headers


@dataclass(frozen=True)
class Fetched:
    url: str
    status: int
    content_type: str
    body: bytes
    from_cache: bool

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def public_url(url: str, params: Mapping[str, Any] | None = None) -> str:
    """The URL with its query, secret parameters removed: what is keyed, stored and shown."""
    query = sorted(
        (k, str(v)) for k, v in (params or {}).items() if v is not None and k not in SECRET_PARAMS
    )
    return f"{url}?{urlencode(query)}" if query else url


class HttpCache(SqliteTable):
    """Successful GET answers on disk: public URL, content type, body and when fetched."""

    def __init__(self, path: Path, cap_bytes: int | None = None) -> None:
        super().__init__(
            path,
            "pages",
            "key TEXT PRIMARY KEY, url TEXT NOT NULL, content_type TEXT NOT NULL,"
            " body BLOB NOT NULL, fetched REAL NOT NULL",
            sized_by="body",
            cap_bytes=cap_bytes,
        )

    @staticmethod
    def key(url: str) -> str:
        return hashlib.sha256(url.encode()).hexdigest()

    def get(self, url: str, max_age: float | None) -> Fetched | None:
        row = self._fetch_one(
            "SELECT content_type, body, fetched FROM pages WHERE key = ?", (self.key(url),)
        )
        if row is None or (max_age is not None and time.time() - row[2] > max_age):
            return None
        self._touch(self.key(url))
        return Fetched(url, 200, row[0], bytes(row[1]), from_cache=True)

    def put(self, fetched: Fetched) -> None:
        self._write(
            "INSERT OR REPLACE INTO pages (key, url, content_type, body, fetched, used)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                self.key(fetched.url),
                fetched.url,
                fetched.content_type,
                fetched.body,
                time.time(),
                time.time(),
            ),
        )


async def _wait_or_timeout(event: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)


class HostPacer:
    """Keeps requests to one host at least its interval apart, across concurrent tasks. A
    request that never reached the host (connection refused, no DNS) gives its slot back."""

    def __init__(
        self,
        intervals: Mapping[str, float],
        clock: Callable[[], float] = time.monotonic,
        pause: Callable[[asyncio.Event, float], Awaitable[None]] = _wait_or_timeout,
    ) -> None:
        self.intervals = {**HOST_INTERVALS, **intervals}
        self._clock = clock
        self._pause = pause
        self._locks: dict[str, asyncio.Lock] = {}
        self._next: dict[str, float] = {}
        self._refunded: dict[str, asyncio.Event] = {}

    async def wait(self, host: str) -> None:
        lock = self._locks.setdefault(host, asyncio.Lock())
        async with lock:
            while (delay := self._next.get(host, 0.0) - self._clock()) > 0:
                self._refunded[host] = asyncio.Event()
                await self._pause(self._refunded[host], delay)
            self._next[host] = self._clock() + self.intervals.get(host, DEFAULT_INTERVAL)

    def refund(self, host: str) -> None:
        """The last request never reached the host: the next one need not wait for it."""
        self._next[host] = self._clock()
        if host in self._refunded:
            self._refunded[host].set()


def user_agent(contact: str | None) -> str:
    agent = f"synth/{__version__} (literature synthesis tool"
    return f"{agent}; mailto:{contact})" if contact else f"{agent})"


class PoliteClient:
    def __init__(
        self,
        *,
        contact: str | None = None,
        cache: HttpCache | None = None,
        intervals: Mapping[str, float] | None = None,
        timeout: float = 30.0,
        max_retries: int = 4,
        retry_max_wait: float = 20.0,
        max_connections: int = 8,
    ) -> None:
        self.cache = cache
        self.pacer = HostPacer(intervals or {})
        self.max_retries = max_retries
        self.retry_max_wait = retry_max_wait
        self._slots = asyncio.Semaphore(max_connections)
        # Hosts that could not be reached at all: later requests fail at once instead of
        # spending every retry again (offline, DNS down).
        self._unreachable: dict[str, str] = {}
        self._client = httpx.AsyncClient(
            headers={"User-Agent": user_agent(contact)},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            follow_redirects=True,
        )

    async def close(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> PoliteClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _check_reachable(self, host: str) -> None:
        """Fail at once for a host another request found down (offline, no DNS)."""
        if host in self._unreachable:
            self.pacer.refund(host)
            raise SourceError(f"{host} could not be reached ({self._unreachable[host]})")

    async def get(
        self,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        max_age: float | None = None,
        max_bytes: int = MAX_BODY_BYTES,
    ) -> Fetched:
        """GET `url` (from the cache when fresh enough); SourceError when it fails for good."""
        shown = public_url(url, params)
        if self.cache is not None:
            hit = self.cache.get(shown, max_age)
            if hit is not None:
                return hit
        sent = {k: v for k, v in (params or {}).items() if v is not None}
        host = urlsplit(url).hostname or ""

        def wait(state: Any) -> float:
            error = state.outcome.exception() if state.outcome else None
            hinted = retry_after(error.headers) if isinstance(error, _Transient) else None
            return backoff_seconds(hinted, state.attempt_number, self.retry_max_wait)

        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(self.max_retries + 1),
                wait=wait,
                retry=retry_if_exception(
                    lambda e: isinstance(e, _Transient | httpx.TransportError)
                ),
                reraise=True,
            ):
                with attempt:
                    self._check_reachable(host)
                    await self.pacer.wait(host)
                    self._check_reachable(host)
                    async with self._slots:
                        try:
                            response = await self._client.get(url, params=sent, headers=headers)
                        except httpx.ConnectError:
                            self.pacer.refund(host)  # nothing reached the server
                            raise
                    status = response.status_code
                    if retryable(status):
                        raise _Transient(status, response.headers)
        except _Transient as error:
            raise SourceError(
                f"{host} answered HTTP {error.status} after {self.max_retries + 1} tries",
                error.status,
            ) from None
        except httpx.TransportError as error:
            if isinstance(error, httpx.ConnectError | httpx.ConnectTimeout):
                # The host itself is out of reach, not just this one slow answer.
                self._unreachable[host] = type(error).__name__
                self.pacer.refund(host)  # wakes the requests queued for it, which fail too
            raise SourceError(f"{host} could not be reached ({type(error).__name__})") from None
        if response.status_code != 200:
            raise SourceError(f"{host} refused the request (HTTP {status})", status)
        if len(response.content) > max_bytes:
            raise SourceError(f"{shown} is larger than {max_bytes // (1024 * 1024)} MB")
        fetched = Fetched(
            shown,
            200,
            response.headers.get("content-type", "").split(";")[0].strip().lower(),
            response.content,
            from_cache=False,
        )
        if self.cache is not None:
            self.cache.put(fetched)
        return fetched
