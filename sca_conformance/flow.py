"""Drives the hosted pages of one consent through the steps its action describes.

Every step reaches its page (`PageWatch`, in `watch.py`), then fills and presses through one
pair of methods, `fill` and `press`: a flow that enters things another way (the keyboard)
overrides those two. Every step takes the requirement it proves as its argument (by default
the contract's own for that step), so a test can run the same step under another one."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import allure
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Locator, Page, Response, expect

from sca_conformance.catalog import Action
from sca_conformance.client import ApiClient
from sca_conformance.config import Profile, Timeouts
from sca_conformance.data import Subject, digits, sms_code
from sca_conformance.failures import Mismatch, hides_in_verdicts, proving
from sca_conformance.landing import Guard
from sca_conformance.pages import (
    ActivatedPage,
    AddPasskeyPage,
    CardDetailsPage,
    CreatePasscodePage,
    Cvc2Page,
    EndStates,
    HostedPage,
    IdentifyPage,
    PasscodePage,
    PhoneCodePage,
    PinPage,
    SmsCodePage,
    Submission,
    SummaryPage,
    Wording,
)
from sca_conformance.watch import PageWatch

__tracebackhide__ = hides_in_verdicts


class HostedFlow(PageWatch):
    """One browser page going through one consent's hosted pages, step by step.

    Every step runs under the requirement it depends on; `manner`, said after each step's
    title in the report, names how this flow fills and presses (nothing: the pointer)."""

    manner = ""

    def __init__(
        self, page: Page, action: Action, subject: Subject, api: ApiClient,
        wording: Wording, *, timeouts: Timeouts | None = None, guard: Guard | None = None,
        profile: Profile | None = None,
    ) -> None:
        super().__init__(page, wording, api.secrets, timeouts=timeouts, guard=guard)
        self.profile = profile  # where its test data comes from (the SMS code: [data])
        self.action = action
        self.subject = subject
        self.api = api
        self.card_details: dict[str, str] = {}
        self.pin: str | None = None

    @contextmanager
    def step(self, title: str) -> Iterator[None]:
        with allure.step(self.api.secrets.text(title + self.manner)):
            yield

    # The one pair every step fills and presses through ----------------------------------

    async def fill(self, step: HostedPage, key: str, value: str, requirement_id: str) -> None:
        """Types `value` into the field `key` of `step` (reached, as `requirement_id` needs),
        however it is named (per-digit boxes: one character each)."""
        with proving(requirement_id):
            await (await step.find(key)).fill(value)
        self.touched()

    async def send(self, step: HostedPage, entries: Sequence[tuple[str, str]], control: Locator,
                   requirement_id: str, what: str) -> None:
        """Fills `entries` (a field's key, its value) into `step`, then presses `control`,
        unless the step sends itself once they are in (no Continue: a POST or another
        document is the evidence, watched from before the first field is filled). A step
        that does neither fails `requirement_id` as a missing control does (`what`)."""
        with Submission(self.page) as submission:
            for key, value in entries:
                await self.fill(step, key, value, requirement_id)
            if not await self.sent_itself(submission, control):
                await self.press(control, requirement_id, what)

    async def press(self, control: Locator, requirement_id: str, what: str) -> None:
        """Clicks a control the requirement needs, on a page already shown, once the page's
        own scripts have run (a click before its handler is attached does nothing); `what`:
        what the failure says when the control never shows."""
        await self.require(control, requirement_id, what)
        with proving(requirement_id):
            await self.page.wait_for_load_state("domcontentloaded")
            await control.click()
        self.touched()

    # Whole flows ---------------------------------------------------------------------

    async def open(self, redirect_url: str, requirement_id: str = "PAGE-1") -> Response | None:
        with self.step("Open redirect_url in the browser"), proving(requirement_id):
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

    # The summary and identification, each part a step of its own -----------------------

    async def summary(self, requirement_id: str = "PAGE-1") -> SummaryPage:
        """The summary, reached: from here on the browser is on the hosted pages."""
        summary = SummaryPage(self.page, self.wording)
        await self.reach(summary, requirement_id)
        if self.guard is not None:
            self.guard.launched()  # the origins that led here are the hosted pages'
        await self.screenshot("Summary")
        return summary

    async def press_confirm(self, requirement_id: str = "PAGE-4") -> None:
        """Confirm, on the summary already reached."""
        summary = SummaryPage(self.page, self.wording)
        await self.press(summary.confirm_button, requirement_id,
                         f"the summary page has no {summary.texts['confirm']!r} button")

    async def press_decline(self, requirement_id: str = "PAGE-6") -> None:
        """Decline, on the summary already reached."""
        summary = SummaryPage(self.page, self.wording)
        await self.press(summary.decline_button, requirement_id,
                         f"the summary page has no {summary.texts['decline']!r} button")

    async def confirm(self, requirement_id: str | None = None) -> None:
        """The summary (PAGE-1), Confirm (PAGE-4): both `requirement_id`'s when given."""
        with self.step(f"Summary: {self.action.name}; Confirm"):
            await self.summary(requirement_id or "PAGE-1")
            await self.press_confirm(requirement_id or "PAGE-4")

    async def decline(self, requirement_id: str | None = None) -> None:
        """The summary (PAGE-1), Decline (PAGE-6): both `requirement_id`'s when given."""
        with self.step(f"Summary: {self.action.name}; Decline"):
            await self.summary(requirement_id or "PAGE-1")
            await self.press_decline(requirement_id or "PAGE-6")

    async def identification(self, requirement_id: str = "PAGE-3") -> IdentifyPage:
        """The identification page, reached."""
        identify = IdentifyPage(self.page, self.wording)
        await self.reach(identify, requirement_id)
        return identify

    async def press_another_way(self, requirement_id: str = "PAGE-3") -> None:
        """'Try another way', on the identification page already reached."""
        await self.press(IdentifyPage(self.page, self.wording).another_way_button,
                         requirement_id,
                         "the identification page offers no other way than a passkey")

    async def identify(self, by: str, requirement_id: str = "PAGE-3") -> None:
        with self.step(f"Identify yourself: {by}"):
            identify = await self.identification(requirement_id)
            await self.screenshot("Identify yourself")
            if by == "passkey":
                await self.press(identify.use_passkey_button, requirement_id,
                                 "the identification page offers no passkey")
                return
            await self.press_another_way(requirement_id)
        await self.enter_passcode(self.subject.passcode or "", requirement_id)

    async def another_way(self, requirement_id: str = "PAGE-3") -> PasscodePage:
        """On the identification page (reached, as `requirement_id` needs), 'Try another
        way': its passcode step, reached."""
        await self.identification(requirement_id)
        await self.press_another_way()
        return await self.passcode_step()

    async def passcode_step(self, requirement_id: str = "PAGE-3") -> PasscodePage:
        """The passcode step, reached (after 'Try another way')."""
        page = PasscodePage(self.page, self.wording)
        await self.reach(page, requirement_id)
        return page

    async def enter_passcode(self, passcode: str, requirement_id: str = "PAGE-3") -> None:
        with self.step("Enter the passcode"):
            page = await self.passcode_step(requirement_id)
            await self.screenshot("Enter your passcode")
            await self.send(page, [("passcode", passcode)], page.continue_button, requirement_id,
                            f"the passcode page has no {page.texts['continue']!r} button")

    # Steps named in the catalog --------------------------------------------------------

    async def create_passcode(self, requirement_id: str = "PAGE-15") -> None:
        passcode = digits(6)
        self.api.secrets.add(passcode)
        self.subject.passcode = passcode
        page = CreatePasscodePage(self.page, self.wording)
        with self.step("Create your passcode"):
            await self.reach(page, requirement_id)
            await self.screenshot("Create your passcode")
            await self.send(page, [("passcode", passcode), ("repeat", passcode)],
                            page.continue_button, requirement_id,
                            f"the passcode step has no {page.texts['continue']!r} button")

    async def confirm_phone(self, requirement_id: str = "PAGE-15") -> None:
        with self.step("Confirm your phone number with the SMS code"):
            await self.texted_code(PhoneCodePage(self.page, self.wording), "Confirm your phone"
                                   " number", requirement_id, "the phone step")

    async def confirm_sms(self, requirement_id: str) -> None:
        """'Confirm with SMS code', shown inside the action's flow where another step was
        awaited (which `requirement_id` needs): completed with the texted code."""
        with self.step("Confirm with SMS code"):
            await self.texted_code(SmsCodePage(self.page, self.wording), "Confirm with SMS code",
                                   requirement_id, "the SMS step")

    async def texted_code(self, page: PhoneCodePage | SmsCodePage, picture: str,
                          requirement_id: str, what: str) -> None:
        """A step asking for the code the target texted: reached, then sent with the code."""
        await self.reach(page, requirement_id)
        code = await self.sms_code()  # first: a code the page shows is masked in its picture
        await self.screenshot(picture)
        await self.send(page, [("code", code)], page.confirm_button, requirement_id,
                        f"{what} has no {page.texts['confirm']!r} button")

    async def complete(self, step: HostedPage, requirement_id: str) -> bool:
        if isinstance(step, SmsCodePage):
            await self.confirm_sms(requirement_id)
            return True
        return False

    async def sms_code(self) -> str:
        """The one-time code the target texted, from the first source the profile declares
        (its SMS simulation, the code the hosted page shows, a fixed staging code)."""
        phone = str(self.subject.individual.get("phone_number", ""))
        return await sms_code(self.api, self.page, phone, self.profile)

    async def skip_passkey(self, requirement_id: str = "PAGE-15") -> None:
        page = AddPasskeyPage(self.page, self.wording)
        with self.step("Add a passkey: Skip"):
            await self.reach(page, requirement_id)
            await self.press(page.skip_button, requirement_id,
                             "the passkey step cannot be skipped (no Skip button)")

    async def add_passkey(self, requirement_id: str = "PAGE-15") -> None:
        page = AddPasskeyPage(self.page, self.wording)
        with self.step("Add a passkey: Add passkey"):
            await self.reach(page, requirement_id)
            await self.screenshot("Add a passkey")
            await self.press(page.add_button, requirement_id, "the enrolment offers no passkey")

    async def read_card_details(self, requirement_id: str = "PAGE-14") -> None:
        page = CardDetailsPage(self.page, self.wording)
        with self.step("Card details"), proving(requirement_id):
            await self.reach(page, requirement_id)
            await expect(page.number).to_be_visible(timeout=self.timeouts.control_seconds * 1000)
            for name in ("holder", "number", "valid_thru", "cvc"):
                self.card_details[name] = await page.read(name)  # without its label, if any
            self.api.secrets.add(self.card_details["number"], self.card_details["cvc"])
            await self.screenshot("Card details", mask=page.secrets)

    async def close(self, requirement_id: str | None = None) -> None:
        """Close, on the card's details (PAGE-14) or its activation (PAGE-13)."""
        details = self.action.name == "card_details"
        page = (CardDetailsPage if details else ActivatedPage)(self.page, self.wording)
        with self.step("Close"):
            await self.press(page.close_button,
                             requirement_id or ("PAGE-14" if details else "PAGE-13"),
                             f"the {page.title!r} page has no {page.texts['close']!r} button")

    async def set_pin(self, requirement_id: str = "PAGE-13") -> None:
        self.pin = digits(4)
        self.api.secrets.add(self.pin)
        page = PinPage(self.page, self.wording)
        with self.step("Set PIN code"):
            await self.reach(page, requirement_id)
            await self.screenshot("Set PIN code")
            await self.send(page, [("pin", self.pin)], page.continue_button, requirement_id,
                            f"the PIN step has no {page.texts['continue']!r} button")

    async def enter_cvc2(self, cvc2: str | None = None, requirement_id: str = "PAGE-13") -> None:
        page = Cvc2Page(self.page, self.wording)
        with self.step("Card activation: CVC2"):
            await self.reach(page, requirement_id)
            await self.screenshot("Card activation")
            await self.send(page, [("cvc2", cvc2 or str(self.subject.values["cvc2"]))],
                            page.activate_button, requirement_id,
                            f"the CVC2 step has no {page.texts['activate']!r} button")
        if cvc2 is None:
            with self.step("Your card is now active"):
                await self.reach(ActivatedPage(self.page, self.wording), requirement_id)
                await self.screenshot("Card active")


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

