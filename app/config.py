"""Configuration: `RunSettings` filled from synth.toml, then the environment, then flags.

synth.toml is read from the current folder, else from the user config folder; its keys are the
settings' names (top level, under `[synth]`, or under their section's table such as
`[literature]`). Unknown keys are refused. API keys are
never settings: they are read from the environment when a model is opened and kept in memory.
"""

from __future__ import annotations

import os
import sys
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from synth.domain.errors import BadInput
from synth.domain.settings import RunSettings, flattened
from synth.sources import openalex, semantic_scholar
from synth.sources.literature import NETWORK_SOURCES
from synth.store import paths, remote_embeddings
from synth.urls import strip_credentials

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ENV_KEYS = {
    "SYNTH_BASE_URL": "base_url",
    "SYNTH_MODEL": "model",
    "SYNTH_STORE": "store",
    "SYNTH_EMBEDDINGS": "embeddings",
    "SYNTH_EMBEDDING_MODEL": "embedding_model",
    "SYNTH_RUNS_DIR": "runs_dir",
    "SYNTH_CONTACT": "contact",
}
KEY_ENV = ("SYNTH_API_KEY", "OPENAI_API_KEY")
MAX_QUESTION_CHARS = 2000


def config_file(cwd: Path) -> Path | None:
    for candidate in (cwd / "synth.toml", paths.config_dir() / "synth.toml"):
        if candidate.is_file():
            return candidate
    return None


def read_config(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise BadInput(f"cannot read {path}: {error}", "fix or remove the config file") from None
    return flattened(data.get("synth", data))


def profile(name: str) -> dict[str, Any]:
    """The settings of a named profile (app/profiles/NAME.toml), which fill in only what the
    user left unset."""
    text = (resources.files("synth.app") / "profiles" / f"{name}.toml").read_text("utf-8")
    return tomllib.loads(text)


def is_local_model(model: str, base_url: str | None) -> bool:
    """The embedded model: `local` or `local:NAME`, with no base URL (the one definition;
    "localai-7b" is a hosted model's name)."""
    return not base_url and (model == "local" or model.startswith("local:"))


def runs_dir(flag: str | None, cwd: Path | None = None) -> Path:
    """Where run folders are, found as `resolve` finds `runs_dir` for `synth run` (the flag,
    then SYNTH_RUNS_DIR, then synth.toml, then the default), without the other settings
    having to be valid. Every command that reads runs uses it, so that `synth runs` lists
    what `synth run` wrote."""
    found = layered({"runs_dir": flag}, None, cwd).get("runs_dir")
    return Path(found or RunSettings.flat_fields()["runs_dir"].default)


def layered(flags: dict[str, Any], base: dict[str, Any] | None, cwd: Path | None) -> dict[str, Any]:
    """The raw settings in (rising) priority: `base` or synth.toml, environment, flags."""
    values: dict[str, Any] = (
        dict(base) if base is not None else read_config(config_file(cwd or Path.cwd()))
    )
    if base is None:
        for env, key in ENV_KEYS.items():
            if os.environ.get(env):
                values[key] = os.environ[env]
    values.update({k: v for k, v in flags.items() if v is not None})
    return values


def resolve(
    flags: dict[str, Any], base: dict[str, Any] | None = None, cwd: Path | None = None
) -> RunSettings:
    """Settings from (in rising priority) `base` or synth.toml, environment, flags."""
    values = layered(flags, base, cwd)
    if not values.get("sources"):
        # A folder of papers means "read these"; no folder means "search the literature".
        values["sources"] = ["local"] if values.get("corpus") else list(NETWORK_SOURCES)
    if is_local_model(str(values.get("model", "local")), values.get("base_url")):
        for key, value in profile("local").items():
            values.setdefault(key, value)
    try:
        settings = RunSettings.model_validate(values)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        raise BadInput(
            f"bad setting '{where}': {message}" if where else f"bad settings: {message}",
            "fix the flag or synth.toml",
        ) from None
    if settings.model.base_url is not None:
        check_url(settings.model.base_url, "--base-url")
    if settings.retrieval.embeddings is not None:
        check_url(settings.retrieval.embeddings, "--embeddings")
    return settings


def check_url(url: str, what: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadInput(
            f"{what} '{strip_credentials(url)}' is not an http(s) URL",
            "pass a URL such as http://127.0.0.1:8080/v1",
        )
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise BadInput(
            f"{what} '{strip_credentials(url)}' has a bad port", "pass host:port with a number"
        ) from None


def check_question(question: str) -> str:
    cleaned = " ".join(question.split())
    if not cleaned:
        raise BadInput(
            "the question is empty", 'pass the research question in quotes: synth run "…"'
        )
    if len(cleaned) > MAX_QUESTION_CHARS:
        raise BadInput(
            f"the question is {len(cleaned)} characters long (the limit is {MAX_QUESTION_CHARS})",
            "ask one focused research question",
        )
    return cleaned


def api_key(env_name: str | None = None) -> str | None:
    """The model's API key: from `env_name` when the settings name one, else the usual."""
    for name in (env_name,) if env_name else KEY_ENV:
        if os.environ.get(name):
            return os.environ[name]
    return None


def source_secrets() -> list[str]:
    """The literature sources' and the embeddings endpoint's API keys, for the recorder to
    blank out."""
    keys = [
        os.environ.get(openalex.KEY_ENV),
        semantic_scholar.api_key(),
        os.environ.get(remote_embeddings.KEY_ENV),
    ]
    return [k for k in keys if k]


def settings_record(settings: RunSettings) -> dict[str, Any]:
    """Settings as run.json keeps them: URLs without their credentials (pass --base-url or
    --store again to resume with them; keys come from the environment)."""

    record = settings.flat()
    for key in ("base_url", "store", "embeddings"):
        if record.get(key):
            record[key] = strip_credentials(record[key])
    return record
