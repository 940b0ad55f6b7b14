from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from types import TracebackType
from typing import Concatenate, ParamSpec, TypeVar

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Locator, Page, Request

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

_FILLED = """(inputs, members) => inputs[members[0]] && inputs[members[0]].__scaTyped
  ? members.map((index) => inputs[index] ? inputs[index].value : '').join('').length : null"""
"""How many characters the boxes hold, or null when the boxes typed into are gone (the step
sent itself as its last box was filled, and the page shows its answer)."""


def _replaced(error: PlaywrightError) -> bool:
    return "context was destroyed" in error.message or "navigat" in error.message


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
        await self.first.evaluate("(box) => { box.__scaTyped = true; }")
        await self.first.press_sequentially(value)
        try:
            filled = await self.inputs.evaluate_all(_FILLED, list(self.members))
        except PlaywrightError as error:
            if not _replaced(error):
                raise
            return  # the page sent the step as the last digit went in
        if filled is not None and filled != len(value):
            await self.inputs.evaluate_all(_SPREAD, [list(self.members), value])


class Submission:
    """The evidence that a step was sent, watched from `with` on: a POST (a form's or a
    script's) or the main frame loading another document. A step that sends itself once its
    fields are filled (per-digit boxes, no Continue) is told apart by it from a step whose
    control is missing: no guessing from what the page lacks."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.seen = asyncio.Event()

    def _request(self, request: Request) -> None:
        with suppress(PlaywrightError):  # a service worker's request has no frame
            if (request.method == "POST" and request.resource_type != "ping") or (
                    request.is_navigation_request() and request.frame == self.page.main_frame):
                self.seen.set()  # a beacon (`ping`: analytics) is no step's submission

    def __enter__(self) -> Submission:
        self.page.on("request", self._request)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.page.remove_listener("request", self._request)

    @property
    def sent(self) -> bool:
        return self.seen.is_set()

    async def before(self, control: Locator) -> bool:
        """Whether the step was sent before `control` showed (then nothing is to be pressed),
        waiting for whichever comes first; neither within the page's default timeout: that
        wait's timeout (the control is missing and the step does not send itself)."""
        if self.sent:
            return True
        shown = asyncio.ensure_future(control.first.wait_for(state="visible"))
        sent = asyncio.ensure_future(self.seen.wait())
        try:
            await asyncio.wait({shown, sent}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in (shown, sent):
                waiting.cancel()
            await asyncio.gather(shown, sent, return_exceptions=True)
        if self.sent:
            return True
        shown.result()  # the control's wait timed out: its error
        return False


def _literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _source(text: str) -> str:
    """`text` as a regular expression's source (Python's and JavaScript's alike): its words
    as written, any white space between them."""
    return r"\s+".join(re.sub(r"[.*+?^${}()|[\]\\/]", r"\\\g<0>", word) for word in text.split())


def same_words(text: str) -> re.Pattern[str]:
    """A name that is `text`, whatever its case and white space: the whole name, so that
    "Confirm" is not "Confirm later"."""
    return re.compile(rf"^\s*{_source(text)}\s*$", re.IGNORECASE)


def _matches(pattern: str) -> str:
    """Playwright's pseudo-class for an element whose own text matches `pattern`, in any
    case (the smallest such element)."""
    return f":text-matches({_literal(pattern)}, \"i\")"


_LOWER = "translate(normalize-space(.), 'ABCDEFGHIJKLMNOPQRSTUVWXYZÅÄÖÆØÜ', " \
         "'abcdefghijklmnopqrstuvwxyzåäöæøü')"

_UNLABELLED = r"""(element, term) => {
  const text = element.innerText.replace(/\s+/g, ' ').trim();
  const label = new RegExp('^\\s*' + term + '\\s*:?\\s*', 'i');
  const lead = element.firstElementChild;
  const before = element.firstChild;
  const led = lead !== null && before === lead
    && new RegExp('^\\s*' + term + '\\s*:?\\s*$', 'i').test(lead.innerText);
  const colon = new RegExp('^\\s*' + term + '\\s*:', 'i').test(text);
  return led || colon ? text.replace(label, '') : text;
}"""
"""An element's text, white space normalised, without the label it begins with when it
shows label and value together ("Amount: 12.34 EUR", or a label element then the value)."""


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
        """The step's main heading: its title, in any case and white space."""
        return self.page.get_by_role("heading", name=same_words(self.title))

    def button(self, name: str, role: str | None = None) -> Locator:
        """A control named `name` (in any case and white space), in `role` or any role a
        person can press."""
        roles = (role,) if role else PRESSABLE
        found = self.page.get_by_role(roles[0], name=same_words(name))  # type: ignore[arg-type]
        for other in roles[1:]:
            found = found.or_(self.page.get_by_role(other, name=same_words(name)))  # type: ignore[arg-type]
        return found.first

    def control(self, key: str) -> Locator:
        """The control named by this page's text `key`, in the role the profile gives it
        (`[roles.<page>] <key> = "link"`), else in any pressable role."""
        role = self.wording.roles.get(self.table, {}).get(key)
        return self.button(self.texts[key], role)

    def field(self, key: str) -> Locator:
        """An input labelled by this page's text `key` (a label, aria-label or
        aria-labelledby), in any case and white space."""
        return self.page.get_by_label(same_words(self.texts[key]))

    fields: tuple[str, ...] = ()
    """The text keys of the fields this step asks for, in the order it shows them."""

    async def find(self, key: str) -> Field:
        """The field of this page's text `key`, however it is named: by its accessible name
        first, then by the profile's locator (`[fields.<page>] <key>`), then by what the
        step shows: its code fields (password or numeric inputs, one-time-code fields,
        per-digit boxes), the one in the place of `key` among `fields`. Waits for any of
        them to show; a field found by none is the named one (its use then fails)."""
        named = self.field(key)
        if await named.first.is_visible():  # shown already, by its name: one look
            return Field(named.first)
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
        """A displayed value named by this page's text `key` (the term in any case and white
        space, a colon after it or not): the element labelled with it; the element right
        after the term (`<dt>`/`<dd>`, a row's `<th>`/`<td>`, a caption above its value), the
        term wrapped or not; the cell under a column's header; or the element showing both,
        the term first ("Amount: 12.34 EUR", or a term element then the value: `read`
        leaves the term out)."""
        words = _source(self.texts[key])
        term = _matches(rf"^\s*{words}\s*:?\s*$")
        lowered = self.texts[key].lower()
        named = (f"({_LOWER}={_xpath_literal(' '.join(lowered.split()))} or "
                 f"{_LOWER}={_xpath_literal(' '.join(lowered.split()) + ':')})")
        header = f"(//th[{named}][not(../td)])[1]"  # in a row of headers only
        with_colon = _matches(rf"^\s*{words}\s*:\s*\S")
        after_term = _matches(rf"^\s*{words}\s+\S")
        both = f"{with_colon}, {after_term}:has(> {term}:first-child)"
        return self.page.get_by_label(same_words(self.texts[key])).or_(
            self.page.locator(f"*{term} + :not(th)")
        ).or_(
            # the term wrapped in an element of its own: that element's next sibling
            self.page.locator(f"dt:has({term}) + dd, th:has({term}) + td,"
                              f" :is(div, span, p, label):has(> {term})"
                              f":not(:has(> :not({term}))) + :not(th)")
        ).or_(
            self.page.locator(  # a table whose headers are its columns' (plain DOM only)
                f"xpath={header}/ancestor::table[1]//tr[td][1]"
                f"/td[count({header}/preceding-sibling::*) + 1]")
        ).or_(
            # term and value in one element, no element of the value after the term's
            self.page.locator(f":is({both}):not(:has(> {term} + *))")
        ).first

    async def read(self, key: str, timeout: float | None = None) -> str:
        """The value `value(key)` finds, as text (white space normalised), without the term
        where the page shows the two in one element; `timeout`: milliseconds to wait for it
        (the page's default)."""
        return str(await self.value(key).evaluate(_UNLABELLED, _source(self.texts[key]),
                                                  timeout=timeout))

    def shown(self, key: str, value: str) -> re.Pattern[str]:
        """What the element of `value(key)` may say, for `expect(...).to_have_text`: `value`
        (a regular expression's source), alone or after the term."""
        return re.compile(rf"^\s*(?:{_source(self.texts[key])}\s*:?\s*)?(?:{value})\s*$",
                          re.IGNORECASE)

    async def send(self, control: Locator, entries: Sequence[tuple[str, str]]) -> None:
        """Fills each field (its text key, the value) and presses `control`, unless
        the step sends itself once they are filled (the evidence: a POST, or the page loading
        another document); a step that does neither and shows no such control fails on the
        control's wait, as a missing control always did."""
        with Submission(self.page) as submission:
            for name, entry in entries:
                await (await self.find(name)).fill(entry)
            if not await submission.before(control):
                await control.click()
