"""A non-editable install: the wheel carries every module and the prompts as package data."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # builds and installs a wheel

ROOT = Path(__file__).resolve().parent.parent
NOT_SHIPPED = {"tests", "bench", "scripts", "examples"}


def test_wheel_installs_and_runs_without_the_source_tree(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = (tmp_path / "dist").glob("synth-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    prompts = {Path(n).name for n in names if n.startswith("synth/prompts/")}
    assert {"extractor.md", "verifier.md", "writer.md", "reviewer.md", "judge.md"} <= prompts
    # The embedded model's calibration and judge head ship too, found by its identity.
    assert any(n.startswith("synth/agents/calibrations/qwen2.5-coder-1.5b") for n in names)
    assert any(n.startswith("synth/agents/judges/qwen2.5-coder-1.5b") for n in names)
    assert "synth/app/profiles/local.toml" in names
    assert {"synth/web/templates/base.html", "synth/web/templates/calls.html"} <= set(names)
    assert not any(n.startswith(("synth/tests/", "tests/", "synth/examples/")) for n in names)
    # Every module of the source tree, in every package (a package left out of pyproject's
    # list would be missing from the wheel only).
    modules = {
        f"synth/{path.relative_to(ROOT).as_posix()}"
        for folder in [ROOT, *(i.parent for i in ROOT.glob("*/__init__.py"))]
        if folder.name not in NOT_SHIPPED
        for path in folder.glob("*.py")
    }
    assert modules - set(names) == set()
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    check = (
        "import synth, synth.cli; from synth.agents import reviewer;"
        "from synth.model import prompts;"
        f"assert synth.__file__.startswith({str(site)!r}), synth.__file__;"
        "prompts.load('extractor'); assert len(reviewer.personas()) >= 4;"
        "from synth.agents import calibration; from synth.model import local_model;"
        "w = local_model.QWEN_15B;"
        "assert calibration.find(calibration.identity(w.name, w.sha256));"
        "from synth.app import config; assert config.profile('local')['evidence_k'];"
        "from synth.web.app import Browser; from pathlib import Path;"
        "Browser(Path('.')).env.get_template('calls.html');"
        "print('ok')"
    )
    result = subprocess.run(
        [sys.executable, "-c", check],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
    )
    assert result.stdout.strip() == "ok", result.stderr
