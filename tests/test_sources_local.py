"""Reading a local folder of papers: Markdown, text and PDF; bad files are skipped."""

from __future__ import annotations

import pytest

from synth.domain.errors import BadInput
from synth.sources.local import load_file, load_folder
from tests.helpers import CORPUS
from tests.pdfs import make_pdf


def test_markdown_front_matter_gives_metadata():
    paper = load_file(CORPUS / "warmup_helps.md")
    assert paper.paper.title == "Linear warmup prevents early divergence in small transformers"
    assert paper.paper.authors == ["Ada Byron", "Alan Turing"]
    assert paper.paper.year == 2021
    assert paper.paper.id.startswith("local:")
    assert [s.name for s in paper.sections] == ["Abstract", "Results"]  # References dropped


def test_text_file_uses_first_line_as_title():
    paper = load_file(CORPUS / "tokenizers.txt")
    assert paper.paper.title == "Byte-pair tokenisers and vocabulary size"
    assert paper.sections[0].name == "Abstract"


def test_pdf_sections_and_metadata(tmp_path):
    path = make_pdf(
        tmp_path / "p.pdf",
        "Warmup in pre-norm models",
        [
            "Warmup in pre-norm models",
            "Year: 2024",
            "Abstract",
            "Warmup did not change the final loss of pre-norm transformers in any of the runs.",
            "1. Results",
            "Training without warmup converged in all thirty runs at the default learning rate.",
            "References",
            "[1] Someone. Something. 2020.",
        ],
        author="Ada Byron, Grace Hopper",
    )
    paper = load_file(path)
    assert paper.paper.title == "Warmup in pre-norm models"
    assert paper.paper.authors == ["Ada Byron", "Grace Hopper"]
    assert paper.paper.year == 2024
    assert [s.name for s in paper.sections] == ["Abstract", "Results"]
    assert "Someone" not in paper.text


def test_unreadable_files_are_skipped_with_a_warning(tmp_path):
    (tmp_path / "good.md").write_text((CORPUS / "warmup_helps.md").read_text())
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9 au lait".encode("latin-1") * 20)
    (tmp_path / "empty.md").write_text("")
    (tmp_path / "notes.docx").write_text("ignored: not a paper format")
    warnings: list[str] = []
    papers = load_folder(tmp_path, warn=warnings.append)
    assert [p.paper.title for p in papers] == [
        "Linear warmup prevents early divergence in small transformers"
    ]
    assert len(warnings) == 3
    assert any("broken.pdf" in w for w in warnings)
    assert any("latin1.txt" in w and "UTF-8" in w for w in warnings)


@pytest.mark.parametrize("make", ["missing", "empty", "file", "unreadable-only"])
def test_folders_without_papers_are_bad_input(tmp_path, make):
    folder = tmp_path / "c"
    if make == "empty":
        folder.mkdir()
    elif make == "file":
        folder.write_text("x")
    elif make == "unreadable-only":
        folder.mkdir()
        (folder / "x.pdf").write_bytes(b"garbage")
    with pytest.raises(BadInput) as error:
        load_folder(folder, warn=lambda m: None)
    assert error.value.exit_code == 2
