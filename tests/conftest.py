"""Shared fixtures: user folders in a temp dir, a small test corpus, the fake model server."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fake_model import FakeModel
from tests.fake_sources import FakeSources, sources_mock
from tests.helpers import CORPUS, isolate


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own user folders and working directory, and no real keys."""
    return isolate(monkeypatch, tmp_path)


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
