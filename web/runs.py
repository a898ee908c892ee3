"""The runs the browser may show, found only among the run folders directly under the runs
folder, each read once and kept until one of its files changes."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from synth.domain.records import Passage, Report, ReportClaim
from synth.pipeline.saved import SavedRun
from synth.report.call_index import CallRow, index
from synth.store.runs import RunFolder
from synth.store.transcript import Line

WATCHED = ("run.json", "transcript.jsonl", "report.json")
KEPT = 8  # runs held parsed at once: a transcript can be tens of megabytes


class NotFound(Exception):
    """What the visitor asked for is not there; the message says what is."""


@dataclass
class LoadedRun:
    """One run's files, parsed on first use."""

    saved: SavedRun

    @property
    def id(self) -> str:
        return self.saved.id

    @cached_property
    def record(self) -> dict[str, Any]:
        return self.saved.record()

    @cached_property
    def lines(self) -> list[Line]:
        return self.saved.lines()

    @cached_property
    def rows(self) -> list[CallRow]:
        return index(self.lines)

    @cached_property
    def calls(self) -> int:
        return sum(1 for line in self.lines if line.call is not None)

    @cached_property
    def report(self) -> Report | None:
        return self.saved.report()

    @cached_property
    def passages(self) -> dict[str, Passage]:
        return {p.id: p for p in self.saved.passages()}

    @cached_property
    def provisional(self) -> dict[str, str]:
        return self.saved.provisional_ids()

    @cached_property
    def claim_of_item(self) -> dict[str, str]:
        """Provisional claim id → final id, to name the claim a verifier call judged."""
        return {prov: cid for cid, prov in self.provisional.items()}

    def line(self, call: int) -> tuple[Line, CallRow]:
        for line, row in zip(self.lines, self.rows, strict=True):
            if line.call == call:
                return line, row
        raise NotFound(f"run {self.id} has no call {call}: it has calls 1 to {self.calls}")

    def claim(self, claim_id: str) -> ReportClaim:
        report = self.report
        if report is None:
            raise NotFound(f"run {self.id} has no report yet, so no claims")
        for claim in report.claims:
            if claim.id.upper() == claim_id.upper():
                return claim
        raise NotFound(f"run {self.id} has no claim {claim_id}: it has C1 to C{len(report.claims)}")

    def passage(self, passage_id: str) -> Passage:
        found = self.passages.get(passage_id)
        if found is None:
            raise NotFound(f"run {self.id} has no passage {passage_id}")
        return found


class Runs:
    """The run folders under one folder, looked up by id and cached by their files' times."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._root = folder.resolve()
        self._cache: OrderedDict[str, tuple[tuple[Any, ...], LoadedRun]] = OrderedDict()
        self._lock = threading.Lock()

    def path_of(self, run_id: str) -> Path:
        """The folder of run `run_id`, which must be a run directly under the runs folder:
        no other path is ever read."""
        candidate = self._root / run_id
        if (
            not run_id
            or run_id.startswith(".")
            or Path(run_id).name != run_id
            or candidate.resolve().parent != self._root
            or not (candidate / "run.json").is_file()
        ):
            raise NotFound(f"there is no run {run_id!r} in {self.folder}")
        return candidate

    def get(self, run_id: str) -> LoadedRun:
        path = self.path_of(run_id)
        stamp = tuple(_stamp(path / name) for name in WATCHED)
        with self._lock:
            cached = self._cache.get(run_id)
            if cached is not None and cached[0] == stamp:
                self._cache.move_to_end(run_id)
                return cached[1]
            loaded = LoadedRun(SavedRun(RunFolder(path)))
            self._cache[run_id] = (stamp, loaded)
            self._cache.move_to_end(run_id)
            while len(self._cache) > KEPT:
                self._cache.popitem(last=False)
            return loaded


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size
