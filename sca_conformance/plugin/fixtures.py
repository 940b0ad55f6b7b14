"""The target and what talks to it: settings, the embedded sandbox (fresh database, free port,
loopback) or the named target checked once before any test, API clients per test (every
exchange recorded, redacted) on one login session per key and worker, the rate limits waited
out and counted, test data, the return_url receiver. An unusable target stops the run with
one sentence."""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import allure
import pytest
import pytest_asyncio

from sca_conformance.capabilities import not_applicable, skip_unless
from sca_conformance.client import (
    ApiClient,
    ExchangeListener,
    LoginRoute,
    LoginSession,
    Manners,
    Pacer,
    TargetError,
    Wait,
    preflight,
)
from sca_conformance.config import SETTINGS, Settings
from sca_conformance.consents import Consents
from sca_conformance.data import DataFactory, new_run_id
from sca_conformance.landing import RegisteredReturn, ReturnReceiver
from sca_conformance.pages import Hosted, Wording
from sca_conformance.plugin.coverage import (
    TRAFFIC,
    TRAFFIC_PROPERTY,
    TargetUnusable,
    Traffic,
    unusable,
)
from sca_conformance.plugin.evidence import SECRETS, allure_test, attach_exchange
from sca_conformance.redact import SecretRegistry


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
    ids = [i for mark in request.node.iter_markers("requirement") for i in mark.args]
    if reason := not_applicable(settings, ids):
        pytest.skip(reason)


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
        asyncio.run(preflight(settings.target_url, settings.api_keys[0], settings.key_sources[0],
                              settings.network, manners_of(settings),
                              route=LoginRoute.of(settings.profile)))
    except TargetError as error:
        unusable(config, str(error))


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
            await preflight(url, settings.api_keys[0], settings.key_sources[0],
                            settings.network, manners_of(settings),
                            route=LoginRoute.of(settings.profile))
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
    settings = request.config.stash[SETTINGS]
    registry.add(*settings.api_keys, *settings.client_secrets())
    request.node.stash[SECRETS] = registry
    yield registry
    details = getattr(allure_test(request.config), "statusDetails", None)
    if details is not None:
        details.message = details.message and registry.text(details.message)
        details.trace = details.trace and registry.text(details.trace)


def manners_of(settings: Settings) -> Manners:
    """The profile's rate limits (contract section 8a)."""
    limits = settings.profile.rate_limits
    return Manners(max_wait_seconds=limits.max_wait_seconds, max_tries=limits.max_tries,
                   requests_per_second=limits.requests_per_second)


class ApiSessions:
    """A worker's login sessions, one per key, and its pace: shared by the worker's tests
    (run one at a time on the session's event loop)."""

    def __init__(self, settings: Settings) -> None:
        self.manners = manners_of(settings)
        per_second = self.manners.requests_per_second
        self.pacer = Pacer(per_second) if per_second else None
        self.shared = (LoginSession(), LoginSession())


@pytest.fixture(scope="session")
def api_sessions(settings: Settings) -> ApiSessions:
    return ApiSessions(settings)


@pytest_asyncio.fixture(loop_scope="session")
async def api(
    target: Target, secrets: SecretRegistry, api_sessions: ApiSessions,
    receiver: ReturnReceiver, request: pytest.FixtureRequest,
) -> AsyncIterator[ApiClient]:
    """The first client: this test's own exchanges, on the worker's session of the first key;
    a test that moves the target's clock (it moves the session's) on a session of its own.
    A refused return_url of the suite's is a setup error, not the test's verdict."""
    from sca_conformance.plugin.setup_errors import watching_return_url

    listener = watching_return_url(request.node, receiver, attach_exchange)
    own = "clock" in request.fixturenames
    async with client_session(target, 0, secrets, api_sessions, own=own,
                              on_exchange=listener) as client:
        yield client
        record_traffic(request, client, own=own)


@pytest_asyncio.fixture(loop_scope="session")
async def other_api(
    target: Target, secrets: SecretRegistry, api_sessions: ApiSessions,
    request: pytest.FixtureRequest,
) -> AsyncIterator[ApiClient]:
    """A second, unrelated client (another API key), for the isolation checks."""
    skip_unless(target.settings, "second_client")
    async with client_session(target, 1, secrets, api_sessions) as client:
        yield client
        record_traffic(request, client)


def client_session(
    target: Target, which: int, secrets: SecretRegistry, sessions: ApiSessions | None = None,
    *, own: bool = False, on_exchange: ExchangeListener = attach_exchange,
) -> ApiClient:
    """A client with the target's first (0) or second (1) key, recorded into the report, on
    the worker's login session of that key; with `own` (or without `sessions`), on a login
    session of its own."""
    sessions = sessions or ApiSessions(target.settings)
    return ApiClient(
        target.url, target.api_keys[which], secrets=secrets, on_exchange=on_exchange,
        timeout=target.settings.profile.timeouts.api_seconds, network=target.settings.network,
        session=None if own else sessions.shared[which], manners=sessions.manners,
        pacer=sessions.pacer, on_wait=attach_wait, route=LoginRoute.of(target.settings.profile),
    )


def attach_wait(wait: Wait) -> None:
    """One report step per rate limit waited out."""
    with allure.step(wait.title):
        pass


def record_traffic(request: pytest.FixtureRequest, client: ApiClient, *, own: bool = False
                   ) -> None:
    traffic = Traffic(0 if own else client.logins, client.logins if own else 0,
                      client.refreshes, len(client.waits),
                      sum(wait.seconds for wait in client.waits))
    if traffic != Traffic():
        request.node.user_properties.append((TRAFFIC_PROPERTY, json.dumps(asdict(traffic))))


class RunTraffic:
    """The run's Traffic, summed where every report arrives (the controller under xdist)."""

    def __init__(self) -> None:
        self.total = Traffic()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "teardown":
            return
        for key, value in report.user_properties:
            if key == TRAFFIC_PROPERTY:
                self.total.add(Traffic(**json.loads(str(value))))


RUN_ID = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    """The run's traffic counter; the run's id, in the names of what it creates (the
    controller's on every worker)."""
    counter = RunTraffic()
    config.stash[TRAFFIC] = counter.total
    config.pluginmanager.register(counter, "sca-api-traffic")
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
    settings = config.stash.get(SETTINGS, None)
    if settings is None:
        return []
    manners = manners_of(settings)
    pace = (f", paced at {manners.requests_per_second:g} requests/s per worker"
            if manners.requests_per_second else "")
    lines = [f"sca api: one login per key and worker; a 429 or 503 with Retry-After waited out "
             f"(at most {manners.max_tries} sends, {manners.max_wait_seconds:g} s a request)"
             f"{pace}"]
    if RUN_ID in config.stash and not hasattr(config, "workerinput"):
        lines.append(f"sca run id: {config.stash[RUN_ID]} (in the names of the data the run "
                     "creates)")
    return lines


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if hasattr(config, "workerinput") or config.stash.get(TRAFFIC, Traffic()) == Traffic():
        return
    terminalreporter.write_line(f"sca api: {config.stash[TRAFFIC].sentence()}")


@pytest.fixture
def data(api: ApiClient, settings: Settings, pytestconfig: pytest.Config) -> DataFactory:
    return DataFactory(api, lambda capability: skip_unless(settings, capability),
                       profile=settings.profile, run_id=pytestconfig.stash[RUN_ID])


@pytest.fixture(scope="session")
def receiver(settings: Settings) -> Iterator[ReturnReceiver]:
    """Where the browser returns: the profile's registered return_url (nothing served), or
    a loopback receiver of the suite's own."""
    registered = settings.profile.target.return_url
    with (RegisteredReturn(registered, settings.profile.target.return_url_nonce) if registered
          else ReturnReceiver()) as running:
        yield running


@pytest.fixture
def consents(api: ApiClient, data: DataFactory, receiver: ReturnReceiver) -> Consents:
    return Consents(api, data, receiver)


@pytest.fixture(scope="session")
def hosted(wording: Wording) -> Hosted:
    """Page objects in the target's wording: `hosted(SummaryPage, page)`."""
    return Hosted(wording)
