"""A transcript as rows to browse and query: each call with its stage and its status (valid,
re-asked, dropped, cache hit), filters over them, and the calls behind one claim."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from pydantic import BaseModel

from synth.domain.stages import Stage
from synth.store.transcript import Line

Status = Literal["valid", "re-asked", "dropped", "cache hit"]
STATUSES: tuple[Status, ...] = ("valid", "re-asked", "dropped", "cache hit")

# The stage of a call in a transcript recorded before calls carried their stage.
_AGENT_STAGES = {
    "planner": Stage.PLAN,
    "screener": Stage.SCREEN,
    "extractor": Stage.EXTRACT,
    "verifier": Stage.VERIFY,
    "writer": Stage.WRITE,
    "reviewer": Stage.REVIEW,
}
_STANCE_ITEMS = ("|question", "|question-says")


def stage_of(entry: dict[str, Any]) -> str:
    recorded = entry.get("stage")
    if recorded:
        return str(recorded)
    agent, item = str(entry.get("agent")), str(entry.get("item"))
    if agent == "verifier" and (item.endswith(_STANCE_ITEMS) or "|read-" in item):
        return Stage.STANCE.value
    if agent == "verifier" and "#" not in item.split("|", 1)[0]:
        # Not about a claim (whose provisional id names its passage, `paper#003.1`): a check
        # of the report's own statements (`finding-3|C4`, `abstract-1a2b`).
        return Stage.WRITE.value
    stage = _AGENT_STAGES.get(agent)
    return stage.value if stage else "unknown"


class CallRow(BaseModel):
    """One transcript line as a row: a call, or a damaged line (`damaged` says why)."""

    line: int
    call: int | None
    agent: str = ""
    stage: str = ""
    item: str = ""
    attempt: int = 0
    status: Status | None = None
    model: str = ""
    tokens_in: int = 0
    tokens_out: int = 0
    latency_s: float | None = None
    retries: int = 0
    error: str = ""
    damaged: str = ""


def _status(entry: dict[str, Any], asked_again: bool) -> Status:
    if entry.get("error"):
        return "re-asked" if asked_again else "dropped"
    return "cache hit" if entry.get("cache_hit") or entry.get("replayed") else "valid"


def _key(entry: dict[str, Any]) -> tuple[str, str]:
    return str(entry.get("agent")), str(entry.get("item"))


def index(lines: Sequence[Line]) -> list[CallRow]:
    """A row per line. An invalid answer is "re-asked" when the same agent asked about the
    same item again later (a re-ask, or a fallback to another form of the question), and
    "dropped" when it was the item's last call."""
    last: dict[tuple[str, str], int] = {}
    for position, line in enumerate(lines):
        if line.entry is not None:
            last[_key(line.entry)] = position
    rows = []
    for position, line in enumerate(lines):
        entry = line.entry
        if entry is None:
            rows.append(CallRow(line=line.line, call=None, damaged="not a JSON object"))
            continue
        try:
            usage = entry.get("usage") or {}
            if not all(
                isinstance(entry.get(key) or [], list) for key in ("messages", "untrusted_spans")
            ) or not all(isinstance(m, dict) for m in entry.get("messages") or []):
                raise TypeError("messages and untrusted_spans are lists")
            row = CallRow(
                line=line.line,
                call=line.call,
                agent=str(entry.get("agent", "")),
                stage=stage_of(entry),
                item=str(entry.get("item", "")),
                attempt=int(entry.get("attempt", 0)),
                status=_status(entry, position < last[_key(entry)]),
                model=str(entry.get("model", "")),
                tokens_in=int(usage.get("prompt_tokens") or 0),
                tokens_out=int(usage.get("completion_tokens") or 0),
                latency_s=entry.get("latency_s"),
                retries=int(entry.get("retries") or 0),
                error=str(entry.get("error") or ""),
            )
        except (AttributeError, TypeError, ValueError):
            # JSON, but not a call as synth records one: shown as damaged, keeping its number
            # (`synth audit --call` counts it too).
            row = CallRow(line=line.line, call=line.call, damaged="not a call record")
        rows.append(row)
    return rows


class CallFilter(BaseModel):
    agent: str = ""
    stage: str = ""
    status: str = ""
    text: str = ""  # case-insensitive, over item, error and the call's whole line

    def active(self) -> bool:
        return any((self.agent, self.stage, self.status, self.text))


def matches(row: CallRow, line: Line, wanted: CallFilter) -> bool:
    """Whether a row passes the filter; a damaged line shows under no filter but the text."""
    if row.damaged:
        return not (wanted.agent or wanted.stage or wanted.status) and (
            not wanted.text or wanted.text.lower() in line.text.lower()
        )
    if wanted.agent and row.agent != wanted.agent:
        return False
    if wanted.stage and row.stage != wanted.stage:
        return False
    if wanted.status and row.status != wanted.status:
        return False
    if wanted.text:
        needle = wanted.text.lower()
        return needle in row.item.lower() or needle in _searchable(line).lower()
    return True


def _searchable(line: Line) -> str:
    entry = line.entry or {}
    parts = [str(entry.get("error") or ""), str(entry.get("raw") or "")]
    parts += [str(m.get("content", "")) for m in entry.get("messages") or []]
    return "\n".join(parts)


def counts(rows: Iterable[CallRow]) -> dict[str, Counter[str]]:
    """How many calls each agent, stage and status has: what the filter offers."""
    found: dict[str, Counter[str]] = {"agent": Counter(), "stage": Counter(), "status": Counter()}
    for row in rows:
        if row.damaged:
            continue
        found["agent"][row.agent] += 1
        found["stage"][row.stage] += 1
        found["status"][str(row.status)] += 1
    return found


def item_calls(rows: Iterable[CallRow], agent: str, item: str) -> list[int]:
    """The call numbers of every attempt at one item, in order."""
    return [r.call for r in rows if r.call is not None and (r.agent, r.item) == (agent, item)]


def judgement_calls(rows: Iterable[CallRow], provisional_id: str) -> dict[str, list[int]]:
    """The verifier's calls about one claim, by what they judged: a passage id, or "question"
    and "question-says" for its answer to the research question."""
    prefix = f"{provisional_id}|"
    found: dict[str, list[int]] = {}
    for row in rows:
        if row.call is not None and row.agent == "verifier" and row.item.startswith(prefix):
            found.setdefault(row.item[len(prefix) :], []).append(row.call)
    return found
