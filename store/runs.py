"""Run folders: `runs/<YYYYMMDD-HHMMSS>-<slug>/` with run.json, checkpoints and outputs.

Every write is atomic (temporary file, fsync, rename), so a crash leaves either the old file or
the new one, never half of one. A checkpoint that fails to parse is treated as missing and
its item is redone.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from synth.domain.errors import BadInput
from synth.domain.stages import Stage

M = TypeVar("M", bound=BaseModel)
# What open() would give a new file: 0o666 less the process umask (read once, at import).
_UMASK = os.umask(0o022)
os.umask(_UMASK)
FILE_MODE = 0o666 & ~_UMASK
RUN_ID = re.compile(r"^\d{8}-\d{6}-[a-z0-9-]+$")


def slugify(text: str, limit: int = 40) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:limit].rstrip("-") or "run"


def write_atomic(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if hasattr(os, "fchmod"):  # mkstemp makes files private; outputs are ordinary files
            os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, data: Any) -> None:
    write_atomic(path, json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n")


def item_filename(item: str) -> str:
    """A safe, unique file name for an item id such as `local:ab12#003`."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", item)[:80]
    if safe == item:
        return f"{safe}.json"
    return f"{safe}-{hashlib.sha1(item.encode()).hexdigest()[:8]}.json"


class RunFolder:
    def __init__(self, path: Path) -> None:
        self.path = path
        # Told of each checkpoint that exists but cannot be read (its item is then redone).
        self.on_damaged: Callable[[Path], None] | None = None

    @property
    def id(self) -> str:
        return self.path.name

    @property
    def transcript(self) -> Path:
        return self.path / "transcript.jsonl"

    @property
    def run_json(self) -> Path:
        return self.path / "run.json"

    @classmethod
    def create(cls, runs_dir: Path, question: str, now: datetime) -> RunFolder:
        base = f"{now:%Y%m%d-%H%M%S}-{slugify(question)}"
        try:
            runs_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise BadInput(
                f"cannot create the runs folder {runs_dir}: {error.strerror}",
                "pass --runs-dir with a folder you can write to",
            ) from None
        for n in range(1, 100):
            path = runs_dir / (base if n == 1 else f"{base}-{n}")
            try:
                path.mkdir()
            except FileExistsError:
                continue
            (path / "checkpoints").mkdir()
            return cls(path)
        raise BadInput(f"too many runs named {base} in {runs_dir}", "wait a second and retry")

    @classmethod
    def find(cls, ref: str, runs_dir: Path) -> RunFolder:
        """A run by folder path or by id under `runs_dir`."""
        for candidate in (Path(ref), runs_dir / ref):
            if (candidate / "run.json").is_file():
                return cls(candidate)
        raise BadInput(
            f"no run found at '{ref}'",
            f"pass a run folder or the id of a run under {runs_dir} (see `synth runs`)",
        )

    # -----------------------------------------------------------------------------------------

    def read_record(self) -> dict[str, Any]:
        return json.loads(self.run_json.read_text(encoding="utf-8"))

    def write_record(self, record: dict[str, Any]) -> None:
        write_json(self.run_json, record)

    def update_record(self, **changes: Any) -> dict[str, Any]:
        record = self.read_record() if self.run_json.exists() else {}
        record.update(changes)
        self.write_record(record)
        return record

    def checkpoint_path(self, stage: Stage, item: str) -> Path:
        return self.path / "checkpoints" / stage / item_filename(item)

    def load(self, stage: Stage, item: str, model: type[M]) -> M | None:
        path = self.checkpoint_path(stage, item)
        if not path.exists():
            return None
        try:
            return model.model_validate_json(path.read_text(encoding="utf-8"))
        except (ValidationError, ValueError, OSError):
            if self.on_damaged is not None:
                self.on_damaged(path)
            return None

    def save(self, stage: Stage, item: str, value: BaseModel) -> None:
        write_atomic(self.checkpoint_path(stage, item), value.model_dump_json(indent=2) + "\n")

    def write_output(self, name: str, text: str | bytes) -> Path:
        path = self.path / name
        write_atomic(path, text)
        return path

    def write_outputs(self, files: Mapping[str, str | bytes]) -> None:
        """Each file in the order given (report.md last, as the sign the others are done)."""
        for name, text in files.items():
            self.write_output(name, text)
