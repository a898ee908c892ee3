"""Bad input and broken surroundings, table-driven: each case gives the right exit code (or a
warning), one clear line, no traceback, and loses nothing already done."""

from __future__ import annotations

import json
import shutil
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from filelock import FileLock

from tests.fake_model import FakeModel
from tests.helpers import CORPUS, QUESTION, run_args, run_cli
from tests.pdfs import pdf_bytes


@dataclass
class Place:
    """What a case may set up: a corpus, a fake model, the working folder."""

    tmp: Path
    work: Path
    fake: FakeModel

    @property
    def corpus(self) -> Path:
        return self.tmp / "corpus"

    def store(self) -> Path:
        return self.tmp / "home" / "data" / "library"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def folder_with(*files: tuple[str, bytes]) -> Callable[[Place], None]:
    def make(place: Place) -> None:
        place.corpus.mkdir(exist_ok=True)
        for name, data in files:
            (place.corpus / name).write_bytes(data)

    return make


def encrypted_pdf() -> bytes:
    from io import BytesIO

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(BytesIO(pdf_bytes("Secret", ["Warmup " * 40]))).pages:
        writer.add_page(page)
    writer.encrypt("owner-password")
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def huge_file(place: Place) -> None:
    place.corpus.mkdir()
    with open(place.corpus / "huge.txt", "wb") as handle:
        handle.truncate(51 * 1024 * 1024)  # sparse: costs no disk


def good_corpus(place: Place) -> None:
    shutil.copytree(CORPUS, place.corpus, dirs_exist_ok=True)


def damaged_library(place: Place) -> None:
    good_corpus(place)
    place.store().mkdir(parents=True)
    (place.store() / "chroma.sqlite3").write_bytes(b"this is not a database" * 100)


def unwritable_runs(place: Place) -> None:
    good_corpus(place)
    (place.work / "runs-file").write_text("a file where the runs folder should be")


def bad_toml(text: str) -> Callable[[Place], None]:
    def make(place: Place) -> None:
        good_corpus(place)
        (place.work / "synth.toml").write_text(text)

    return make


def fault(agent: str, status: int) -> Callable[[Place], None]:
    def make(place: Place) -> None:
        good_corpus(place)
        place.fake.faults.fail_always[agent] = status

    return make


NOTHING = good_corpus
Q = QUESTION
FAKE = ["--base-url", "{fake}", "--model", "m"]
RUN = ["run", Q, "--corpus", "{corpus}", *FAKE]

# (id, setup, args, exit code, words of the one line, whether a run folder remains)
CASES = [
    ("empty-question", NOTHING, ["run", "", "--corpus", "{corpus}"], 2, "question is empty", 0),
    ("blank-question", NOTHING, ["run", "  \t ", "--corpus", "{corpus}"], 2, "is empty", 0),
    ("huge-question", NOTHING, ["run", "why " * 5000, "--corpus", "{corpus}"], 2, "limit", 0),
    ("url-not-http", NOTHING, [*RUN[:4], "--base-url", "not a url"], 2, "not an http", 0),
    ("url-ftp", NOTHING, [*RUN[:4], "--base-url", "ftp://h/v1"], 2, "not an http", 0),
    ("url-bad-port", NOTHING, [*RUN[:4], "--base-url", "http://h:x/v1"], 2, "bad port", 0),
    ("corpus-missing", None, ["run", Q, "--corpus", "{tmp}/nope"], 2, "does not exist", 0),
    (
        "corpus-is-file",
        NOTHING,
        ["run", Q, "--corpus", "{corpus}/warmup_helps.md"],
        2,
        "is not a folder",
        0,
    ),
    ("corpus-empty", folder_with(), ["run", Q, "--corpus", "{corpus}"], 2, "no readable", 0),
    (
        "corpus-binary-only",
        folder_with(("a.pdf", b"\x00\x01\x02" * 500)),
        ["run", Q, "--corpus", "{corpus}"],
        2,
        "no readable paper",
        0,
    ),
    (
        "corpus-non-utf8-only",
        folder_with(("a.txt", "caf\xe9 ".encode("latin-1") * 200)),
        ["run", Q, "--corpus", "{corpus}"],
        2,
        "no readable paper",
        0,
    ),
    (
        "corpus-encrypted-pdf-only",
        folder_with(("e.pdf", b"")),
        ["run", Q, "--corpus", "{corpus}"],
        2,
        "no readable paper",
        0,
    ),
    (
        "corpus-empty-files",
        folder_with(("a.md", b""), ("b.txt", b"   \n")),
        ["run", Q, "--corpus", "{corpus}"],
        2,
        "no readable paper",
        0,
    ),
    ("local-without-corpus", None, ["run", Q, "--sources", "local"], 2, "no folder", 0),
    ("unknown-source", NOTHING, [*RUN, "--sources", "gopher"], 2, "unknown source", 0),
    ("corpus-without-local", NOTHING, [*RUN, "--sources", "arxiv"], 2, "--corpus is read", 0),
    ("offline-online-sources", None, ["run", Q, "--offline"], 2, "refuses the online", 0),
    (
        "offline-hosted-model",
        NOTHING,
        [*RUN[:4], "--model", "gpt-4o", "--offline"],
        2,
        "--offline refuses",
        0,
    ),
    ("years-reversed", None, ["run", Q, "--since", "2023", "--until", "2020"], 2, "is after", 0),
    ("year-not-a-year", None, ["run", Q, "--since", "soon"], 2, "not a year", 0),
    ("bad-category", None, ["run", Q, "--arxiv-category", "cs LG!"], 2, "arXiv category", 0),
    ("zero-concurrency", NOTHING, [*RUN, "--concurrency", "0"], 2, "concurrency", 0),
    ("zero-budget", NOTHING, [*RUN, "--budget-tokens", "0"], 2, "budget_tokens", 0),
    ("bad-agent-model", NOTHING, [*RUN, "--agent-model", "nobody=x"], 2, "AGENT=NAME", 0),
    ("no-question", None, ["run"], 2, "required", 0),
    ("unknown-verb", None, ["frobnicate"], 2, "invalid choice", 0),
    ("resume-unknown", None, ["resume", "no-such-run"], 2, "no run found", 0),
    ("export-unknown", None, ["export", "nope", "--format", "html"], 2, "no run found", 0),
    ("toml-broken", bad_toml("model = [unclosed"), RUN, 2, "cannot read", 0),
    ("toml-unknown-key", bad_toml("modle = 'typo'\n"), RUN, 2, "bad setting", 0),
    (
        "runs-dir-unwritable",
        unwritable_runs,
        [*RUN, "--runs-dir", "{work}/runs-file/x"],
        2,
        "cannot create the runs folder",
        0,
    ),
    ("library-damaged", damaged_library, RUN, 2, "cannot be read", 0),
    (
        "server-unreachable",
        NOTHING,
        [*RUN[:4], "--base-url", "http://127.0.0.1:{port}/v1", "--model", "m"],
        3,
        "did not answer",
        1,
    ),
    ("wrong-key", fault("planner", 401), RUN, 3, "check the API key", 1),
    ("no-access", fault("planner", 403), RUN, 3, "may use this model", 1),
    ("unknown-model", fault("planner", 404), RUN, 3, "check the model name", 1),
]


@pytest.mark.parametrize(
    ("setup", "args", "code", "words", "folder"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_bad_input_and_faults(capsys, isolated, tmp_path, fake, setup, args, code, words, folder):
    place = Place(tmp_path, isolated, fake)
    if setup is not None:
        setup(place)
    if (place.corpus / "e.pdf").exists():  # made here: pypdf is slow to import at collection
        (place.corpus / "e.pdf").write_bytes(encrypted_pdf())
    filled = [
        a.format(corpus=place.corpus, tmp=tmp_path, fake=fake.url, work=isolated, port=_free_port())
        for a in args
    ]
    got, out, err = run_cli(capsys, *filled)
    assert got == code, err
    lines = [line for line in err.splitlines() if line.startswith("synth: ")]
    assert len(lines) == 1 and words in lines[0], err
    assert "Traceback" not in out + err
    runs = isolated / "runs"
    made = [p for p in runs.iterdir()] if runs.exists() else []
    assert len(made) == folder, made
    if folder:  # what was done is kept, and the line says how to go on
        assert "synth resume" in lines[0]
        assert json.loads((made[0] / "run.json").read_text())["status"] == "failed"


def test_there_are_at_least_thirty_cases():
    assert len(CASES) >= 30


def test_a_busy_library_waits_then_is_bad_input(capsys, corpus, fake, isolated, tmp_path):
    store = tmp_path / "lib"
    store.mkdir()
    (isolated / "synth.toml").write_text("lock_timeout = 0.2\n")
    with FileLock(str(store / "synth.lock")):
        code, _, err = run_cli(capsys, *run_args(corpus, fake, "--store", str(store)))
    assert code == 2
    assert "in use by another synth process; waiting up to 0.2 s" in err
    assert err.strip().splitlines()[-1].startswith("synth: the library at")
    assert not (isolated / "runs").exists()


def test_unreadable_files_beside_good_ones_are_warnings(capsys, corpus, fake, isolated):
    (corpus / "binary.pdf").write_bytes(b"\x00\xff" * 1000)
    (corpus / "latin1.txt").write_bytes("caf\xe9 ".encode("latin-1") * 100)
    (corpus / "locked.pdf").write_bytes(encrypted_pdf())
    code, _, err = run_cli(capsys, *run_args(corpus, fake))
    assert code == 0, err
    flat = "".join(err.split())  # the console wraps long lines
    for name in ("binary.pdf", "latin1.txt", "locked.pdf"):
        assert f"skipped{corpus / name}" in flat


def test_a_damaged_checkpoint_is_redone_with_a_warning(capsys, corpus, fake, isolated):
    code, _, err = run_cli(capsys, *run_args(corpus, fake, "--no-cache"))
    assert code == 0, err
    run = next((isolated / "runs").iterdir())
    victim = sorted((run / "checkpoints" / "extract").glob("*.json"))[0]
    victim.write_text('{"passage_id": "cut off in the mid')
    calls = sum(fake.calls.values())
    code, _, err = run_cli(capsys, "resume", str(run), "--no-cache")
    assert code == 0, err
    assert "was damaged; its item was redone" in " ".join(err.split())
    assert json.loads(victim.read_text())["passage_id"]  # rewritten whole
    # The one passage is extracted again; its claims' verdicts are reused from the transcript.
    assert sum(fake.calls.values()) - calls <= 1
