"""The source clients on their own: parsing each API's format, paging, failures, politeness,
the HTTP cache, merging and full text.

One module for the source clients (some 410 lines): they share the recorded API responses
and the HTTP cache.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from synth.domain.records import Paper
from synth.sources import arxiv, openalex, semantic_scholar
from synth.sources.fulltext import fetch_text
from synth.sources.http import HostPacer, HttpCache, PoliteClient, SourceError, user_agent
from synth.sources.merge import merge_papers
from synth.sources.records import SearchRequest, clean_arxiv_id, clean_doi, make_paper
from tests.fake_sources import ARXIV, BROKEN_PDF, OPENALEX, S2, paper_pdf, response_file

REQUEST = SearchRequest(query="learning-rate warmup for small transformers", limit=10)


def client(**kwargs) -> PoliteClient:
    return PoliteClient(
        intervals={h: 0.0 for h in ("export.arxiv.org", "arxiv.org", "api.semanticscholar.org")},
        retry_max_wait=0.01,
        max_retries=2,
        **kwargs,
    )


def run(coro):
    return asyncio.run(coro)


# Parsing ----------------------------------------------------------------------------------------


def test_arxiv_feed_parses_into_papers():
    papers, total = arxiv.parse_feed(response_file("arxiv_page1.xml"))
    assert total == 3 and len(papers) == 2
    first = papers[0]
    assert first.id == "arxiv:2101.00001" and first.arxiv_id == "2101.00001"
    assert first.title == "Warmup Stabilises the Training of Small Transformers"
    assert first.authors == ["Ada Example", "Ben Sample"] and first.year == 2021
    assert first.doi == "10.1000/warm.1"
    assert first.pdf_url == "https://arxiv.org/pdf/2101.00001v2"
    assert first.abstract.startswith("Learning-rate warmup is examined")
    assert not first.full_text_available and first.found_in == ["arxiv"]
    page2, _ = arxiv.parse_feed(response_file("arxiv_page2.xml"))
    assert page2[0].venue == "Journal of Fixtures 3 (2021) 1-9"


@pytest.mark.parametrize(
    ("name", "message"),
    [("arxiv_malformed.xml", "not valid XML"), ("arxiv_error.xml", "incorrect id format")],
)
def test_arxiv_bad_feeds_are_source_errors(name, message):
    with pytest.raises(SourceError, match=message):
        arxiv.parse_feed(response_file(name))


def test_arxiv_rejects_entity_expansion():
    bomb = b'<?xml version="1.0"?><!DOCTYPE f [<!ENTITY a "aaaa">]><feed>&a;</feed>'
    with pytest.raises(SourceError):
        arxiv.parse_feed(bomb)


def test_arxiv_query_carries_categories_and_years():
    query = arxiv.search_query(
        SearchRequest(
            query="the warmup of transformers",
            limit=5,
            since=2019,
            until=2021,
            categories=("cs.LG", "cs.CL"),
        )
    )
    assert query == (
        "all:warmup AND all:transformers AND (cat:cs.LG OR cat:cs.CL) AND "
        "submittedDate:[201901010000 TO 202112312359]"
    )


def test_openalex_rebuilds_abstracts_and_finds_open_pdfs():
    assert openalex.abstract_from_index({"b": [1], "a": [0, 2]}) == "a b a"
    papers, cursor = openalex.parse_page(response_file("openalex_page1.json"))
    assert cursor and len(papers) == 2
    warm, ln = papers
    assert warm.ids == {"openalex": "W3100000001", "doi": "10.1000/warm.1", "arxiv": "2101.00001"}
    assert warm.id == "arxiv:2101.00001" and warm.venue == "Journal of Fixture Studies"
    assert warm.abstract.startswith("Learning-rate warmup is examined for small transformer")
    assert ln.id == "doi:10.1000/ln.2" and ln.pdf_url == "https://repo.example.org/ln2.pdf"
    _, last = openalex.parse_page(response_file("openalex_page2.json"))
    assert last is None


def test_semantic_scholar_records_parse():
    papers, following = semantic_scholar.parse_page(response_file("s2_page1.json"))
    assert following == 1
    assert papers[0].id == "arxiv:2101.00002" and papers[0].pdf_url is None
    papers, following = semantic_scholar.parse_page(response_file("s2_page2.json"))
    assert following is None and papers[0].doi == "10.1000/tiny.3"
    assert papers[0].authors == ["Ivo Dummy", "Jun Stub"]


@pytest.mark.parametrize(
    "parse", [openalex.parse_page, semantic_scholar.parse_page], ids=["openalex", "s2"]
)
@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'{"results": 3, "data": 3}'])
def test_malformed_json_is_a_source_error(parse, body):
    with pytest.raises(SourceError):
        parse(body)


def test_ids_are_normalised():
    assert clean_doi("https://doi.org/10.1000/ABC.1.") == "10.1000/abc.1"
    assert clean_doi("no doi here") is None
    assert clean_arxiv_id("http://arxiv.org/abs/2101.00001v3") == "2101.00001"
    assert clean_arxiv_id("arXiv:hep-th/9901001v2") == "hep-th/9901001"
    assert clean_arxiv_id("not-an-id") is None
    preprint = make_paper(
        "s2", {"s2": "z", "doi": clean_doi("10.48550/arXiv.2101.00001")}, title="T"
    )
    assert preprint.id == "arxiv:2101.00001" and preprint.doi is None


# Paging and failures through the HTTP client ----------------------------------------------------


def test_every_source_follows_its_pages_to_the_end(respx_mock):
    respx_mock.get(ARXIV).mock(
        side_effect=lambda r: httpx.Response(
            200,
            content=response_file(
                "arxiv_page1.xml" if r.url.params["start"] == "0" else "arxiv_page2.xml"
            ),
        )
    )
    respx_mock.get(OPENALEX).mock(
        side_effect=lambda r: httpx.Response(
            200,
            content=response_file(
                "openalex_page1.json" if r.url.params["cursor"] == "*" else "openalex_page2.json"
            ),
        )
    )
    respx_mock.get(S2).mock(
        side_effect=lambda r: httpx.Response(
            200,
            content=response_file(
                "s2_page1.json" if r.url.params["offset"] == "0" else "s2_page2.json"
            ),
        )
    )

    async def all_three():
        async with client() as c:
            return (
                await arxiv.search(c, REQUEST),
                await openalex.search(c, REQUEST, "me@example.org"),
                await semantic_scholar.search(c, REQUEST),
            )

    found = run(all_three())
    assert [len(papers) for papers in found] == [3, 3, 2]
    starts = [
        c.request.url.params["start"]
        for c in respx_mock.calls
        if c.request.url.host.startswith("export")
    ]
    assert starts == ["0", "2"]
    assert all(
        c.request.url.params["mailto"] == "me@example.org"
        for c in respx_mock.calls
        if c.request.url.host == "api.openalex.org"
    )


@pytest.mark.parametrize(
    ("search", "url", "name"),
    [
        (arxiv.search, ARXIV, "arxiv_empty.xml"),
        (semantic_scholar.search, S2, "s2_empty.json"),
    ],
)
def test_an_empty_result_is_an_empty_list(search, url, name, respx_mock):
    respx_mock.get(url).mock(return_value=httpx.Response(200, content=response_file(name)))

    async def go():
        async with client() as c:
            return await search(c, REQUEST)

    assert run(go()) == []


def test_429_with_retry_after_is_honoured_then_succeeds(monkeypatch, respx_mock):
    waits: list[float] = []
    monkeypatch.setattr(
        "synth.sources.http.backoff_seconds",
        lambda hinted, attempt, max_wait: waits.append(hinted) or 0.0,
    )
    route = respx_mock.get(S2).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "7"}, json={"message": "slow down"}),
            httpx.Response(200, content=response_file("s2_page2.json")),
        ]
    )

    async def go():
        async with client() as c:
            return await semantic_scholar.search(c, SearchRequest(query="warmup", limit=1))

    assert len(run(go())) == 1
    assert route.call_count == 2 and waits == [7.0]


def test_a_lasting_500_fails_after_the_retries(respx_mock):
    route = respx_mock.get(ARXIV).mock(return_value=httpx.Response(500))

    async def go():
        async with client() as c:
            return await arxiv.search(c, REQUEST)

    with pytest.raises(SourceError, match="HTTP 500 after 3 tries"):
        run(go())
    assert route.call_count == 3


def test_a_refusal_is_not_retried(respx_mock):
    route = respx_mock.get(S2).mock(return_value=httpx.Response(403, json={"message": "no"}))

    async def go():
        async with client() as c:
            return await semantic_scholar.search(c, REQUEST)

    with pytest.raises(SourceError, match="refused the request \\(HTTP 403\\)"):
        run(go())
    assert route.call_count == 1


def test_connection_errors_become_one_line_source_errors(respx_mock):
    respx_mock.get(ARXIV).mock(side_effect=httpx.ConnectError("name resolution failed"))

    async def go():
        async with client() as c:
            return await arxiv.search(c, REQUEST)

    with pytest.raises(SourceError, match="could not be reached \\(ConnectError\\)"):
        run(go())


def test_a_host_found_unreachable_fails_later_requests_at_once(respx_mock):
    route = respx_mock.get(ARXIV).mock(side_effect=httpx.ConnectError("no route to host"))

    async def go():
        async with client() as c:
            for _ in range(3):
                with pytest.raises(SourceError, match="could not be reached"):
                    await arxiv.search(c, REQUEST)

    run(go())
    assert route.call_count == 3  # one request's tries; the other two never went out


# Politeness and the cache -----------------------------------------------------------------------


def test_requests_to_one_host_are_spaced_by_its_interval():
    now = [100.0]
    paused: list[float] = []

    async def pause(event: asyncio.Event, seconds: float) -> None:
        paused.append(round(seconds, 3))
        now[0] += seconds

    pacer = HostPacer({}, clock=lambda: now[0], pause=pause)

    async def go():
        for _ in range(3):
            await pacer.wait("export.arxiv.org")
        await pacer.wait("api.openalex.org")  # another host does not wait for arXiv
        pacer.refund("api.openalex.org")  # that request never reached the host
        await pacer.wait("api.openalex.org")

    run(go())
    assert paused == [3.0, 3.0]


def test_a_request_that_never_connected_frees_the_waiting_one_at_once():
    pacer = HostPacer({"h.example": 3600.0})

    async def go():
        await pacer.wait("h.example")
        waiting = asyncio.ensure_future(pacer.wait("h.example"))
        await asyncio.sleep(0)
        pacer.refund("h.example")
        await asyncio.wait_for(waiting, 5)  # not an hour

    run(go())


def test_user_agent_names_the_contact():
    assert "mailto:me@example.org" in user_agent("me@example.org")
    assert "mailto" not in user_agent(None)


def test_cache_answers_repeats_and_never_stores_a_key(tmp_path, monkeypatch, respx_mock):
    monkeypatch.setenv(openalex.KEY_ENV, "secret-openalex-key-123")
    route = respx_mock.get(OPENALEX).mock(
        return_value=httpx.Response(200, content=response_file("openalex_page2.json"))
    )
    cache = HttpCache(tmp_path / "cache" / "http.sqlite3")

    async def go():
        async with client(cache=cache) as c:
            first = await openalex.search(c, REQUEST, None)
            second = await openalex.search(c, REQUEST, None)
            return first, second

    first, second = run(go())
    assert first == second and route.call_count == 1
    assert "secret-openalex-key-123" in str(route.calls[0].request.url)
    cache.close()
    for path in (tmp_path / "cache").iterdir():
        assert b"secret-openalex-key-123" not in path.read_bytes()


# Merging and full text --------------------------------------------------------------------------


def test_records_of_one_work_merge_by_doi_arxiv_id_and_title():
    a = make_paper(
        "arxiv", {"arxiv": "2101.00001", "doi": "10.1/x"}, title="Warmup helps small models"
    )
    b = make_paper(
        "openalex",
        {"openalex": "W1", "doi": "10.1/x"},
        title="Warmup Helps Small Models",
        year=2022,
    )
    c = make_paper(
        "s2", {"s2": "abc"}, title="Warmup helps small models!", abstract="Longer abstract."
    )
    d = make_paper("s2", {"s2": "def", "arxiv": "2101.00009"}, title="Something else entirely here")
    merged, duplicates = merge_papers([a, b, c, d])
    assert duplicates == 2 and len(merged) == 2
    work = next(p for p in merged if p.id == "arxiv:2101.00001")
    assert work.ids == {"openalex": "W1", "doi": "10.1/x", "s2": "abc", "arxiv": "2101.00001"}
    assert work.found_in == ["arxiv", "openalex", "s2"]
    assert work.year == 2022 and work.abstract == "Longer abstract."
    assert work.url == "https://doi.org/10.1/x"


def _paper(pdf_url: str | None, abstract: str = "") -> Paper:
    return make_paper(
        "openalex", {"doi": "10.1/y"}, title="A paper", pdf_url=pdf_url, abstract=abstract
    )


ABSTRACT = "Warmup was compared across many small transformer models trained at high rates " * 2


def test_full_text_from_an_open_pdf(respx_mock):
    respx_mock.get("https://oa.example.org/p.pdf").mock(
        return_value=httpx.Response(200, content=paper_pdf("A paper", "Warmup helped."))
    )

    async def go():
        async with client() as c:
            return await fetch_text(c, _paper("https://oa.example.org/p.pdf", ABSTRACT))

    result = run(go())
    assert result.note is None and result.text.paper.full_text_available
    names = [s.name for s in result.text.sections]
    assert "Results" in names and "References" not in names


@pytest.mark.parametrize(
    ("response", "note"),
    [
        (httpx.Response(200, content=BROKEN_PDF), "could not be parsed"),
        (httpx.Response(200, content=b"<html>login</html>"), "did not lead to a PDF"),
        (httpx.Response(404), "could not be downloaded"),
    ],
)
def test_a_pdf_that_fails_falls_back_to_the_abstract(response, note, respx_mock):
    respx_mock.get("https://oa.example.org/p.pdf").mock(return_value=response)

    async def go():
        async with client() as c:
            return await fetch_text(c, _paper("https://oa.example.org/p.pdf", ABSTRACT))

    result = run(go())
    assert note in result.note and result.note.startswith("abstract only")
    assert not result.text.paper.full_text_available
    assert [s.name for s in result.text.sections] == ["Abstract"]


def test_no_text_at_all_is_said_plainly():
    async def go():
        async with client() as c:
            return await fetch_text(c, _paper(None, "Too short."))

    result = run(go())
    assert result.text is None and "abstract is missing or too short" in result.note


def test_fixture_files_are_in_the_apis_formats():
    for name in ("openalex_page1.json", "s2_page1.json"):
        json.loads(response_file(name))
