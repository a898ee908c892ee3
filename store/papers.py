"""Paper texts fetched from the sources, kept beside the library so that a paper downloaded and
parsed once is never downloaded again by a later run or `synth ingest`."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from synth.domain.records import PaperText
from synth.store.runs import item_filename, write_atomic


class PaperStore:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, paper_id: str) -> Path:
        return self.folder / item_filename(paper_id)

    def get(self, paper_id: str) -> PaperText | None:
        path = self._path(paper_id)
        if not path.is_file():
            return None
        try:
            return PaperText.model_validate_json(path.read_text(encoding="utf-8"))
        except (ValidationError, ValueError, OSError):
            return None  # a damaged entry is fetched again

    def put(self, text: PaperText) -> None:
        write_atomic(self._path(text.paper.id), text.model_dump_json() + "\n")

    def __contains__(self, paper_id: str) -> bool:
        return self._path(paper_id).is_file()
