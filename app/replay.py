"""`synth replay RUN`: the pipeline again, every model call answered from the run's transcript.

No model server is started and no source is searched: the papers come from the run's own
checkpoint, and each call is looked up by its request hash. The replay writes its outputs to
`runs/<id>/replay/`; its report.md must equal the run's byte for byte. A call the transcript
lacks, a recorded call nobody asked for, or a report that differs is a failed check (exit 1),
named precisely.
"""

from __future__ import annotations

import asyncio
import shutil
from typing import Any

from synth.app.lifecycle import complete, session_report
from synth.app.parts import open_library
from synth.app.ui import StageProgress
from synth.domain.errors import BadInput, CheckFailed
from synth.domain.records import Report
from synth.domain.settings import RunSettings
from synth.domain.stages import Stage
from synth.model.endpoint import Endpoint
from synth.model.llm import Model
from synth.pipeline.session import AGENTS
from synth.store.library import Library
from synth.store.runs import RunFolder
from synth.store.transcript import Recorder, read_transcript

# Search results and fetched texts are not model calls: the papers come from the run's own
# checkpoint, so the screener's calls, made while choosing them, are not asked again. The
# verifier's calibration is the one the run used, even if a newer one has been fitted since.
CARRIED_AGENTS = ("screener",)


def prepare(original: RunFolder) -> RunFolder:
    """A fresh `replay/` folder inside the run with the run's record and papers."""
    record = original.read_record()
    if record.get("status") != "complete" or not (original.path / "report.md").is_file():
        raise BadInput(
            f"run {original.id} is not complete, so there is no report to replay",
            f"finish it first: synth resume {original.path}",
        )
    replay = RunFolder(original.path / "replay")
    shutil.rmtree(replay.path, ignore_errors=True)
    (replay.path / "checkpoints").mkdir(parents=True)
    for stage in (s for s in Stage if s.carried):
        source = original.path / "checkpoints" / stage
        if source.is_dir():
            shutil.copytree(source, replay.path / "checkpoints" / stage)
    replay.write_record({**record, "status": "replaying", "timings": {}})
    return replay


def replay_models(
    record: dict[str, Any], answers: dict[str, dict[str, Any]], replay: RunFolder
) -> dict[str, Model]:
    """One model per agent with the run's endpoint identity, answering only from `answers`."""
    endpoints = record.get("endpoints") or {}
    recorder = Recorder(replay.transcript)
    semaphore = asyncio.Semaphore(1)  # one at a time: the order of calls never matters here
    dialects: dict[str, str] = {}
    models = {}
    for agent in AGENTS:
        public = endpoints.get(agent) or next(iter(endpoints.values()), None)
        if public is None:
            raise BadInput(
                f"run.json of {replay.path.parent} names no model endpoint",
                "replay needs a run made by synth 0.1 or later",
            )
        endpoint = Endpoint(
            public["base_url"],
            public["model"],
            dialect=public["dialect"],
            revision=public.get("revision") or "",
        )
        models[agent] = Model(
            endpoint,
            recorder=recorder,
            cache=None,
            semaphore=semaphore,
            replay=answers,
            dialects=dialects,
            max_reasks=RunSettings.model_validate(record["settings"]).model.max_reasks,
            max_retries=0,
        )
    return models


def first_difference(expected: str, actual: str) -> str:
    for n, (a, b) in enumerate(zip(expected.splitlines(), actual.splitlines(), strict=False), 1):
        if a != b:
            return f"line {n}: the run has {a[:80]!r}, the replay {b[:80]!r}"
    return f"the run has {len(expected.splitlines())} lines, the replay {len(actual.splitlines())}"


def replay_run(original: RunFolder) -> tuple[RunFolder, int]:
    """Replay `original`; return the replay folder and how many calls were answered."""
    replay = prepare(original)
    record = original.read_record()
    settings = RunSettings.model_validate(record["settings"])
    recorded = [e for e in read_transcript(original.transcript) if e.get("raw") is not None]
    answers = {e["request_hash"]: e for e in recorded}

    async def go(library: Library, progress: StageProgress) -> Report:
        models = replay_models(record, answers, replay)
        try:
            # The papers checkpoint is carried over: no source is asked.
            return await session_report(
                replay,
                settings,
                record["question"],
                models,
                library,
                progress,
                list,
                origin=original,
            )
        finally:
            for model in models.values():
                await model.close()

    with open_library(settings) as library, StageProgress() as progress:
        report = asyncio.run(go(library, progress))
    complete(replay, report)

    asked = {e["request_hash"] for e in read_transcript(replay.transcript)}
    unasked = [
        e for e in recorded if e["request_hash"] not in asked and e["agent"] not in CARRIED_AGENTS
    ]
    if unasked:
        e = unasked[0]
        raise CheckFailed(
            f"replay: the recorded {e['agent']} call for {e['item']} (attempt {e['attempt']}, "
            f"request {e['request_hash'][:12]}) was never asked for",
            "the transcript holds a call this run does not make: it was altered or added",
        )
    expected = (original.path / "report.md").read_text(encoding="utf-8")
    actual = (replay.path / "report.md").read_text(encoding="utf-8")
    if actual != expected:
        raise CheckFailed(
            f"replay: report.md differs from the run's at {first_difference(expected, actual)}",
            f"compare {original.path / 'report.md'} with {replay.path / 'report.md'}",
        )
    return replay, len(asked)
