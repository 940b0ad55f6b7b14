from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from playwright.async_api import Locator, Page

from sca_conformance.texts import DEFAULT, Texts

PRESSABLE = ("button", "link", "menuitem")
"""The roles of a control a person can press. `button` also finds `<input type=submit>`
and any element with `role="button"`; a provider's "Try another way" may well be a link."""


@dataclass(frozen=True)
class Wording:
    """A target's wording: its text table, and the role of any control that needs one."""

    texts: Texts = field(default_factory=lambda: DEFAULT)
    roles: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


def _literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _xpath_literal(text: str) -> str:
    if "'" not in text:
        return f"'{text}'"
    if '"' not in text:
        return f'"{text}"'
    parts = text.split("'")
    return "concat(" + ", \"'\", ".join(f"'{part}'" for part in parts) + ")"


class HostedPage:
    """What every hosted page has: a main heading, controls, fields and labelled values.
    Texts come from the page's text table (`table`), in the target's wording; elements are
    found by role and accessible name, in any markup (open shadow roots included). The
    target's wording is an argument: no page object falls back to another's."""

    table = ""

    def __init__(self, page: Page, wording: Wording) -> None:
        self.page = page
        self.wording = wording

    @property
    def texts(self) -> Mapping[str, str]:
        return self.wording.texts[self.table]

    @property
    def title(self) -> str:
        return self.texts["heading"]

    @property
    def heading(self) -> Locator:
        return self.page.get_by_role("heading", name=self.title, exact=True)

    def button(self, name: str, role: str | None = None) -> Locator:
        """A control named `name`, in `role` or any role a person can press."""
        roles = (role,) if role else PRESSABLE
        found = self.page.get_by_role(roles[0], name=name, exact=True)  # type: ignore[arg-type]
        for other in roles[1:]:
            found = found.or_(self.page.get_by_role(other, name=name, exact=True))  # type: ignore[arg-type]
        return found.first

    def control(self, key: str) -> Locator:
        """The control named by this page's text `key`, in the role the profile gives it
        (`[roles.<page>] <key> = "link"`), else in any pressable role."""
        role = self.wording.roles.get(self.table, {}).get(key)
        return self.button(self.texts[key], role)

    def field(self, key: str) -> Locator:
        """An input labelled by this page's text `key` (a label, aria-label or
        aria-labelledby)."""
        return self.page.get_by_label(self.texts[key], exact=True)

    def value(self, key: str) -> Locator:
        """A displayed value named by this page's text `key`: the element labelled with it;
        the element right after the term (`<dt>`/`<dd>`, a row's `<th>`/`<td>`, a caption
        above its value), the term wrapped or not; or the cell under a column's header."""
        label = _literal(self.texts[key])
        term = f"normalize-space(.)={_xpath_literal(self.texts[key])}"
        header = f"(//th[{term}][not(../td)])[1]"  # in a row of headers only
        return self.page.get_by_label(self.texts[key], exact=True).or_(
            self.page.locator(f"*:text-is({label}) + :not(th)")
        ).or_(
            # the term wrapped in an element of its own: that element's next sibling
            self.page.locator(f"dt:has(:text-is({label})) + dd, th:has(:text-is({label})) + td,"
                              f" :is(div, span, p, label):has(> :text-is({label}))"
                              f":not(:has(> :not(:text-is({label})))) + :not(th)")
        ).or_(
            self.page.locator(  # a table whose headers are its columns' (plain DOM only)
                f"xpath={header}/ancestor::table[1]//tr[td][1]"
                f"/td[count({header}/preceding-sibling::*) + 1]")
        ).first
