"""The run browser in a real headless Chromium driven by Playwright, against `synth serve`'s
own server (uvicorn on a loopback port): open a recorded run, filter its transcript to the
verifier's re-asked calls, and follow a claim to its passage.

Chromium is Debian's (/usr/bin/chromium, or SYNTH_CHROMIUM): Playwright's own browser download
cannot be had here. Where Playwright or Chromium is missing the tests skip and say why, unless
SYNTH_BROWSER_TESTS=required (set by .ci/run once it installed both), where they fail."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from synth.web.serve import in_thread
from tests.helpers import CHROMIUM_ARGS, reasked_calls, runs_in, transcript

pytestmark = pytest.mark.slow


def unavailable(reason: str) -> None:
    if os.environ.get("SYNTH_BROWSER_TESTS") == "required":
        pytest.fail(f"browser tests are required here, but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        unavailable("Playwright is not installed (pip install playwright)")
    executable = os.environ.get("SYNTH_CHROMIUM") or shutil.which("chromium") or ""
    if not executable:
        unavailable("no Chromium found (apt-get install chromium, or set SYNTH_CHROMIUM)")
    with sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        except Error as error:
            unavailable(f"Chromium at {executable} did not start: {str(error).splitlines()[0]}")
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def server(recorded_runs: Path) -> Iterator[str]:
    """`synth serve`'s application and server, in a thread, for this module's tests."""
    with in_thread(recorded_runs) as url:
        yield url


@pytest.fixture
def page(browser, server):
    context = browser.new_context(base_url=server)
    opened = context.new_page()
    yield opened
    context.close()


def test_filter_a_recorded_run_to_the_verifiers_reasked_calls(page, recorded_runs):
    run = runs_in(recorded_runs)[0]
    page.goto("/")
    page.click(f'a[href="/runs/{run.name}"]')
    page.click("text=transcript")
    page.select_option("select[name=agent]", "verifier")
    page.select_option("select[name=status]", "re-asked")
    page.click("button:has-text('Filter')")
    page.wait_for_url("**/calls?*status=re-asked*")
    rows = page.locator("tr.call")
    entries = transcript(run)
    reasked = reasked_calls(entries, "verifier")
    assert rows.count() == len(reasked) == 2
    for i in range(rows.count()):
        assert rows.nth(i).get_attribute("data-agent") == "verifier"
        assert rows.nth(i).get_attribute("data-status") == "re-asked"
    # The filter stays chosen, and a call opens with its validation error.
    assert page.locator("select[name=status]").input_value() == "re-asked"
    rows.first.locator("a").click()
    assert page.locator("#status").inner_text() == "re-asked"
    assert page.locator("#validation").inner_text() == entries[reasked[0] - 1]["error"]
    assert page.locator("#raw").inner_text() == entries[reasked[0] - 1]["raw"]


def test_follow_a_claim_from_the_report_to_its_passage(page, recorded_runs):
    run = runs_in(recorded_runs)[0]
    page.goto(f"/runs/{run.name}/report")
    first_claim = page.locator(f'a[href^="/runs/{run.name}/claims/"]').first
    claim_id = first_claim.inner_text()
    first_claim.click()
    assert page.locator("h1").inner_text().startswith(f"{claim_id}:")
    quote = page.locator("#quote").inner_text()
    assert page.locator("mark").inner_text() == quote  # marked where it stands in the passage
    page.click("#passage-link")
    assert quote in page.locator("#passage-text").inner_text()
    # And back from the passage to the claim taken from it.
    page.click(f'a[href="/runs/{run.name}/claims/{claim_id}"]')
    assert page.locator("h1").inner_text().startswith(f"{claim_id}:")


def test_a_missing_run_is_a_404_page_in_the_browser(page):
    response = page.goto("/runs/nothing-here/calls")
    assert response is not None and response.status == 404
    assert "there is no run 'nothing-here'" in page.locator("#message").inner_text()


def test_compare_two_runs_from_the_history(page, recorded_runs):
    a, b = sorted(p.name for p in recorded_runs.iterdir())
    page.goto("/")
    page.select_option("select[name=a]", a)
    page.select_option("select[name=b]", b)
    page.click("button:has-text('Compare')")
    page.wait_for_url("**/diff?*")
    assert page.locator("h1").inner_text() == "What changed from A to B"
    assert page.locator(f'a[href="/runs/{a}"]').count() == 1
    assert page.locator(f'a[href="/runs/{b}"]').count() == 1
