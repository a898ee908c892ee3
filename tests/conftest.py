"""Shared fixtures: user folders in a temp dir, a small test corpus, the fake model server."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fake_model import FakeModel
from tests.fake_sources import FakeSources, sources_mock
from tests.helpers import CORPUS


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own user folders and working directory, and no real keys."""
    home = tmp_path / "home"
    for var, sub in (
        ("XDG_DATA_HOME", "data"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_CONFIG_HOME", "config"),
    ):
        monkeypatch.setenv(var, str(home / sub))
    for var in list(os.environ):
        if var.startswith("SYNTH_") or var in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
            monkeypatch.delenv(var, raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    # Fast retries: the fake server answers at once, so backoff only slows the tests.
    # Fast retries, and no spacing between requests to the (mocked) literature sources.
    (work / "synth.toml").write_text(
        'retry_max_wait = 0.01\nmax_retries = 2\ncontact = "team@example.org"\n'
        '[host_intervals]\n"export.arxiv.org" = 0.0\n"arxiv.org" = 0.0\n'
        '"api.semanticscholar.org" = 0.0\n'
    )
    return work


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A copy of the test corpus that a test may change."""
    folder = tmp_path / "corpus"
    shutil.copytree(CORPUS, folder)
    return folder


@pytest.fixture
def sources() -> Iterator[FakeSources]:
    """arXiv, OpenAlex and Semantic Scholar answered from tests/api_responses/."""
    yield from sources_mock()


@pytest.fixture
def fake() -> FakeModel:
    with FakeModel() as server:
        yield server
