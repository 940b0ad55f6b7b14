"""The browser fixtures, async, under the names pytest-playwright gives them (``playwright``,
``browser_type``, ``browser``, ``new_context``, ``context``, ``page``; options ``--headed``,
``--browser-channel``, ``--slowmo``, ``--device``, ``--output``), so that a reader who knows
that plugin knows these. The suite has its own rather than pytest-playwright(-asyncio)'s: that
plugin's entry point would load into every pytest run of an environment.

- ``browser_type_launch_args``: this machine's Chromium and flags (sca_conformance.chromium),
  the proxy and the certificates it may trust (sca_conformance.network);
- ``connect_options``: a remote Playwright browser server (``--browser-ws-endpoint``), told
  how to launch Chromium in the ``x-playwright-launch-options`` header;
- ``browser_context_args``: a desktop window, or a phone (``--device``); every context
  gets the client certificate, an origin's extra headers, and the registered return_url
  answered inside the browser;
- ``context``: traced with DOM snapshots only; on failure a scrubbed trace in
  ``--output`` and masked evidence in the report (plugin.evidence);
- ``page``: with the navigation log the landing watchers and the evidence read;
- ``passkey``: a virtual platform authenticator on the test's page."""

from __future__ import annotations

import hashlib
import inspect
import re
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

import allure
import pytest
import pytest_asyncio
from playwright.async_api import (
    Browser,
    BrowserContext,
    BrowserType,
    Page,
    Playwright,
    async_playwright,
    expect,
)
from playwright.async_api import Error as PlaywrightError

from sca_conformance.chromium import launch_args, server_launch_options
from sca_conformance.config import Settings
from sca_conformance.landing import NavigationLog, land_without_serving
from sca_conformance.pages import Wording
from sca_conformance.passkeys import VirtualAuthenticator, add_virtual_authenticator
from sca_conformance.plugin.evidence import FAILED_CALL, attach_page_evidence, test_body_step
from sca_conformance.plugin.setup_errors import watch_setup_errors
from sca_conformance.redact import SecretRegistry

DESKTOP = {"width": 1280, "height": 800}
CONTEXTS = pytest.StashKey[list[BrowserContext]]()  # every context a test opened, in order


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """--output holds this run's traces only (as pytest-playwright keeps it): emptied once, by
    the controller of an xdist run, never when it is the folder the run started in."""
    config = session.config
    if hasattr(config, "workerinput"):
        return
    output = Path(config.getoption("--output")).absolute()
    if output.is_dir() and output not in (Path.cwd(), *Path.cwd().parents, config.rootpath):
        shutil.rmtree(output, ignore_errors=True)


@pytest.fixture(scope="session")
def browser_name() -> str:
    return "chromium"


@pytest.fixture(scope="session")
def browser_channel(pytestconfig: pytest.Config) -> str | None:
    return pytestconfig.getoption("--browser-channel") or None


@pytest.fixture(scope="session")
def device(settings: Settings) -> str | None:
    """The device the browser tests run as (--device, SCA_DEVICE); None: desktop."""
    return settings.device or None


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def playwright(settings: Settings) -> AsyncIterator[Playwright]:
    """Playwright's driver (Node) trusts the profile's CA bundle too: the requests a page's
    context sends itself (APIRequestContext, route.fetch) go through Node, not Chromium."""
    with settings.network.driver_environment():
        async with async_playwright() as running:
            yield running


@pytest.fixture(scope="session")
def browser_type(playwright: Playwright, browser_name: str) -> BrowserType:
    return getattr(playwright, browser_name)  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def browser_type_launch_args(
    pytestconfig: pytest.Config, browser_channel: str | None, settings: Settings
) -> dict[str, Any]:
    """--headed, --browser-channel and --slowmo over this machine's Chromium and flags."""
    given: dict[str, Any] = {}
    if pytestconfig.getoption("--headed"):
        given["headless"] = False
    if browser_channel:
        given["channel"] = browser_channel
    if pytestconfig.getoption("--slowmo"):
        given["slow_mo"] = pytestconfig.getoption("--slowmo")
    network = network_launch_options(settings)
    given["args"] = network.pop("args")
    return {**launch_args(given, headed=settings.headed), **network}


def target_urls(settings: Settings) -> list[str]:
    """The target's URLs the browser goes to, as the profile names them."""
    return [url for url in (settings.target_url, *settings.profile.target.hosted_origins) if url]


def network_launch_options(settings: Settings) -> dict[str, Any]:
    """The proxy and the certificates Chromium may trust (sca_conformance.network); a target
    whose certificate does not verify against the trust configured leaves Chromium to refuse
    it, which the first page then reports as a setup error."""
    try:
        return settings.network.launch_options(target_urls(settings))
    except OSError:  # unverified or unreachable: the API's preflight has said which
        return settings.network.launch_options([])


@pytest.fixture(scope="session")
def connect_options(
    settings: Settings, browser_type_launch_args: dict[str, Any]
) -> dict[str, Any] | None:
    """A remote Playwright browser server instead of a local launch (--browser-ws-endpoint,
    SCA_BROWSER_WS). The server launches Chromium with the suite's options, sent in the
    header in the names the server reads."""
    if not settings.browser_ws_endpoint:
        return None
    headers = {"x-playwright-launch-options": server_launch_options(browser_type_launch_args)}
    return {_ENDPOINT: settings.browser_ws_endpoint, "headers": headers}


# BrowserType.connect's first parameter: `ws_endpoint` in older Playwrights, `endpoint` now.
_ENDPOINT = "ws_endpoint" if "ws_endpoint" in inspect.signature(BrowserType.connect).parameters \
    else "endpoint"


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser(
    browser_type: BrowserType,
    browser_type_launch_args: dict[str, Any],
    connect_options: dict[str, Any] | None,
) -> AsyncIterator[Browser]:
    if connect_options:
        launched = await browser_type.connect(**connect_options)
    else:
        launched = await browser_type.launch(**browser_type_launch_args)
    yield launched
    await launched.close()


@pytest.fixture(scope="session")
def browser_context_args(playwright: Playwright, device: str | None) -> dict[str, Any]:
    """A desktop window, or the --device's descriptor (viewport, scale, user agent, mobile,
    touch) in Chromium: an iPhone's is WebKit's, and the suite drives Chromium only."""
    if not device:
        return {"viewport": DESKTOP}
    descriptor = dict(playwright.devices[device])
    descriptor.pop("default_browser_type", None)
    return descriptor


@pytest_asyncio.fixture(loop_scope="session")
async def new_context(
    browser: Browser, browser_context_args: dict[str, Any], request: pytest.FixtureRequest,
    settings: Settings,
) -> AsyncIterator[Callable[..., Awaitable[BrowserContext]]]:
    """Opens contexts (``browser_context_args`` and the call's own); all of them are closed
    after the test, and a failed test's evidence shows the pages of every one of them."""
    opened = request.node.stash.setdefault(CONTEXTS, [])
    network = settings.network
    identity = network.context_options(target_urls(settings))

    async def open_context(**kwargs: Any) -> BrowserContext:
        context = await browser.new_context(**{**browser_context_args, **identity, **kwargs})
        opened.append(context)
        await network.add_headers(context)
        if settings.profile.target.return_url:
            await land_without_serving(context, settings.profile.target.return_url)
        return context

    yield open_context
    for context in opened:
        with suppress(PlaywrightError):
            await context.close()


@pytest.fixture
def output_path(pytestconfig: pytest.Config, request: pytest.FixtureRequest) -> str:
    """This test's folder under --output (its scrubbed trace, when it failed)."""
    name = re.sub(r"[^A-Za-z0-9]+", "-", request.node.nodeid).strip("-").lower()
    if len(name) > 200:
        name = f"{name[:100]}-{hashlib.sha256(name.encode()).hexdigest()[:7]}-{name[-90:]}"
    return str(Path(pytestconfig.getoption("--output")).absolute() / name)


@pytest.fixture(scope="session")
def wording(settings: Settings) -> Wording:
    """The target's wording (its text table and control roles), which every page object is
    given: `SummaryPage(page, wording)`."""
    wording: Wording = settings.wording
    return wording


@pytest_asyncio.fixture(loop_scope="session")
async def context(
    wording: Wording,
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
        with test_body_step(request.config, "Failure evidence"):
            # This context's pages, then those of the test's other contexts (a second
            # browser of the same individual): traced is this one only.
            pages = [page for opened in request.node.stash.get(CONTEXTS, [context])
                     for page in opened.pages]
            for page in pages:
                await attach_page_evidence(page, NavigationLog.of(page).urls, secrets, wording)
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
async def page(
    context: BrowserContext, settings: Settings, request: pytest.FixtureRequest
) -> Page:
    """A page speaking the target's wording (its text table) and waiting as long as its
    profile says: a control on a shown page briefly, a page or navigation longer."""
    page = await context.new_page()
    NavigationLog(page)  # where it went: the landing watchers and the failure evidence
    watch_setup_errors(page, request.node, settings)  # a failure on the way: no verdict
    timeouts = settings.profile.timeouts
    page.set_default_timeout(timeouts.control_seconds * 1000)
    page.set_default_navigation_timeout(timeouts.page_seconds * 1000)
    expect.set_options(timeout=timeouts.page_seconds * 1000)
    return page



@pytest_asyncio.fixture(loop_scope="session")
async def passkey(page: Page) -> VirtualAuthenticator:
    """A platform authenticator on this test's page (CDP; per page)."""
    return await add_virtual_authenticator(page)
