"""URLs as synth shows and judges them: without credentials, and whether they stay on this
machine. One home, so that every message, file and offline check treats a URL the same way."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def strip_credentials(url: str) -> str:
    """The URL fit for a file or a message: no user, password, query or fragment. A URL too
    malformed to parse keeps only what follows its last "@"."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        scheme, sep, rest = url.partition("://")
        return f"{scheme}://{rest.rsplit('@', 1)[-1]}" if sep and "@" in rest else url
    if parts.username or parts.password:
        host = parts.hostname or ""
        parts = parts._replace(netloc=f"{host}:{port}" if port else host)
    return urlunsplit(parts._replace(query="", fragment=""))


def url_secrets(url: str | None) -> list[str]:
    """The password a URL carries, if any, for the transcript's redaction."""
    if not url:
        return []
    password = urlsplit(url).password
    return [password] if password else []


def host_of(url: str) -> str:
    return urlsplit(url).hostname or ""


def is_local(url: str) -> bool:
    """Whether the URL's host is this machine (loopback)."""
    return host_of(url) in LOCAL_HOSTS
