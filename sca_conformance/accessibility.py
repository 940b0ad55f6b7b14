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
  where the focus is on a new step (`accessibility_keyboard`, re-exported here).

The scripts they run in the page are `accessibility_scripts`.

Each check below is one small named condition raising with expected and actual; the test
decides how it counts (they are all SHOULD requirements).
"""

# ruff: noqa: PLC0414  (the `X as X` imports below are re-exports)

from __future__ import annotations

import re
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import allure
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page

from sca_conformance.accessibility_scripts import DESCRIBE as DESCRIBE
from sca_conformance.accessibility_scripts import REFUSAL_SHOWN
from sca_conformance.axe_engine import run_axe
from sca_conformance.failures import Mismatch, hides_in_verdicts, proves
from sca_conformance.redact import SECRET_FIELDS, SecretRegistry

__tracebackhide__ = hides_in_verdicts

# The keyboard's probes and checks, re-exported (`X as X`): `a11y.tab_walk(page)`.
from sca_conformance.accessibility_keyboard import FocusPlace as FocusPlace
from sca_conformance.accessibility_keyboard import TabWalk as TabWalk
from sca_conformance.accessibility_keyboard import activate as activate
from sca_conformance.accessibility_keyboard import activated_by_key as activated_by_key
from sca_conformance.accessibility_keyboard import attach_keyboard as attach_keyboard
from sca_conformance.accessibility_keyboard import (
    controls_reached_by_tab as controls_reached_by_tab,
)
from sca_conformance.accessibility_keyboard import focus_by_tab as focus_by_tab
from sca_conformance.accessibility_keyboard import focus_drawn as focus_drawn
from sca_conformance.accessibility_keyboard import focus_moved_to_step as focus_moved_to_step
from sca_conformance.accessibility_keyboard import focus_place as focus_place
from sca_conformance.accessibility_keyboard import focus_shown as focus_shown
from sca_conformance.accessibility_keyboard import reached_by_tab as reached_by_tab
from sca_conformance.accessibility_keyboard import settle as settle
from sca_conformance.accessibility_keyboard import tab_walk as tab_walk

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

LIVE_ROLES = frozenset({"alert", "status", "log", "alertdialog"})
"""Roles whose content assistive technology announces (an `<output>` is a status)."""


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
