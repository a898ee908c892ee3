"""The run browser: an ASGI application (Starlette) over one runs folder. Every page only
reads: the history, a run, its report, its transcript call by call with filters, one call in
full, a claim's evidence trail, a passage, and the difference between two runs.

Text from papers and models reaches a page only through Jinja2's escaping; what a visitor
asks for that is not there gets a 404 page saying what is, and a page that fails gets a
one-line 500 page, never a traceback."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from synth.agents import reader
from synth.domain.text import plural
from synth.model.prompts import split_data
from synth.pipeline.saved import UnreadableReport
from synth.report.audit import claim_trail, diff_reports, run_history
from synth.report.call_index import STATUSES, CallFilter, counts, item_calls, judgement_calls
from synth.report.call_index import matches as call_matches
from synth.report.html import to_html
from synth.web.runs import LoadedRun, NotFound, Runs

PAGE_SIZE = 100  # calls listed per page of a transcript


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("synth.web", "templates"),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["q"] = lambda value: quote(str(value), safe="")
    env.filters["pretty"] = lambda value: json.dumps(value, indent=2, ensure_ascii=False)
    env.globals["plural"] = plural
    env.filters["pieces"] = lambda content: split_data(str(content))
    return env


class Browser:
    """The pages over one runs folder."""

    def __init__(self, runs_dir: Path) -> None:
        self.runs = Runs(runs_dir)
        self.env = _environment()

    def page(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        html = self.env.get_template(template).render(runs_dir=str(self.runs.folder), **values)
        return HTMLResponse(html, status_code=status)

    def run(self, request: Request) -> LoadedRun:
        return self.runs.get(request.path_params["run_id"])

    # -----------------------------------------------------------------------------------------

    def history(self, request: Request) -> Response:
        return self.page("history.html", history=run_history(self.runs.folder))

    def overview(self, request: Request) -> Response:
        run = self.run(request)
        return self.page("run.html", run=run, record=run.record, report=run.report)

    def report(self, request: Request) -> Response:
        run = self.run(request)
        report = run.report
        if report is None:
            markdown = run.saved.folder.path / "report.md"
            return self.page(
                "partial.html",
                run=run,
                text=markdown.read_text(encoding="utf-8") if markdown.is_file() else None,
            )
        header = self.env.get_template("nav.html").render(run=run, here="report", embedded=True)
        return HTMLResponse(
            to_html(
                report,
                run.passages,
                claim_href=lambda cid: f"/runs/{quote(run.id)}/claims/{quote(cid)}",
                header=header,
            )
        )

    def calls(self, request: Request) -> Response:
        run = self.run(request)
        params = request.query_params
        wanted = CallFilter(
            agent=params.get("agent", ""),
            stage=params.get("stage", ""),
            status=params.get("status", ""),
            text=params.get("q", "").strip(),
        )
        shown = [
            row
            for line, row in zip(run.lines, run.rows, strict=True)
            if call_matches(row, line, wanted)
        ]
        pages = max(1, -(-len(shown) // PAGE_SIZE))
        try:
            page = min(max(1, int(params.get("page", "1"))), pages)
        except ValueError:
            page = 1
        query = {k: v for k, v in params.items() if k != "page" and v}
        return self.page(
            "calls.html",
            run=run,
            rows=shown[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
            matched=len(shown),
            first=(page - 1) * PAGE_SIZE + 1,
            page=page,
            pages=pages,
            page_link=lambda n: f"?{urlencode({**query, 'page': n})}",
            wanted=wanted,
            offered=counts(run.rows),
            statuses=STATUSES,
            damaged=sum(1 for row in run.rows if row.damaged),
        )

    def call(self, request: Request) -> Response:
        run = self.run(request)
        number = request.path_params["number"]
        line, row = run.line(number)
        entry = line.entry or {}
        claim = None
        if row.agent == "verifier" and "|" in row.item:
            claim = run.claim_of_item.get(row.item.split("|", 1)[0])
        return self.page(
            "call.html",
            run=run,
            row=row,
            entry=entry,
            attempts=item_calls(run.rows, row.agent, row.item),
            claim=claim,
        )

    def claim(self, request: Request) -> Response:
        run = self.run(request)
        claim = run.claim(request.path_params["claim_id"])
        report = run.report
        assert report is not None  # run.claim found the claim in it
        trail = claim_trail(report, run.passages, claim.id)
        provisional = run.provisional.get(claim.id)
        judged_by = judgement_calls(run.rows, provisional) if provisional else {}
        refs = {r.id: r.n for r in report.references}
        judgements = [
            {
                "passage": run.passages.get(pid),
                "id": pid,
                "ref": refs.get(pid.split("#", 1)[0]),
                "stance": stance,
                "evidence": pid in claim.evidence,
                "calls": judged_by.get(pid, []),
            }
            for pid, stance in claim.judged().items()
        ]
        passage = run.passages.get(claim.passage_id)
        return self.page(
            "claim.html",
            run=run,
            claim=claim,
            trail=trail,
            passage=passage,
            quote=_split_quote(passage.text if passage else "", claim.quote),
            judgements=judgements,
            extracted_by=item_calls(run.rows, "extractor", claim.passage_id),
            stance_calls=judged_by.get("question", [])
            + judged_by.get("question-says", [])
            + item_calls(run.rows, "verifier", reader.item(claim.passage_id, claim.quote)),
        )

    def passage(self, request: Request) -> Response:
        run = self.run(request)
        passage = run.passage(request.path_params["passage_id"])
        report = run.report
        claims = report.claims if report else []
        refs = {r.id: r for r in report.references} if report else {}
        return self.page(
            "passage.html",
            run=run,
            passage=passage,
            reference=refs.get(passage.paper_id),
            extracted=[c for c in claims if c.passage_id == passage.id],
            judged=[
                (c, stance, passage.id in c.evidence)
                for c in claims
                if (stance := c.judged().get(passage.id)) is not None
            ],
            extracted_by=item_calls(run.rows, "extractor", passage.id),
        )

    def diff(self, request: Request) -> Response:
        a_id, b_id = request.query_params.get("a", ""), request.query_params.get("b", "")
        if not a_id or not b_id:
            raise NotFound("pick two runs to compare on the run history page")
        reports = []
        for run_id in (a_id, b_id):
            report = self.runs.get(run_id).report
            if report is None:
                raise NotFound(f"run {run_id} has no report yet, so there is nothing to compare")
            reports.append(report)
        a, b = reports
        return self.page("diff.html", a=a, b=b, changes=diff_reports(a, b))

    # -----------------------------------------------------------------------------------------

    async def not_found(self, request: Request, error: Exception) -> Response:
        if isinstance(error, HTTPException) and error.status_code == 405:
            message = "the run browser only reads: it answers GET requests only"
            return self.page("error.html", 405, title="Not allowed", message=message)
        message = str(error) if isinstance(error, NotFound) else "there is no such page here"
        return self.page("error.html", 404, title="Not found", message=message)

    def failed(self, path: str, error: Exception) -> Response:
        """A one-line 500 page, and the same line on the server's stderr (no traceback)."""
        line = str(error).splitlines()[0] if str(error) else ""
        print(f"synth serve: {path} failed: {type(error).__name__}: {line}", file=sys.stderr)
        message = f"this page could not be shown ({type(error).__name__}: {line})"
        return self.page("error.html", 500, title="Something went wrong", message=message)

    async def unreadable(self, request: Request, error: Exception) -> Response:
        message = f"{error} is not a report this version of synth can read"
        return self.page("error.html", 500, title="Unreadable report", message=message)


def _split_quote(text: str, quote_text: str) -> tuple[str, str, str] | None:
    """The passage around the quote (before, quote, after), or None where it is not found."""
    at = text.find(quote_text) if quote_text else -1
    if at < 0:
        return None
    return text[:at], quote_text, text[at + len(quote_text) :]


# Pages carry no script and load nothing from elsewhere; if escaping ever failed, an injected
# script still would not run. Links out (a reference's DOI) do not tell the run's address.
HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; "
        b"frame-ancestors 'none'",
    ),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
]
# Only requests addressed to this machine by name: a web page elsewhere that points its own
# host name at 127.0.0.1 (DNS rebinding) cannot read the transcripts through the visitor.
LOOPBACK_NAMES = ["127.0.0.1", "localhost"]


class Guard:
    """Any other failure of a page becomes the browser's one-line 500 page. (Starlette's own
    handler for all exceptions would show the page but raise again, and the server would log
    a traceback.)"""

    def __init__(self, app: ASGIApp, browser: Browser) -> None:
        self.app = app
        self.browser = browser

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as error:
            if started or scope["type"] != "http":
                raise
            await self.browser.failed(scope.get("path", ""), error)(scope, receive, send)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)


def make_app(runs_dir: Path) -> Starlette:
    browser = Browser(runs_dir)
    routes = [
        Route("/", browser.history),
        Route("/diff", browser.diff),
        Route("/runs/{run_id}", browser.overview),
        Route("/runs/{run_id}/report", browser.report),
        Route("/runs/{run_id}/calls", browser.calls),
        Route("/runs/{run_id}/calls/{number:int}", browser.call),
        Route("/runs/{run_id}/claims/{claim_id}", browser.claim),
        Route("/runs/{run_id}/passages/{passage_id:path}", browser.passage),
    ]
    return Starlette(
        routes=routes,
        middleware=[
            Middleware(TrustedHostMiddleware, allowed_hosts=LOOPBACK_NAMES),
            Middleware(SecurityHeaders),
            Middleware(Guard, browser=browser),
        ],
        exception_handlers={
            NotFound: browser.not_found,
            HTTPException: browser.not_found,
            UnreadableReport: browser.unreadable,
        },
    )
