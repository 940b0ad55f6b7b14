"""Watches one browser page going through a hosted flow: where it is, reaching a step,
settling, a submission answered, a refusal shown, and evidence of what it shows."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from contextlib import suppress
from typing import Any

import allure
import allure_commons
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Locator, Page
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from sca_conformance.config import Timeouts
from sca_conformance.failures import Mismatch, RequirementViolation, hides_in_verdicts, proving
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
    SmsCodePage,
    Submission,
    SummaryPage,
    Wording,
)
from sca_conformance.redact import SecretRegistry

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
  // Headings as titles are compared: in any case (white space is normalised already).
  const headingsNow = now.headings.map((heading) => heading.toLowerCase());
  const headingsBefore = new Set(wanted.before.headings.map((heading) => heading.toLowerCase()));
  const moved = wanted.others.find((title) => headingsNow.includes(title.toLowerCase())
    && !headingsBefore.has(title.toLowerCase()));
  if (moved) return {moved};
  if (!headingsNow.includes(wanted.heading.toLowerCase())) return null;  // in transition
  const before = new Set(wanted.before.lines);
  // A line that only changed its numbers (a countdown ticking) is no refusal, unless it
  // names the number awaited ("Attempts left: 2", then "Attempts left: 1").
  const shape = (line) => line.replace(/[0-9]+/g, '#');
  const shapes = new Set(wanted.before.lines.map(shape));
  const number = wanted.number === null
    ? null : new RegExp('(^|[^0-9])' + wanted.number + '([^0-9]|$)');
  const fresh = now.lines.filter((line) => !before.has(line)
    && line.toLowerCase() !== wanted.heading.toLowerCase()
    && (!shapes.has(shape(line)) || (number !== null && number.test(line))));
  const refusal = fresh.filter((line) => number === null || number.test(line));
  return refusal.length ? {refusal: refusal.join(' | ')} : null;
}"""
"""What a refusal looks like in any markup: new text on the step, the step's heading still
shown; or a heading of another step that was not there before (the refusal never came)."""

STEPS: tuple[type[HostedPage], ...] = (
    SummaryPage, IdentifyPage, PasscodePage, CreatePasscodePage, PhoneCodePage, AddPasskeyPage,
    PinPage, Cvc2Page, ActivatedPage, CardDetailsPage, DonePage, SmsCodePage,
)
"""Every step page of a hosted flow: one of these showing in place of the step awaited
means the target skipped or reordered steps, unless it is INTERPOSED."""

INTERPOSED: tuple[type[HostedPage], ...] = (SmsCodePage,)
"""Steps a target may show inside any action's flow (an SMS confirmation): one showing in
place of the step awaited is completed (`complete`), then that step is awaited again."""


SETTLE_GRACE = 1.0
"""Seconds a shown page that has finished loading and making requests gets to show a
control (a script that renders it on a timer), counted from the later of the last thing the
page loaded (on its own clock) and the flow's last action on it (a click, typing)."""

QUIET_FOR = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const ends = performance.getEntriesByType('resource').map((entry) => entry.responseEnd);
  return (performance.now() - Math.max(nav ? nav.loadEventEnd : 0, ...ends)) / 1000;
}"""
"""Seconds since the page last loaded anything (its document, a resource, a fetch), read
from its own performance timeline."""


def reporting() -> bool:
    """Whether an Allure results folder is being written in this run."""
    return any(
        type(plugin).__name__ == "AllureFileLogger"
        for plugin in allure_commons.plugin_manager.get_plugins()
    )


class PageWatch:
    """Where one browser page is in a hosted flow, and waits attributed to requirements.

    Every wait ends as soon as the page shows the step, shows an end state the contract
    defines, or the browser leaves the hosted pages: the long timeout is only for a page
    that shows nothing."""

    def __init__(
        self, page: Page, wording: Wording, secrets: SecretRegistry, *,
        timeouts: Timeouts | None = None, guard: Guard | None = None,
    ) -> None:
        self.page = page
        self.wording = wording  # the target's: every page object of this flow reads it
        self.secrets = secrets
        self.timeouts = timeouts or Timeouts()
        self.guard = guard
        self.reached: str | None = None  # the title of the step last reached
        self.seen: Locator | None = None  # a control just seen shown (sent_itself's look)
        self.acted = time.monotonic()  # when the flow last acted on the page (`touched`)

    async def screenshot(self, name: str, mask: list[Locator] | None = None) -> None:
        """Evidence of the page as the individual saw it, secrets masked: the given
        locators and any element showing a secret this test knows."""
        if not reporting():
            return  # no report to put it in: a plain local run spends no time on pixels
        image = await masked_screenshot(self.page, self.secrets, mask or [])
        allure.attach(image, name=name, attachment_type=allure.attachment_type.PNG)

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
        the page settles on another step than `target` (a skipped or reordered step). An
        INTERPOSED step shown instead is completed (once), then `target` awaited again."""
        completed: set[str] = set()
        while (shown := await self._reach(target, requirement_id, completed)) is not None:
            completed.add(shown)
        self.reached = target.title

    async def _reach(self, target: HostedPage, requirement_id: str,
                     completed: set[str]) -> str | None:
        """`reach`'s wait: None once `target` shows, or the title of an INTERPOSED step
        shown instead and completed meanwhile (not one in `completed`)."""
        ends = EndStates(self.page, self.wording).any
        expected = target.heading.or_(ends)
        anything = expected
        for other in self.other_steps(target):
            anything = anything.or_(other.heading)
        seconds = self.timeouts.page_seconds
        with proving(requirement_id):  # the browser failing while it waits, too
            if await target.heading.first.is_visible() and not self.left():
                return None  # shown already, on the hosted pages: one look
            if not await self.appears(anything, seconds):
                raise RequirementViolation(requirement_id, Mismatch(
                    "the hosted page", f"{target.title!r} within {seconds:g} s",
                    await self.where()))
            if await target.heading.first.is_visible():
                return None
            for step in self.other_steps(target):
                if (isinstance(step, INTERPOSED) and step.title not in completed
                        and await step.heading.first.is_visible()
                        and await self.complete(step, requirement_id)):
                    return step.title
            await self._instead(target, expected, requirement_id)
        return None

    def left(self) -> bool:
        """Whether the browser has left the hosted pages (the wait below then says so)."""
        return self.guard is not None and self.guard.departure() is not None

    async def complete(self, step: HostedPage, requirement_id: str) -> bool:
        """Completes `step`, an INTERPOSED step shown where another was awaited (which
        `requirement_id` needs); False: this watch cannot (the step then counts as shown
        instead of the one awaited). A flow that can, overrides it."""
        return False

    async def _instead(self, target: HostedPage, expected: Locator, requirement_id: str) -> None:
        """Another step or an end state shows in place of `target`: a page in transition
        gets the control wait to show `target` still; a page that stays on the other step
        has skipped this one."""
        if not await self.appears(expected, self.timeouts.control_seconds):
            raise RequirementViolation(requirement_id, Mismatch(
                "the hosted page", repr(target.title),
                f"another step instead: {await self.where()}",
            ))
        if not await target.heading.first.is_visible():
            raise RequirementViolation(requirement_id, Mismatch(
                "the hosted page", repr(target.title), f"the end state {await self.where()}"
            ))

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
        self.touched()
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
                f"loaded, no request for 0.5 s, and {SETTLE_GRACE:g} s since it last loaded "
                "anything or was acted on; the page shows "
                f"{await self.where()})"
            ))

    async def shows(self, control: Locator) -> bool:
        """Whether `control` shows on the page already shown, waiting at most
        `timeouts.control_seconds`, and no longer than it takes the page to settle (`settled`;
        a page that keeps making requests gets the whole control wait)."""
        if control is self.seen:  # seen shown a moment ago: not looked for again
            self.seen = None
            return True
        if await control.first.is_visible():  # shown already: nothing to wait for
            return True
        seconds = self.timeouts.control_seconds
        showing, _ = await race(
            control.first.wait_for(state="visible", timeout=seconds * 1000),
            self.settled(seconds),
        )
        if showing.done() and not showing.cancelled() and showing.exception() is None:
            return True
        return await control.first.is_visible()  # settled first: one last look

    async def sent_itself(self, submission: Submission, control: Locator) -> bool:
        """Whether the step just filled sent itself (`submission` saw a POST or another
        document) before `control` showed and before the page settled: then nothing is to be
        pressed. A step that neither sends itself nor shows `control` gets it pressed, and
        fails there as a missing control does."""
        if submission.sent:
            return True
        if await control.first.is_visible():
            self.seen = None if submission.sent else control
            return submission.sent
        seconds = self.timeouts.control_seconds
        await race(submission.seen.wait(),
                   control.first.wait_for(state="visible", timeout=seconds * 1000),
                   self.settled(seconds))
        return submission.sent

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
        """Returns once the page has loaded, made no request for 0.5 s, and SETTLE_GRACE has
        passed since the later of the last thing it loaded (on its own clock) and the flow's
        last action on it: a timer a script started then has had its second. A page still
        busy after `seconds` never counts as settled."""
        try:
            await self.page.wait_for_load_state("networkidle", timeout=seconds * 1000)
        except PlaywrightError:
            await asyncio.sleep(seconds)  # never idle: the whole control wait
            return
        loaded = 0.0  # unknown (a new document meanwhile): the whole grace
        with suppress(PlaywrightError):
            loaded = float(await self.page.evaluate(QUIET_FOR))
        quiet = min(loaded, time.monotonic() - self.acted)
        await asyncio.sleep(SETTLE_GRACE - min(max(quiet, 0.0), SETTLE_GRACE))

    def touched(self) -> None:
        """The flow has just acted on the page (clicked, typed): a script may start a timer
        now, and the settle grace counts from here."""
        self.acted = time.monotonic()


def _replaced(error: PlaywrightError) -> bool:
    """Whether `error` says the page's document was replaced while a script looked at it."""
    return "context was destroyed" in error.message or "navigat" in error.message
