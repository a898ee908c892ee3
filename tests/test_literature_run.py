"""`synth run --sources arxiv,openalex,s2` end to end: the source APIs are respx mocks built
from response files in the APIs' formats, the model is the fake server."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from synth.domain.records import Report
from tests.fake_sources import FakeSources
from tests.helpers import online_args, only_run, run_cli

OPENALEX_KEY = "oa-key-never-on-disk-42"
S2_KEY = "s2-key-never-on-disk-43"


def report_of(run: Path) -> Report:
    return Report.model_validate_json((run / "report.json").read_text())


def test_online_run_merges_screens_fetches_and_counts_truly(
    capsys, fake, sources: FakeSources, isolated, monkeypatch
):
    monkeypatch.setenv("OPENALEX_API_KEY", OPENALEX_KEY)
    monkeypatch.setenv("S2_API_KEY", S2_KEY)
    code, _, err = run_cli(capsys, *online_args(fake))
    assert code == 0, err
    run = only_run(isolated / "runs")
    report = report_of(run)
    s = report.screening

    # Sources are searched: the planner is asked for searches.
    calls = [json.loads(line) for line in (run / "transcript.jsonl").open()]
    assert [e["schema"] for e in calls if e["agent"] == "planner"] == ["PlanDraft"]
    # Found per source (distinct records, pages followed), merged, screened, included.
    assert s.found == {"arxiv": 3, "openalex": 3, "s2": 2}
    assert (s.records, s.candidates, s.duplicates, s.screened) == (8, 6, 2, 6)
    assert {e.paper_id for e in s.excluded} == {"arxiv:2101.00003", "doi:10.1000/prot.3"}
    assert all(e.reason.startswith("relevance none:") for e in s.excluded)
    assert (s.included, s.full_text, s.abstract_only) == (4, 2, 2)
    assert report.stats.papers_found == 6
    assert report.stats.papers_screened_out == 2
    assert report.stats.papers_included == 4

    method = report.sections["method"]
    assert "8 records (arXiv 3, OpenAlex 3, Semantic Scholar 2)" in method
    assert "6 distinct papers (2 merged)" in method
    assert "4 papers were included: 2 with full text and 2 from the abstract only" in method

    # One paper per work, with every id kept; references agree with the counts.
    refs = {r.id: r for r in report.references}
    assert set(refs) <= {
        "arxiv:2101.00001",
        "arxiv:2101.00002",
        "doi:10.1000/ln.2",
        "doi:10.1000/tiny.3",
    }
    assert report.stats.papers_cited == len(report.references) >= 1
    merged = refs.get("arxiv:2101.00001")
    if merged is not None:
        assert merged.doi == "10.1000/warm.1" and merged.arxiv_id == "2101.00001"
        assert merged.full_text_available
    markdown = (run / "report.md").read_text()
    for ref in report.references:
        line = next(x for x in markdown.splitlines() if x.startswith(f"[{ref.n}] "))
        assert ("abstract only" in line) == (not ref.full_text_available), line
    cited = {int(n) for g in re.findall(r"\[(\d+(?:, \d+)*)\]", markdown) for n in g.split(", ")}
    assert cited == {r.n for r in report.references}
    assert "### Screening" in markdown and "Protein structure prediction" in markdown
    assert all(line.startswith("pass") for line in report.lint), report.lint

    # Claims come from full text and abstracts, never from the reference list.
    assert report.claims and not any("reference that must" in c.text for c in report.claims)

    # Polite: the contact is in the User-Agent; the keys went out, but never to disk.
    assert all("mailto:team@example.org" in ua for ua in sources.contact_seen)
    s2_sent = sources.requests("api.semanticscholar.org")
    assert all(r.headers.get("x-api-key") == S2_KEY for r in s2_sent)
    assert all(OPENALEX_KEY in str(r.url) for r in sources.requests("api.openalex.org"))
    home = isolated.parent / "home"
    for path in [*run.rglob("*"), *home.rglob("*")]:
        if path.is_file():
            data = path.read_bytes()
            assert OPENALEX_KEY.encode() not in data and S2_KEY.encode() not in data, path
    with sqlite3.connect(home / "cache" / "http.sqlite3") as db:
        urls = [u for (u,) in db.execute("SELECT url FROM pages")]
    assert urls and not any("api_key" in u for u in urls)


def test_rerun_fetches_nothing_again(capsys, fake, sources: FakeSources, isolated):
    def outside() -> list[str]:
        return [
            c.request.url.host for c in sources.router.calls if c.request.url.host != "127.0.0.1"
        ]

    assert run_cli(capsys, *online_args(fake))[0] == 0
    first = len(outside())
    assert first and "arxiv.org" in outside()
    assert run_cli(capsys, *online_args(fake))[0] == 0
    assert len(outside()) == first  # pages from the HTTP cache, texts from the paper store
    assert run_cli(capsys, *online_args(fake, "--no-cache"))[0] == 0
    again = outside()[first:]
    assert again and "arxiv.org" not in again  # searched again, but no PDF downloaded again


def test_filters_reach_every_api(capsys, fake, sources: FakeSources, isolated):
    code, _, err = run_cli(
        capsys,
        *online_args(fake, "--since", "2020", "--until", "2023", "--arxiv-category", "cs.LG"),
    )
    assert code == 0, err
    arxiv_query = sources.requests("export.arxiv.org")[0].url.params["search_query"]
    assert "cat:cs.LG" in arxiv_query
    assert "submittedDate:[202001010000 TO 202312312359]" in arxiv_query
    works = [r for r in sources.requests("api.openalex.org") if r.url.path == "/works"]
    assert works[0].url.params["filter"] == (
        "from_publication_date:2020-01-01,to_publication_date:2023-12-31"
    )
    assert sources.requests("api.semanticscholar.org")[0].url.params["year"] == "2020-2023"


def test_max_papers_caps_what_is_kept_and_says_why(capsys, fake, sources, isolated):
    assert run_cli(capsys, *online_args(fake, "--max-papers", "2"))[0] == 0
    s = report_of(only_run(isolated / "runs")).screening
    assert s.included == 2
    capped = [e for e in s.excluded if "--max-papers" in e.reason]
    assert len(capped) == 2 and s.candidates == s.included + len(s.excluded)


def test_one_failing_source_is_a_warning_not_a_crash(capsys, fake, sources, isolated):
    sources.failing.add("api.semanticscholar.org")
    code, _, err = run_cli(capsys, *online_args(fake))
    assert code == 0, err
    report = report_of(only_run(isolated / "runs"))
    assert report.screening.failed and "Semantic Scholar" in report.screening.failed[0]
    assert "s2" not in report.screening.found
    assert "HTTP 500" in report.sections["limitations"]


def test_every_source_failing_is_one_line_exit_3_and_resumable(
    capsys, fake, sources: FakeSources, isolated
):
    sources.failing |= {"export.arxiv.org", "api.openalex.org", "api.semanticscholar.org"}
    code, _, err = run_cli(capsys, *online_args(fake))
    assert code == 3
    line = err.strip().splitlines()[-1]
    assert "every source search failed" in line and "--corpus" in line
    assert "synth resume" in line and "Traceback" not in err
    run = only_run(isolated / "runs")

    sources.failing.clear()  # the network is back
    code, _, err = run_cli(capsys, "resume", str(run))
    assert code == 0, err
    assert report_of(run).screening.included == 4


@pytest.mark.parametrize("printed_doi", [" doi:10.1000/local.9", ""], ids=["doi", "title"])
def test_local_pdf_gains_metadata_from_openalex_when_online(
    capsys, fake, sources: FakeSources, isolated, tmp_path, printed_doi
):
    from tests.fake_sources import paper_pdf

    folder = tmp_path / "mine"
    folder.mkdir()
    text = paper_pdf(
        "Warmup length and loss spikes in tiny transformers",
        "Warmup of any length removed loss spikes in tiny transformers." + printed_doi,
    )
    (folder / "mine.pdf").write_bytes(text)
    code, _, err = run_cli(
        capsys, *online_args(fake, "--corpus", str(folder), "--sources", "local,openalex")
    )
    assert code == 0, err
    report = report_of(only_run(isolated / "runs"))
    mine = next(r for r in report.references if r.id.startswith("local:"))
    assert mine.doi == "10.1000/local.9"
    assert mine.authors == ["Gus Lookup", "Hana Lookup"] and mine.year == 2024
    assert report.screening.found["local"] == 1


def test_ingest_query_adds_papers_once(capsys, sources: FakeSources, isolated):
    code, out, err = run_cli(capsys, "ingest", "warmup transformers", "--sources", "arxiv,s2")
    assert code == 0, err
    assert "abstract only" in out and out.strip().splitlines()[-1].startswith("4 papers")
    pdfs = sources.calls("arxiv.org")
    assert pdfs == 3  # every arXiv paper's PDF, once
    code, out, err = run_cli(capsys, "ingest", "warmup transformers", "--sources", "arxiv,s2")
    assert code == 0, err
    assert sources.calls("arxiv.org") == pdfs  # nothing fetched again
    assert "already fetched" in out
    assert out.strip().splitlines()[-1].endswith("4 papers were already in the library.")


def test_a_paper_the_screener_cannot_rate_is_kept_not_lost(capsys, fake, sources, isolated):
    fake.faults.scripted["screener"] = ["garbage"] * 18  # every attempt for all six candidates
    code, _, err = run_cli(capsys, *online_args(fake, "--no-cache"))
    assert code == 0, err
    report = report_of(only_run(isolated / "runs"))
    assert report.screening.included == 5  # the four relevant ones and the unrated one
    assert any(
        "could not rate" in w and "it was kept" in w for w in [report.sections["limitations"]]
    )


def test_ingest_path_embeds_a_folder_once(capsys, corpus, isolated):
    code, out, err = run_cli(capsys, "ingest", str(corpus), "--offline")
    assert code == 0, err
    first = out.strip().splitlines()[-1]
    assert first.startswith("4 papers ingested") and "0 papers were already" in first
    code, out, err = run_cli(capsys, "ingest", str(corpus / "warmup_helps.md"), "--offline")
    assert code == 0, err
    assert out.strip().splitlines()[-1] == (
        "1 paper ingested: 0 new passages embedded, 1 paper was already in the library."
    )
