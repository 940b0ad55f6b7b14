from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Concatenate, ParamSpec, TypeVar

from playwright.async_api import Locator, Page

from sca_conformance.texts import DEFAULT, Texts

PRESSABLE = ("button", "link", "menuitem")
"""The roles of a control a person can press. `button` also finds `<input type=submit>`
and any element with `role="button"`; a provider's "Try another way" may well be a link."""


@dataclass(frozen=True)
class Wording:
    """A target's wording: its text table, the role of any control that needs one, and a
    locator for any field its accessible name does not find (`[fields.<page>] <key>`)."""

    texts: Texts = field(default_factory=lambda: DEFAULT)
    roles: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    fields: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


P = ParamSpec("P")
T = TypeVar("T")


class Hosted:
    """Page objects in one target's wording: `hosted(SummaryPage, page)` is
    `SummaryPage(page, wording)`; what follows the page goes to the page object
    (`hosted(ErrorPage, page, ErrorPage.EXPIRED)`)."""

    def __init__(self, wording: Wording) -> None:
        self.wording = wording

    def __call__(self, kind: Callable[Concatenate[Page, Wording, P], T], page: Page,
                 *args: P.args, **kwargs: P.kwargs) -> T:
        return kind(page, self.wording, *args, **kwargs)


CODE_FIELDS = ("input:is([type=password], [type=number], [type=tel], [inputmode=numeric],"
               " [inputmode=decimal], [autocomplete=one-time-code]):not(:disabled):visible")
"""Where a step's code (passcode, PIN, CVC2, SMS code) goes, whatever its name: a password
or numeric input, a one-time-code field, or a row of per-digit boxes."""

_GROUPS = """(inputs) => {
  const groups = [];
  let last = null;
  for (const [index, input] of inputs.entries()) {
    const box = input.maxLength === 1;
    if (box && last && last.box && last.parent === input.parentElement) {
      last.members.push(index);
    } else {
      last = {box, parent: input.parentElement, members: [index]};
      groups.push(last);
    }
  }
  return groups.map((group) => group.members);
}"""
"""The code fields in document order, per-digit boxes side by side counted as one field."""

_SPREAD = """(inputs, [members, value]) => {
  const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
  members.forEach((index, n) => {
    setter.call(inputs[index], value[n] || '');
    inputs[index].dispatchEvent(new Event('input', {bubbles: true}));
    inputs[index].dispatchEvent(new Event('change', {bubbles: true}));
  });
}"""
"""One character of `value` per box (the whole value one argument: the trace's scrubbing
masks it as it masks any typed secret)."""


@dataclass(frozen=True)
class Field:
    """A field found on a step: one input, or a row of per-digit boxes (`members` of
    `inputs`); `named`: found by its accessible name."""

    inputs: Locator
    members: tuple[int, ...] = (0,)
    named: bool = True

    @property
    def first(self) -> Locator:
        return self.inputs.nth(self.members[0])

    async def fill(self, value: str) -> None:
        """Types `value` in: into the field, or into the first of its boxes (a page's script
        moves on from box to box), else one character per box."""
        if len(self.members) == 1:
            await self.first.fill(value)
            return
        await self.first.press_sequentially(value)
        filled = await self.inputs.evaluate_all(
            "(inputs, members) => members.map((index) => inputs[index].value).join('').length",
            list(self.members))
        if filled != len(value):
            await self.inputs.evaluate_all(_SPREAD, [list(self.members), value])


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

    fields: tuple[str, ...] = ()
    """The text keys of the fields this step asks for, in the order it shows them."""

    async def find(self, key: str) -> Field:
        """The field of this page's text `key`, however it is named: by its accessible name
        first, then by the profile's locator (`[fields.<page>] <key>`), then by what the
        step shows: its code fields (password or numeric inputs, one-time-code fields,
        per-digit boxes), the one in the place of `key` among `fields`. Waits for any of
        them to show; a field found by none is the named one (its use then fails)."""
        named = self.field(key)
        declared = self.wording.fields.get(self.table, {}).get(key)
        codes = self.page.locator(CODE_FIELDS)
        shown = named.or_(codes)
        if declared:
            shown = shown.or_(self.page.locator(declared))
        await shown.first.wait_for(state="visible")
        if await named.first.is_visible():
            return Field(named.first)
        if declared and await self.page.locator(declared).first.is_visible():
            return Field(self.page.locator(declared).first, named=False)
        groups = await codes.evaluate_all(_GROUPS)
        if key in self.fields and len(groups) == len(self.fields):
            return Field(codes, tuple(groups[self.fields.index(key)]), named=False)
        return Field(named.first)

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
