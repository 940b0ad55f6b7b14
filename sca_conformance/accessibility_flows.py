"""The hosted flows walked for accessibility, in the target's wording and markup.

- `audit(flow, should, where)`: the page as it is now against A11Y-1 (axe-core) and A11Y-4
  (language, title, field names); what it finds goes to the report with a masked
  screenshot.
- `AuditedFlow`: a `HostedFlow` that audits every step it reaches and, on a step that
  refuses a wrong input (passcode, passcodes that differ, SMS code, CVC2), first submits a
  wrong one and checks how the refusal reaches assistive technology (A11Y-3).
- `KeyboardFlow`: a `HostedFlow` that completes the flow with the keyboard alone (A11Y-2):
  on every step it checks where the focus went and walks the page with Tab, then reaches
  each field and control by Tab, types, and activates by Enter (or Space).
"""

from __future__ import annotations

from contextlib import suppress

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Locator

from sca_conformance import accessibility as a11y
from sca_conformance.data import digits
from sca_conformance.failures import SoftChecks, hides_in_verdicts, proving
from sca_conformance.flow import HostedFlow, wrong_code
from sca_conformance.masking import form_masks
from sca_conformance.pages import (
    CardDetailsPage,
    CreatePasscodePage,
    Cvc2Page,
    HostedPage,
    PasscodePage,
    PhoneCodePage,
)

__tracebackhide__ = hides_in_verdicts


async def audit(flow: HostedFlow, should: SoftChecks, where: str) -> None:
    """A11Y-1 and A11Y-4 on the page as it is now; its findings, if any, in the report."""
    page, secrets = flow.page, flow.api.secrets
    await a11y.settle(page, flow.timeouts.control_seconds)
    await a11y.learn_secrets(page, secrets)
    details = CardDetailsPage(page, flow.wording)
    with suppress(PlaywrightError):  # shown card details, before any HTML is written down
        for locator in details.secrets:
            secrets.add(*(text.strip() for text in await locator.all_inner_texts()))
    with flow.step(f"Accessibility: {where}"):
        findings = await a11y.scan(page, secrets)
        facts = await a11y.page_facts(page)
        facts = a11y.PageFacts(facts.lang, facts.title,
                               tuple(secrets.text(name) for name in facts.unnamed))
        before = len(should.violations)
        # A11Y-4's own conditions first: axe-core finds a missing lang or name too, and a
        # failure names the first requirement it meets.
        should(a11y.language_declared, facts, where)
        should(a11y.title_given, facts, where)
        should(a11y.fields_named, facts, where)
        should(a11y.no_serious_violations, findings, where)
        if len(should.violations) > before:
            a11y.attach_findings(findings, facts, where, page.url, secrets)
            await flow.screenshot(f"{where} (inputs and secrets masked)",
                                  mask=form_masks(page, flow.wording))


class AuditedFlow(HostedFlow):
    """Goes on with `flow` (its page already open), auditing each step once as it is
    reached; a step that refuses wrong input gets one first, and its refusal is checked."""

    def __init__(self, flow: HostedFlow, should: SoftChecks) -> None:
        super().__init__(flow.page, flow.action, flow.subject, flow.api, flow.wording,
                         timeouts=flow.timeouts, guard=flow.guard, profile=flow.profile)
        self.reached = flow.reached
        self.should = should
        self.audited: set[str] = set()

    async def reach(self, target: HostedPage, requirement_id: str) -> None:
        await super().reach(target, requirement_id)
        if target.title in self.audited:
            return
        self.audited.add(target.title)
        await audit(self, self.should, repr(target.title))
        refusing = await self._refuse(target)
        if refusing is None:
            return
        refusal, what = refusing
        self.should(a11y.refusal_announced, await a11y.refusal_reach(self.page, refusal), what)
        await audit(self, self.should, f"{target.title!r} refusing {what}")

    async def _refuse(self, step: HostedPage) -> tuple[str, str] | None:
        """Submits a wrong input on `step`, if it is a step that refuses one: the refusal as
        shown, and what was refused."""
        secrets = self.api.secrets
        if isinstance(step, PasscodePage) and self.subject.passcode:
            wrong = wrong_code(self.subject.passcode)
            secrets.add(wrong)
            what = "a wrong passcode"
            return await self.refusal(step, step.enter(wrong), "PAGE-7",
                                      f"{what} must be refused"), what
        if isinstance(step, CreatePasscodePage):
            chosen = digits(6)
            secrets.add(chosen)
            what = "passcodes that differ"
            return await self.refusal(step, step.create(chosen, repeated=wrong_code(chosen)),
                                      "PAGE-15", f"{what} must be refused"), what
        if isinstance(step, PhoneCodePage):
            code = await self.sms_code()
            what = "a wrong SMS code"
            return await self.refusal(step, step.confirm(wrong_code(code)), "PAGE-15",
                                      f"{what} must be refused"), what
        if isinstance(step, Cvc2Page) and self.subject.values.get("cvc2"):
            wrong = wrong_code(str(self.subject.values["cvc2"]))
            secrets.add(wrong)
            what = "a wrong CVC2"
            return await self.refusal(step, step.activate(wrong), "PAGE-13",
                                      f"{what} must be refused"), what
        return None


class KeyboardFlow(HostedFlow):
    """Goes on with `flow` (its page already open) using nothing but the keyboard: Tab to
    each field and control, typing, Enter (or Space). Each step, once reached, is checked:
    where the focus went, what Tab reaches, whether the focus shows (softly, in `should`);
    a field or control the flow needs and cannot reach or activate stops it (A11Y-2). Its
    steps are the flow's own: only how it fills and presses differs."""

    manner = " (keyboard)"

    def __init__(self, flow: HostedFlow, should: SoftChecks) -> None:
        super().__init__(flow.page, flow.action, flow.subject, flow.api, flow.wording,
                         timeouts=flow.timeouts, guard=flow.guard, profile=flow.profile)
        self.reached = flow.reached
        self.should = should
        self.walked: set[str] = set()

    async def reach(self, target: HostedPage, requirement_id: str) -> None:
        await super().reach(target, requirement_id)
        if target.title in self.walked:
            return
        self.walked.add(target.title)
        where = repr(target.title)
        with self.step(f"Keyboard: {target.title}"):
            place = await a11y.focus_place(self.page, target.title,
                                           self.timeouts.control_seconds)
            walk = await a11y.tab_walk(self.page, self.timeouts.control_seconds)
            before = len(self.should.violations)
            self.should(a11y.focus_moved_to_step, place, where)
            self.should(a11y.controls_reached_by_tab, walk, where)
            self.should(a11y.focus_shown, walk, where)
            if len(self.should.violations) > before:
                a11y.attach_keyboard(walk, place, where, self.page.url, self.api.secrets)
                await self.screenshot(f"{where} (inputs and secrets masked)",
                                      mask=form_masks(self.page, self.wording))

    async def press(self, control: Locator, requirement_id: str, what: str) -> None:
        await self.require(control, requirement_id, what)
        where = repr(self.reached)
        with proving(requirement_id):  # the browser failing meanwhile is the step's
            name = str(await control.evaluate(a11y.DESCRIBE))
            a11y.reached_by_tab(await a11y.focus_by_tab(self.page, control), name, where)
            key = await a11y.activate(self.page, control, self.timeouts.control_seconds)
            a11y.activated_by_key(key, name, where)
        self.touched()

    async def fill(self, step: HostedPage, key: str, value: str, requirement_id: str) -> None:
        """Tab to the field `key` of `step` (which `requirement_id` needs), however it is
        named, then type `value` (per-digit boxes: from the first); a field Tab cannot reach
        stops the flow."""
        with proving(requirement_id):
            field = (await step.find(key)).first
            await field.wait_for(state="visible")
            name = str(await field.evaluate(a11y.DESCRIBE))
            a11y.reached_by_tab(await a11y.focus_by_tab(self.page, field), name,
                                repr(self.reached))
            await self.page.keyboard.type(value)
        self.touched()
