"""The suite's pytest plugin: options, the target, API clients, test data and browsers.

Loaded through its ``pytest11`` entry point (``sca_conformance.plugin``; the checkout's
conftest.py names the same), it loads pytest-playwright-asyncio first and then its own
browser fixtures (sca_conformance.browser_fixtures), which override that plugin's where the
suite needs more (masked evidence, scrubbed traces, this machine's Chromium).

Session scope holds what is expensive and immutable (settings, the target, the browser);
function scope everything with state (API sessions, data, contexts, pages).
"""

from __future__ import annotations

import asyncio
import difflib
import importlib
import importlib.util
import json
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import allure
import pytest
import pytest_asyncio
from playwright.async_api import Page

from sca_conformance.client import ApiClient, Exchange, TargetError, preflight
from sca_conformance.config import SETTINGS, ProfileError, Settings
from sca_conformance.consents import Consents
from sca_conformance.data import DataFactory
from sca_conformance.landing import ReturnReceiver
from sca_conformance.passkeys import VirtualAuthenticator, add_virtual_authenticator
from sca_conformance.redact import SecretRegistry
from sca_conformance.reporting import MATRIX, SECRETS
from sca_conformance.verdict import EXIT_CODES, RunVerdict

PLAYWRIGHT_ASYNCIO = "playwright-asyncio"  # pytest-playwright-asyncio's entry point name
PLAYWRIGHT_SYNC = "playwright"  # pytest-playwright's (sync): cannot share a run with it
BROWSER_FIXTURES = "sca_conformance.browser_fixtures"
# pytest-playwright-asyncio's artifacts are not masked: a video or a screenshot would show
# passcodes and card numbers, its trace has screenshots. The suite keeps a scrubbed trace
# and a masked screenshot of every failed test itself.
UNMASKED = {"--tracing": "off", "--video": "off", "--screenshot": "off"}


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in ("1", "true", "yes", "on")


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    _load_playwright_asyncio(pluginmanager)
    group = parser.getgroup("sca", "SCA consent conformance")
    group.addoption(
        "--target-url",
        default=None,
        help="base URL of a running target (env SCA_TARGET_URL, ini sca_target_url); "
        "none: the embedded sandbox",
    )
    group.addoption(
        "--target",
        default=None,
        help="target profile, a TOML file (env SCA_TARGET, ini sca_target); see profiles/",
    )
    group.addoption(
        "--sca-strict",
        action="store_true",
        default=False,
        help="SHOULD violations fail the run instead of warning (env SCA_STRICT=true, "
        "ini sca_strict)",
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
    parser.addini("sca_target_url", "base URL of a running target (after --target-url and "
                  "SCA_TARGET_URL)", default="")
    parser.addini("sca_target", "target profile, a TOML file, relative to the ini file "
                  "(after --target and SCA_TARGET)", default="")
    parser.addini("sca_strict", "SHOULD violations fail the run (as --sca-strict)", "bool", False)
    # The suite's other plugin modules (plain modules of this package, not rewritten);
    # the browser fixtures after pytest-playwright-asyncio: of two plugins' fixtures with one
    # name, the one registered last is used.
    for name in ("sca_conformance.reporting", BROWSER_FIXTURES):
        module = importlib.import_module(name)
        if not pluginmanager.has_plugin(name) and not pluginmanager.is_registered(module):
            pluginmanager.register(module, name)


def _load_playwright_asyncio(pluginmanager: pytest.PytestPluginManager) -> None:
    """pytest-playwright-asyncio, registered before the suite's browser fixtures; the sync
    pytest-playwright kept out (the two plugins define the same options)."""
    if pluginmanager.has_plugin(PLAYWRIGHT_SYNC) or pluginmanager.has_plugin(
        "pytest_playwright.pytest_playwright"
    ):
        raise pytest.UsageError(
            "pytest-playwright (sync) is loaded, and the suite runs on pytest-playwright-asyncio: "
            "the two cannot share a run. Add `-p no:playwright` (the checkout's pyproject.toml "
            "has it in addopts) or uninstall pytest-playwright."
        )
    pluginmanager.set_blocked(PLAYWRIGHT_SYNC)  # should its entry point come later
    if pluginmanager.has_plugin(PLAYWRIGHT_ASYNCIO) or pluginmanager.has_plugin(
        "pytest_playwright_asyncio.pytest_playwright"
    ):
        return
    if pluginmanager.is_blocked(PLAYWRIGHT_ASYNCIO):
        raise pytest.UsageError(
            "The suite needs pytest-playwright-asyncio, and it is disabled "
            "(-p no:playwright-asyncio)."
        )
    if importlib.util.find_spec("pytest_playwright_asyncio") is None:
        raise pytest.UsageError(
            "The suite needs pytest-playwright-asyncio: pip install pytest-playwright-asyncio"
        )
    pluginmanager.import_plugin(PLAYWRIGHT_ASYNCIO, consider_entry_points=True)
    if not pluginmanager.has_plugin(PLAYWRIGHT_ASYNCIO):  # importable, but no entry point
        pluginmanager.import_plugin("pytest_playwright_asyncio.pytest_playwright")


def _setting(config: pytest.Config, option: str, env: str, ini: str) -> str | None:
    """Option, else environment variable, else ini key (pytest-base-url's order)."""
    value = config.getoption(option) or os.environ.get(env) or None
    if value:
        return str(value)
    from_ini = str(config.getini(ini) or "").strip()
    if not from_ini:
        return None
    if ini == "sca_target" and config.inipath is not None:
        return str(config.inipath.parent / from_ini)  # a path in the ini: relative to it
    return from_ini


def _check_browser_options(config: pytest.Config) -> None:
    for option, allowed in UNMASKED.items():
        value = config.getoption(option)
        if value != allowed:
            raise pytest.UsageError(
                f"{option} {value}: pytest-playwright's {option.lstrip('-')} is not masked "
                "and would show the passcodes, PINs and card numbers the suite types and reads. "
                "The suite keeps a scrubbed trace (in --output) and a masked screenshot (in "
                "the report) of every failed test itself; leave the option off."
            )
    browsers = set(config.getoption("--browser") or ["chromium"])
    if browsers != {"chromium"}:
        raise pytest.UsageError(
            f"--browser {', '.join(sorted(browsers - {'chromium'}))}: the suite drives Chromium "
            "only (its passkeys are the Chrome DevTools Protocol's virtual authenticator)."
        )
    names = [name for name, _ in config.pluginmanager.list_name_plugin()]
    ours = names.index(BROWSER_FIXTURES) if BROWSER_FIXTURES in names else -1
    theirs = next((i for i, n in enumerate(names) if n in (
        PLAYWRIGHT_ASYNCIO, "pytest_playwright_asyncio.pytest_playwright")), -1)
    if not 0 <= theirs < ours:
        raise pytest.UsageError(
            f"{BROWSER_FIXTURES} must be registered after pytest-playwright-asyncio: load the "
            "suite with `-p sca_conformance.plugin` (or its entry point), not its parts."
        )


def _target_url(config: pytest.Config) -> str | None:
    """--target-url, else Playwright's --base-url (pytest-base-url's users name the target
    so), else SCA_TARGET_URL, else the ini keys sca_target_url and base_url."""
    named = config.getoption("--target-url")
    base = config.getoption("base_url", None)
    if named and base and named.rstrip("/") != str(base).rstrip("/"):
        raise pytest.UsageError(f"--target-url {named} and --base-url {base} name two targets: "
                                "give one of them")
    found = _setting(config, "--target-url", "SCA_TARGET_URL", "sca_target_url")
    if named or not base:
        return found or _ini(config, "base_url")
    return str(base)


def _ini(config: pytest.Config, name: str) -> str | None:
    try:
        return str(config.getini(name) or "").strip() or None
    except ValueError:  # no such ini key (pytest-playwright's base_url not registered)
        return None


def _check_faults(config: pytest.Config, settings: Settings) -> None:
    faults = config.getoption("--sandbox-fault")
    if not faults:
        return
    if not settings.embedded:
        raise pytest.UsageError(f"--sandbox-fault {', '.join(faults)}: faults are the embedded "
                                f"sandbox's, and the target is {settings.target_url}")
    try:
        from sca_sandbox.faults import FAULTS
    except ImportError:
        return  # no sandbox installed: the embedded target cannot start anyway, and says so
    for fault in faults:
        if fault not in FAULTS:
            close = difflib.get_close_matches(fault, list(FAULTS), n=1, cutoff=0.5)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise pytest.UsageError(f"--sandbox-fault {fault}: no such fault; {hint}the faults "
                                    f"are: {', '.join(sorted(FAULTS))}")


def pytest_configure(config: pytest.Config) -> None:
    _check_browser_options(config)
    try:
        config.stash[SETTINGS] = Settings.resolve(
            target_url=_target_url(config),
            profile_path=_setting(config, "--target", "SCA_TARGET", "sca_target"),
            # SHOULD violations fail the run instead of warning.
            strict=bool(
                config.getoption("--sca-strict")
                or _env_flag("SCA_STRICT")
                or config.getini("sca_strict")
            ),
            headed=bool(config.getoption("--headed")) or _env_flag("SCA_HEADED"),
            browser_ws_endpoint=config.getoption("--browser-ws-endpoint"),
        )
    except ProfileError as error:
        raise pytest.UsageError(str(error)) from None
    _check_faults(config, config.stash[SETTINGS])


def pytest_report_header(config: pytest.Config) -> list[str]:
    settings = config.stash[SETTINGS]
    target = settings.target_url or (
        f"embedded sandbox, {settings.profile.sandbox_dialect} dialect (started for the session)"
    )
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


@pytest.fixture(autouse=True)
def _needs(request: pytest.FixtureRequest, settings: Settings) -> None:
    """The one gate for what a target can do: `@pytest.mark.needs("clock_simulation", ...)`
    skips, saying which profile key says the target cannot."""
    for mark in request.node.iter_markers("needs"):
        for capability in mark.args:
            skip_unless(settings, capability)


def skip_unless(settings: Settings, capability: str) -> None:
    """Skips the running test when the target lacks `capability` (a key of the profile's
    [capabilities], or "second_client"), with the reason. Every skip for a missing
    capability comes from here."""
    if capability == "second_client":
        if not settings.api_keys[1]:
            pytest.skip(f"needs a second client's API key: {settings.key_sources[1]} is not "
                        "set (profile keys.secondary_env)")
        return
    if not getattr(settings.profile.capabilities, capability):
        pytest.skip(f"needs the target's {capability.replace('_', ' ')} "
                    f"(profile: capabilities.{capability} = false)")


@pytest.fixture(scope="session")
def embedded_sandbox(
    settings: Settings, pytestconfig: pytest.Config
) -> Iterator[str | None]:
    """The sandbox process when no target was named: fresh database, free port, loopback."""
    if not settings.embedded:
        yield None
        return
    from sca_sandbox.process import run_sandbox

    lifetimes = settings.profile.lifetimes
    chosen: dict[str, Any] = {"token_ttl": lifetimes.access_token_seconds,
              "consent_ttl": lifetimes.consent_seconds, "method_ttl": lifetimes.method_seconds,
              "refresh_ttl": lifetimes.refresh_token_seconds}  # as the profile describes it
    with tempfile.TemporaryDirectory(prefix="sca-sandbox-") as folder, run_sandbox(
        Path(folder) / "sandbox.db",
        faults=pytestconfig.getoption("--sandbox-fault"),
        dialect=settings.profile.sandbox_dialect,
        **{name: value for name, value in chosen.items() if value is not None},
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
        unusable(config, str(error))


class TargetUnusable(pytest.exit.Exception):  # type: ignore[misc,name-defined]
    """The target cannot be tested at all: the run stops with one sentence, its verdict."""


def unusable(config: pytest.Config, reason: str) -> NoReturn:
    config.stash[MATRIX].unusable = reason
    raise TargetUnusable(reason, returncode=EXIT_CODES[RunVerdict.TARGET_UNUSABLE])


@pytest.hookimpl(trylast=True)
def pytest_keyboard_interrupt(excinfo: pytest.ExceptionInfo[BaseException]) -> None:
    """The terminal would print the stop as `!!! _pytest.outcomes.Exit: ...`: the verdict
    line (reporting.pytest_unconfigure) says it once, in words."""
    if isinstance(excinfo.value, TargetUnusable):
        for reporter in _REPORTERS:
            reporter._keyboardinterrupt_memo = None


_REPORTERS: list[Any] = []


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        _REPORTERS[:] = [reporter]


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def target(
    settings: Settings, embedded_sandbox: str | None, pytestconfig: pytest.Config
) -> Target:
    """The target: the one named (checked at session start) or the embedded sandbox."""
    url = embedded_sandbox or settings.target_url
    if embedded_sandbox:
        try:
            await preflight(url, settings.api_keys[0], settings.key_sources[0])
        except TargetError as error:
            unusable(pytestconfig, f"The embedded sandbox is not usable: {error}")
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


@pytest_asyncio.fixture(loop_scope="session")
async def api(target: Target, secrets: SecretRegistry) -> AsyncIterator[ApiClient]:
    """The first client's API session, new for this test."""
    async with client_session(target, 0, secrets) as client:
        yield client


@pytest_asyncio.fixture(loop_scope="session")
async def other_api(target: Target, secrets: SecretRegistry) -> AsyncIterator[ApiClient]:
    """A second, unrelated client (another API key), for the isolation checks."""
    skip_unless(target.settings, "second_client")
    async with client_session(target, 1, secrets) as client:
        yield client


def client_session(target: Target, which: int, secrets: SecretRegistry) -> ApiClient:
    """A client with the target's first (0) or second (1) key, recorded into the report."""
    return ApiClient(
        target.url, target.api_keys[which], secrets=secrets, on_exchange=attach_exchange,
        timeout=target.settings.profile.timeouts.api_seconds,
    )


@pytest.fixture
def data(api: ApiClient, settings: Settings) -> DataFactory:
    return DataFactory(api, lambda capability: skip_unless(settings, capability))


@pytest.fixture(scope="session")
def receiver() -> Iterator[ReturnReceiver]:
    with ReturnReceiver() as running:
        yield running


@pytest.fixture
def consents(api: ApiClient, data: DataFactory, receiver: ReturnReceiver) -> Consents:
    return Consents(api, data, receiver)


# Browser -------------------------------------------------------------------------------
# pytest-playwright-asyncio's fixtures, with the suite's in sca_conformance.browser_fixtures.


def _allure_reporter(config: pytest.Config) -> Any:
    listener = config.pluginmanager.getplugin("allure_listener")
    return getattr(listener, "allure_logger", None)


def _allure_test(config: pytest.Config) -> Any:
    """Allure's result for the running test, still open during teardown (or None)."""
    reporter = _allure_reporter(config)
    return reporter.get_test(None) if reporter is not None else None


@pytest_asyncio.fixture(loop_scope="session")
async def passkey(page: Page) -> VirtualAuthenticator:
    """A platform authenticator on this test's page (CDP; per page)."""
    return await add_virtual_authenticator(page)
