"""Nothing a run does while model calls are in flight blocks the event loop: transcript lines,
checkpoints, the response cache and the library's embedding and search all run in worker
threads, so a slow disk or a slow embedding holds up no other call."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import pytest

from synth.store.cache import ResponseCache
from synth.store.library import Library
from synth.store.runs import RunFolder
from synth.store.transcript import Recorder
from tests.helpers import run_args, run_cli

BLOCKING = [
    (Recorder, "record"),
    (RunFolder, "save"),
    (ResponseCache, "get"),
    (ResponseCache, "put"),
    (Library, "add"),
    (Library, "search"),
    (Library, "similarities"),
    (Library, "word_scores"),
]


def _on_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def test_a_run_does_its_disk_and_library_work_off_the_event_loop(
    capsys, corpus, fake, monkeypatch: pytest.MonkeyPatch
):
    calls: dict[str, list[bool]] = {}

    def spy(owner: type, name: str) -> None:
        real = getattr(owner, name)
        label = f"{owner.__name__}.{name}"

        @functools.wraps(real)
        def watched(*args: Any, **kwargs: Any) -> Any:
            calls.setdefault(label, []).append(_on_loop())
            return real(*args, **kwargs)

        monkeypatch.setattr(owner, name, watched)

    for owner, name in BLOCKING:
        spy(owner, name)
    code, _, err = run_cli(capsys, *run_args(corpus, fake))
    assert code == 0, err
    # Each was used, so the test sees the run's real paths, and none ran on the loop.
    assert set(calls) == {f"{o.__name__}.{n}" for o, n in BLOCKING}
    assert {label: sum(seen) for label, seen in calls.items() if any(seen)} == {}
