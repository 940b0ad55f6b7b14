"""The suite's pytest plugin: options, the target, API clients, test data and browsers.

Session scope holds what is expensive and immutable (settings, the target, the browser);
function scope everything with state (API sessions, data, contexts, pages).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import allure
import pytest
import pytest_asyncio
from allure_commons.model2 import Status, TestStepResult
from playwright.async_api import Browser, BrowserContext, Page, Playwright, async_playwright
from playwright.async_api import Error as PlaywrightError

from pages import CardDetailsPage
from sca_conformance.browser import launch_options
from sca_conformance.client import ApiClient, Exchange, TargetError, preflight
from sca_conformance.config import SETTINGS, ProfileError, Settings
from sca_conformance.consents import Consents
from sca_conformance.data import DataFactory
from sca_conformance.landing import NavigationLog, ReturnReceiver
from sca_conformance.passkeys import VirtualAuthenticator, add_virtual_authenticator
from sca_conformance.redact import SECRET_FIELDS, SecretRegistry
from sca_conformance.reporting import FAILED_CALL, SECRETS

ARTIFACTS = Path("test-results")


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

    with tempfile.TemporaryDirectory(prefix="sca-sandbox-") as folder, run_sandbox(
        Path(folder) / "sandbox.db", faults=pytestconfig.getoption("--sandbox-fault")
    ) as sandbox:
        yield sandbox.url


@pytest.hookimpl(tryfirst=True)
def pytest_collection(session: pytest.Session) -> None:
    """A named target is checked once, before any test is scheduled: an unusable one stops
    the run with one sentence (an exit inside an xdist worker would crash the controller)."""
    config = session.config
    settings = config.stash[SETTINGS]
    if hasattr(config, "workerinput") or settings.embedded or config.option.collectonly:
        return
    try:
        asyncio.run(preflight(settings.target_url, settings.api_keys[0], settings.key_sources[0]))
    except TargetError as error:
        pytest.exit(str(error), returncode=3)


@pytest_asyncio.fixture(scope="session")
async def target(settings: Settings, embedded_sandbox: str | None) -> Target:
    """The target: the one named (checked at session start) or the embedded sandbox."""
    url = embedded_sandbox or settings.target_url
    if embedded_sandbox:
        try:
            await preflight(url, settings.api_keys[0], settings.key_sources[0])
        except TargetError as error:
            pytest.exit(f"The embedded sandbox is not usable: {error}", returncode=3)
    return Target(url=url, api_keys=settings.api_keys, settings=settings)


# API ----------------------------------------------------------------------------------


@pytest.fixture
def secrets(request: pytest.FixtureRequest) -> Iterator[SecretRegistry]:
    """Every secret this test has seen, so nothing it writes shows one. The makereport
    hook masks the terminal's traceback with it; this teardown masks Allure's copy."""
    registry = SecretRegistry()
    request.node.stash[SECRETS] = registry
    yield registry
    details = getattr(_allure_test(request.config), "statusDetails", None)
    if details is not None:
        details.message = details.message and registry.text(details.message)
        details.trace = details.trace and registry.text(details.trace)


def attach_exchange(exchange: Exchange) -> None:
    """One report step per API exchange, bodies attached, already redacted by the client."""
    with allure.step(exchange.title):
        response_name = f"response {exchange.content_type or '(no content type)'}, " + (
            f"{exchange.elapsed_ms:.0f} ms"
        )
        for name, body in (("request", exchange.request), (response_name, exchange.response)):
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
    async with client_session(target, 0, secrets) as client:
        yield client


@pytest_asyncio.fixture
async def other_api(target: Target, secrets: SecretRegistry) -> AsyncIterator[ApiClient]:
    """A second, unrelated client (another API key), for the isolation checks."""
    async with client_session(target, 1, secrets) as client:
        yield client


def client_session(target: Target, which: int, secrets: SecretRegistry) -> ApiClient:
    """A client with the target's first (0) or second (1) key, recorded into the report."""
    return ApiClient(
        target.url, target.api_keys[which], secrets=secrets, on_exchange=attach_exchange
    )


@pytest.fixture
def data(api: ApiClient, settings: Settings) -> DataFactory:
    return DataFactory(api, settings.profile.capabilities)


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
    """test-results/<node id as a file name>: what CI keeps of a failed test (its trace)."""
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
    try:
        failure = request.node.stash.get(FAILED_CALL, None)
        if failure is None:
            await context.tracing.stop()
            return
        with _test_body_step(request.config, "Failure evidence"):
            for page in context.pages:
                await attach_page_evidence(page, NavigationLog.of(page).urls, secrets)
            folder = artifacts_folder(request.node)
            folder.mkdir(parents=True, exist_ok=True)
            trace = folder / "trace.zip"
            # Outside test-results/ (which CI uploads) until it is scrubbed.
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


def _allure_reporter(config: pytest.Config) -> Any:
    listener = config.pluginmanager.getplugin("allure_listener")
    return getattr(listener, "allure_logger", None)


def _allure_test(config: pytest.Config) -> Any:
    """Allure's result for the running test, still open during teardown (or None)."""
    reporter = _allure_reporter(config)
    return reporter.get_test(None) if reporter is not None else None


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


@pytest_asyncio.fixture
async def page(context: BrowserContext) -> Page:
    page = await context.new_page()
    NavigationLog(page)  # where it went: the landing watchers and the failure evidence
    return page


@pytest_asyncio.fixture
async def passkey(page: Page) -> VirtualAuthenticator:
    """A platform authenticator on this test's page (CDP; per page)."""
    return await add_virtual_authenticator(page)
