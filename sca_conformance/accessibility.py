"""Accessibility of the hosted pages (A11Y-1..4), in any provider's markup.

- `scan(page)`: axe-core's WCAG 2.1 A and AA rules (axe-core from its own npm package, as
  the lock pins it: sca_conformance.axe_engine); only violations of impact serious or
  critical are findings (A11Y-1).
- `page_facts(page)`: the page's language, its title and every field's accessible name, as
  the browser computes it (A11Y-4).
- `refusal_reach(page, refusal)`: how a refusal the page shows reaches assistive technology,
  read from the browser's accessibility tree: in an alert, status, log or live region, or
  the description or error message of an invalid field, and not hidden (A11Y-3).
- `tab_walk(page)`, `focus_by_tab(...)`, `focus_place(...)`, `activate(...)`: the keyboard
  alone (A11Y-2): what Tab reaches, whether the focus shows (something drawn, in pixels),
  where the focus is on a new step.

Each check below is one small named condition raising with expected and actual; the test
decides how it counts (they are all SHOULD requirements).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

import allure
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import FloatRect, Locator, Page, Request
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from sca_conformance.axe_engine import run_axe
from sca_conformance.checks import hides_in_verdicts, proves
from sca_conformance.failures import Mismatch
from sca_conformance.redact import SECRET_FIELDS, SecretRegistry

__tracebackhide__ = hides_in_verdicts

WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
SERIOUS = frozenset({"serious", "critical"})
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": list(WCAG_TAGS)},
               "resultTypes": ["violations"]}
SNIPPET = 160
"""Characters of an element's HTML a finding keeps."""

FIELDS = ("input:not([type=hidden]):not([type=submit]):not([type=button]):not([type=reset])"
          ":not([type=image]), select, textarea, [role=textbox], [role=combobox],"
          " [role=searchbox], [role=spinbutton]")
"""What a person types into or picks from (Playwright's CSS pierces open shadow roots)."""

_COMMON = r"""
const norm = (text) => (text || '').replace(/\s+/g, ' ').trim();
const deepActive = () => {
  let active = document.activeElement;
  while (active && active.shadowRoot && active.shadowRoot.activeElement) {
    active = active.shadowRoot.activeElement;
  }
  return active;
};
const up = (node) => node.parentElement || (node.getRootNode && node.getRootNode().host) || null;
const tag = (node) => {
  if (!node || !node.outerHTML) return String(node);
  const html = node.outerHTML;
  const open = html.slice(0, html.indexOf('>') + 1);
  const text = norm(node.textContent).slice(0, 40);
  return (open.length > 120 ? open.slice(0, 117) + '...>' : open) + (text ? ` "${text}"` : '');
};
const everything = () => {
  const found = [];
  const visit = (root) => {
    for (const element of root.querySelectorAll('*')) {
      found.push(element);
      if (element.shadowRoot) visit(element.shadowRoot);
    }
  };
  visit(document);
  return found;
};
const visible = (element) =>
  element.checkVisibility({visibilityProperty: true, opacityProperty: false});
const FIELD = 'input:not([type=hidden]):not([type=submit]):not([type=button]):not([type=reset])'
  + ':not([type=image]), select, textarea, [role=textbox], [role=combobox], [role=searchbox],'
  + ' [role=spinbutton]';
"""

CONTROLS = "() => {" + _COMMON + r"""
const CONTROL = 'a[href], area[href], button, input:not([type=hidden]), select, textarea,'
  + ' summary, [contenteditable=""], [contenteditable=true], [role=button], [role=link],'
  + ' [role=menuitem], [role=menuitemcheckbox], [role=menuitemradio], [role=checkbox],'
  + ' [role=radio], [role=switch], [role=tab], [role=textbox], [role=combobox],'
  + ' [role=searchbox], [role=slider], [role=spinbutton], [onclick]';
const COMPOSITE = '[role=menu], [role=menubar], [role=listbox], [role=tablist],'
  + ' [role=radiogroup], [role=grid], [role=tree], [role=toolbar]';
const usable = (element) => visible(element) && !element.matches(':disabled')
  && element.getAttribute('aria-disabled') !== 'true' && !element.closest('[inert]');
const inControl = (element) => {
  for (let node = up(element); node; node = up(node)) if (node.matches(CONTROL)) return true;
  return false;
};
// What looks pressable without being a control: the outermost element showing a pointer.
const pointerOnly = (element) => !element.matches(CONTROL + ', label, html, body')
  && getComputedStyle(element).cursor === 'pointer'
  && !(up(element) && getComputedStyle(up(element)).cursor === 'pointer')
  && !inControl(element) && !element.querySelector(CONTROL) && norm(element.textContent);
  const all = everything().filter(usable);
  const controls = all.filter((element) => element.matches(CONTROL) || pointerOnly(element)
    || (element.hasAttribute('tabindex') && element.tabIndex >= 0));
  const groupOf = (element) => {
    const composite = element.closest(COMPOSITE);
    if (composite) return composite;
    if (element.matches('input[type=radio][name]')) return element.form || element.getRootNode();
    return null;
  };
  window.__scaA11y = {controls, groups: controls.map(groupOf), first: null};
  return controls.map(tag);
}"""
"""Every control a person can use on the page, remembered for the Tab walk."""

TAB_STEP = "() => {" + _COMMON + r"""
  const state = window.__scaA11y;
  const active = deepActive();
  const nowhere = !active || active === document.body || active === document.documentElement;
  const index = (element) => state.controls.indexOf(element);
  const answer = {index: nowhere ? -1 : index(active), element: nowhere ? null : tag(active),
                  group: -1, round: false};
  if (!nowhere && !state.first) state.first = active;
  else if (!nowhere && active === state.first) answer.round = true;  // back where it began
  if (!nowhere && answer.index < 0) {
    answer.group = state.groups.findIndex((group) => group && group.contains(active));
  }
  return answer;
}"""
"""After a Tab: the control now focused (its index, or its composite's)."""

FOCUS_REGION = "(margin) => {" + _COMMON + r"""
  const active = deepActive();
  if (!active || active === document.body || active === document.documentElement) return null;
  // The control and its parent (an indicator drawn with :focus-within), a few pixels round.
  const boxes = [active.getBoundingClientRect()];
  const parent = up(active);
  if (parent && parent.nodeType === 1 && !['BODY', 'HTML'].includes(parent.tagName)) {
    boxes.push(parent.getBoundingClientRect());
  }
  const x = Math.max(0, Math.min(...boxes.map((b) => b.left)) - margin);
  const y = Math.max(0, Math.min(...boxes.map((b) => b.top)) - margin);
  const right = Math.min(innerWidth, Math.max(...boxes.map((b) => b.right)) + margin);
  const bottom = Math.min(innerHeight, Math.max(...boxes.map((b) => b.bottom)) + margin);
  if (right - x < 1 || bottom - y < 1) return null;
  window.__scaA11yFocused = active;
  return {x, y, width: right - x, height: bottom - y};
}"""
"""The focused control's neighbourhood in the viewport (None when it shows nowhere)."""

BLUR = "() => { const element = window.__scaA11yFocused; if (element) element.blur(); }"
REFOCUS = ("() => { const element = window.__scaA11yFocused; window.__scaA11yFocused = null;"
           " if (element && element.isConnected) element.focus(); }")
FOCUS_MARGIN = 8
"""CSS pixels round a focused control (and its parent) where its indicator may be drawn."""

IS_FOCUSED = "(element) => {" + _COMMON + "return deepActive() === element; }"

FOCUS_PLACE = "(title) => {" + _COMMON + r"""
  const active = deepActive();
  const fresh = !window.__scaA11yPressed;
  if (!active || active === document.body || active === document.documentElement) {
    return {place: 'start', fresh, element: 'the document itself'};
  }
  const all = everything().filter(visible);
  const heading = all.find((element) =>
    (/^H[1-6]$/.test(element.tagName) || element.getAttribute('role') === 'heading')
    && norm(element.getAttribute('aria-label') || element.textContent).toLowerCase()
      === norm(title).toLowerCase());  // the title in any case and white space
  if (heading && (active === heading || heading.contains(active) || active.contains(heading))) {
    return {place: 'heading', fresh, element: tag(active)};
  }
  const first = all.find((element) => element.matches(FIELD) && !element.matches(':disabled'));
  if (first && active === first) return {place: 'field', fresh, element: tag(active)};
  return {place: 'elsewhere', fresh, element: tag(active)};
}"""
"""Where the focus is on a step just shown: its heading (or a container starting with it),
its first field, the start of a new document, or elsewhere."""

REFUSAL_SHOWN = "(lines) => {" + _COMMON + r"""
  const holding = (element, line) => norm(element.textContent).includes(line);
  const holders = [];
  for (const line of lines) {
    const withLine = everything().filter((element) => holding(element, line) && visible(element));
    holders.push(...withLine.filter(
      (element) => ![...element.children].some((child) => holding(child, line))));
  }
  return holders.map(tag).join(', ') || 'no element found';
}"""
"""Where a refusal's text shows on the page (the innermost elements holding its lines)."""

LIVE_ROLES = frozenset({"alert", "status", "log", "alertdialog"})
"""Roles whose content assistive technology announces (an `<output>` is a status)."""

DESCRIBE = "(element) => {" + _COMMON + "return tag(element); }"


# A11Y-1: axe-core ------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One rule axe-core found violated on a page, with the elements that violate it."""

    rule: str
    impact: str
    help: str
    help_url: str
    elements: tuple[str, ...]

    @property
    def summary(self) -> str:
        more = f" and {len(self.elements) - 1} more" if len(self.elements) > 1 else ""
        return f"{self.rule} ({self.impact}: {self.help}) at {self.elements[0]}{more}"

    def report(self) -> str:
        lines = [f"{self.rule} ({self.impact}): {self.help}", f"  {self.help_url}"]
        return "\n".join([*lines, *(f"  - {element}" for element in self.elements)])


async def scan(page: Page, secrets: SecretRegistry | None = None) -> list[Finding]:
    """axe-core's WCAG 2.1 A and AA rules on the page as it is now; only violations of
    impact serious or critical. Element snippets are masked with `secrets`."""
    mask = secrets.text if secrets is not None else str
    results = await run_axe(page, AXE_OPTIONS)
    findings = []
    for violation in results["violations"]:
        if violation.get("impact") not in SERIOUS:
            continue
        elements = tuple(
            mask(f"{' >> '.join(map(str, node['target']))}: "
                 f"{' '.join(str(node.get('html', '')).split())[:SNIPPET]}")
            for node in violation["nodes"])
        findings.append(Finding(violation["id"], violation["impact"], violation["help"],
                                violation["helpUrl"], elements or ("(no element named)",)))
    return findings


@proves("A11Y-1")
def no_serious_violations(findings: Sequence[Finding], where: str) -> None:
    if findings:
        raise Mismatch(f"axe-core (WCAG 2.1 A/AA) on {where}",
                       "no violation of impact serious or critical",
                       "; ".join(finding.summary for finding in findings))


# A11Y-4: language, title, names ----------------------------------------------------------


@dataclass(frozen=True)
class PageFacts:
    lang: str
    title: str
    unnamed: tuple[str, ...]  # the fields without an accessible name


async def page_facts(page: Page) -> PageFacts:
    """The page's declared language and title, and every visible field the browser gives
    no accessible name (its accessibility tree, open shadow roots included)."""
    lang, title = await page.evaluate(
        "() => [document.documentElement.getAttribute('lang')"
        " || document.documentElement.getAttribute('xml:lang') || '', document.title]")
    unnamed = []
    for candidate in await page.locator(FIELDS).all():
        if not await candidate.is_visible():
            continue
        if _accessible_name(await candidate.aria_snapshot()) is None:
            unnamed.append(str(await candidate.evaluate(DESCRIBE)))
    return PageFacts(str(lang).strip(), " ".join(str(title).split()), tuple(unnamed))


_NAMED = re.compile(r'^- [\w-]+ "((?:[^"\\]|\\.)*)"')
"""An ARIA snapshot's first line with a name: `- textbox "Passcode"` (maybe `: its value`)."""


def _accessible_name(snapshot: str) -> str | None:
    """The name in the first line of an ARIA snapshot, if any."""
    found = _NAMED.match(snapshot.strip())
    if found is None:
        return None
    return found.group(1).strip() or None


@proves("A11Y-4")
def language_declared(facts: PageFacts, where: str) -> None:
    if not facts.lang:
        raise Mismatch(f"the lang of {where}", "a language (<html lang=...>)", "none")


@proves("A11Y-4")
def title_given(facts: PageFacts, where: str) -> None:
    if not facts.title:
        raise Mismatch(f"the title of {where}", "a non-empty <title>", facts.title)


@proves("A11Y-4")
def fields_named(facts: PageFacts, where: str) -> None:
    if facts.unnamed:
        raise Mismatch(f"the fields of {where}", "an accessible name for every field",
                       "no name for " + ", ".join(facts.unnamed))


# A11Y-3: refusals --------------------------------------------------------------------


@dataclass(frozen=True)
class RefusalReach:
    refusal: str
    announced: str | None = None  # the alert, status or live region holding it
    tied: str | None = None  # the invalid field it describes, and the description
    shown_in: str = ""  # where it is, otherwise


async def refusal_reach(page: Page, refusal: str) -> RefusalReach:
    """How `refusal` (as `HostedFlow.refusal` returns it: its lines, ' | '-joined) reaches
    assistive technology on the page as it is now, read from the browser's accessibility
    tree (Chromium's, through the DevTools protocol): what is hidden from assistive
    technology (aria-hidden, display: none, visibility: hidden, on it or an ancestor) is
    not in it, or is marked ignored."""
    lines = [_squeezed(line) for line in refusal.split(" | ") if line.strip()]
    tree = AxTree(await _ax_nodes(page))
    announced = tied = None
    for node in tree.exposed():
        if tree.live(node) and tree.holds(node, lines):
            announced = tree.describe(node)
            break
    for field_node in tree.exposed():
        invalid = tree.property(field_node, "invalid")
        if invalid in (None, "false", False):
            continue
        for message in tree.related(field_node, "describedby"):
            if tree.holds(message, lines):
                tied = f"{tree.describe(field_node)} described by {tree.describe(message)}"
        for message in tree.related(field_node, "errormessage"):
            # An error message counts only where it is itself announced (WAI-ARIA 1.2).
            if tree.holds(message, lines) and tree.region_of(message) is not None:
                tied = f"{tree.describe(field_node)} with error message {tree.describe(message)}"
    shown_in = "" if announced or tied else str(await page.evaluate(
        REFUSAL_SHOWN, [line for line in refusal.split(" | ") if line.strip()]))
    return RefusalReach(refusal, announced, tied, shown_in)


def _squeezed(text: str) -> str:
    """`text` without white space: an accessibility tree splits text into runs of its own."""
    return "".join(text.split())


async def _ax_nodes(page: Page) -> list[dict[str, Any]]:
    session = await page.context.new_cdp_session(page)
    try:
        found: dict[str, Any] = await session.send("Accessibility.getFullAXTree")
    finally:
        await session.detach()
    return list(found.get("nodes", []))


class AxTree:
    """Chromium's accessibility tree of a page, as the DevTools protocol gives it."""

    def __init__(self, nodes: list[dict[str, Any]]) -> None:
        self.nodes = {str(node["nodeId"]): node for node in nodes}
        self.by_dom = {node["backendDOMNodeId"]: node for node in nodes
                       if "backendDOMNodeId" in node}

    def exposed(self) -> list[dict[str, Any]]:
        return [node for node in self.nodes.values() if not node.get("ignored")]

    @staticmethod
    def role(node: dict[str, Any]) -> str:
        return str(node.get("role", {}).get("value", ""))

    @staticmethod
    def property(node: dict[str, Any], name: str) -> Any:
        for found in node.get("properties", []):
            if found.get("name") == name:
                return found.get("value", {}).get("value")
        return None

    def live(self, node: dict[str, Any]) -> bool:
        return self.role(node) in LIVE_ROLES or self.property(node, "live") in (
            "polite", "assertive")

    def region_of(self, node: dict[str, Any]) -> dict[str, Any] | None:
        """The live region `node` is in (or is), exposed, if any."""
        current: dict[str, Any] | None = node
        while current is not None:
            if not current.get("ignored") and self.live(current):
                return current
            current = self.nodes.get(str(current.get("parentId", "")))
        return None

    def related(self, node: dict[str, Any], relation: str) -> list[dict[str, Any]]:
        """The exposed nodes `node` points at through `relation` (describedby, ...)."""
        found = []
        for entry in node.get("properties", []):
            if entry.get("name") != relation:
                continue
            for related in entry.get("value", {}).get("relatedNodes", []):
                target = self.by_dom.get(related.get("backendDOMNodeId"))
                if target is not None and not target.get("ignored"):
                    found.append(target)
        return found

    def text(self, node: dict[str, Any]) -> str:
        """The exposed text under `node`, white space squeezed out."""
        parts = []
        pending = [node]
        while pending:
            current = pending.pop()
            if self.role(current) == "StaticText" and not current.get("ignored"):
                parts.append(str(current.get("name", {}).get("value", "")))
                continue
            children = [self.nodes.get(str(child)) for child in current.get("childIds", [])]
            pending.extend(child for child in reversed(children) if child is not None)
        return _squeezed("".join(parts))

    def holds(self, node: dict[str, Any], lines: Sequence[str]) -> bool:
        text = self.text(node)
        return any(line and line in text for line in lines)

    def describe(self, node: dict[str, Any]) -> str:
        name = str(node.get("name", {}).get("value", "")).strip()
        live = self.property(node, "live")
        return (f"{self.role(node)}{f' {name!r}' if name else ''}"
                f"{f' (aria-live {live})' if live else ''}")


@proves("A11Y-3")
def refusal_announced(reach: RefusalReach, what: str) -> None:
    if reach.announced is None and reach.tied is None:
        raise Mismatch(
            f"the refusal {reach.refusal!r} ({what})",
            "in the accessibility tree: announced (role alert or status, an aria-live "
            "region) or tied to its field (aria-invalid with aria-describedby, or "
            "aria-errormessage pointing at an announced element), not hidden",
            f"neither: shown in {reach.shown_in}, not exposed so")


# A11Y-2: the keyboard alone --------------------------------------------------------------


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


async def tab_walk(page: Page) -> TabWalk:
    """Presses Tab round the page (from wherever the focus is, until the focus comes back
    to where the walk first went, at most twice the controls and a few more): every control
    it reached, and every element for which nothing was drawn while it had the focus."""
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


MOVED_ON = ("() => !window.__scaA11yPressed || !window.__scaA11yTarget"
            " || !window.__scaA11yTarget.isConnected || !window.__scaA11yTarget.checkVisibility()")
"""The page moved on from the control pressed: a new document, or the control gone."""


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


# Evidence ------------------------------------------------------------------------------


async def learn_secrets(page: Page, secrets: SecretRegistry) -> None:
    """The secrets a page holds in hidden fields (a CSRF value), before anything of its
    HTML is written down."""
    with suppress(PlaywrightError):
        hidden = await page.locator("input[type=hidden]").evaluate_all(
            "inputs => inputs.map(input => [input.name, input.value])")
        secrets.add(*(value for name, value in hidden if str(name).lower() in SECRET_FIELDS))


def attach_findings(findings: Sequence[Finding], facts: PageFacts | None, where: str,
                    url: str, secrets: SecretRegistry) -> None:
    """What was found on one page, as a text attachment: each rule, its elements."""
    lines = [f"Page: {where}", f"URL: {secrets.text(url)}", ""]
    lines += [finding.report() for finding in findings]
    if facts is not None:
        lines += [f"lang: {facts.lang or '(none)'}", f"title: {facts.title or '(none)'}"]
        lines += [f"field without an accessible name: {name}" for name in facts.unnamed]
    allure.attach("\n".join(lines), name=f"Accessibility findings: {where}",
                  attachment_type=allure.attachment_type.TEXT)


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


async def settle(page: Page, seconds: float) -> None:
    """The page done loading and animating in, before it is judged (best effort)."""
    with suppress(PlaywrightError):
        await page.wait_for_load_state("load", timeout=seconds * 1000)
    with suppress(PlaywrightError):
        await page.evaluate("() => Promise.all(document.getAnimations()"
                            ".filter((a) => a.effect && a.effect.getTiming().iterations"
                            " !== Infinity).map((a) => a.finished))")
