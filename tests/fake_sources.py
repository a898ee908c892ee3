"""arXiv, OpenAlex and Semantic Scholar as respx routes answering from `api_responses/`.

The fake model server on 127.0.0.1 is passed through; every other host is refused, so a test
that would reach the internet fails instead.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import respx

from tests.pdfs import pdf_bytes

RESPONSES = Path(__file__).parent / "api_responses"
ARXIV = "https://export.arxiv.org/api/query"
OPENALEX = "https://api.openalex.org/works"
S2 = "https://api.semanticscholar.org/graph/v1/paper/search"
BROKEN_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%cut off here"


def response_file(name: str) -> bytes:
    return (RESPONSES / name).read_bytes()


def paper_pdf(title: str, finding: str) -> bytes:
    """A full paper about warmup: sections with enough sentences to read claims from."""
    return pdf_bytes(
        title,
        [
            title,
            "Abstract",
            f"{finding} The study trains small transformer language models at high learning "
            "rates and records every loss spike during the first thousand steps.",
            "1 Introduction",
            "Learning-rate warmup raises the learning rate gradually at the start of training. "
            "Practitioners use warmup because large early updates can destabilise adaptive "
            "optimisers before their second-moment estimates settle. " * 3,
            "2 Method",
            "Each configuration was trained with five seeds on the same tokenised corpus. "
            "Runs differed only in the warmup length and the peak learning rate. " * 3,
            "3 Results",
            f"{finding} Runs with a linear warmup of five hundred steps showed no loss spikes "
            "at the highest learning rate. Runs without warmup diverged in three of five seeds "
            "at the same learning rate. " * 2,
            "4 Discussion",
            "Warmup mainly protects the first few hundred updates, when gradient statistics "
            "are least reliable. Longer warmup beyond one thousand steps gave no further "
            "benefit in the tested settings. " * 2,
            "References",
            "A. Nobody. A reference that must not become a claim. 2020.",
        ],
    )


@dataclass
class FakeSources:
    router: respx.MockRouter
    failing: set[str] = field(default_factory=set)  # hosts answering 500
    contact_seen: list[str] = field(default_factory=list)

    def calls(self, host: str) -> int:
        return sum(1 for call in self.router.calls if call.request.url.host == host)

    def requests(self, host: str) -> list[httpx.Request]:
        return [call.request for call in self.router.calls if call.request.url.host == host]


Handler = Callable[[httpx.Request], httpx.Response]


def _guarded(fake: FakeSources, handler: Handler) -> Handler:
    """Record the User-Agent, and answer 500 for a host the test made fail."""

    def handle(request: httpx.Request) -> httpx.Response:
        fake.contact_seen.append(request.headers.get("user-agent", ""))
        if request.url.host in fake.failing:
            return httpx.Response(500, text="internal error")
        return handler(request)

    return handle


def install(router: respx.MockRouter) -> FakeSources:
    fake = FakeSources(router)

    def arxiv(request: httpx.Request) -> httpx.Response:
        start = int(request.url.params.get("start", "0"))
        name = "arxiv_page1.xml" if start == 0 else "arxiv_page2.xml"
        return httpx.Response(
            200, content=response_file(name), headers={"content-type": "application/atom+xml"}
        )

    def openalex(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/works/doi:"):
            if request.url.path.endswith("10.1000/local.9"):
                return httpx.Response(200, content=response_file("openalex_doi_lookup.json"))
            return httpx.Response(404, json={"error": "not found"})
        if "title.search" in request.url.params.get("filter", ""):
            if "warmup length and loss spikes" in request.url.params["filter"]:
                work = json.loads(response_file("openalex_doi_lookup.json"))
                return httpx.Response(200, json={"meta": {"next_cursor": None}, "results": [work]})
            return httpx.Response(200, content=response_file("openalex_empty.json"))
        cursor = request.url.params.get("cursor")
        name = "openalex_page1.json" if cursor == "*" else "openalex_page2.json"
        return httpx.Response(200, content=response_file(name))

    def s2(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params.get("offset", "0"))
        name = "s2_page1.json" if offset == 0 else "s2_page2.json"
        return httpx.Response(200, content=response_file(name))

    def pdf(request: httpx.Request) -> httpx.Response:
        titles = {
            "2101.00001v2": (
                "Warmup Stabilises the Training of Small Transformers",
                "Learning-rate warmup removed early loss spikes in every tested configuration.",
            ),
            "2101.00002v1": (
                "Adaptive Optimisers Without Warmup: A Study",
                "Adaptive optimisers with bias correction trained stably without warmup at "
                "moderate learning rates.",
            ),
            "2101.00003v1": (
                "Gradient Noise Scales in Large Batch Image Classification",
                "The gradient noise scale predicted the largest useful batch size.",
            ),
        }
        key = request.url.path.rsplit("/", 1)[-1]
        if key not in titles:
            return httpx.Response(404, text="no such paper")
        return httpx.Response(
            200, content=paper_pdf(*titles[key]), headers={"content-type": "application/pdf"}
        )

    router.route(host="127.0.0.1").pass_through()
    router.get(ARXIV).mock(side_effect=_guarded(fake, arxiv))
    router.get(url__startswith=OPENALEX).mock(side_effect=_guarded(fake, openalex))
    router.get(S2).mock(side_effect=_guarded(fake, s2))
    router.get(url__startswith="https://arxiv.org/pdf/").mock(side_effect=_guarded(fake, pdf))
    router.get("https://repo.example.org/ln2.pdf").mock(
        return_value=httpx.Response(
            200, content=BROKEN_PDF, headers={"content-type": "application/pdf"}
        )
    )
    return fake


def sources_mock() -> Iterator[FakeSources]:
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        yield install(router)
