"""`synth serve`: every page of the run browser over recorded runs, through Starlette's test
client (the real application, no server): filters, the call page, a claim's trail, the diff,
clear 404 pages for bad input, and no write into a run folder."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import socket
from html import unescape
from pathlib import Path
from urllib.parse import quote

import pytest
from starlette.testclient import TestClient

from synth.report.audit import call_detail
from synth.store.transcript import read_transcript
from synth.web.app import PAGE_SIZE, make_app
from synth.web.runs import NotFound, Runs
from tests.helpers import QUESTION, reasked_calls, run_cli, runs_in, transcript


def browse(runs: Path) -> TestClient:
    """The application as a browser on this machine reaches it."""
    return TestClient(make_app(runs), base_url="http://127.0.0.1", raise_server_exceptions=False)


@pytest.fixture
def client(recorded_runs: Path) -> TestClient:
    return browse(recorded_runs)


def text_of(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", html))


def links(html: str, pattern: str) -> list[str]:
    return re.findall(rf'href="({pattern})"', html)


def snapshot(folder: Path) -> dict[str, tuple[int, str]]:
    return {
        str(p.relative_to(folder)): (
            p.stat().st_mtime_ns,
            hashlib.sha256(p.read_bytes()).hexdigest(),
        )
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_history_lists_every_run_and_links_to_it(client, recorded_runs):
    page = client.get("/")
    assert page.status_code == 200
    for run in recorded_runs.iterdir():
        assert f'href="/runs/{run.name}"' in page.text
    assert QUESTION in text_of(page.text)


def test_run_page_lists_the_claims_with_links_to_their_trails(client, recorded_runs):
    run = runs_in(recorded_runs)[0]
    page = client.get(f"/runs/{run.name}")
    claims = links(page.text, rf"/runs/{run.name}/claims/C\d+")
    assert claims and claims[0].endswith("/claims/C1")
    assert client.get(claims[-1]).status_code == 200
    # The test question is a yes/no one: each claim's answer to it is a column.
    report = json.loads((run / "report.json").read_text())
    answers = [c["stance"]["answer"] if c["stance"] else "" for c in report["claims"]]
    assert "Answers the question" in page.text
    shown = re.findall(r'<td class="num">[\d.]+</td>\s*<td>(\w*)</td></tr>', page.text)
    assert shown == answers


def test_filter_to_the_verifiers_reasked_calls(client, recorded_runs):
    run = runs_in(recorded_runs)[0]
    entries = transcript(run)
    expected = reasked_calls(entries, "verifier")
    assert len(expected) == 2  # the fixture's two garbage answers
    page = client.get(f"/runs/{run.name}/calls", params={"agent": "verifier", "status": "re-asked"})
    shown = [int(n) for n in re.findall(rf'href="/runs/{run.name}/calls/(\d+)"', page.text)]
    assert shown == expected
    assert "Showing 1–2 of 2 matching" in text_of(page.text)
    # Free text searches items, messages and answers: the item's every try, or the garbage.
    item = entries[expected[0] - 1]["item"]
    page = client.get(f"/runs/{run.name}/calls", params={"q": item})
    shown = [int(n) for n in re.findall(rf'href="/runs/{run.name}/calls/(\d+)"', page.text)]
    assert shown == [n for n, e in enumerate(entries, start=1) if e["item"] == item]
    assert len(shown) == 3  # the one-word judgement, then the JSON question and its re-ask
    page = client.get(f"/runs/{run.name}/calls", params={"q": "THIS IS NOT JSON"})
    shown = [int(n) for n in re.findall(rf'href="/runs/{run.name}/calls/(\d+)"', page.text)]
    # The garbage answers, and the re-ask that quotes the last one back to the model.
    reask = next(
        n for n in range(expected[-1] + 1, len(entries) + 1) if entries[n - 1]["item"] == item
    )
    assert shown == [*expected, reask]


def test_each_stage_filter_shows_only_that_stage(client, recorded_runs):
    run = runs_in(recorded_runs)[0]
    entries = transcript(run)
    stages = {e["stage"] for e in entries}
    assert {"plan", "extract", "stance", "verify", "review"} <= stages
    page = client.get(f"/runs/{run.name}/calls", params={"stage": "extract"})
    shown = [int(n) for n in re.findall(rf'href="/runs/{run.name}/calls/(\d+)"', page.text)]
    assert shown == [n for n, e in enumerate(entries, start=1) if e["stage"] == "extract"]


def test_a_reasked_call_shows_its_messages_answer_error_and_usage(client, recorded_runs):
    run = runs_in(recorded_runs)[0]
    entries = transcript(run)
    number = next(n for n, e in enumerate(entries, start=1) if e.get("error"))
    entry = call_detail(entries, number)  # the same numbering as `synth audit --call`
    page = client.get(f"/runs/{run.name}/calls/{number}")
    shown = text_of(page.text)
    assert "re-asked" in shown and entry["error"] in shown
    assert "The model was asked again with this error." in shown
    assert entry["raw"] in shown
    for message in entry["messages"]:
        assert message["content"].splitlines()[0] in shown
    assert f"Tokens in {entry['usage']['prompt_tokens']}" in " ".join(shown.split())
    # The other tries of the item are linked, and the claim the verifier judged.
    tries = [n for n, e in enumerate(entries, start=1) if e["item"] == entry["item"]]
    for n in tries:
        if n != number:
            assert f'href="/runs/{run.name}/calls/{n}"' in page.text
    assert re.search(rf'This call judged claim <a href="/runs/{run.name}/claims/C\d+">', page.text)


def test_a_claims_trail_runs_from_quote_to_passage_to_judgements_to_report(client, recorded_runs):
    run = runs_in(recorded_runs)[0]
    report = client.get(f"/runs/{run.name}/report").text
    # The report's claim ids link to the trail pages, not to anchors of a standalone file.
    cited = links(report, rf"/runs/{run.name}/claims/C\d+")
    assert cited
    page = client.get(cited[0])
    claim_id = cited[0].rsplit("/", 1)[1]
    shown = text_of(page.text)
    quote = re.search(r'<blockquote id="quote">(.*?)</blockquote>', page.text, re.S)
    assert quote is not None
    # The quote is marked inside its passage.
    assert f"<mark>{quote.group(1)}</mark>" in page.text
    # Each judgement links to its passage and to the verifier call that made it.
    calls = [int(n) for n in re.findall(rf'href="/runs/{run.name}/calls/(\d+)"', page.text)]
    entries = transcript(run)
    assert any(entries[n - 1]["agent"] == "verifier" for n in calls)
    assert any(entries[n - 1]["agent"] == "extractor" for n in calls)
    assert "Cited in the report" in shown and "finding" in shown
    # The passage page names the claim taken from it.
    passage = links(page.text, rf"/runs/{run.name}/passages/[^\"]+")[0]
    target = client.get(passage)
    assert target.status_code == 200
    assert f'href="/runs/{run.name}/claims/{claim_id}"' in target.text


def test_the_diff_of_two_runs_names_what_changed(client, recorded_runs):
    a, b = sorted(p.name for p in recorded_runs.iterdir())
    page = client.get("/diff", params={"a": a, "b": b})
    assert page.status_code == 200
    shown = text_of(page.text)
    assert "Papers cited only in B: 0" in shown and "Claims only in A:" in shown


def test_a_long_transcript_is_paged(client, recorded_runs, tmp_path):
    runs = tmp_path / "runs"
    shutil.copytree(runs_in(recorded_runs)[0], runs / "long")
    lines = (runs / "long" / "transcript.jsonl").read_text().splitlines()
    copies = -(-(PAGE_SIZE + 5) // len(lines))
    (runs / "long" / "transcript.jsonl").write_text("\n".join(lines * copies) + "\n")
    local = browse(runs)
    total = len(lines) * copies
    first = local.get("/runs/long/calls")
    assert len(re.findall(r'<tr class="call"', first.text)) == PAGE_SIZE
    second = local.get("/runs/long/calls", params={"page": 2})
    assert f"Showing {PAGE_SIZE + 1}–" in text_of(second.text)
    assert f"of {total}" in text_of(second.text)


# ---------------------------------------------------------------------------------------------
# Bad input: a clear page, never a traceback


@pytest.mark.parametrize(
    "url, says",
    [
        ("/runs/no-such-run", "there is no run 'no-such-run'"),
        ("/runs/%2E%2E", "there is no run '..'"),
        ("/runs/%2E%2E/calls", "there is no run '..'"),
        ("/runs/{run}/calls/99999", "has no call 99999: it has calls 1 to"),
        ("/runs/{run}/claims/C999", "has no claim C999: it has C1 to"),
        ("/runs/{run}/passages/local%3Anothing%23001", "has no passage local:nothing#001"),
        ("/runs/{run}/calls/abc", "there is no such page here"),
        ("/diff?a={run}&b=missing", "there is no run 'missing'"),
        ("/diff", "pick two runs to compare"),
        ("/etc/passwd", "there is no such page here"),
    ],
)
def test_bad_input_gives_a_404_page_that_says_what_is_there(client, recorded_runs, url, says):
    page = client.get(url.format(run=runs_in(recorded_runs)[0].name))
    assert page.status_code == 404
    assert says in text_of(page.text)
    assert "Traceback" not in page.text


def test_only_run_folders_directly_under_the_runs_folder_are_read(recorded_runs, tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    outside = tmp_path / "outside"
    shutil.copytree(runs_in(recorded_runs)[0], outside)
    (runs / "link").symlink_to(outside)
    shutil.copytree(runs_in(recorded_runs)[0], runs / "real")
    found = Runs(runs)
    assert found.path_of("real") == runs.resolve() / "real"
    for bad in ("..", ".", "", "../outside", "real/../real", "link", str(outside)):
        with pytest.raises(NotFound):
            found.path_of(bad)


def test_a_damaged_transcript_line_is_marked_and_the_calls_keep_their_numbers(
    recorded_runs, tmp_path
):
    runs = tmp_path / "runs"
    shutil.copytree(runs_in(recorded_runs)[0], runs / "damaged")
    path = runs / "damaged" / "transcript.jsonl"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines[:3], '{"agent": "verif', *lines[3:]]) + "\n")
    client = browse(runs)
    page = client.get("/runs/damaged/calls")
    assert page.status_code == 200
    assert "1 line of transcript.jsonl could not be read" in text_of(page.text)
    assert re.search(r'<tr class="damaged"><td>line 4</td>', page.text)
    # Call 4 is the fourth readable line, as `synth audit --call 4` counts it.
    fourth = call_detail(read_transcript(path), 4)
    call = client.get("/runs/damaged/calls/4")
    assert fourth["request_hash"] in call.text


def test_a_line_that_is_json_but_no_call_is_marked_and_shown_as_stored(recorded_runs, tmp_path):
    runs = tmp_path / "runs"
    shutil.copytree(runs_in(recorded_runs)[0], runs / "odd")
    path = runs / "odd" / "transcript.jsonl"
    lines = path.read_text().splitlines()
    odd = '{"agent": "verifier", "attempt": 0, "untrusted_spans": 5, "retries": "x"}'
    path.write_text("\n".join([*lines[:2], odd, *lines[2:]]) + "\n")
    client = browse(runs)
    page = client.get("/runs/odd/calls")
    assert page.status_code == 200
    assert re.search(r'<tr class="damaged"><td>line 3 \(<a href="/runs/odd/calls/3">', page.text)
    assert "damaged: not a call record" in text_of(page.text)
    shown = client.get("/runs/odd/calls/3")
    assert shown.status_code == 200
    assert "Line 3 of transcript.jsonl is JSON but not a call record" in text_of(shown.text)
    assert '"retries": "x"' in unescape(shown.text)
    assert client.get("/runs/odd/calls/4").status_code == 200


def test_a_page_that_fails_is_one_line_here_and_on_stderr(recorded_runs, monkeypatch, capfd):
    from synth.web import app

    def broken(folder: Path) -> None:
        raise RuntimeError("the disk is gone\nsecond line")

    monkeypatch.setattr(app, "run_history", broken)
    # Not raised out of the application: the server logs no traceback.
    client = TestClient(make_app(recorded_runs), base_url="http://127.0.0.1")
    page = client.get("/")
    assert page.status_code == 500
    assert "this page could not be shown (RuntimeError: the disk is gone)" in text_of(page.text)
    assert "Traceback" not in page.text and "second line" not in page.text
    err = capfd.readouterr().err
    assert err.strip() == "synth serve: / failed: RuntimeError: the disk is gone"


def test_an_unreadable_report_gives_a_page_not_a_traceback(recorded_runs, tmp_path):
    runs = tmp_path / "runs"
    shutil.copytree(runs_in(recorded_runs)[0], runs / "broken")
    (runs / "broken" / "report.json").write_text('{"question": 3}')
    client = browse(runs)
    page = client.get("/runs/broken/report")
    assert page.status_code == 500
    assert "is not a report this version of synth can read" in text_of(page.text)
    assert "Traceback" not in page.text
    # The transcript of the same run still shows.
    assert client.get("/runs/broken/calls").status_code == 200


def test_a_run_without_a_report_shows_what_it_has(recorded_runs, tmp_path):
    runs = tmp_path / "runs"
    shutil.copytree(runs_in(recorded_runs)[0], runs / "unfinished")
    (runs / "unfinished" / "report.json").unlink()
    client = browse(runs)
    assert "This run has no report yet" in text_of(client.get("/runs/unfinished").text)
    page = client.get("/runs/unfinished/report")
    assert page.status_code == 200 and "What it wrote so far" in page.text
    assert client.get("/runs/unfinished/claims/C1").status_code == 404


def test_the_browser_only_reads(client, recorded_runs):
    before = {run.name: snapshot(run) for run in recorded_runs.iterdir()}
    run = runs_in(recorded_runs)[0]
    visited = {"/", f"/runs/{run.name}", f"/runs/{run.name}/report"}
    frontier = list(visited)
    while frontier and len(visited) < 400:  # every page reachable by a link, once
        page = client.get(frontier.pop())
        assert page.status_code == 200
        for href in links(page.text, r"/[^\"#]*"):
            if href not in visited:
                visited.add(href)
                frontier.append(href)
    assert len(visited) > 50
    assert client.post(f"/runs/{run.name}").status_code == 405
    assert {run.name: snapshot(run) for run in recorded_runs.iterdir()} == before


def test_serve_refuses_a_missing_runs_folder_and_a_taken_port(capsys, isolated):
    code, _, err = run_cli(capsys, "serve", "--runs-dir", "nowhere")
    assert code == 2
    assert err.strip().startswith("synth: there is no runs folder at nowhere")
    (isolated / "runs").mkdir()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        code, _, err = run_cli(capsys, "serve", "--port", str(port))
    assert code == 2
    assert f"port {port} on 127.0.0.1 is already in use" in err
    assert len(err.strip().splitlines()) == 1


def test_a_run_is_read_again_when_its_files_change_and_few_are_held(recorded_runs, tmp_path):
    from synth.web import runs as held

    runs = tmp_path / "runs"
    for n in range(held.KEPT + 2):
        shutil.copytree(runs_in(recorded_runs)[0], runs / f"r{n}")
    found = Runs(runs)
    first = found.get("r0")
    assert found.get("r0") is first  # unchanged: the parsed run is kept
    path = runs / "r0" / "transcript.jsonl"
    path.write_text(path.read_text().splitlines()[0] + "\n")
    assert found.get("r0").calls == 1  # changed: read again
    for n in range(held.KEPT + 2):
        found.get(f"r{n}")
    assert len(found._cache) == held.KEPT


@pytest.mark.slow
def test_synth_serve_answers_on_loopback_until_ctrl_c(recorded_runs):
    import signal
    import subprocess

    import httpx

    process = subprocess.Popen(
        ["synth", "serve", "--runs-dir", str(recorded_runs), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        url = re.search(r"at (http://127\.0\.0\.1:\d+/)", first)
        assert url, first
        page = httpx.get(url.group(1), timeout=30)
        assert page.status_code == 200 and runs_in(recorded_runs)[0].name in page.text
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0
    assert "Traceback" not in err


def test_paper_text_in_a_call_is_shown_as_the_data_it_was_sent_as(client, recorded_runs):
    run = runs_in(recorded_runs)[0]
    entries = transcript(run)
    number, entry = next(
        (n, e) for n, e in enumerate(entries, start=1) if e["agent"] == "extractor"
    )
    page = client.get(f"/runs/{run.name}/calls/{number}").text
    blocks = re.findall(r'<span class="data">(.*?)</span>', page, re.S)
    assert len(blocks) == 1
    assert unescape(blocks[0]).startswith("<<<DATA ") and "<<<END DATA " in unescape(blocks[0])
    # The instructions stay outside the block, and the passage sent is linked.
    assert entry["messages"][0]["content"].splitlines()[0] not in unescape(blocks[0])
    for pid in entry["untrusted_spans"]:
        assert f'href="/runs/{run.name}/passages/{quote(pid, safe="")}"' in page
    # A span named by its role, not a passage id, is named without a link.
    number, entry = next(
        (n, e)
        for n, e in enumerate(entries, start=1)
        if e["untrusted_spans"] and e["untrusted_spans"][0] == "passage"
    )
    page = client.get(f"/runs/{run.name}/calls/{number}").text
    assert "shaded below:\npassage." in page


def test_pages_answer_only_to_this_machines_names_and_run_no_script(recorded_runs, client):
    page = client.get("/")
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert page.headers["referrer-policy"] == "no-referrer"
    assert (
        TestClient(make_app(recorded_runs), base_url="http://localhost").get("/").status_code == 200
    )
    # A page elsewhere whose host name resolves to 127.0.0.1 (DNS rebinding) is refused.
    rebound = TestClient(make_app(recorded_runs), base_url="http://evil.example:8765")
    assert rebound.get("/").status_code == 400
