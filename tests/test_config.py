"""Settings: which model counts as the embedded one, and what that changes."""

from __future__ import annotations

import pytest

from synth.app import config
from synth.domain.errors import SynthError
from tests.helpers import run_cli


@pytest.mark.parametrize(
    ("model", "base_url", "local"),
    [
        ("local", None, True),
        ("local:qwen2.5-coder-0.5b", None, True),
        ("localai-7b", None, False),  # a hosted model whose name starts with "local"
        ("local", "http://127.0.0.1:8080/v1", False),  # a server of the user's own
        ("gpt-4o-mini", None, False),
    ],
)
def test_one_definition_of_the_embedded_model(model, base_url, local):
    assert config.is_local_model(model, base_url) is local


def test_the_local_profile_applies_to_the_embedded_model_only(tmp_path, monkeypatch):
    for env in config.ENV_KEYS:
        monkeypatch.delenv(env, raising=False)
    embedded = config.resolve({"model": "local:qwen2.5-coder-0.5b"}, cwd=tmp_path)
    hosted = config.resolve({"model": "localai-7b"}, cwd=tmp_path)
    assert embedded.retrieval.claims_per_passage == config.profile("local")["claims_per_passage"]
    assert hosted.retrieval.claims_per_passage != config.profile("local")["claims_per_passage"]


def test_commands_that_read_runs_look_where_run_writes_them(capsys, isolated, monkeypatch):
    elsewhere = isolated / "elsewhere"
    monkeypatch.setenv("SYNTH_RUNS_DIR", str(elsewhere))
    code, out, _ = run_cli(capsys, "runs")
    assert code == 0 and f"no runs in {elsewhere}" in out
    for command in (
        ["audit", "nope"],
        ["export", "nope", "--format", "md"],
        ["replay", "nope"],
        ["resume", "nope"],
        ["diff", "nope", "nope"],
    ):
        code, _, err = run_cli(capsys, *command)
        assert code != 0 and f"a run under {elsewhere}" in err, (command, err)
    monkeypatch.delenv("SYNTH_RUNS_DIR")
    toml = isolated / "synth.toml"
    toml.write_text('runs_dir = "from-toml"\n' + toml.read_text())
    code, out, _ = run_cli(capsys, "runs")
    assert code == 0 and "no runs in from-toml" in out
    code, out, _ = run_cli(capsys, "runs", "--runs-dir", "from-flag")
    assert "no runs in from-flag" in out


def test_resume_checks_its_flags_as_run_does_and_refuses_a_dry_run(capsys, isolated):
    from synth.app.lifecycle import new_run

    settings = config.resolve({"corpus": str(isolated)})
    run = new_run(settings, "Does warmup help?", status="failed")
    code, _, err = run_cli(capsys, "resume", str(run.path), "--dry-run")
    assert code != 0 and "--dry-run estimates a new run" in err
    code, _, err = run_cli(capsys, "resume", str(run.path), "--sources", "local,nowhere")
    assert code != 0 and "unknown source(s) nowhere" in err
    code, _, err = run_cli(capsys, "resume", str(run.path), "--arxiv-category", "cs LG")
    assert code != 0 and "'cs LG' is not an arXiv category" in err
    # nothing was asked of any model: the run is as it was
    assert not (run.path / "transcript.jsonl").exists()
    assert run.read_record()["status"] == "failed"


def test_synth_home_moves_every_user_folder_on_every_platform(tmp_path, monkeypatch, isolated):
    from synth.store import paths

    monkeypatch.setenv("SYNTH_HOME", str(tmp_path / "elsewhere"))
    assert paths.data_dir() == tmp_path / "elsewhere" / "data"
    assert paths.cache_dir() == tmp_path / "elsewhere" / "cache"
    assert paths.default_store() == tmp_path / "elsewhere" / "data" / "library"
    # The user's synth.toml is read from there (the working folder's has none of this key).
    (tmp_path / "elsewhere" / "config").mkdir(parents=True)
    (tmp_path / "elsewhere" / "config" / "synth.toml").write_text("max_papers = 7\n")
    (isolated / "synth.toml").unlink()
    assert config.resolve({}).literature.max_papers == 7


def test_flags_are_built_from_the_settings_fields(isolated):
    """Every setting marked as a flag is one on run, resume and batch, reaches the settings
    under its own name, and no other setting is (ingest takes the sources and library ones)."""
    from synth import cli
    from synth.domain.settings import RunSettings

    marked = {
        name: spec["flag"]
        for name, field in RunSettings.flat_fields().items()
        if (spec := field.json_schema_extra) and "flag" in spec
    }
    given = "--max-papers 3 --no-cache --offline --sources arxiv,s2 --arxiv-category cs.LG "
    given += "--arxiv-category cs.CL --since 2019 --budget-cost 0.5 --review-threshold 8"
    args = cli.build_parser().parse_args(["run", "q", *given.split()])
    flags = {k: v for k, v in cli._flags(args).items() if v is not None}
    assert flags == {
        "max_papers": 3,
        "cache": False,
        "offline": True,
        "sources": ["arxiv", "s2"],
        "arxiv_categories": ["cs.LG", "cs.CL"],
        "since": 2019,
        "budget_cost": 0.5,
        "review_threshold": 8,
    }
    assert set(flags) <= set(marked)
    for verb in (["run", "q"], ["resume", "r"], ["batch", "f"]):
        given = vars(cli.build_parser().parse_args(verb))
        assert set(marked) <= set(given), verb
    ingest = vars(cli.build_parser().parse_args(["ingest", "x"]))
    taken = {n for n, spec in marked.items() if spec["group"] in ("sources", "library")}
    assert taken <= set(ingest) and not (set(marked) - taken) & set(ingest)


def test_settings_have_sections_and_keep_their_flat_names(isolated):
    """synth.toml may group settings under their section's table or give them flat; run.json
    keeps them flat, so the runs of earlier versions resume and replay as they are."""
    from synth.domain.settings import RunSettings

    (isolated / "synth.toml").write_text(
        "retry_max_wait = 0.01\n[literature]\nmax_papers = 5\n[review]\nrevision_rounds = 0\n"
    )
    settings = config.resolve({"budget_cost": 2.0})
    assert settings.literature.max_papers == 5 and settings.review.revision_rounds == 0
    assert settings.model.retry_max_wait == 0.01 and settings.budget.budget_cost == 2.0
    record = config.settings_record(settings)
    assert record["max_papers"] == 5 and "literature" not in record
    assert RunSettings.model_validate(record) == settings
    (isolated / "synth.toml").write_text("[literature]\nmax_paper = 5\n")
    with pytest.raises(SynthError, match="max_paper"):
        config.resolve({})
