"""Shared fixtures: user folders in a temp dir, a small test corpus, the fake model server."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fake_model import FakeModel
from tests.fake_sources import FakeSources, sources_mock
from tests.helpers import CORPUS, isolate, run_args


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


# The verifier's judgement of one claim against one passage gets an answer that is no stance,
# so it asks again in JSON; that first JSON answer is garbage too and is re-asked: two re-asked
# calls. Each key names the claim, the passage and the prompt, because the judgements run
# concurrently and, once a server has answered without log-probabilities, every later
# judgement is asked in JSON: a key naming less hits whichever call comes first.
_CLAIM = "Claim: Learning-rate warmup did not reduce"
_PASSAGE = "A linear warmup reduced early loss"
REASKED: dict[str | tuple[str, ...], int] = {
    ("Does the passage support the claim?", _CLAIM, _PASSAGE): 1,
    ("You check one claim", _CLAIM, _PASSAGE): 1,
}


@pytest.fixture(scope="session")
def recorded_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A runs folder with two finished runs of the test question, the first with two
    re-asked verifier calls. Shared by every test that reads runs: none may change it."""
    from synth.cli import main

    with pytest.MonkeyPatch.context() as monkeypatch:
        work = isolate(monkeypatch, tmp_path_factory.mktemp("recorded"))
        with FakeModel() as server:
            server.faults.garbage_first = dict(REASKED)
            assert main(run_args(CORPUS, server, "--no-cache")) == 0
        with FakeModel() as server:
            assert main(run_args(CORPUS, server, "--no-cache")) == 0
    return work / "runs"


@pytest.fixture
def saved_heads() -> Iterator[None]:
    """For a test that saves a judge head: heads are looked up afresh during it, and the cached
    lookups are cleared after it, so that no later test finds its head."""
    from synth.agents import judge

    judge.find_head.cache_clear()
    yield
    judge.find_head.cache_clear()
