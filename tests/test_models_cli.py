"""`synth models`: each configured endpoint checked, its capabilities detected."""

from __future__ import annotations

from tests.helpers import run_cli


def test_models_detects_each_endpoints_capabilities(capsys, isolated, monkeypatch):
    from tests.fake_model import FakeModel

    monkeypatch.setenv("COLUMNS", "200")
    with FakeModel(models=("m",)) as strict, FakeModel(json_schema=False) as plain:
        code, out, err = run_cli(capsys, "models", "--base-url", strict.url, "--model", "m")
        assert code == 0, err
        assert "model listed" in out and "JSON schema" in out and "free" in out
        code, out, err = run_cli(capsys, "models", "--base-url", plain.url, "--model", "m")
        assert code == 0, err
        assert "model NOT listed" in out and "JSON mode only" in out
    code, out, _ = run_cli(capsys, "models", "--base-url", "http://127.0.0.1:1/v1", "--model", "m")
    assert code == 0 and "unreachable" in out
