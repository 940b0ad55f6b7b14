"""The keyboard alone (A11Y-2): what Tab reaches on a page, whether the focus shows (something
drawn, in pixels), where the focus is on a new step, and whether Enter or Space activates a
control; the checks that judge them, and the attachment that shows them."""

from __future__ import annotations

import asyncio
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

import allure
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import FloatRect, Locator, Page, Request
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from sca_conformance.accessibility_scripts import (
    BLUR,
    CONTROLS,
    FOCUS_MARGIN,
    FOCUS_PLACE,
    FOCUS_REGION,
    IS_FOCUSED,
    MOVED_ON,
    REFOCUS,
    TAB_STEP,
)
from sca_conformance.failures import Mismatch, hides_in_verdicts, proves
from sca_conformance.redact import SecretRegistry

__tracebackhide__ = hides_in_verdicts


@dataclass
class TabWalk:
    """What pressing Tab on a page reached, once round."""

    controls: list[str]
    reached: set[int] = field(default_factory=set)
    order: list[str] = field(default_factory=list)
    unseen: list[str] = field(default_factory=list)  # focused, but nothing was drawn

    @property
    def unreached(self) -> list[str]:
        return [control for index, control in enumerate(self.controls)
                if index not in self.reached]


async def settle(page: Page, seconds: float) -> None:
    """The page done loading (its stylesheets and fonts in) and animating in, before it is
    judged (best effort, up to `seconds` for the load)."""
    with suppress(PlaywrightError):
        await page.wait_for_load_state("load", timeout=seconds * 1000)
    with suppress(PlaywrightError):
        await page.evaluate("() => Promise.all([document.fonts.ready, ...document.getAnimations()"
                            ".filter((a) => a.effect && a.effect.getTiming().iterations"
                            " !== Infinity).map((a) => a.finished)])")


async def tab_walk(page: Page, seconds: float = 10) -> TabWalk:
    """Presses Tab round the page (from wherever the focus is, until the focus comes back
    to where the walk first went, at most twice the controls and a few more): every control
    it reached, and every element for which nothing was drawn while it had the focus. The
    page is settled first (up to `seconds`): a stylesheet still on its way moves the controls
    between where the focus is looked for and the picture of it."""
    await settle(page, seconds)
    walk = TabWalk(list(await page.evaluate(CONTROLS)))
    for _ in range(2 * len(walk.controls) + 6):
        await page.keyboard.press("Tab")
        step: dict[str, Any] = await page.evaluate(TAB_STEP)
        element = step.get("element")
        if element is None:
            continue  # the walk went past the end of the page: on to its start
        if step["round"]:
            break
        walk.order.append(str(element))
        if not await focus_drawn(page):
            walk.unseen.append(str(element))
        index = step["index"] if step["index"] >= 0 else step["group"]
        if index >= 0:
            walk.reached.add(index)
    groups = await page.evaluate("() => window.__scaA11y.groups.map((g) => g !== null)")
    grouped = {index for index, has_group in enumerate(groups) if has_group}
    if grouped & walk.reached:  # a composite's one tab stop reaches all its items
        walk.reached |= await _same_group(page, walk.reached & grouped)
    return walk


async def focus_drawn(page: Page) -> bool:
    """Whether the focus indicator of the control focused now draws something: its
    neighbourhood (FOCUS_REGION) focused and then blurred, compared pixel by pixel; the
    focus is given back afterwards. A neighbourhood shown nowhere counts as drawn (nothing
    to judge). The two pictures stay in memory: they may show what the individual typed,
    and neither is ever attached or written anywhere."""
    region = await page.evaluate(FOCUS_REGION, FOCUS_MARGIN)
    if region is None:
        return True
    clip = FloatRect(x=region["x"], y=region["y"], width=region["width"],
                     height=region["height"])
    try:
        focused = await _picture(page, clip)
        await page.evaluate(BLUR)
        blurred = await _picture(page, clip)
    finally:
        await page.evaluate(REFOCUS)
    # The same encoder on the same pixels writes the same bytes: equal images are equal
    # PNGs (the caret hidden, animations and transitions run to their end).
    return focused != blurred


async def _picture(page: Page, clip: FloatRect) -> bytes:
    return await page.screenshot(clip=clip, animations="disabled", caret="hide", scale="css")


async def _same_group(page: Page, reached: set[int]) -> set[int]:
    found = await page.evaluate(
        "(reached) => { const g = window.__scaA11y.groups;"
        " return g.map((group, i) => group && reached.some((r) => g[r] === group) ? i : -1)"
        ".filter((i) => i >= 0); }", sorted(reached))
    return {int(index) for index in found}


async def focus_by_tab(page: Page, target: Locator, presses: int = 40) -> bool:
    """Presses Tab until `target` has the focus; whether it got it within `presses`."""
    handle = await target.element_handle()
    if handle is None:
        return False
    for _ in range(presses):
        if await page.evaluate(IS_FOCUSED, handle):
            return True
        await page.keyboard.press("Tab")
    return bool(await page.evaluate(IS_FOCUSED, handle))


async def activate(page: Page, target: Locator, seconds: float) -> str | None:
    """Presses Enter on `target` (focused), then Space if Enter did nothing; the key that
    activated it, or None when neither did within `seconds` each. Activated: the page sent
    a form or a script's request (anything but a plain GET of a resource), went to a new
    document, or took the control away."""
    await target.evaluate(
        "(element) => { window.__scaA11yPressed = true; window.__scaA11yTarget = element; }")
    sent = asyncio.Event()

    def on_request(request: Request) -> None:
        if request.is_navigation_request() or request.method != "GET":
            sent.set()

    page.on("request", on_request)
    try:
        for key in ("Enter", "Space"):
            sent.clear()
            await page.keyboard.press(key)
            if await _moved_on(page, sent, seconds):
                return key
        return None
    finally:
        page.remove_listener("request", on_request)


async def _moved_on(page: Page, sent: asyncio.Event, seconds: float) -> bool:
    changed = asyncio.ensure_future(page.wait_for_function(MOVED_ON, timeout=seconds * 1000))
    requested = asyncio.ensure_future(sent.wait())
    done, pending = await asyncio.wait({changed, requested}, timeout=seconds + 1,
                                       return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    if requested in done:
        return True
    if changed in done:
        error = changed.exception()
        # A document replaced while the script looked has moved on too.
        return error is None or not isinstance(error, PlaywrightTimeoutError)
    return False


@dataclass(frozen=True)
class FocusPlace:
    place: str  # heading, field, start (of the document), elsewhere
    fresh: bool  # a new document since the last key that moved the flow on
    element: str

    @property
    def on_step(self) -> bool:
        return self.place in ("heading", "field") or (self.place == "start" and self.fresh)


async def focus_place(page: Page, title: str, seconds: float) -> FocusPlace:
    """Where the focus is on the step titled `title`, once it is on the step's heading or
    first field (or at the start of a new document), or after `seconds`."""
    with suppress(PlaywrightTimeoutError):
        await page.wait_for_function(
            f"(title) => {{ const at = ({FOCUS_PLACE})(title); return at.place === 'heading'"
            " || at.place === 'field' || (at.place === 'start' && at.fresh); }",
            arg=title, timeout=seconds * 1000)
    found: dict[str, Any] = await page.evaluate(FOCUS_PLACE, title)
    return FocusPlace(str(found["place"]), bool(found["fresh"]), str(found["element"]))


@proves("A11Y-2")
def controls_reached_by_tab(walk: TabWalk, where: str) -> None:
    if walk.unreached:
        raise Mismatch(f"Tab on {where}", "every control reached",
                       "never reached: " + ", ".join(walk.unreached))


@proves("A11Y-2")
def focus_shown(walk: TabWalk, where: str) -> None:
    if walk.unseen:
        raise Mismatch(f"the focus on {where}",
                       "visible: something drawn round the focused control that is not "
                       "there when it is not focused",
                       "pixel-identical focused and not focused: " + ", ".join(walk.unseen))


@proves("A11Y-2")
def focus_moved_to_step(place: FocusPlace, where: str) -> None:
    if not place.on_step:
        raise Mismatch(f"the focus when {where} showed",
                       "on the step's heading or first field (or a new document's start)",
                       f"{place.element} ({place.place})")


@proves("A11Y-2")
def reached_by_tab(found: bool, control: str, where: str) -> None:
    if not found:
        raise Mismatch(f"{control} on {where}", "reached by Tab", "never focused")


@proves("A11Y-2")
def activated_by_key(key: str | None, control: str, where: str) -> None:
    if key is None:
        raise Mismatch(f"{control} on {where}", "activated by Enter or Space",
                       "nothing happened on either")


def attach_keyboard(walk: TabWalk, place: FocusPlace, where: str, url: str,
                    secrets: SecretRegistry) -> None:
    """What the keyboard found on one page: where the focus was, what Tab reached."""
    lines = [f"Page: {where}", f"URL: {secrets.text(url)}",
             f"Focus on arrival: {place.element} ({place.place}"
             f"{', a new document' if place.fresh else ''})", "", "Controls:"]
    lines += [f"  - {control}" for control in walk.controls]
    lines += ["Tab order:", *(f"  {n}. {element}" for n, element in enumerate(walk.order, 1))]
    lines += [f"Never reached by Tab: {control}" for control in walk.unreached]
    lines += [f"No visible focus: {element}" for element in walk.unseen]
    allure.attach(secrets.text("\n".join(lines)), name=f"Keyboard findings: {where}",
                  attachment_type=allure.attachment_type.TEXT)
