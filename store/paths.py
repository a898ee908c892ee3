"""The user folders synth writes to: the platform's (platformdirs), or the data/, cache/ and
config/ folders under SYNTH_HOME when it is set, on every platform alike."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import platformdirs

APP = "synth"
HOME_VARIABLE = "SYNTH_HOME"


def _home(kind: str) -> Path | None:
    home = os.environ.get(HOME_VARIABLE)
    return Path(home).expanduser() / kind if home else None


def data_dir() -> Path:
    return _home("data") or Path(platformdirs.user_data_dir(APP, appauthor=False))


def cache_dir() -> Path:
    return _home("cache") or Path(platformdirs.user_cache_dir(APP, appauthor=False))


def config_dir() -> Path:
    return _home("config") or Path(platformdirs.user_config_dir(APP, appauthor=False))


def default_store() -> Path:
    return data_dir() / "library"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()
