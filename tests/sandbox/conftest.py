"""Fixtures for the sandbox's own tests: one sandbox process per session (per xdist
worker), a fresh login session per test, and a headless Chromium."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, Route, async_playwright

from sca_conformance.chromium import launch_options
from sca_conformance.landing import NavigationLog
from sca_sandbox.process import RunningSandbox, run_sandbox
from sca_sandbox.testing import SandboxClient

# The browser lands here at the end of a flow. The host does not exist: the route below
# answers direct visits, and each page's NavigationLog tells where the browser went.
RETURN_URL = "https://client.example/sca/return?order=42&lang=en"


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    with run_sandbox(tmp_path_factory.mktemp("sandbox") / "sandbox.db") as running:
        yield running


@pytest_asyncio.fixture
async def alpha(sandbox: RunningSandbox) -> AsyncIterator[SandboxClient]:
    """The first client, in a login session (and sandbox clock) of its own."""
    async with SandboxClient.connect(sandbox.url, sandbox.api_keys[0]) as client:
        yield client


@pytest_asyncio.fixture
async def beta(sandbox: RunningSandbox) -> AsyncIterator[SandboxClient]:
    """The second client: must never see the first one's objects."""
    async with SandboxClient.connect(sandbox.url, sandbox.api_keys[1]) as client:
        yield client


@pytest_asyncio.fixture(scope="session")
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(**launch_options())
        yield browser
        await browser.close()


async def _answer_return(route: Route) -> None:
    await route.fulfill(
        status=200, content_type="text/html", body="<main><h1>Back at the client</h1></main>"
    )


@pytest_asyncio.fixture
async def page(chromium: Browser) -> AsyncIterator[Page]:
    context = await chromium.new_context(viewport={"width": 390, "height": 844})
    await context.route("https://client.example/**", _answer_return)
    tab = await context.new_page()
    NavigationLog(tab)
    yield tab
    await context.close()

