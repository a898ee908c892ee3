"""A real Chroma server (`chroma run`) as the library: ingest through synth, query it from a
second process, run against it, and stop it."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fake_model import FakeModel
from tests.helpers import CORPUS, only_run, run_args, run_cli

pytestmark = pytest.mark.slow  # a real Chroma server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[str]:
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
    if chroma is None:
        pytest.fail("the chroma command (installed with chromadb) is missing")
    port = free_port()
    folder = tmp_path / "chroma-data"
    log = (tmp_path / "chroma.log").open("w")
    server = subprocess.Popen(
        [chroma, "run", "--path", str(folder), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"chroma run did not start: {(tmp_path / 'chroma.log').read_text()}")
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


QUERY = textwrap.dedent(
    """
    import json, sys
    from synth.store.embeddings import MiniLM
    from synth.store.library import Library

    with Library(sys.argv[1], MiniLM()) as library:
        hits = library.search(sys.argv[2], paper_ids=None, k=3)
    print(json.dumps([h.paper_id for h in hits]))
    """
)


def test_a_chroma_server_is_the_library_for_ingest_query_and_run(
    capsys, chroma_server, isolated, corpus
):
    code, out, err = run_cli(capsys, "ingest", str(CORPUS), "--store", chroma_server)
    assert code == 0, err
    assert "7 new passages embedded" in " ".join(out.split())

    # Another process sees the same passages: the server, not this process, holds them.
    found = subprocess.run(
        [sys.executable, "-c", QUERY, chroma_server, "linear warmup diverged runs"],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parent.parent,
    )
    hits = json.loads(found.stdout.strip().splitlines()[-1])
    assert len(hits) == 3 and all(h.startswith("local:") for h in hits)

    # Ingesting again embeds nothing; a run against the server embeds nothing new either.
    code, out, err = run_cli(capsys, "ingest", str(CORPUS), "--store", chroma_server)
    assert code == 0, err
    assert "0 new passages embedded, 4 papers were already in the library" in " ".join(out.split())
    with FakeModel() as fake:
        code, out, err = run_cli(capsys, *run_args(corpus, fake, "--store", chroma_server))
    assert code == 0, err
    run = only_run(isolated / "runs")
    record = json.loads((run / "run.json").read_text())
    assert record["settings"]["store"] == chroma_server
    assert json.loads((run / "report.json").read_text())["stats"]["passages"] == 7
