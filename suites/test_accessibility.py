"""Accessibility of the hosted pages (A11Y-1..4): axe-core on every step, refusal and end
state; the flow completed with the keyboard alone; refusals that reach assistive
technology; pages that declare their language and title and name every field."""

from __future__ import annotations

import pytest
from playwright.async_api import Page

from sca_conformance import checks
from sca_conformance.accessibility_flows import AuditedFlow, KeyboardFlow, audit
from sca_conformance.catalog import Action
from sca_conformance.clock import Clock
from sca_conformance.consents import Consents
from sca_conformance.failures import SoftChecks
from sca_conformance.flow import expect_end_state, wrong_code
from sca_conformance.pages import DonePage, LockedOutPage

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


@pytest.mark.any_onboarding_style
@pytest.mark.requirement("A11Y-1", "A11Y-3", "A11Y-4")
async def test_every_step_and_refusal_is_accessible(
    action: Action, consents: Consents, page: Page, should: SoftChecks
) -> None:
    """Every step and refusal passes axe-core and names itself; each refusal is announced

    Each step reached is scanned by axe-core (WCAG 2.1 A/AA, serious or critical) and must
    declare its language and title and name its fields; each step that refuses a wrong
    input is given one first, and its refusal must reach assistive technology."""
    subject = await consents.subject(action)
    await consents.prepare_in_browser(page, action, subject)
    started = await consents.start(page, action, subject)
    await AuditedFlow(started.flow, should).approve(by="passcode")
    landing = await started.landing.wait("PAGE-4")
    checks.landed_on_return_url(landing, started.return_url)


@pytest.mark.any_onboarding_style
@pytest.mark.requirement("A11Y-2")
async def test_the_flow_can_be_completed_with_the_keyboard_alone(
    action: Action, consents: Consents, page: Page, should: SoftChecks
) -> None:
    """The approval can be completed with the keyboard alone, the focus visible and moved on

    Every control reached by Tab, with the focus visible, activated by Enter or Space; the
    focus on each new step's heading or first field."""
    subject = await consents.subject(action)
    await consents.prepare_in_browser(page, action, subject)  # by pointer: not under test
    started = await consents.start(page, action, subject)
    await KeyboardFlow(started.flow, should).approve(by="passcode")
    landing = await started.landing.wait("PAGE-4")
    checks.landed_on_return_url(landing, started.return_url)


def simple_action(consents: Consents) -> Action:
    """An action that identifies and needs nothing prepared in the browser."""
    for action in consents.catalog.values():
        if action.identifies and not action.browser_preparation and not action.steps:
            return action
    pytest.skip("the target's profile switches off every action without further steps")


ENDS = {
    "approved": "the end page after approval (no return_url)",
    "declined": "the end page after decline (no return_url)",
    "locked": "the end page after three wrong passcodes",
    "expired": "an expired link",
    "not_valid": "an altered link",
    "used": "a link already used",
}


@pytest.mark.requirement("A11Y-1", "A11Y-4")
@pytest.mark.parametrize("end", list(ENDS))
async def test_every_end_state_is_accessible(
    end: str, consents: Consents, page: Page, should: SoftChecks, request: pytest.FixtureRequest
) -> None:
    """Every end state passes axe-core, declares its language and title, names its fields

    Approved and declined (the provider's own end page), locked out, expired, not valid,
    already used."""
    action = simple_action(consents)
    subject = await consents.subject(action)
    flow = consents.flow(page, action, subject)
    if end in ("approved", "declined"):
        consent = await consents.pending(action, subject)
        method = await consents.method(consent["id"], None)  # the provider's own end page
        await flow.open(method["redirect_url"])
        await (flow.approve() if end == "approved" else flow.decline())
        await flow.reach(DonePage(page, consents.wording), "INIT-1")
    elif end == "locked":
        await lock_out(consents, page, action)
    elif end == "expired":
        clock: Clock = request.getfixturevalue("clock")  # skipped without the simulation
        consent = await consents.pending(action, subject)
        method = await consents.method(consent["id"], consents.receiver.new_return_url())
        await clock.past(method["expires_at"], "method.expires_at")
        with checks.proving("PAGE-8"):
            await page.goto(method["redirect_url"])
            await expect_end_state(page, consents.wording, "an expired link must not open")
    elif end == "not_valid":
        consent = await consents.pending(action, subject)
        method = await consents.method(consent["id"], consents.receiver.new_return_url())
        token = method["token"]
        with checks.proving("PAGE-8"):
            await page.goto(method["redirect_url"].replace(token, "x" * len(token)))
            await expect_end_state(page, consents.wording, "an unknown token must not open")
    else:
        started = await consents.start(page, action, subject)
        await started.flow.decline()
        await started.landing.wait("PAGE-6")
        with checks.proving("PAGE-9"):
            await page.goto(started.method["redirect_url"])
            await expect_end_state(page, consents.wording, "a used link must not open again")
    await audit(flow, should, ENDS[end])


async def lock_out(consents: Consents, page: Page, action: Action) -> None:
    """Three wrong passcodes: the page shows the lock-out."""
    subject = await consents.subject(action)
    started = await consents.start(page, action, subject)
    flow = started.flow
    await flow.confirm()
    passcode_page = await flow.another_way()
    wrong = wrong_code(str(subject.passcode))
    consents.api.secrets.add(wrong)
    for left in (2, 1):  # the attempts left, in the target's wording
        await flow.refusal(passcode_page, passcode_page.enter(wrong), "PAGE-7",
                           "a wrong passcode must be refused with the attempts left",
                           naming=left)
    with checks.proving("PAGE-7"):
        await flow.submit(passcode_page.enter(wrong))
    locked = LockedOutPage(page, consents.wording)
    await flow.require(locked.heading, "PAGE-7",
                       f"no {locked.title!r} page after 3 wrong passcodes")
