"""INIT-*: initiating a consent returns a method whose redirect_url starts the flow."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from sca_conformance import checks
from sca_conformance.catalog import Action
from sca_conformance.client import ApiClient
from sca_conformance.consents import Consents
from sca_conformance.flow import expect_end_state
from sca_conformance.landing import RegisteredReturn
from sca_conformance.pages import DonePage, Hosted, SummaryPage

pytestmark = [pytest.mark.api, pytest.mark.asyncio(loop_scope="session")]


@pytest.mark.requirement("INIT-1", "INIT-2", "INIT-3")
async def test_initiation_returns_a_method_carrying_its_token(
    action: Action, consents: Consents
) -> None:
    """Initiation returns a method whose redirect_url carries the token"""
    consent = await consents.pending(action, await consents.subject(action))
    method = checks.method_in_body(await consents.initiate(consent["id"]))
    checks.redirect_url_carries_token(method)
    checks.method_expires_in_future(method)


@pytest.mark.requirement("INIT-4")
async def test_the_method_expires_no_later_than_its_consent(
    action: Action, consents: Consents
) -> None:
    """The method expires no later than its consent"""
    consent = await consents.pending(action, await consents.subject(action))
    method = checks.method_in_body(await consents.initiate(consent["id"]))
    checks.method_within_consent(method, consent)


@pytest.mark.browser
@pytest.mark.requirement("INIT-1", "INIT-2", "PAGE-1")
@pytest.mark.actions("payment_history")
async def test_without_return_url_the_flow_ends_on_the_providers_done_page(
    action: Action, consents: Consents, page: Page, hosted: Hosted
) -> None:
    """Without return_url, the flow ends on the provider's own done page"""
    subject = await consents.subject(action)
    consent = await consents.pending(action, subject)
    method = await consents.method(consent["id"], None)  # INIT-1..3 checked on the way
    with checks.proving("INIT-2"):
        await page.goto(method["redirect_url"])
        await expect(hosted(SummaryPage, page).heading).to_be_visible()
    await consents.flow(page, action, subject).approve()
    with checks.proving("INIT-1"):
        await expect(hosted(DonePage, page).heading).to_be_visible()


@pytest.mark.security
@pytest.mark.requirement("INIT-5")
@pytest.mark.parametrize("whose", ["unknown id", "another client's consent"])
async def test_a_consent_the_client_does_not_own_is_not_found(
    whose: str, consents: Consents, other_api: ApiClient
) -> None:
    """An unknown consent, or another client's, answers 404"""
    action = consents.action("payment_history")
    consent = await consents.pending(action, await consents.subject(action))
    if whose == "unknown id":
        response = await consents.initiate("3f0c6b1e-8d7a-4c55-9a51-2b8f0e6d9c41")
    else:
        response = await consents.initiate(consent["id"], api=other_api)
    checks.consent_not_found(response)
    if whose == "another client's consent":
        checks.consent_not_found(
            await other_api.get(consents.path("consent", consent_id=consent["id"])))


@pytest.mark.security
@pytest.mark.requirement("INIT-6")
@pytest.mark.parametrize(
    "return_url",
    [
        "javascript:alert(document.domain)",
        "data:text/html,<script>alert(1)</script>",
        "/relative/return",
        "not a url",
        "http://client.example/return",
        "ftp://client.example/return",
        "",
    ],
    ids=["javascript", "data", "relative", "malformed", "http-not-loopback", "ftp", "empty"],
)
async def test_an_unsafe_return_url_is_refused(return_url: str, consents: Consents) -> None:
    """An unsafe or malformed return_url is refused with an error list"""
    action = consents.action("payment_history")
    consent = await consents.pending(action, await consents.subject(action))
    checks.return_url_refused(await consents.initiate(consent["id"], return_url))


ANY_RETURN_URL = pytest.mark.needs("any_return_url")  # a provider of registered ones: not tried


@pytest.mark.requirement("INIT-6")
@pytest.mark.parametrize(
    "return_url",
    [pytest.param("https://client.example/sca/return?order=7", id="https"),
     pytest.param("http://127.0.0.1:9/return", id="http-loopback-ip", marks=ANY_RETURN_URL),
     pytest.param("http://localhost:9/return", id="http-localhost", marks=ANY_RETURN_URL)],
)
async def test_a_safe_return_url_is_accepted(return_url: str, consents: Consents) -> None:
    """An https return_url, or http on loopback, is accepted (a provider that registers its
    clients' return URLs: the registered one, with a query of the test's own)"""
    if isinstance(consents.receiver, RegisteredReturn):
        return_url = consents.receiver.new_return_url()
    action = consents.action("payment_history")
    consent = await consents.pending(action, await consents.subject(action))
    with checks.proving("INIT-6"):
        checks.method_in_body(await consents.initiate(consent["id"], return_url))


@pytest.mark.security
@pytest.mark.requirement("INIT-9")
async def test_initiation_needs_a_bearer_token(consents: Consents) -> None:
    """Initiation without a bearer token answers 401"""
    action = consents.action("payment_history")
    consent = await consents.pending(action, await consents.subject(action))
    response = await consents.api.post(
        consents.path("consent", consent_id=consent["id"]),
        json={"return_url": "https://client.example/return"},
        authenticated=False,
    )
    checks.initiation_needs_token(response)


@pytest.mark.lifecycle
@pytest.mark.browser
@pytest.mark.requirement("INIT-8")
async def test_initiating_again_gives_a_fresh_method_and_retires_the_first(
    consents: Consents, page: Page, hosted: Hosted
) -> None:
    """Initiating again while pending gives a fresh method; the first token stops working"""
    action = consents.action("payment_history")
    consent = await consents.pending(action, await consents.subject(action))
    first = await consents.method(consent["id"], consents.receiver.new_return_url())
    second = await consents.method(consent["id"], consents.receiver.new_return_url())
    checks.fresh_method(first, second)
    with checks.proving("INIT-8"):
        await page.goto(first["redirect_url"])
        await expect_end_state(page, consents.wording, "the first redirect_url after "
                               "re-initiation must stop working")
        await page.goto(second["redirect_url"])
        await expect(hosted(SummaryPage, page).heading).to_be_visible()
