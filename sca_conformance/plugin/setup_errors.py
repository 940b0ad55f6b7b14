"""Setup errors are not verdicts: a TLS, proxy, DNS or connection failure on the way to the
target, in the API or the browser, stops the run as TARGET UNUSABLE with the sentence naming
the setting that fixes it (sca_conformance.network), whatever the test made of it (a page
that did not open reads as PAGE-1's violation to the test). Under xdist the worker that
finds it skips that test with the sentence, stops, and tells the other workers through a
file of the run's, so that each stops at its next test."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Generator
from contextlib import suppress
from pathlib import Path
from typing import Any, NoReturn

import httpx
import pytest
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page, Request, Response

from sca_conformance.client import Exchange, ExchangeListener
from sca_conformance.config import Settings
from sca_conformance.connection_errors import (
    browser_setup_error,
    explain,
    explain_browser,
    explain_client_certificate_proxy,
)
from sca_conformance.landing import NavigationLog, RegisteredReturn, ReturnReceiver, origin
from sca_conformance.plugin.coverage import UNUSABLE_PROPERTY, unusable

SETUP_ERROR = pytest.StashKey[str]()  # the first setup error a test's browser met
STOPPED = pytest.StashKey[Path]()  # under xdist: holds the sentence once a worker found one
_STOPPED_INPUT = "sca_unusable_file"


def watch_setup_errors(page: Page, item: pytest.Item, settings: Settings) -> None:
    """Records on `item` the first navigation of `page` to the target that failed for a
    setup reason: the page's first navigation (the hosted page it was sent to) or one to an
    origin the profile names as the target's. A navigation elsewhere that fails (a departure,
    an unreachable return_url) stays the test's to judge."""
    log = NavigationLog.of(page)
    named = {origin(url) for url in (settings.target_url,
                                     *settings.profile.target.hosted_origins) if url}

    def failed(request: Request) -> None:
        if SETUP_ERROR in item.stash or not request.is_navigation_request():
            return
        code = browser_setup_error(request.failure or "")
        if code is None:
            return
        first = bool(log.urls) and log.urls[0] == request.url
        if first or origin(request.url) in named:
            item.stash[SETUP_ERROR] = explain_browser(code, request.url)

    async def answered(response: Response) -> None:
        """Playwright's own 503 page for a client certificate's failed connection: the
        navigation did not fail, but the target was never reached."""
        request = response.request
        if SETUP_ERROR in item.stash or response.status != 503 \
                or not request.is_navigation_request():
            return
        first = bool(log.urls) and log.urls[0] == request.url
        if not first and origin(request.url) not in named:
            return
        with suppress(PlaywrightError):
            sentence = explain_client_certificate_proxy(await response.text(), request.url)
            if sentence and SETUP_ERROR not in item.stash:
                item.stash[SETUP_ERROR] = sentence

    page.on("requestfailed", failed)
    if settings.network.client_cert:  # the only way the driver's proxy stands in between
        page.on("response", answered)


def watching_return_url(
    item: pytest.Item, receiver: ReturnReceiver, listener: ExchangeListener
) -> ExchangeListener:
    """`listener`, and a refusal of the suite's return_url (a 400 naming return_url for one
    the receiver handed out) recorded on `item` as a setup error: a provider that accepts
    only registered return URLs refuses every initiation until the profile names one."""

    def heard(exchange: Exchange) -> None:
        listener(exchange)
        if exchange.status != 400 or SETUP_ERROR in item.stash \
                or "return_url" not in str(exchange.response):
            return
        sent = exchange.request if isinstance(exchange.request, dict) else {}
        ours = [v for v in sent.values()
                if isinstance(v, str) and v.startswith(receiver.base_url + "/")]
        if ours:
            item.stash[SETUP_ERROR] = return_url_refused(receiver, ours[0])

    return heard


def return_url_refused(receiver: ReturnReceiver, sent: str) -> str:
    if isinstance(receiver, RegisteredReturn):
        return (f"The target refused the profile's return_url ({sent}, 400): register "
                f"{receiver.return_url} with the provider, or correct [target] return_url "
                "(return_url_nonce = \"fragment\" or \"none\" when it refuses the added query).")
    return (f"The target refused the suite's own return_url ({sent}, 400): set [target] "
            "return_url in the profile to the https return URL registered with the provider.")


def _setup_error(item: pytest.Item, error: BaseException) -> str | None:
    if SETUP_ERROR in item.stash:
        return item.stash[SETUP_ERROR]
    if isinstance(error, httpx.TransportError) and not isinstance(error, httpx.TimeoutException
                                                                   | httpx.ProtocolError):
        url = str(error.request.url) if _has_request(error) else ""
        return explain(error, url)
    return None


def _has_request(error: httpx.TransportError) -> bool:
    try:
        error.request  # noqa: B018 - raises when the error was not raised for a request
    except RuntimeError:
        return False
    return True


def _stop(item: pytest.Item, sentence: str) -> NoReturn:
    stopped = item.config.stash.get(STOPPED, None)
    if stopped is None:  # not an xdist worker
        unusable(item.config, sentence)
    if not stopped.exists():
        with suppress(OSError):
            stopped.write_text(sentence, encoding="utf-8")
    item.session.shouldstop = sentence
    item.user_properties.append((UNUSABLE_PROPERTY, sentence))
    pytest.skip(sentence)


def _stop_on_setup_error(item: pytest.Item) -> Generator[None, Any, Any]:
    try:
        return (yield)
    except (KeyboardInterrupt, pytest.exit.Exception):
        raise
    except BaseException as error:  # a violation, a suite error, a warning (xfail), a skip
        if sentence := _setup_error(item, error):
            _stop(item, sentence)
        raise


# Outermost: whatever the verdicts plugin made of the test's error, a setup error is none.
@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, Any, Any]:
    stopped = item.config.stash.get(STOPPED, None)
    if stopped is not None and stopped.exists():  # another worker found the target unusable
        _stop(item, stopped.read_text(encoding="utf-8"))
    return (yield from _stop_on_setup_error(item))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    return (yield from _stop_on_setup_error(item))


def pytest_configure(config: pytest.Config) -> None:
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None and _STOPPED_INPUT in workerinput:
        config.stash[STOPPED] = Path(workerinput[_STOPPED_INPUT])


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook, on the controller
def pytest_configure_node(node: Any) -> None:
    config: pytest.Config | None = getattr(node, "config", None)
    if config is None or not hasattr(node, "workerinput"):
        return
    if STOPPED not in config.stash:
        config.stash[STOPPED] = Path(tempfile.mkdtemp(prefix="sca-run-")) / "unusable"
    node.workerinput[_STOPPED_INPUT] = str(config.stash[STOPPED])


def pytest_unconfigure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput") and STOPPED in config.stash:
        shutil.rmtree(config.stash[STOPPED].parent, ignore_errors=True)
