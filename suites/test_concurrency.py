"""Concurrency: a consent authorises one action exactly once, also when requests and clicks
arrive at the same time, as they do from double clicks, retries and two open tabs
(RACE-1..4)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import BrowserContext, Page, Route, expect
from playwright.async_api import Error as PlaywrightError

from sca_conformance import checks
from sca_conformance.catalog import Action
from sca_conformance.config import Settings
from sca_conformance.consents import Consents, Started
from sca_conformance.data import Subject
from sca_conformance.effects import observe
from sca_conformance.failures import Mismatch, RequirementViolation, SoftChecks
from sca_conformance.flow import HostedFlow
from sca_conformance.landing import NavigationLog
from sca_conformance.pages import EndStates, PasscodePage, SummaryPage, Wording
from sca_conformance.watch import STEPS

pytestmark = [pytest.mark.lifecycle, pytest.mark.browser,
              pytest.mark.asyncio(loop_scope="session")]

AT_ONCE = 8
"""Requests sent at the same moment: more than a small machine's cores, far fewer than a
client's connection pool."""

DECLARE = ("a target that cannot run two flows of one consent at once declares it in its "
           "profile: [hosted] one_session_per_consent = true")


@pytest_asyncio.fixture(loop_scope="session")
async def other_page(
    new_context: Callable[..., Awaitable[BrowserContext]], settings: Settings
) -> Page:
    """A page in a browser context of its own (no cookie shared with `page`): the second
    browser of an individual who opened the same link twice. Closed with the test."""
    context = await new_context()
    other = await context.new_page()
    NavigationLog(other)
    timeouts = settings.profile.timeouts
    other.set_default_timeout(timeouts.control_seconds * 1000)
    other.set_default_navigation_timeout(timeouts.page_seconds * 1000)
    return other


def one_session(consents: Consents) -> bool:
    return consents.one_session_per_consent


@contextmanager
def second_flow(requirement_id: str | None) -> Iterator[None]:
    """The second page's steps, when it races (`requirement_id`, the race's): a step it does
    not get to is the race's violation, saying how a target refusing it declares so."""
    try:
        yield
    except RequirementViolation as violation:
        if requirement_id is None:
            raise
        raise RequirementViolation(requirement_id, AssertionError(
            f"the second page of one consent: {violation.cause} ({DECLARE})")) from violation


async def to_passcode(
    first: HostedFlow, second: HostedFlow | None = None, racing: str = ""
) -> list[PasscodePage]:
    """Summary, Confirm, 'Try another way' in each page, step by step in turn (a target may
    keep one flow per consent and show each page the step it is on): each on the passcode
    step. The first page's steps are its pages' requirements, the second's the race's."""
    steps: tuple[Callable[..., Awaitable[object]], ...] = (
        HostedFlow.summary, HostedFlow.press_confirm, HostedFlow.identification,
        HostedFlow.press_another_way, HostedFlow.passcode_step)
    flows = [(first, None)] + ([(second, racing)] if second is not None else [])
    for step in steps:
        for flow, requirement_id in flows:
            with second_flow(requirement_id):
                await (step(flow, requirement_id) if requirement_id else step(flow))
    return [PasscodePage(flow.page, flow.wording) for flow, _ in flows]


async def refused(second: Started, requirement_id: str) -> None:
    """A consent locked to the browser session that opened it first: the second page ends on
    an end state, when it opens or at the latest once it presses Confirm."""
    flow = second.flow
    summary = SummaryPage(flow.page, flow.wording)
    ends = EndStates(flow.page, flow.wording).any
    with checks.proving(requirement_id):
        await expect(summary.heading.or_(ends).first).to_be_visible()
    if await summary.heading.is_visible():  # shown, not yet refused: its Confirm must be
        await flow.press_confirm(requirement_id)
        shown = ends
        for step in STEPS:
            if step is not SummaryPage:
                shown = shown.or_(step(flow.page, flow.wording).heading)
        with checks.proving(requirement_id):
            await expect(shown.first).to_be_visible()
    with checks.proving(requirement_id):
        if not await ends.first.is_visible():
            raise Mismatch("the second browser session of a consent locked to one session "
                           "(profile: hosted.one_session_per_consent)",
                           "refused with an end state", await flow.where())


async def repeated_twice(
    consents: Consents, action: Action, subject: Subject
) -> tuple[httpx.Response, httpx.Response, Any]:
    """The approved request repeated twice, one after the other, and the balance after."""
    first = await consents.trigger(action, subject)
    again = await consents.trigger(action, subject)
    return first, again, await observe(consents, action, subject)


@asynccontextmanager
async def submitted_twice(page: Page, seconds: float) -> AsyncIterator[None]:
    """The first state-changing request (POST) the page sends in the block reaches the target
    twice at once, as from a double click that the page does not absorb or a retry: a
    browser collapses or sends a second submission as it happens to be timed, so the suite
    sends it itself. The page gets the answer to the second (redirects not followed: the
    browser follows them). The block ends once that answer is given."""
    answered: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def twice(route: Route) -> None:
        if route.request.method != "POST" or answered.done():
            await route.fallback()
            return
        try:
            _, second = await asyncio.gather(*(
                route.fetch(max_redirects=0, timeout=seconds * 1000) for _ in range(2)))
        except PlaywrightError as error:  # the target dropped one of them
            answered.set_exception(AssertionError(
                f"a submission sent twice at once: {error.message.splitlines()[0]}"))
            await route.abort()
            return
        await route.fulfill(response=second)
        answered.set_result(None)

    await page.route("**/*", twice)
    try:
        yield
        with checks.proving("RACE-2"):
            try:
                await asyncio.wait_for(asyncio.shield(answered), seconds)
            except TimeoutError:
                raise AssertionError(f"the page sent no form or request within {seconds:g} s "
                                     "of the press") from None
    finally:
        await page.unroute("**/*", twice)


async def opens_the_flow(page: Page, wording: Wording, redirect_url: str) -> bool:
    """Whether `redirect_url` opens the flow (its summary) rather than an end state."""
    summary = SummaryPage(page, wording)
    with checks.proving("RACE-4"):
        await page.goto(redirect_url)
        await expect(summary.heading.or_(EndStates(page, wording).any).first).to_be_visible()
        shown: bool = await summary.heading.is_visible()
    return shown


@pytest.mark.external_payment
@pytest.mark.requirement("RACE-1")
async def test_repeats_of_an_approved_payment_sent_at_once_pay_once(
    consents: Consents, page: Page
) -> None:
    """Repeats of an approved payment sent at once: one transaction, the balance moved once"""
    action = consents.action("external_payment")
    subject = await consents.subject(action)
    before = await observe(consents, action, subject)
    started = await consents.start(page, action, subject)
    with checks.proving("PAGE-3"):
        await started.flow.approve()
    await started.landing.wait("PAGE-4")
    answers = await asyncio.gather(*(consents.trigger(action, subject) for _ in range(AT_ONCE)))
    for answer in answers:
        checks.no_server_error(answer)
    checks.one_transaction(answers)
    # ... and a repeat made afterwards finds that one transaction too.
    checks.one_transaction([*answers, await consents.trigger(action, subject)])
    checks.paid_once(before, await observe(consents, action, subject),
                     int(subject.values["amount"]), AT_ONCE)


@pytest.mark.external_payment
@pytest.mark.requirement("RACE-2")
async def test_one_redirect_url_approved_in_two_pages_at_once_approves_once(
    consents: Consents, page: Page, other_page: Page, should: SoftChecks
) -> None:
    """One redirect_url approved in two browsers at once: one approval, one payment"""
    action = consents.action("external_payment")
    subject = await consents.subject(action)
    before = await observe(consents, action, subject)
    first = await consents.start(page, action, subject)
    second = await consents.join(other_page, first)
    if one_session(consents):
        await refused(second, "RACE-2")
        with checks.proving("PAGE-3"):
            await first.flow.approve()
        landing = await first.landing.wait("PAGE-4")
    else:
        racing = await to_passcode(first.flow, second.flow, "RACE-2")
        with checks.proving("RACE-2"):
            await asyncio.gather(*(step.enter(str(subject.passcode)) for step in racing))
        ends = [await started.landing.ending("RACE-2") for started in (first, second)]
        landing = checks.one_landing(ends, "where two pages submitting the passcode at once "
                                     "ended")
    checks.landed_on_return_url(landing, first.return_url)
    should(checks.landing_names_outcome, landing, first.consent["id"], "approved")
    checks.approved_once(await consents.status(first.consent["id"]))
    first_repeat, again, after = await repeated_twice(consents, action, subject)
    checks.payment_made_once(first_repeat, again, before, after, int(subject.values["amount"]))


@pytest.mark.external_payment
@pytest.mark.requirement("RACE-2")
async def test_confirm_and_the_passcode_submitted_twice_approve_once(
    consents: Consents, page: Page, should: SoftChecks
) -> None:
    """Confirm and the passcode each submitted twice at once: one approval, one payment"""
    action = consents.action("external_payment")
    subject = await consents.subject(action)
    before = await observe(consents, action, subject)
    started = await consents.start(page, action, subject)
    flow = started.flow
    seconds = consents.timeouts.page_seconds
    async with submitted_twice(page, seconds):
        await flow.confirm()
    await flow.another_way("RACE-2")  # a second Confirm must not end the flow
    async with submitted_twice(page, seconds):
        await flow.enter_passcode(str(subject.passcode))
    # The page shows the answer to one of the two: the landing, or an end state.
    landing = await started.landing.ending("RACE-2")
    checks.approved_once(await consents.status(started.consent["id"]))
    if landing is not None:
        checks.landed_on_return_url(landing, started.return_url)
        should(checks.landing_names_outcome, landing, started.consent["id"], "approved")
    first_repeat, again, after = await repeated_twice(consents, action, subject)
    checks.payment_made_once(first_repeat, again, before, after, int(subject.values["amount"]))


@pytest.mark.external_payment
@pytest.mark.requirement("RACE-3")
async def test_a_decline_and_an_approval_at_once_end_in_one_of_the_two(
    consents: Consents, page: Page, other_page: Page
) -> None:
    """A decline and an approval at once: one outcome, the landing saying which"""
    action = consents.action("external_payment")
    subject = await consents.subject(action)
    before = await observe(consents, action, subject)
    approving = await consents.start(page, action, subject)
    declining = await consents.join(other_page, approving)
    if one_session(consents):
        await refused(declining, "RACE-3")
        with checks.proving("PAGE-3"):
            await approving.flow.approve()
        ends = {"approve": await approving.landing.wait("PAGE-4"), "decline": None}
    else:
        [passcode] = await to_passcode(approving.flow)
        flow = declining.flow
        with second_flow("RACE-3"):
            summary = await flow.summary("RACE-3")
        # On its summary, as the first page was: a summary without Decline is PAGE-6's.
        await flow.require(summary.decline_button, "PAGE-6",
                           f"the summary page has no {summary.texts['decline']!r} button")
        with checks.proving("RACE-3"):
            await other_page.wait_for_load_state("domcontentloaded")
            await asyncio.gather(summary.decline(), passcode.enter(str(subject.passcode)))
        ends = {"approve": await approving.landing.ending("RACE-3"),
                "decline": await declining.landing.ending("RACE-3")}
    status = checks.one_of_the_two(await consents.status(approving.consent["id"]))
    checks.landing_says(ends, status)
    first, again, after = await repeated_twice(consents, action, subject)
    if status == "approved":
        checks.payment_made(first, again, before, after, int(subject.values["amount"]))
    else:
        checks.payment_not_made(first, before, after)


@pytest.mark.payment_history
@pytest.mark.requirement("RACE-4")
async def test_initiations_sent_at_once_leave_exactly_one_working_token(
    consents: Consents, page: Page, should: SoftChecks
) -> None:
    """Initiations of one pending consent sent at once leave exactly one working token"""
    action = consents.action("payment_history")
    consent = await consents.pending(action, await consents.subject(action))
    answers = await asyncio.gather(*(consents.initiate(consent["id"]) for _ in range(AT_ONCE)))
    methods = []
    for answer in answers:  # one may be turned away while another is in progress
        checks.no_server_error(answer)
        if answer.status_code == 200:
            methods.append(checks.method_in_body(answer))
    for method in methods:
        checks.redirect_url_carries_token(method)
    # A target may answer concurrent initiations with one and the same token: one token.
    distinct = dict.fromkeys(method["redirect_url"] for method in methods)
    working = 0
    for redirect_url in distinct:
        working += await opens_the_flow(page, consents.wording, redirect_url)
    should(checks.one_working_token, len(answers), working)
