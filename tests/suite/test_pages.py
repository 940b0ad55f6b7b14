"""Page objects and the landing watcher, in a real browser against the embedded sandbox."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from pages import CardDetailsPage, ErrorPage, IdentifyPage, PasscodePage, SummaryPage
from sca_conformance.catalog import CATALOG
from sca_conformance.consents import Consents
from sca_conformance.passkeys import VirtualAuthenticator

pytestmark = pytest.mark.browser


async def test_the_summary_page_object_finds_the_action_and_its_linked_values(
    consents: Consents, page: Page
) -> None:
    action = CATALOG["external_payment"]
    subject = await consents.subject(action)
    await consents.start(page, action, subject)
    summary = SummaryPage(page)
    await expect(summary.heading).to_be_visible()
    await expect(summary.intro).to_contain_text("I identify myself to")
    await expect(summary.action_heading).to_have_text("Make a payment")
    await expect(summary.detail("Payee")).to_have_text(subject.values["payee_name"])
    await expect(summary.detail("IBAN")).to_have_text(subject.values["payee_iban"])
    await expect(summary.button("Confirm")).to_be_enabled()
    await expect(summary.button("Decline")).to_be_enabled()


async def test_identification_offers_a_passkey_only_to_an_individual_who_has_one(
    consents: Consents, page: Page
) -> None:
    action = CATALOG["card_details"]
    subject = await consents.subject(action)
    await consents.start(page, action, subject)
    await SummaryPage(page).confirm()
    identify = IdentifyPage(page)
    await expect(identify.heading).to_be_visible()
    await expect(identify.use_passkey_button).to_have_count(0)
    await identify.try_another_way()
    await expect(PasscodePage(page).passcode).to_have_attribute("type", "password")


async def test_card_details_page_object_reads_every_value(consents: Consents, page: Page) -> None:
    action = CATALOG["card_details"]
    subject = await consents.subject(action)
    started = await consents.start(page, action, subject)
    await started.flow.confirm()
    await started.flow.identify("passcode")
    details = CardDetailsPage(page)
    for locator in (details.holder, details.number, details.valid_thru, details.cvc):
        await expect(locator).to_have_count(1)
    await expect(details.number).to_contain_text(str(subject.values["last4"]))


async def test_an_unknown_link_shows_the_error_page(consents: Consents, page: Page) -> None:
    await page.goto(f"{consents.api.base_url}/sca/not-a-real-token")
    await expect(ErrorPage(page, ErrorPage.NOT_VALID).heading).to_be_visible()


async def test_landing_is_detected_when_the_return_url_host_does_not_answer(
    consents: Consents, page: Page
) -> None:
    action = CATALOG["payment_history"]
    subject = await consents.subject(action)
    unreachable = "https://client.invalid/sca/return?order=42"
    started = await consents.start(page, action, subject, return_url=unreachable)
    await started.flow.approve()
    landing = await started.landing.wait()
    assert landing.startswith("https://client.invalid/sca/return?order=42&")
    assert "status=approved" in landing


async def test_the_passkey_fixture_gives_the_page_a_verifying_authenticator(
    passkey: VirtualAuthenticator,
) -> None:
    assert await passkey.credentials() == []
