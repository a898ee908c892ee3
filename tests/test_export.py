"""`synth export`: every format from a finished run; the HTML is parsed and its links followed."""

from __future__ import annotations

import csv
import io
from html.parser import HTMLParser
from pathlib import Path

import bibtexparser
import pytest

from synth.domain.records import Report
from tests.helpers import only_run, run_args, run_cli


class Links(HTMLParser):
    """Ids, internal links, tags and the open <details> of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.hrefs: list[str] = []
        self.tags: list[str] = []
        self.details_ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.append(tag)
        if found.get("id"):
            self.ids.add(str(found["id"]))
            if tag == "details":
                self.details_ids.add(str(found["id"]))
        if tag == "a" and found.get("href"):
            self.hrefs.append(str(found["href"]))


@pytest.fixture
def run(capsys, corpus, fake, isolated) -> Path:
    code, _, err = run_cli(capsys, *run_args(corpus, fake))
    assert code == 0, err
    return only_run(isolated / "runs")


def test_html_is_self_contained_and_every_link_resolves(capsys, run):
    code, _, err = run_cli(capsys, "export", str(run), "--format", "html")
    assert code == 0, err
    page = (run / "report.html").read_text()
    report = Report.model_validate_json((run / "report.json").read_text())
    parser = Links()
    parser.feed(page)

    assert "script" not in parser.tags and "<link" not in page and "src=" not in page
    internal = [h[1:] for h in parser.hrefs if h.startswith("#")]
    assert internal and set(internal) <= parser.ids  # every anchor lands somewhere
    # Each citation leads to its paper, each claim opens its quote, passage and verdict.
    assert {f"ref-{r.n}" for r in report.references} <= parser.ids
    assert {f"claim-{c.id}" for c in report.claims} == parser.details_ids
    for claim in report.claims:
        block = page.split(f'id="claim-{claim.id}"', 1)[1].split("</details>", 1)[0]
        assert "Quote" in block and "Passage" in block and claim.label.value in block
    cited = {int(h.split("-")[1]) for h in internal if h.startswith("ref-")}
    assert cited == {r.n for r in report.references}
    assert report.question in page


def test_text_from_papers_cannot_become_markup(capsys, corpus, fake, isolated):
    (corpus / "warmup_helps.md").write_text(
        (corpus / "warmup_helps.md")
        .read_text()
        .replace("title: Linear warmup", "title: <script>steal</script> Linear warmup", 1)
    )
    code, _, err = run_cli(capsys, *run_args(corpus, fake))
    assert code == 0, err
    run = only_run(isolated / "runs")
    code, out, _ = run_cli(capsys, "export", str(run), "--format", "html", "-o", "-")
    assert code == 0
    assert "<script>" not in out and "&lt;script&gt;steal&lt;/script&gt;" in out


def test_json_csv_and_bibtex_round_trip(capsys, run, tmp_path):
    for fmt, name in (("json", "r.json"), ("csv", "c.csv"), ("bib", "r.bib"), ("md", "r.md")):
        code, _, err = run_cli(
            capsys, "export", str(run), "--format", fmt, "-o", str(tmp_path / name)
        )
        assert code == 0, err
    report = Report.model_validate_json((tmp_path / "r.json").read_text())
    assert report == Report.model_validate_json((run / "report.json").read_text())
    rows = list(csv.DictReader(io.StringIO((tmp_path / "c.csv").read_text())))
    assert [r["id"] for r in rows] == [c.id for c in report.claims]
    library = bibtexparser.parse_string((tmp_path / "r.bib").read_text())
    assert not library.failed_blocks
    assert len(library.entries) == len(report.references)
    titles = {e.fields_dict["title"].value for e in library.entries}
    assert titles == {r.title for r in report.references}
    assert (tmp_path / "r.md").read_text() == (run / "report.md").read_text()


def test_export_of_a_run_without_a_report_is_a_clear_error(capsys, corpus, fake, isolated):
    fake.faults.fail_always["writer"] = 503
    assert run_cli(capsys, *run_args(corpus, fake, "--no-cache"))[0] == 3
    code, _, err = run_cli(capsys, "export", str(only_run(isolated / "runs")), "--format", "html")
    assert code == 2 and "has no report yet" in err and "synth resume" in err
