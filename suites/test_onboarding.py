"""Onboarding enrolment (PAGE-15): passcode twice, SMS code, passkey; then active."""

from __future__ import annotations

import pytest
from playwright.async_api import Page

from sca_conformance import checks
from sca_conformance.consents import Consents
from sca_conformance.data import digits
from sca_conformance.flow import wrong_code
from sca_conformance.pages import CreatePasscodePage, Hosted, PhoneCodePage
from sca_conformance.passkeys import VirtualAuthenticator

pytestmark = [
    pytest.mark.browser,
    pytest.mark.onboarding,
    pytest.mark.any_onboarding_style,
    pytest.mark.asyncio(loop_scope="session"),
]


@pytest.mark.requirement("PAGE-15", "PAGE-4", "AFTER-1")
async def test_enrolment_creates_a_passcode_confirms_the_phone_and_enrols_a_passkey(
    consents: Consents, page: Page, passkey: VirtualAuthenticator, hosted: Hosted
) -> None:
    """Enrolment: passcode twice, the SMS code, a passkey; the individual becomes active"""
    action = consents.action("onboarding")
    subject = await consents.subject(action)
    started = await consents.start(page, action, subject)
    flow = started.flow
    await flow.confirm()

    create = hosted(CreatePasscodePage, page)
    passcode = digits(6)
    consents.api.secrets.add(passcode)
    await flow.reach(create, "PAGE-15")
    # Refusals in the target's own words and markup: shown, and the step stays.
    await flow.refusal(create, create.create(passcode, repeated=wrong_code(passcode)),
                       "PAGE-15", "passcodes that differ must be refused")
    with checks.proving("PAGE-15"):
        await create.create(passcode)

    phone = hosted(PhoneCodePage, page)
    await flow.reach(phone, "PAGE-15")
    code = await flow.sms_code()
    await flow.refusal(phone, phone.confirm(wrong_code(code)), "PAGE-15",
                       "a wrong SMS code must be refused")
    with checks.proving("PAGE-15"):
        await phone.confirm(code)
    await flow.add_passkey()
    landing = await started.landing.wait("PAGE-15")
    with checks.proving("PAGE-15"):
        credentials = await passkey.credentials()
        assert credentials, "no passkey was registered with the virtual authenticator"
    checks.landed_on_return_url(landing, started.return_url)
    path = consents.path("individual", individual_id=subject.values["individual_id"])
    with checks.proving("AFTER-1"):
        individual = checks.action_performed(await consents.api.get(path))
    checks.status_became("individual", individual, consents.words.individual_active)

    # The passcode it created is the one that identifies the individual from now on.
    history = consents.action("payment_history")
    enrolled = await consents.data.subject(history.subject, enrolled=(individual, passcode))
    approval = await consents.start(page, history, enrolled)
    with checks.proving("PAGE-15"):
        await approval.flow.approve(by="passcode")
    await approval.landing.wait("PAGE-15")


@pytest.mark.requirement("PAGE-15")
async def test_enrolment_refuses_a_passcode_that_is_not_six_digits(
    consents: Consents, page: Page, hosted: Hosted
) -> None:
    """Enrolment refuses a passcode that is not 6 digits"""
    action = consents.action("onboarding")
    started = await consents.start(page, action, await consents.subject(action))
    await started.flow.confirm()
    create = hosted(CreatePasscodePage, page)
    await started.flow.reach(create, "PAGE-15")
    await started.flow.refusal(create, create.create("12ab"), "PAGE-15",
                               "a passcode that is not 6 digits must be refused")
