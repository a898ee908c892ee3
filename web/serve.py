"""`synth serve`: the run browser on 127.0.0.1 only, served by uvicorn until Ctrl-C."""

from __future__ import annotations

import errno
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from synth.domain.errors import BadInput

if TYPE_CHECKING:
    import uvicorn

HOST = "127.0.0.1"  # never another interface: the transcripts hold whole prompts and answers


def bind(port: int) -> socket.socket:
    """A listening socket on the loopback address, or a one-line error saying what to do."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((HOST, port))
    except OSError as error:
        listener.close()
        if error.errno == errno.EADDRINUSE:
            raise BadInput(
                f"port {port} on {HOST} is already in use", "pass --port with another number"
            ) from None
        raise BadInput(
            f"cannot listen on {HOST}:{port}: {error.strerror}", "pass --port with another number"
        ) from None
    listener.listen(128)
    return listener


def _server(runs_dir: Path) -> uvicorn.Server:
    """uvicorn serving the run browser over `runs_dir`, quiet but for warnings and errors."""
    import uvicorn

    from synth.web.app import make_app

    config = uvicorn.Config(make_app(runs_dir), log_level="warning", access_log=False)
    return uvicorn.Server(config)


@contextmanager
def in_thread(runs_dir: Path) -> Iterator[str]:
    """The same server on a free port in a thread of this process, for the length of the
    block (tests and benchmarks); yields its address."""
    listener = bind(0)
    server = _server(runs_dir)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the run browser's server did not start")
        time.sleep(0.01)
    try:
        yield f"http://{HOST}:{listener.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()


def serve(runs_dir: Path, port: int) -> int:
    if not runs_dir.is_dir():
        raise BadInput(
            f"there is no runs folder at {runs_dir}",
            "pass --runs-dir with the folder that holds your run folders",
        )
    listener = bind(port)
    address = f"http://{HOST}:{listener.getsockname()[1]}/"
    print(f"synth serve: the runs in {runs_dir} at {address} (read-only; Ctrl-C stops it)")
    try:
        _server(runs_dir).run(sockets=[listener])
    except KeyboardInterrupt:
        pass  # uvicorn stops cleanly on Ctrl-C, then raises it again: the usual way to stop
    finally:
        listener.close()
    print("synth serve: stopped")
    return 0
