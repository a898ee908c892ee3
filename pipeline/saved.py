"""A run folder read back for auditing: its record, transcript lines (damaged ones marked),
report, passages, papers and the provisional id behind each final claim id. It only reads:
nothing here writes into the folder, so a browser or an export can never change a run."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from synth.domain.records import Paper, Passage, Report
from synth.domain.stages import Stage
from synth.pipeline.checkpoints import Corpus, Passages, Verification, numbered
from synth.store.runs import RunFolder
from synth.store.transcript import Line, read_lines


class UnreadableReport(Exception):
    """report.json exists but is not a report this version can read."""


@dataclass(frozen=True)
class SavedRun:
    folder: RunFolder

    @property
    def id(self) -> str:
        return self.folder.id

    def record(self) -> dict[str, Any]:
        """run.json, or an empty record where it cannot be read."""
        try:
            record = json.loads(self.folder.run_json.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return record if isinstance(record, dict) else {}

    def lines(self) -> list[Line]:
        return read_lines(self.folder.transcript)

    def report(self) -> Report | None:
        """The report, or None before the run wrote one."""
        path = self.folder.path / "report.json"
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            return Report.model_validate_json(text)
        except ValidationError:
            raise UnreadableReport(str(path)) from None

    def passages(self) -> list[Passage]:
        saved = self.folder.load(Stage.LIBRARY, "passages", Passages)
        return saved.passages if saved else []

    def papers(self) -> list[Paper]:
        corpus = self.folder.load(Stage.PAPERS, "corpus", Corpus)
        return [p.paper for p in corpus.papers] if corpus else []

    def provisional_ids(self) -> dict[str, str]:
        """Final claim id (C1…) → the id the claim had while it was verified, which names its
        verifier calls in the transcript."""
        folder = self.folder.path / "checkpoints" / Stage.VERIFY.value
        found = []
        for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            try:
                found.append(Verification.model_validate_json(path.read_text(encoding="utf-8")))
            except (ValidationError, OSError):
                continue
        return {cid: claim.id for cid, claim, _ in numbered(found)}
