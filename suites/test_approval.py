"""Approve and decline every protected action in the hosted pages, by passcode and by
passkey, and check what follows (PAGE-1..6, AFTER-1..4)."""

from __future__ import annotations

import pytest
from playwright.async_api import Page

from sca_conformance import checks
from sca_conformance.catalog import CATALOG, Action
from sca_conformance.config import Formats
from sca_conformance.consents import Consents, Started
from sca_conformance.data import Subject
from sca_conformance.effects import observe, verify_not_performed, verify_performed
from sca_conformance.failures import SoftChecks
from sca_conformance.flow import HostedFlow
from sca_conformance.pages import SummaryPage
from sca_conformance.passkeys import VirtualAuthenticator

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


async def expect_summary(started: Started, action: Action) -> None:
    flow = started.flow
    summary = await flow.summary()
    # The page is there already: what it lacks is missing once it has settled.
    await flow.require(summary.intro, "PAGE-1",
                       f"the summary does not say {summary.texts['intro']!r}")
    await flow.require(summary.action_title(action.name), "PAGE-1",
                       f"the summary does not name the action {summary.texts[action.name]!r}")
    if started.brand:  # the profile names who the individual identifies to
        await flow.require(summary.brand(started.brand), "PAGE-1",
                           f"the summary does not name {started.brand!r}")


async def expect_dynamic_linking(
    started: Started, action: Action, subject: Subject, formats: Formats
) -> None:
    """PAGE-2: each linked value as the page displays it, compared as the contract means
    it: the amount parsed, the IBAN in electronic form, text with whitespace normalised."""
    summary = SummaryPage(started.flow.page, started.flow.wording)
    values = subject.values
    for key in action.dynamic_linking:
        with checks.proving("PAGE-2"):
            shown = await summary.read(key)
        if key == "amount":
            currency = str((subject.account or {}).get("currency") or "EUR")
            checks.amount_shown(shown, int(values["amount"]), currency, formats.decimal_separator)
        elif key == "iban":
            checks.iban_shown(shown, str(values["payee_iban"]))
        elif key == "card":
            checks.card_shown(shown, str(values["last4"]))
        else:
            checks.text_shown(summary.texts[key], shown, str(values[f"{key}_name"]))


@pytest.mark.any_onboarding_style
@pytest.mark.requirement("PAGE-1", "PAGE-2", "PAGE-3", "PAGE-4", "PAGE-5", "AFTER-1", "AFTER-2")
async def test_approving_by_passcode_lands_on_return_url_and_performs_the_action(
    action: Action, consents: Consents, page: Page, should: SoftChecks
) -> None:
    """Approve by passcode: the browser lands on return_url and the action is performed"""
    subject = await consents.subject(action)
    await consents.prepare_in_browser(page, action, subject)
    before = await observe(consents, action, subject)
    started = await consents.start(page, action, subject)
    await expect_summary(started, action)
    await expect_dynamic_linking(started, action, subject, consents.formats)

    with checks.proving("PAGE-3"):
        await started.flow.approve(by="passcode")
    landing = await started.landing.wait("PAGE-4")
    checks.landed_on_return_url(landing, started.return_url)
    if started.consent_id:  # redirect-style onboarding hands out no consent id
        should(checks.landing_names_outcome, landing, started.consent_id, "approved")
    await verify_performed(consents, action, subject, started.flow, before)
    if started.consent_id:
        should(checks.consent_reads, await consents.read(started.consent_id), "approved")


@pytest.mark.requirement("PAGE-3", "PAGE-4", "AFTER-1")
@pytest.mark.actions("payment_history", "external_payment", "card_details", "card_activation")
@pytest.mark.needs("passkeys", "sms_code")  # enrolling the passkey confirms the phone
async def test_approving_by_passkey_lands_on_return_url_and_performs_the_action(
    action: Action, consents: Consents, page: Page, passkey: VirtualAuthenticator,
) -> None:
    """Approve by passkey (WebAuthn, user verification): lands on return_url, action done"""
    enrolled = await enrol_with_passkey(consents, page)
    subject = await consents.data.subject(action.subject, enrolled=enrolled)
    await consents.prepare_in_browser(page, action, subject)
    before = await observe(consents, action, subject)
    started = await consents.start(page, action, subject)
    flow = started.flow
    await flow.confirm()
    with checks.proving("PAGE-3"):
        await flow.identify(by="passkey")  # no passkey offered: PAGE-3 within the control wait
        await flow.finish()
    landing = await started.landing.wait("PAGE-4")
    checks.landed_on_return_url(landing, started.return_url)
    await verify_performed(consents, action, subject, started.flow, before)


async def enrol_with_passkey(consents: Consents, page: Page) -> tuple[dict[str, object], str]:
    """Onboards a new individual in the browser, enrolling this page's passkey."""
    onboarding = consents.catalog.get("onboarding") or CATALOG["onboarding"]
    subject = await consents.subject(onboarding)
    started = await consents.start(page, onboarding, subject)
    flow: HostedFlow = started.flow
    await flow.confirm()
    await flow.create_passcode()
    await flow.confirm_phone()
    await flow.add_passkey()
    await started.landing.wait("PAGE-15")
    path = consents.path("individual", individual_id=subject.values["individual_id"])
    with checks.preparing(f"GET {path}"):
        individual = (await consents.api.get(path)).json()
        assert isinstance(individual, dict) and individual.get("id"), f"got {individual}"
    return individual, str(subject.passcode)


@pytest.mark.any_onboarding_style
@pytest.mark.requirement("PAGE-6", "PAGE-5", "AFTER-2", "AFTER-4")
async def test_declining_lands_on_return_url_and_nothing_happens(
    action: Action, consents: Consents, page: Page, should: SoftChecks
) -> None:
    """Decline: the browser lands on return_url, the consent is declined, nothing happens"""
    subject = await consents.subject(action)
    before = await observe(consents, action, subject)
    started = await consents.start(page, action, subject)
    await started.flow.decline()
    landing = await started.landing.wait("PAGE-6")
    with checks.proving("PAGE-6"):
        checks.landed_on_return_url(landing, started.return_url)
    if started.consent_id:  # redirect-style onboarding hands out no consent id
        should(checks.landing_names_outcome, landing, started.consent_id, "declined")
        # PAGE-6 (MUST): the consent ended unapproved; its exact word is AFTER-2's (SHOULD).
        checks.consent_ended_unapproved(await consents.status(started.consent_id))
        should(checks.consent_reads, await consents.read(started.consent_id), "declined")
        # (a redirect-style onboarding request answers 200 by design)
        checks.declined_action_not_performed(await consents.trigger(action, subject))
    with checks.proving("PAGE-6"):
        await verify_not_performed(consents, action, subject, before, started.consent_id)
