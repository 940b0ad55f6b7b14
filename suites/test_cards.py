"""Card activation and card details steps (PAGE-13, PAGE-14, AFTER-7)."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from sca_conformance import checks
from sca_conformance.consents import Consents
from sca_conformance.flow import wrong_code
from sca_conformance.pages import CardDetailsPage, Cvc2Page, Hosted

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


@pytest.mark.card_activation
@pytest.mark.requirement("PAGE-13")
async def test_activation_refuses_a_wrong_cvc2_and_accepts_the_right_one(
    consents: Consents, page: Page, hosted: Hosted
) -> None:
    """Card activation: a wrong CVC2 is refused, the right one activates the card"""
    action = consents.action("card_activation")
    subject = await consents.subject(action)
    await consents.prepare_in_browser(page, action, subject)
    started = await consents.start(page, action, subject)
    flow = started.flow
    await flow.confirm()
    await flow.identify("passcode")
    await flow.set_pin()
    cvc2_page = hosted(Cvc2Page, page)
    await flow.reach(cvc2_page, "PAGE-13")
    await flow.refusal(cvc2_page, cvc2_page.activate(wrong_code(str(subject.values["cvc2"]))),
                       "PAGE-13", "a wrong CVC2 must be refused")
    status = await consents.field(consents.path("card", card_id=subject.values["card_id"]),
                                  "status")
    with checks.proving("PAGE-13"):
        assert status == "not_activated", f"card status after a wrong CVC2: {status}"
        await flow.enter_cvc2()
        await flow.close()
        await started.landing.wait()


@pytest.mark.card_activation
@pytest.mark.requirement("AFTER-7")
async def test_activating_an_active_card_answers_409(consents: Consents) -> None:
    """Activating a card that is already active answers 409"""
    action = consents.action("card_activation")
    subject = await consents.data.subject("virtual_card")  # virtual cards start active
    checks.already_active(await consents.trigger(action, subject))


@pytest.mark.card_details
@pytest.mark.requirement("PAGE-14")
async def test_card_details_show_on_the_page_and_never_in_the_api(
    consents: Consents, page: Page, hosted: Hosted
) -> None:
    """Card details: the page shows holder, number, expiry and CVC; the API never does"""
    action = consents.action("card_details")
    subject = await consents.subject(action)
    started = await consents.start(page, action, subject)
    details = hosted(CardDetailsPage, page)
    await started.flow.confirm()
    await started.flow.identify("passcode")
    await started.flow.reach(details, "PAGE-14")  # an SMS step the page asks first: completed
    with checks.proving("PAGE-14"):
        holder = f"{subject.individual['first_name']} {subject.individual['last_name']}"
        # As a card shows them: the holder in any case, the number in any grouping, the
        # expiry as MM/YY or MM/YYYY; each alone or after its label.
        await expect(details.holder).to_have_text(details.shown("holder", re.escape(holder)))
        await expect(details.number).to_have_text(details.shown("number", r"\d(?:[ -]?\d){11,18}"))
        await expect(details.valid_thru).to_have_text(
            details.shown("valid_thru", r"02\s*/\s*(20)?31"))
        await expect(details.cvc).to_have_text(details.shown("cvc", r"\d{3}"))
    await started.flow.read_card_details()
    await started.flow.close()
    landing = await started.landing.wait("PAGE-14")
    checks.landed_on_return_url(landing, started.return_url)
    pan, cvc = started.flow.card_details["number"], started.flow.card_details["cvc"]
    card_id = subject.values["card_id"]
    for response in (
        await consents.api.get(consents.path("card", card_id=card_id)),
        await consents.trigger(action, subject),
        await consents.api.post(consents.path("card_details", card_id=card_id)),
    ):
        checks.no_card_secrets(response.json(), pan, cvc)


@pytest.mark.card_details
@pytest.mark.requirement("AFTER-7")
async def test_card_details_consents_are_one_shot(consents: Consents, page: Page) -> None:
    """Card details consents are one-shot: a new view needs a new consent"""
    action = consents.action("card_details")
    subject = await consents.subject(action)
    started = await consents.start(page, action, subject)
    await started.flow.approve()
    await started.landing.wait()
    checks.one_shot(await consents.trigger(action, subject), started.consent["id"])

