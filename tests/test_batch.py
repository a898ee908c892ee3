"""`synth batch`: several questions in one process against the fake model, sharing the library
and the response cache; a failing question leaves the others complete and resumes alone."""

from __future__ import annotations

import json
from pathlib import Path

from tests.fake_model import FakeModel
from tests.helpers import run_cli, transcript

QUESTIONS = [
    "Does learning-rate warmup stabilise training of small transformers?",
    "Is warmup needed for pre-norm transformers?",
    "Does warmup help mixture-of-experts routers train stably?",
]


def write_questions(folder: Path, questions: list[str]) -> Path:
    path = folder / "questions.txt"
    path.write_text("# questions for the batch test\n\n" + "\n".join(questions) + "\n")
    return path


def runs_by_question(runs: Path) -> dict[str, Path]:
    found = {}
    for folder in sorted(runs.iterdir()):
        record = json.loads((folder / "run.json").read_text())
        found[record["question"]] = folder
    return found


def test_batch_runs_every_question_sharing_the_cache_and_survives_a_failure(
    capsys, corpus, fake: FakeModel, isolated
):
    fake.faults.fail_containing = "mixture-of-experts"  # only the third question's calls
    path = write_questions(isolated, QUESTIONS)
    args = ["batch", str(path), "--parallel", "1", "--corpus", str(corpus)]
    code, out, err = run_cli(capsys, *args, "--base-url", fake.url, "--model", "m")
    assert code == 3, err  # the failed question's code: its model calls failed
    runs = runs_by_question(isolated / "runs")
    assert list(runs) == QUESTIONS or set(runs) == set(QUESTIONS)
    statuses = {q: json.loads((r / "run.json").read_text())["status"] for q, r in runs.items()}
    assert statuses == {
        QUESTIONS[0]: "complete",
        QUESTIONS[1]: "complete",
        QUESTIONS[2]: "failed",
    }
    for question in QUESTIONS[:2]:
        report = json.loads((runs[question] / "report.json").read_text())
        assert report["question"] == question and report["claims"]
    summary = " ".join(out.split())
    assert "synth batch summary" in summary and "complete" in summary
    assert f"synth resume runs/{runs[QUESTIONS[2]].name}" in " ".join(err.split())
    assert "2 of 3 questions complete" in err

    # The second run found the first one's extractions and verdicts in the shared cache.
    second = transcript(runs[QUESTIONS[1]])
    hits = [e for e in second if e.get("cache_hit")]
    assert {e["agent"] for e in hits} >= {"extractor", "verifier"}
    code, out, err = run_cli(capsys, "audit", str(runs[QUESTIONS[1]]), "--json")
    assert code == 0, err
    assert sum(row["cache_hits"] for row in json.loads(out)) == len(hits)

    # The failed question resumes alone once the model answers it.
    fake.faults.fail_containing = None
    code, _, err = run_cli(capsys, "resume", str(runs[QUESTIONS[2]]))
    assert code == 0, err
    assert json.loads((runs[QUESTIONS[2]] / "run.json").read_text())["status"] == "complete"


def test_parallel_runs_all_complete(capsys, corpus, fake: FakeModel, isolated):
    fake.delay = 0.02
    path = write_questions(isolated, QUESTIONS)
    args = ["batch", str(path), "--parallel", "3", "--corpus", str(corpus)]
    code, _, err = run_cli(capsys, *args, "--base-url", fake.url, "--model", "m")
    assert code == 0, err
    assert "all 3 questions complete" in err
    runs = runs_by_question(isolated / "runs")
    assert all((r / "report.md").is_file() for r in runs.values())


def test_a_bad_line_is_refused_before_any_run_folder(capsys, corpus, fake, isolated):
    path = write_questions(isolated, [QUESTIONS[0], "why " * 1000])
    args = ["batch", str(path), "--corpus", str(corpus), "--base-url", fake.url, "--model", "m"]
    code, _, err = run_cli(capsys, *args)
    assert code == 2
    assert "line 4: the question is 3999 characters long" in " ".join(err.split())
    assert "Traceback" not in err
    assert not (isolated / "runs").exists()
