"""The browser fixtures: pytest-playwright-asyncio's (``playwright``, ``browser_type``,
``browser``, ``new_context``, its options ``--headed``, ``--browser-channel``, ``--slowmo``,
``--device``, ``--output``), with the suite's own where they must differ:

- ``browser_type_launch_args``: this machine's Chromium and flags (sca_conformance.browser);
- ``connect_options``: a remote Playwright browser server (``--browser-ws-endpoint``), told
  how to launch Chromium in the ``x-playwright-launch-options`` header;
- ``browser_context_args``: the viewport of a phone;
- ``context``: traced with DOM snapshots only; on failure a scrubbed trace in
  ``--output`` and masked evidence in the report;
- ``page``: with the navigation log the landing watchers and the evidence read.

sca_conformance.plugin registers this module after pytest-playwright-asyncio, so that these
fixtures override that plugin's fixtures of the same name.
"""

from __future__ import annotations

import inspect
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any
from uuid import uuid4

import allure
import pytest
import pytest_asyncio
from allure_commons.model2 import Status, TestStepResult
from playwright.async_api import BrowserContext, BrowserType, Page, expect
from playwright.async_api import Error as PlaywrightError

from pages import CardDetailsPage, use_texts
from sca_conformance.browser import launch_args, server_launch_options
from sca_conformance.config import Settings
from sca_conformance.landing import NavigationLog
from sca_conformance.plugin import _allure_reporter, _allure_test
from sca_conformance.redact import SECRET_FIELDS, SecretRegistry
from sca_conformance.reporting import FAILED_CALL

VIEWPORT = {"width": 430, "height": 860}


@pytest.fixture(scope="session")
def browser_type_launch_args(
    browser_type_launch_args: dict[str, Any], settings: Settings
) -> dict[str, Any]:
    """The plugin's launch options over the suite's Chromium path and flags."""
    return launch_args(browser_type_launch_args, headed=settings.headed)


@pytest.fixture(scope="session")
def connect_options(
    connect_options: dict[str, Any] | None,
    settings: Settings,
    browser_type_launch_args: dict[str, Any],
) -> dict[str, Any] | None:
    """A remote Playwright browser server instead of a local launch (--browser-ws-endpoint,
    SCA_BROWSER_WS). The server launches Chromium with the suite's options, sent in the
    header in the names the server reads."""
    if not settings.browser_ws_endpoint:
        return connect_options
    options = dict(connect_options or {})
    headers = {
        "x-playwright-launch-options": server_launch_options(browser_type_launch_args),
        **(options.get("headers") or {}),
    }
    return {**options, _ENDPOINT: settings.browser_ws_endpoint, "headers": headers}


# BrowserType.connect's first parameter: `ws_endpoint` in older Playwrights, `endpoint` now.
_ENDPOINT = "ws_endpoint" if "ws_endpoint" in inspect.signature(BrowserType.connect).parameters \
    else "endpoint"


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """A phone-sized viewport, unless --device (or an override) says otherwise."""
    return {"viewport": VIEWPORT, **browser_context_args}


@pytest_asyncio.fixture(loop_scope="session")
async def context(
    new_context: Callable[..., Any],
    request: pytest.FixtureRequest,
    secrets: SecretRegistry,
    output_path: str,
) -> AsyncIterator[BrowserContext]:
    """A fresh context per test, traced; its evidence is kept only when the test failed."""
    context: BrowserContext = await new_context()
    context.set_default_timeout(10_000)
    # DOM snapshots only: screenshots in a trace would show what masking hides.
    await context.tracing.start(snapshots=True, screenshots=False, sources=False)
    yield context
    try:
        failure = request.node.stash.get(FAILED_CALL, None)
        if failure is None:
            await context.tracing.stop()
            return
        with _test_body_step(request.config, "Failure evidence"):
            for page in context.pages:
                await attach_page_evidence(page, NavigationLog.of(page).urls, secrets)
            folder = Path(output_path)
            folder.mkdir(parents=True, exist_ok=True)
            trace = folder / "trace.zip"
            # Outside --output (which CI uploads) until it is scrubbed.
            with tempfile.TemporaryDirectory(prefix="sca-trace-") as scratch:
                raw = Path(scratch) / "trace.zip"
                await context.tracing.stop(path=raw)
                secrets.scrub_archive(raw)
                shutil.move(raw, trace)
            # A zip, not application/vnd.allure.playwright-trace: Allure 2 would hand that
            # to https://trace.playwright.dev.
            allure.attach(
                trace.read_bytes(),
                name="Playwright trace (secrets removed; open with playwright show-trace)",
                attachment_type="application/zip",
                extension="zip",
            )
    finally:
        await context.close()


@pytest_asyncio.fixture(loop_scope="session")
async def page(context: BrowserContext, settings: Settings) -> Page:
    """A page speaking the target's wording (its text table) and waiting as long as its
    profile says: a control on a shown page briefly, a page or navigation longer."""
    page = await context.new_page()
    NavigationLog(page)  # where it went: the landing watchers and the failure evidence
    timeouts = settings.profile.timeouts
    use_texts(page, settings.texts, settings.profile.roles)
    page.set_default_timeout(timeouts.control_seconds * 1000)
    page.set_default_navigation_timeout(timeouts.page_seconds * 1000)
    expect.set_options(timeout=timeouts.page_seconds * 1000)
    return page


@contextmanager
def _test_body_step(config: pytest.Config, title: str) -> Iterator[Any]:
    """A step in the test's own body, after the step that failed; yields Allure's result
    for the test (None without --alluredir). Written from a fixture's teardown, evidence
    would otherwise sit under "Tear down", out of a reader's sight."""
    reporter = _allure_reporter(config)
    test = _allure_test(config)
    if reporter is None or test is None:
        with allure.step(title):
            yield None
        return
    uuid = uuid4().hex
    reporter.start_step(test.uuid, uuid, TestStepResult(name=title, start=_now_ms()))
    try:
        yield test
    finally:
        reporter.stop_step(uuid, stop=_now_ms(), status=Status.PASSED)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


async def attach_page_evidence(page: Page, chain: list[str], secrets: SecretRegistry) -> None:
    """What the individual's page showed when the test failed: URL, how it got there,
    a screenshot and the HTML, with every secret the page shows learned first."""
    details = CardDetailsPage(page)
    # Shown on the page (or hidden in its forms) but perhaps never read by the test.
    with suppress(PlaywrightError):
        for locator in details.secrets:
            secrets.add(*(text.strip() for text in await locator.all_inner_texts()))
        hidden = await page.locator("input[type=hidden]").evaluate_all(
            "inputs => inputs.map(input => [input.name, input.value])"
        )
        secrets.add(*(value for name, value in hidden if name.lower() in SECRET_FIELDS))
    allure.attach(secrets.text(page.url), name="URL at failure",
                  attachment_type=allure.attachment_type.URI_LIST)
    if chain:
        allure.attach(
            "\n".join(secrets.text(url) for url in chain),
            name="Redirect chain (oldest first)",
            attachment_type=allure.attachment_type.URI_LIST,
        )
    try:
        mask = [page.locator("input:not([type=hidden])"), *details.secrets,
                *(page.get_by_text(value, exact=True) for value in secrets.on_screen())]
        image = await page.screenshot(mask=mask, mask_color="#222")
        allure.attach(image, name="Screenshot at failure (inputs and secrets masked)",
                      attachment_type=allure.attachment_type.PNG)
    except PlaywrightError as error:  # a closed or crashed page: say so in the report
        allure.attach(f"(no screenshot: {error.message})", name="Screenshot at failure",
                      attachment_type=allure.attachment_type.TEXT)
    try:
        html = await page.content()
    except PlaywrightError as error:  # the page may be gone mid-navigation
        html = f"(page content unavailable: {error.message})"
    # As text: rendered, the target's own scripts, styles and images would load into the
    # report (third parties, for a real target).
    allure.attach(secrets.text(html), name="HTML at failure (source)",
                  attachment_type=allure.attachment_type.TEXT)
