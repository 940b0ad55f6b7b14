"""The suite's pytest plugin: options, the target, API clients, test data and browsers.

Session scope holds what is expensive and immutable (settings, the target, the browser);
function scope everything with state (API sessions, data, contexts, pages).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import allure
import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page, Playwright, async_playwright

from sca_conformance.browser import launch_options
from sca_conformance.client import ApiClient, Exchange, TargetError, preflight
from sca_conformance.config import SETTINGS, ProfileError, Settings
from sca_conformance.consents import Consents
from sca_conformance.data import DataFactory
from sca_conformance.landing import ReturnReceiver
from sca_conformance.passkeys import VirtualAuthenticator, add_virtual_authenticator
from sca_conformance.redact import SecretRegistry
from sca_conformance.reporting import FAILED_CALL

ARTIFACTS = Path("test-results")
CHAIN = pytest.StashKey[list[str]]()  # the page's navigations, for failure evidence


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in ("1", "true", "yes", "on")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sca", "SCA consent conformance")
    group.addoption(
        "--target-url",
        default=os.environ.get("SCA_TARGET_URL", ""),
        help="base URL of a running target (env SCA_TARGET_URL); none: the embedded sandbox",
    )
    group.addoption(
        "--target",
        default=os.environ.get("SCA_TARGET", ""),
        help="target profile, a TOML file (env SCA_TARGET); see profiles/",
    )
    group.addoption(
        "--headed", action="store_true", default=_env_flag("SCA_HEADED"),
        help="show the browser (env SCA_HEADED=1)",
    )
    group.addoption(
        "--browser-ws-endpoint",
        default=os.environ.get("SCA_BROWSER_WS", ""),
        help="connect to a Playwright browser server instead of launching (env SCA_BROWSER_WS)",
    )
    group.addoption(
        "--requirement",
        action="append",
        default=[],
        metavar="ID",
        help="run only the tests that prove this requirement (repeatable, or comma-separated: "
        "--requirement TRIGGER-4,PAGE-7)",
    )
    group.addoption(
        "--sandbox-fault",
        action="append",
        default=[f for f in os.environ.get("SCA_SANDBOX_FAULTS", "").split(",") if f],
        help="start the embedded sandbox with this named fault (repeatable; env "
        "SCA_SANDBOX_FAULTS=a,b); used to prove the suite catches it",
    )


def pytest_configure(config: pytest.Config) -> None:
    try:
        config.stash[SETTINGS] = Settings.resolve(
            target_url=config.getoption("--target-url"),
            profile_path=config.getoption("--target") or None,
            # pytest's own --strict ("enable all strictness") is the suite's strict mode too:
            # SHOULD violations then fail the run instead of warning.
            strict=bool(config.getoption("strict")) or _env_flag("SCA_STRICT"),
            headed=config.getoption("--headed"),
            browser_ws_endpoint=config.getoption("--browser-ws-endpoint"),
        )
    except ProfileError as error:
        raise pytest.UsageError(str(error)) from None


def pytest_report_header(config: pytest.Config) -> list[str]:
    settings = config.stash[SETTINGS]
    target = settings.target_url or "embedded sandbox (started for the session)"
    faults = config.getoption("--sandbox-fault")
    lines = [
        f"sca target: {target} (profile {settings.profile.name}), "
        f"{'strict' if settings.strict else 'SHOULD violations warn'}"
    ]
    if faults:
        lines.append(f"sca sandbox faults: {', '.join(faults)}")
    if settings.browser_ws_endpoint:
        lines.append(f"sca browser: remote {settings.browser_ws_endpoint}")
    return lines


@dataclass(frozen=True)
class Target:
    url: str
    api_keys: tuple[str, str]
    settings: Settings
    version: str = ""


@pytest.fixture(scope="session")
def settings(pytestconfig: pytest.Config) -> Settings:
    return pytestconfig.stash[SETTINGS]


@pytest.fixture(scope="session")
def embedded_sandbox(
    settings: Settings, pytestconfig: pytest.Config
) -> Iterator[str | None]:
    """The sandbox process when no target was named: fresh database, free port, loopback."""
    if not settings.embedded:
        yield None
        return
    from sca_sandbox.process import run_sandbox

    with tempfile.TemporaryDirectory(prefix="sca-sandbox-") as folder:
        with run_sandbox(
            Path(folder) / "sandbox.db", faults=pytestconfig.getoption("--sandbox-fault")
        ) as sandbox:
            yield sandbox.url


@pytest_asyncio.fixture(scope="session")
async def target(settings: Settings, embedded_sandbox: str | None) -> Target:
    """The target, checked once: an unusable one stops the session with one sentence."""
    url = embedded_sandbox or settings.target_url
    try:
        await preflight(url, settings.api_keys[0], settings.key_sources[0])
    except TargetError as error:
        pytest.exit(str(error), returncode=3)
    return Target(url=url, api_keys=settings.api_keys, settings=settings)


# API ----------------------------------------------------------------------------------


@pytest.fixture
def secrets() -> SecretRegistry:
    """Every secret this test has seen, so nothing it writes shows one."""
    return SecretRegistry()


def attach_exchange(exchange: Exchange) -> None:
    with allure.step(exchange.title):
        for name, body in (("request", exchange.request), ("response", exchange.response)):
            if body is None:
                continue
            if isinstance(body, str):
                allure.attach(body, name=name, attachment_type=allure.attachment_type.TEXT)
            else:
                allure.attach(
                    json.dumps(body, indent=2, ensure_ascii=False),
                    name=name,
                    attachment_type=allure.attachment_type.JSON,
                )


@pytest_asyncio.fixture
async def api(target: Target, secrets: SecretRegistry) -> AsyncIterator[ApiClient]:
    """The first client's API session, new for this test."""
    async with ApiClient(
        target.url, target.api_keys[0], secrets=secrets, on_exchange=attach_exchange
    ) as client:
        yield client


@pytest_asyncio.fixture
async def other_api(target: Target, secrets: SecretRegistry) -> AsyncIterator[ApiClient]:
    """A second, unrelated client (another API key), for the isolation checks."""
    async with ApiClient(
        target.url, target.api_keys[1], secrets=secrets, on_exchange=attach_exchange
    ) as client:
        yield client


@pytest.fixture
def data(api: ApiClient) -> DataFactory:
    return DataFactory(api)


@pytest.fixture(scope="session")
def receiver() -> Iterator[ReturnReceiver]:
    with ReturnReceiver() as running:
        yield running


@pytest.fixture
def consents(api: ApiClient, data: DataFactory, receiver: ReturnReceiver) -> Consents:
    return Consents(api, data, receiver)


# Browser -------------------------------------------------------------------------------


@pytest_asyncio.fixture(scope="session")
async def playwright() -> AsyncIterator[Playwright]:
    async with async_playwright() as running:
        yield running


@pytest_asyncio.fixture(scope="session")
async def browser(playwright: Playwright, settings: Settings) -> AsyncIterator[Browser]:
    """One browser per worker: launched here, or on a remote Playwright browser server."""
    options = launch_options(headless=not settings.headed)
    if settings.browser_ws_endpoint:
        # The server launches the browser; tell it where Chromium is and how to start it.
        launch = {"args": options["args"], "headless": options["headless"]}
        if "executable_path" in options:
            launch["executablePath"] = options["executable_path"]
        browser = await playwright.chromium.connect(
            settings.browser_ws_endpoint,
            headers={"x-playwright-launch-options": json.dumps(launch)},
        )
    else:
        browser = await playwright.chromium.launch(**options)
    yield browser
    await browser.close()


def artifacts_folder(item: pytest.Item) -> Path:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", item.nodeid).strip("-")[:150]
    return ARTIFACTS / slug


@pytest_asyncio.fixture
async def context(
    browser: Browser, request: pytest.FixtureRequest, secrets: SecretRegistry
) -> AsyncIterator[BrowserContext]:
    """A fresh context per test, traced; its evidence is kept only when the test failed."""
    context = await browser.new_context(viewport={"width": 430, "height": 860})
    context.set_default_timeout(10_000)
    # DOM snapshots only: screenshots in a trace would show what masking hides.
    await context.tracing.start(snapshots=True, screenshots=False, sources=False)
    yield context
    failure = request.node.stash.get(FAILED_CALL, None)
    if failure is not None:
        for page in context.pages:
            await attach_page_evidence(page, request.node.stash.get(CHAIN, []), secrets)
        folder = artifacts_folder(request.node)
        folder.mkdir(parents=True, exist_ok=True)
        trace = folder / "trace.zip"
        await context.tracing.stop(path=trace)
        secrets.scrub_archive(trace)
        allure.attach.file(str(trace), name="Playwright trace (secrets removed)", extension="zip")
    else:
        await context.tracing.stop()
    await context.close()


async def attach_page_evidence(page: Page, chain: list[str], secrets: SecretRegistry) -> None:
    allure.attach(secrets.text(page.url), name="URL at failure",
                  attachment_type=allure.attachment_type.URI_LIST)
    if chain:
        allure.attach("\n".join(secrets.text(url) for url in chain), name="Redirect chain",
                      attachment_type=allure.attachment_type.URI_LIST)
    try:
        html = await page.content()
    except Exception as error:  # the page may be gone mid-navigation; say so in the report
        html = f"(page content unavailable: {error})"
    allure.attach(secrets.text(html), name="HTML at failure",
                  attachment_type=allure.attachment_type.HTML)


@pytest_asyncio.fixture
async def page(context: BrowserContext, request: pytest.FixtureRequest) -> Page:
    page = await context.new_page()
    chain = request.node.stash.setdefault(CHAIN, [])
    page.on(
        "request",
        lambda sent: chain.append(sent.url) if sent.is_navigation_request() else None,
    )
    return page


@pytest_asyncio.fixture
async def passkey(page: Page) -> VirtualAuthenticator:
    """A platform authenticator on this test's page (CDP; per page)."""
    return await add_virtual_authenticator(page)
