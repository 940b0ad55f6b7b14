"""Drives the hosted pages of one consent through the steps its action describes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

import allure
import allure_commons
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Locator, Page, Response, expect
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from sca_conformance.catalog import Action
from sca_conformance.checks import hides_in_verdicts, proving
from sca_conformance.client import ApiClient
from sca_conformance.config import Profile, Timeouts
from sca_conformance.data import Subject, digits, sms_code
from sca_conformance.failures import Mismatch, RequirementViolation
from sca_conformance.landing import Guard, first_of, race
from sca_conformance.masking import masked_screenshot
from sca_conformance.pages import (
    ActivatedPage,
    AddPasskeyPage,
    CardDetailsPage,
    CreatePasscodePage,
    Cvc2Page,
    DonePage,
    EndStates,
    HostedPage,
    IdentifyPage,
    PasscodePage,
    PhoneCodePage,
    PinPage,
    SummaryPage,
    Wording,
)

__tracebackhide__ = hides_in_verdicts

PAGE_TEXT = r"""() => {
  const lines = [], headings = [];
  const norm = (text) => (text || '').replace(/\s+/g, ' ').trim();
  const visible = (element) =>
    element.checkVisibility({opacityProperty: true, visibilityProperty: true});
  const visit = (root) => {
    for (const element of root.querySelectorAll('*')) {
      if (element.shadowRoot) visit(element.shadowRoot);
      if (['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE'].includes(element.tagName)) continue;
      if (!visible(element)) continue;
      if (/^H[1-6]$/.test(element.tagName) || element.getAttribute('role') === 'heading') {
        headings.push(norm(element.getAttribute('aria-label') || element.textContent));
      }
      const own = [...element.childNodes].some(
        (node) => node.nodeType === Node.TEXT_NODE && node.textContent.trim());
      const text = own ? norm(element.textContent) : '';
      if (text) lines.push(text);
    }
  };
  visit(document);
  return {lines, headings};
}"""
"""Every visible text on the page, element by element (as written, not as CSS shows it),
and every visible heading, across open shadow roots."""

REFUSAL = """(wanted) => {
  const now = (""" + PAGE_TEXT + """)();
  const headingsBefore = new Set(wanted.before.headings);
  const moved = wanted.others.find(
    (title) => now.headings.includes(title) && !headingsBefore.has(title));
  if (moved) return {moved};
  if (!now.headings.includes(wanted.heading)) return null;  // in transition
  const before = new Set(wanted.before.lines);
  // A line that only changed its numbers (a countdown ticking) is no refusal, unless it
  // names the number awaited ("Attempts left: 2", then "Attempts left: 1").
  const shape = (line) => line.replace(/[0-9]+/g, '#');
  const shapes = new Set(wanted.before.lines.map(shape));
  const number = wanted.number === null
    ? null : new RegExp('(^|[^0-9])' + wanted.number + '([^0-9]|$)');
  const fresh = now.lines.filter((line) => !before.has(line) && line !== wanted.heading
    && (!shapes.has(shape(line)) || (number !== null && number.test(line))));
  const refusal = fresh.filter((line) => number === null || number.test(line));
  return refusal.length ? {refusal: refusal.join(' | ')} : null;
}"""
"""What a refusal looks like in any markup: new text on the step, the step's heading still
shown; or a heading of another step that was not there before (the refusal never came)."""

STEPS: tuple[type[HostedPage], ...] = (
    SummaryPage, IdentifyPage, PasscodePage, CreatePasscodePage, PhoneCodePage, AddPasskeyPage,
    PinPage, Cvc2Page, ActivatedPage, CardDetailsPage, DonePage,
)
"""Every step page of a hosted flow: one of these showing in place of the step awaited
means the target skipped or reordered steps."""


SETTLE_GRACE = 1.0
"""Seconds a shown page that has finished loading and making requests still gets to show
a control (a script that renders it on a timer)."""


def reporting() -> bool:
    """Whether an Allure results folder is being written in this run."""
    return any(
        type(plugin).__name__ == "AllureFileLogger"
        for plugin in allure_commons.plugin_manager.get_plugins()
    )


class HostedFlow:
    """One browser page going through one consent's hosted pages.

    Every step runs under the requirement it depends on, and every wait ends as soon as
    the page shows the step, shows an end state the contract defines, or the browser
    leaves the hosted pages: the long timeout is only for a page that shows nothing."""

    def __init__(
        self, page: Page, action: Action, subject: Subject, api: ApiClient,
        wording: Wording, *, timeouts: Timeouts | None = None, guard: Guard | None = None,
        profile: Profile | None = None,
    ) -> None:
        self.page = page
        self.profile = profile  # where its test data comes from (the SMS code: [data])
        self.wording = wording  # the target's: every page object of this flow reads it
        self.action = action
        self.subject = subject
        self.api = api
        self.timeouts = timeouts or Timeouts()
        self.guard = guard
        self.card_details: dict[str, str] = {}
        self.pin: str | None = None
        self.reached: str | None = None  # the title of the step last reached

    @contextmanager
    def step(self, title: str) -> Iterator[None]:
        with allure.step(self.api.secrets.text(title)):
            yield

    async def screenshot(self, name: str, mask: list[Locator] | None = None) -> None:
        """Evidence of the page as the individual saw it, secrets masked: the given
        locators and any element showing a secret this test knows."""
        if not reporting():
            return  # no report to put it in: a plain local run spends no time on pixels
        image = await masked_screenshot(self.page, self.api.secrets, mask or [])
        allure.attach(image, name=name, attachment_type=allure.attachment_type.PNG)

    # Waiting, attributed ---------------------------------------------------------------

    async def where(self) -> str:
        """What the page shows now, for a failure message."""
        try:
            headings = await self.page.get_by_role("heading").all_inner_texts()
        except PlaywrightError:
            headings = []
        shown = ", ".join(repr(" ".join(h.split())) for h in headings[:3]) or "no heading"
        return f"{shown} at {self.page.url}"

    async def reach(self, target: HostedPage, requirement_id: str) -> None:
        """Waits for `target` (its heading); fails under `requirement_id` the moment the page
        shows an end state instead, PAGE-4 the moment the browser leaves, and soon after
        the page settles on another step than `target` (a skipped or reordered step)."""
        ends = EndStates(self.page, self.wording).any
        expected = target.heading.or_(ends)
        anything = expected
        for other in self.other_steps(target):
            anything = anything.or_(other.heading)
        seconds = self.timeouts.page_seconds
        with proving(requirement_id):  # the browser failing while it waits, too
            if not await self.appears(anything, seconds):
                raise RequirementViolation(requirement_id, Mismatch(
                    "the hosted page", f"{target.title!r} within {seconds:g} s",
                    await self.where()))
            # Another step showing: a page in transition gets the control wait to show
            # `target` still; a page that stays on the other step has skipped this one.
            if not await self.appears(expected, self.timeouts.control_seconds):
                raise RequirementViolation(requirement_id, Mismatch(
                    "the hosted page", repr(target.title),
                    f"another step instead: {await self.where()}",
                ))
            if not await target.heading.first.is_visible():
                raise RequirementViolation(requirement_id, Mismatch(
                    "the hosted page", repr(target.title), f"the end state {await self.where()}"
                ))
        self.reached = target.title

    async def _refusal_shown(self, wanted: dict[str, Any], deadline: float) -> Any:
        """REFUSAL's answer once it has one, or None when the deadline passes; a page
        replaced meanwhile (a form post) is looked at again."""
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            try:
                found = await first_of(self.page.wait_for_function(
                    REFUSAL, arg=wanted, timeout=max(remaining, 0.1) * 1000, polling=100,
                ), self.guard, "PAGE-4")
                return await found.json_value()
            except PlaywrightTimeoutError:
                return None
            except PlaywrightError as error:
                if remaining <= 0 or not _replaced(error):
                    raise
                await self.page.wait_for_load_state("domcontentloaded")

    async def _evaluate(self, script: str, arg: Any) -> Any:
        """`script` on the page as it is now (None while a new document replaces it)."""
        try:
            return await self.page.evaluate(script, arg)
        except PlaywrightError as error:
            if not _replaced(error):
                raise
            return None

    async def appears(self, shown: Locator, seconds: float) -> bool:
        """Whether `shown` becomes visible within `seconds`; PAGE-4 fails at once if the
        browser leaves the hosted pages meanwhile."""
        try:
            await first_of(shown.first.wait_for(state="visible", timeout=seconds * 1000),
                           self.guard, "PAGE-4")
        except PlaywrightTimeoutError:
            return False
        return True

    def other_steps(self, target: HostedPage) -> list[HostedPage]:
        """The hosted flow's other steps, by their headings in the target's wording, but
        not the step last reached (the one being left, until the next one loads)."""
        leaving = {target.title, self.reached}
        return [other for other in (kind(self.page, self.wording) for kind in STEPS)
                if other.title not in leaving]

    async def press(self, button: Locator, requirement_id: str, what: str) -> None:
        """Clicks a control the requirement needs, on a page already shown, once the page's
        own scripts have run (a click before its handler is attached does nothing)."""
        await self.require(button, requirement_id, what)
        with proving(requirement_id):
            await self.page.wait_for_load_state("domcontentloaded")
            await button.click()

    async def refusal(
        self, step: HostedPage, act: Awaitable[None], requirement_id: str, what: str,
        *, naming: int | None = None,
    ) -> str:
        """Runs `act` (a submission the target must refuse) on `step`, already reached, and
        returns the refusal as shown: text the step did not show before, with the step
        still there, however the page shows it (an alert, a status or live region, an error
        tied to its field, or plain text). `naming`: a number the refusal must contain (the
        attempts left). Fails `requirement_id` when the page moves to another step or shows
        no refusal within the page wait, and when the submission itself cannot be made (a
        field or control that never shows): every wait of it is the requirement's."""
        with proving(requirement_id):
            return await self._refusal(step, act, requirement_id, what, naming)

    async def _refusal(self, step: HostedPage, act: Awaitable[None], requirement_id: str,
                       what: str, naming: int | None) -> str:
        with suppress(PlaywrightTimeoutError):  # the step as it stands, its requests done
            await self.page.wait_for_load_state(
                "networkidle", timeout=self.timeouts.control_seconds * 1000)
        before = await self.page.evaluate(PAGE_TEXT)
        await act
        others = [other.title for other in self.other_steps(step)]
        others += list(EndStates(self.page, self.wording).titles)
        wanted = {"before": before, "heading": step.title, "others": others,
                  "number": None if naming is None else str(naming)}
        seconds = self.timeouts.page_seconds
        deadline = asyncio.get_running_loop().time() + seconds
        while True:
            answer = await self._refusal_shown(wanted, deadline)
            if answer is None:
                expected = f"a refusal naming {naming}" if naming is not None else "a refusal"
                raise RequirementViolation(requirement_id, Mismatch(
                    what, f"{expected}, the step {step.title!r} kept, within {seconds:g} s",
                    await self.where()))
            if answer.get("moved"):
                break
            # A refusal must stay: "Checking…" on a button, then the next step, is none.
            await self.settled(self.timeouts.control_seconds)
            again = await self._evaluate(REFUSAL, wanted)
            if again is not None:
                answer = again
                break
        if answer.get("moved"):
            raise RequirementViolation(requirement_id, Mismatch(
                what, f"a refusal on {step.title!r}", f"another step instead: {answer['moved']!r}"))
        return str(answer["refusal"])

    async def require(self, control: Locator, requirement_id: str, what: str) -> None:
        """Fails `requirement_id`, saying `what` is missing and what the page shows, when
        the page already shown does not show `control` by the time it has settled."""
        with proving(requirement_id):
            shown = await self.shows(control)
        if not shown:
            seconds = self.timeouts.control_seconds
            raise RequirementViolation(requirement_id, AssertionError(
                f"{what} (expected it within {seconds:g} s, or before the page settled: "
                f"loaded, no request for 0.5 s, then {SETTLE_GRACE:g} s more; the page shows "
                f"{await self.where()})"
            ))

    async def shows(self, control: Locator) -> bool:
        """Whether `control` shows on the page already shown, waiting at most
        `timeouts.control_seconds`, and no longer than it takes the page to settle: loaded,
        no network request for 0.5 s, then SETTLE_GRACE more (a page that keeps making
        requests gets the whole control wait)."""
        seconds = self.timeouts.control_seconds
        showing, _ = await race(
            control.first.wait_for(state="visible", timeout=seconds * 1000),
            self.settled(seconds),
        )
        if showing.done() and not showing.cancelled() and showing.exception() is None:
            return True
        return await control.first.is_visible()  # settled first: one last look

    async def submit(self, form: Awaitable[None]) -> None:
        """Runs `form` (a step's submission) and returns once the target has answered and
        the page showing its answer is the current one: after a form post, the document
        that replaced the page; after a script's request, the page itself."""
        seconds = self.timeouts.page_seconds
        await self.page.evaluate("() => { window.__scaSubmitted = true; }")
        async with self.page.expect_response(
            lambda answer: answer.request.method == "POST", timeout=seconds * 1000
        ) as answered:
            await form
        if (await answered.value).request.is_navigation_request():
            await self.page.wait_for_function(
                "() => !window.__scaSubmitted && document.readyState !== 'loading'",
                timeout=seconds * 1000,
            )

    async def settled(self, seconds: float) -> None:
        """Returns once the page has loaded, made no request for 0.5 s, and SETTLE_GRACE
        has passed; a page still busy after `seconds` never counts as settled."""
        try:
            await self.page.wait_for_load_state("networkidle", timeout=seconds * 1000)
        except PlaywrightError:
            await asyncio.sleep(seconds)  # never idle: the whole control wait
            return
        await asyncio.sleep(SETTLE_GRACE)

    # Whole flows ---------------------------------------------------------------------

    async def open(self, redirect_url: str) -> Response | None:
        with self.step("Open redirect_url in the browser"), proving("PAGE-1"):
            try:
                return await self.page.goto(redirect_url)
            except PlaywrightError as error:
                raise Mismatch("opening redirect_url", "a hosted page",
                               error.message.splitlines()[0]) from None

    async def approve(self, by: str = "passcode") -> None:
        await self.confirm()
        if self.action.identifies:
            await self.identify(by)
        await self.finish()

    async def finish(self) -> None:
        """The action's own steps after identification (or enrolment), as catalogued."""
        for name in self.action.steps:
            await getattr(self, name)()

    async def summary(self) -> SummaryPage:
        summary = SummaryPage(self.page, self.wording)
        await self.reach(summary, "PAGE-1")
        if self.guard is not None:
            self.guard.launched()  # the origins that led here are the hosted pages'
        await self.screenshot("Summary")
        return summary

    async def confirm(self) -> None:
        with self.step(f"Summary: {self.action.name}; Confirm"):
            summary = await self.summary()
            await self.press(summary.confirm_button, "PAGE-4",
                             f"the summary page has no {summary.texts['confirm']!r} button")

    async def decline(self) -> None:
        with self.step(f"Summary: {self.action.name}; Decline"):
            summary = await self.summary()
            await self.press(summary.decline_button, "PAGE-6",
                             f"the summary page has no {summary.texts['decline']!r} button")

    async def identify(self, by: str) -> None:
        identify = IdentifyPage(self.page, self.wording)
        with self.step(f"Identify yourself: {by}"):
            await self.reach(identify, "PAGE-3")
            await self.screenshot("Identify yourself")
            if by == "passkey":
                await self.press(identify.use_passkey_button, "PAGE-3",
                                 "the identification page offers no passkey")
                return
            await self.press(identify.another_way_button, "PAGE-3",
                             "the identification page offers no other way than a passkey")
        await self.enter_passcode(self.subject.passcode or "")

    async def another_way(self, requirement_id: str = "PAGE-3") -> PasscodePage:
        """On the identification page (reached, as `requirement_id` needs), 'Try another
        way': its passcode step, reached."""
        identify = IdentifyPage(self.page, self.wording)
        await self.reach(identify, requirement_id)
        await self.press(identify.another_way_button, "PAGE-3",
                         "the identification page offers no other way than a passkey")
        return await self.passcode_step()

    async def passcode_step(self) -> PasscodePage:
        """The passcode step, reached (after 'Try another way')."""
        page = PasscodePage(self.page, self.wording)
        await self.reach(page, "PAGE-3")
        return page

    async def enter_passcode(self, passcode: str) -> None:
        with self.step("Enter the passcode"):
            page = await self.passcode_step()
            await self.screenshot("Enter your passcode")
            with proving("PAGE-3"):
                await page.enter(passcode)

    # Steps named in the catalog --------------------------------------------------------

    async def create_passcode(self) -> None:
        passcode = digits(6)
        self.api.secrets.add(passcode)
        self.subject.passcode = passcode
        page = CreatePasscodePage(self.page, self.wording)
        with self.step("Create your passcode"):
            await self.reach(page, "PAGE-15")
            await self.screenshot("Create your passcode")
            with proving("PAGE-15"):
                await page.create(passcode)

    async def confirm_phone(self) -> None:
        page = PhoneCodePage(self.page, self.wording)
        with self.step("Confirm your phone number with the SMS code"):
            await self.reach(page, "PAGE-15")
            code = await self.sms_code()  # first: a code the page shows is masked in its picture
            await self.screenshot("Confirm your phone number")
            with proving("PAGE-15"):
                await page.confirm(code)

    async def sms_code(self) -> str:
        """The one-time code the target texted, from the first source the profile declares
        (its SMS simulation, the code the hosted page shows, a fixed staging code)."""
        return await sms_code(self.api, self.page, self.subject.individual["phone_number"],
                              self.profile)

    async def skip_passkey(self) -> None:
        page = AddPasskeyPage(self.page, self.wording)
        with self.step("Add a passkey: Skip"):
            await self.reach(page, "PAGE-15")
            await self.press(page.control("skip"), "PAGE-15",
                             "the passkey step cannot be skipped (no Skip button)")

    async def add_passkey(self) -> None:
        page = AddPasskeyPage(self.page, self.wording)
        with self.step("Add a passkey: Add passkey"):
            await self.reach(page, "PAGE-15")
            await self.screenshot("Add a passkey")
            await self.press(page.control("add"), "PAGE-15",
                             "the enrolment offers no passkey")

    async def read_card_details(self) -> None:
        page = CardDetailsPage(self.page, self.wording)
        with self.step("Card details"), proving("PAGE-14"):
            await self.reach(page, "PAGE-14")
            await expect(page.number).to_be_visible(timeout=self.timeouts.control_seconds * 1000)
            for name, locator in (("holder", page.holder), ("number", page.number),
                                  ("valid_thru", page.valid_thru), ("cvc", page.cvc)):
                self.card_details[name] = " ".join((await locator.inner_text()).split())
            self.api.secrets.add(self.card_details["number"], self.card_details["cvc"])
            await self.screenshot("Card details", mask=page.secrets)

    async def close(self) -> None:
        details = self.action.name == "card_details"
        kind = CardDetailsPage if details else ActivatedPage
        page: HostedPage = kind(self.page, self.wording)
        with self.step("Close"):
            await self.press(page.control("close"), "PAGE-14" if details else "PAGE-13",
                             f"the {page.title!r} page has no {page.texts['close']!r} button")

    async def set_pin(self) -> None:
        self.pin = digits(4)
        self.api.secrets.add(self.pin)
        page = PinPage(self.page, self.wording)
        with self.step("Set PIN code"):
            await self.reach(page, "PAGE-13")
            await self.screenshot("Set PIN code")
            with proving("PAGE-13"):
                await page.set_pin(self.pin)

    async def enter_cvc2(self, cvc2: str | None = None) -> None:
        page = Cvc2Page(self.page, self.wording)
        with self.step("Card activation: CVC2"):
            await self.reach(page, "PAGE-13")
            await self.screenshot("Card activation")
            with proving("PAGE-13"):
                await page.activate(cvc2 or str(self.subject.values["cvc2"]))
        if cvc2 is None:
            with self.step("Your card is now active"):
                await self.reach(ActivatedPage(self.page, self.wording), "PAGE-13")
                await self.screenshot("Card active")


def _replaced(error: PlaywrightError) -> bool:
    """Whether `error` says the page's document was replaced while a script looked at it."""
    return "context was destroyed" in error.message or "navigat" in error.message


async def expect_first(expected: Locator, instead: Locator, what: str) -> None:
    """Waits until the page shows `expected` or `instead`, whichever comes first, and fails
    at once when it is `instead`: a broken target gets its verdict without the timeout."""
    await expect(expected.or_(instead).first).to_be_visible()
    if not await expected.first.is_visible():
        shown = " ".join((await instead.first.inner_text()).split())[:200]
        raise AssertionError(f"{what}; the page shows {shown!r} instead")


async def expect_end_state(page: Page, wording: Wording, what: str) -> None:
    """The page shows one of the contract's end states (not valid, expired, completed,
    refused, too many attempts: the target's wording decides which), not the summary."""
    await expect_first(EndStates(page, wording).any, SummaryPage(page, wording).heading, what)


def wrong_code(right: str) -> str:
    """A code of the same length that is certainly not the right one."""
    while True:
        candidate = digits(len(right))
        if candidate != right:
            return candidate

