"""Backoff shared by every client that retries: a server's Retry-After, else jittered doubling.

Both the model client and the paper sources retry transient failures (429, 5xx, timeouts); they
wait the same way so that a busy server sees the same polite behaviour from either.
"""

from __future__ import annotations

import random
from collections.abc import Mapping

# Statuses worth another try: timeouts, conflicts, rate limits; any 5xx besides.
RETRYABLE_STATUS = frozenset({408, 409, 425, 429})


def retryable(status: int | None) -> bool:
    """Whether an HTTP status is a transient failure that another try may get past."""
    return status is not None and (status in RETRYABLE_STATUS or status >= 500)


def retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds from a Retry-After header in its number form; None when absent or a date."""
    if headers is None:
        return None
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def backoff_seconds(hinted: float | None, attempt: int, max_wait: float) -> float:
    """The wait before retry number `attempt` (1-based), never longer than `max_wait`."""
    if hinted is not None:
        return min(hinted, max_wait)
    backoff = min(max_wait, 0.5 * 2 ** (attempt - 1))
    return backoff * (0.5 + random.random() / 2)
