"""Consent lifecycle: expiry, lock-out, single-use tokens, access windows (AFTER-5/6,
PAGE-7/8/9, INIT-7)."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from sca_conformance import checks
from sca_conformance.clock import Clock
from sca_conformance.consents import Consents
from sca_conformance.failures import SoftChecks
from sca_conformance.flow import expect_end_state, wrong_code
from sca_conformance.pages import Hosted, LockedOutPage, SummaryPage

pytestmark = [pytest.mark.lifecycle, pytest.mark.asyncio(loop_scope="session")]


@pytest.mark.browser
@pytest.mark.requirement("AFTER-6", "PAGE-8", "AFTER-4")
async def test_a_pending_consent_past_its_expiry_can_no_longer_be_approved(
    consents: Consents, page: Page, clock: Clock, should: SoftChecks, hosted: Hosted
) -> None:
    """A pending consent past expires_at cannot be approved; its status becomes expired"""
    action = consents.action("external_payment")
    subject = await consents.subject(action)
    started = await consents.start(page, action, subject)
    await clock.past(started.consent["expires_at"], "consent.expires_at")
    checks.consent_expired(await consents.read(started.consent["id"]))
    await page.reload()
    with checks.proving("PAGE-8"):
        await expect_end_state(
            page, consents.wording, "a consent past its expiry must not open the flow")
    with checks.proving("AFTER-6"):
        await expect(hosted(SummaryPage, page).confirm_button).to_have_count(0)
    refused = await consents.initiate(started.consent["id"])
    checks.expired_consent_refused(refused)
    should(checks.initiation_refused, refused, 410)
    checks.new_consent_after_end(await consents.trigger(action, subject), started.consent["id"])


@pytest.mark.browser
@pytest.mark.requirement("PAGE-8")
async def test_an_expired_method_token_never_leads_to_approval(
    consents: Consents, page: Page, clock: Clock, hosted: Hosted
) -> None:
    """An expired redirect_url token never leads to approval: the page says so"""
    action = consents.action("payment_history")
    subject = await consents.subject(action)
    consent = await consents.pending(action, subject)
    method = await consents.method(consent["id"], consents.receiver.new_return_url())
    await clock.past(method["expires_at"], "method.expires_at")
    with checks.proving("PAGE-8"):
        await page.goto(method["redirect_url"])
        await expect_end_state(
            page, consents.wording, "an expired redirect_url must not open the flow")
        await expect(hosted(SummaryPage, page).confirm_button).to_have_count(0)
    status = await consents.status(consent["id"])
    with checks.proving("PAGE-8"):
        assert status != "approved", f"consent status after an expired link: {status}"


@pytest.mark.browser
@pytest.mark.requirement("PAGE-7", "PAGE-5", "AFTER-4")
async def test_three_wrong_passcodes_fail_the_consent(
    consents: Consents, page: Page, should: SoftChecks, hosted: Hosted
) -> None:
    """Three wrong passcodes: attempts left are shown, then the consent fails"""
    action = consents.action("external_payment")
    subject = await consents.subject(action)
    started = await consents.start(page, action, subject)
    flow = started.flow
    await flow.confirm()
    passcode_page = await flow.another_way()
    wrong = wrong_code(str(subject.passcode))
    for left in (2, 1):  # the attempts left, in the target's wording and markup
        await flow.refusal(passcode_page, passcode_page.enter(wrong), "PAGE-7",
                           "a wrong passcode must be refused with the attempts left", naming=left)
    with checks.proving("PAGE-7"):
        await started.flow.submit(passcode_page.enter(wrong))
        # The target has answered and its page is loaded: it shows the lock-out now.
        locked = hosted(LockedOutPage, page)
        await started.flow.require(locked.heading, "PAGE-7",
                                   f"no {locked.title!r} page after 3 wrong passcodes")
    status = await consents.status(started.consent["id"])
    with checks.proving("PAGE-7"):
        assert status == "failed", f"consent status after 3 wrong passcodes: {status}"
        await locked.close()
    landing = await started.landing.wait("PAGE-7")
    should(checks.landing_names_outcome, landing, started.consent["id"], "failed")
    with checks.proving("PAGE-7"):
        await page.goto(started.method["redirect_url"])
        await expect_end_state(
            page, consents.wording, "a used redirect_url must not open the flow again")
        await expect(hosted(SummaryPage, page).confirm_button).to_have_count(0)
    checks.new_consent_after_end(await consents.trigger(action, subject), started.consent["id"])


@pytest.mark.browser
@pytest.mark.requirement("PAGE-9", "AFTER-1")
async def test_a_used_token_cannot_change_the_outcome(
    consents: Consents, page: Page, hosted: Hosted
) -> None:
    """A token is single use: opening redirect_url again cannot change the outcome"""
    action = consents.action("external_payment")
    subject = await consents.subject(action)
    started = await consents.start(page, action, subject)
    await started.flow.decline()
    await started.landing.wait()
    with checks.proving("PAGE-9"):
        await page.goto(started.method["redirect_url"])
        # Any end state the contract defines: what matters is that nothing can be changed.
        await expect_end_state(
            page, consents.wording, "a used redirect_url must not open the flow again")
        await expect(hosted(SummaryPage, page).confirm_button).to_have_count(0)
    status = await consents.status(started.consent["id"])
    with checks.proving("PAGE-9"):
        assert status == "declined", f"consent status after reopening a used link: {status}"


@pytest.mark.requirement("INIT-7")
@pytest.mark.browser
@pytest.mark.parametrize("outcome", ["approved", "declined"])
async def test_initiating_an_ended_consent_answers_409(
    outcome: str, consents: Consents, page: Page
) -> None:
    """Initiating a consent that is no longer pending answers 409"""
    action = consents.action("payment_history")
    subject = await consents.subject(action)
    started = await consents.start(page, action, subject)
    await (started.flow.approve() if outcome == "approved" else started.flow.decline())
    await started.landing.wait()
    checks.initiation_refused(await consents.initiate(started.consent["id"]), 409)


@pytest.mark.requirement("INIT-7")
async def test_initiating_an_expired_consent_answers_410(consents: Consents, clock: Clock) -> None:
    """Initiating an expired consent answers 410"""
    action = consents.action("card_details")
    consent = await consents.pending(action, await consents.subject(action))
    await clock.past(consent["expires_at"], "consent.expires_at")
    checks.initiation_refused(await consents.initiate(consent["id"]), 410)


@pytest.mark.browser
@pytest.mark.payment_history
@pytest.mark.requirement("AFTER-5")
async def test_payment_history_access_holds_for_its_window_then_ends(
    consents: Consents, page: Page, clock: Clock
) -> None:
    """Payment history access holds for its window (180 days), then reading needs consent"""
    window = clock.lifetimes.history_window_days * 24 * 3600
    session = clock.lifetimes.refresh_token_seconds
    if session is not None and session < window:
        pytest.skip(f"the target's session (refresh token, {session} s) ends long before the "
                    f"{clock.lifetimes.history_window_days}-day window: one session cannot see it")
    action = consents.action("payment_history")
    subject = await consents.subject(action)
    started = await consents.start(page, action, subject)
    await started.flow.approve()
    await started.landing.wait()
    await clock.advance(window - 24 * 3600)
    checks.window_open(await consents.trigger(action, subject))
    await clock.advance(2 * 24 * 3600)
    checks.window_ended(await consents.trigger(action, subject))


@pytest.mark.api
@pytest.mark.requirement("AFTER-2")
async def test_a_new_consent_reads_as_pending(consents: Consents) -> None:
    """GET /consents/{id} returns the consent with its current status"""
    action = consents.action("card_details")
    consent = await consents.pending(action, await consents.subject(action))
    checks.consent_reads(await consents.read(consent["id"]), "pending")
