"""The target and what talks to it: settings, the embedded sandbox (fresh database, free port,
loopback) or the named target checked once before any test, API sessions per test (every
exchange recorded, redacted), test data, the return_url receiver. An unusable target stops
the run with one sentence."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest
import pytest_asyncio

from sca_conformance.capabilities import skip_unless
from sca_conformance.client import ApiClient, TargetError, preflight
from sca_conformance.config import SETTINGS, Settings
from sca_conformance.consents import Consents
from sca_conformance.data import DataFactory, new_run_id
from sca_conformance.landing import ReturnReceiver
from sca_conformance.plugin.coverage import MATRIX
from sca_conformance.plugin.evidence import SECRETS, allure_test, attach_exchange
from sca_conformance.redact import SecretRegistry
from sca_conformance.verdict import (
    EXIT_CODES,
    RunVerdict,
)


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
        extra_args=settings.profile.target.sandbox_options,
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
    line (coverage.pytest_unconfigure) says it once, in words."""
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


@pytest.fixture(autouse=True)  # every test's traceback is masked, whatever it uses
def secrets(request: pytest.FixtureRequest) -> Iterator[SecretRegistry]:
    """Every secret this test has seen, so nothing it writes shows one. The makereport
    hook masks the terminal's traceback with it; this teardown masks Allure's copy."""
    registry = SecretRegistry()
    # Both clients' keys, whichever the test uses: a failure's traceback can show a fixture
    # (settings, target) that holds them.
    registry.add(*request.config.stash[SETTINGS].api_keys)
    request.node.stash[SECRETS] = registry
    yield registry
    details = getattr(allure_test(request.config), "statusDetails", None)
    if details is not None:
        details.message = details.message and registry.text(details.message)
        details.trace = details.trace and registry.text(details.trace)


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


RUN_ID = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    """The run's id, in the names of what it creates: the controller's on every worker."""
    workerinput = getattr(config, "workerinput", None)
    given = workerinput.get("sca_run_id") if workerinput is not None else None
    try:
        config.stash[RUN_ID] = given or new_run_id()
    except ValueError as error:
        raise pytest.UsageError(str(error)) from None


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook, on the controller
def pytest_configure_node(node: Any) -> None:
    config = getattr(node, "config", None)
    workerinput = getattr(node, "workerinput", None)
    if config is not None and workerinput is not None and RUN_ID in config.stash:
        workerinput["sca_run_id"] = config.stash[RUN_ID]


def pytest_report_header(config: pytest.Config) -> list[str]:
    if RUN_ID not in config.stash or hasattr(config, "workerinput"):
        return []
    return [f"sca run id: {config.stash[RUN_ID]} (in the names of the data the run creates)"]


@pytest.fixture
def data(api: ApiClient, settings: Settings, pytestconfig: pytest.Config) -> DataFactory:
    return DataFactory(api, lambda capability: skip_unless(settings, capability),
                       profile=settings.profile, run_id=pytestconfig.stash[RUN_ID])


@pytest.fixture(scope="session")
def receiver() -> Iterator[ReturnReceiver]:
    with ReturnReceiver() as running:
        yield running


@pytest.fixture
def consents(api: ApiClient, data: DataFactory, receiver: ReturnReceiver) -> Consents:
    return Consents(api, data, receiver)

