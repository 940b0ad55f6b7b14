"""What the report shows of a test: one Allure step per API exchange (bodies already redacted
by the client), the page evidence of a failed browser test (URL, redirect chain, a masked
screenshot, the HTML as text), links from each requirement to its row in the contract, and
the reader's view of Allure (the suite's own tags and the test's fixtures only)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any
from uuid import uuid4

import allure
import pytest
from allure_commons.model2 import Status, TestStepResult
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import (
    Page,
)

from sca_conformance.client import Exchange
from sca_conformance.config import SETTINGS
from sca_conformance.masking import form_masks, masked_screenshot
from sca_conformance.pages import CardDetailsPage, Wording
from sca_conformance.plugin.selection import TAGS, requirement_ids
from sca_conformance.publish.allure_meta import ReaderView, reporting_exchange
from sca_conformance.redact import SECRET_FIELDS, SecretRegistry
from sca_conformance.requirements import requirement

FAILED_CALL = pytest.StashKey[pytest.TestReport]()
SECRETS = pytest.StashKey[SecretRegistry]()  # the test's registry, set by the secrets fixture


def attach_exchange(exchange: Exchange) -> None:
    """One report step per API exchange, bodies attached, already redacted by the client."""
    with reporting_exchange(exchange), allure.step(exchange.title):
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


def allure_reporter(config: pytest.Config) -> Any:
    listener = config.pluginmanager.getplugin("allure_listener")
    return getattr(listener, "allure_logger", None)


def allure_test(config: pytest.Config) -> Any:
    """Allure's result for the running test, still open during teardown (or None)."""
    reporter = allure_reporter(config)
    return reporter.get_test(None) if reporter is not None else None



@contextmanager
def test_body_step(config: pytest.Config, title: str) -> Iterator[Any]:
    """A step in the test's own body, after the step that failed; yields Allure's result
    for the test (None without --alluredir). Written from a fixture's teardown, evidence
    would otherwise sit under "Tear down", out of a reader's sight."""
    reporter = allure_reporter(config)
    test = allure_test(config)
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


async def attach_page_evidence(
    page: Page, chain: list[str], secrets: SecretRegistry, wording: Wording
) -> None:
    """What the individual's page showed when the test failed: URL, how it got there,
    a screenshot and the HTML, with every secret the page shows learned first."""
    details = CardDetailsPage(page, wording)
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
        image = await masked_screenshot(page, secrets, form_masks(page, wording))
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


@pytest.fixture(autouse=True)
def _allure_links(request: pytest.FixtureRequest) -> None:
    """Each requirement links to its row in the contract (labels are marks, above); a phone
    run's results carry the device, so that a report tells them from the desktop run's (and
    keeps their histories apart)."""
    for requirement_id in requirement_ids(request.node):
        allure.dynamic.link(requirement(requirement_id).anchor, name=requirement_id)
    device = request.config.stash[SETTINGS].device
    if device:
        allure.dynamic.parameter("device", device)


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--alluredir", None):
        ReaderView.register(config, TAGS)
