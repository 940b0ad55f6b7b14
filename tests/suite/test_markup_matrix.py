"""The markup matrix: proof without a twin.

The suite must work on a provider's hosted pages whatever their legitimate markup, not
only on the embedded sandbox's. Each hosted step is rendered here as small static pages in
several legitimate forms, served by Playwright's routing (no server, no network), and the
page objects and `HostedFlow` must work on every one of them; every check also meets
broken forms against which it must FAIL, naming its requirement (a check that cannot fail
proves nothing).

1. controls, 2. refusals, 3. headings, 4. open shadow roots, 5. the summary (the action,
the linked values), 6. origins (a launch host, departures, the landing), 7. fields
without an accessible name, 8. steps that send themselves (no Continue), 9. an SMS
confirmation inside an action's flow, 10. wording in any case and white space.

It found eleven defects of `pages/` and `sca_conformance/` (legitimate forms the suite
failed, broken ones it passed), each fixed; the forms that showed them are kept here.
"""

from __future__ import annotations

import html
import json
import time
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import Page, Route, expect

from sca_conformance import accessibility as a11y
from sca_conformance import checks
from sca_conformance.catalog import CATALOG
from sca_conformance.client import ApiClient
from sca_conformance.config import Profile, Timeouts
from sca_conformance.data import Subject
from sca_conformance.failures import RequirementViolation
from sca_conformance.flow import HostedFlow
from sca_conformance.landing import Guard, LandingWatcher
from sca_conformance.pages import (
    CardDetailsPage,
    CreatePasscodePage,
    Cvc2Page,
    HostedPage,
    IdentifyPage,
    PasscodePage,
    PhoneCodePage,
    SummaryPage,
    Wording,
)
from sca_conformance.texts import load_texts
from sca_conformance.watch import PageWatch

pytestmark = pytest.mark.browser

TIMEOUTS = Timeouts(page_seconds=3, control_seconds=1, landing_seconds=3)
"""Short waits, so that a broken form fails fast."""

APP = "https://app.example"
STEP_URL = f"{APP}/consent/abc"




# Serving static pages ------------------------------------------------------------------


@dataclass(frozen=True)
class Redirect:
    """A host sending the browser on to `location`. Playwright's routing does not
    intercept the request a fulfilled 302 leads to (it would go to the network:
    microsoft/playwright#3993, "as designed"), so the host answers with a page that goes on
    at once, by script or by a meta refresh, as launch hosts also do."""

    location: str
    by: str = "script"

    def page(self) -> str:
        if self.by == "meta-refresh":
            return f'<meta http-equiv="refresh" content="0; url={html.escape(self.location)}">'
        return f"<script>location.replace({json.dumps(self.location)})</script>"


SHADOW = """<script>
customElements.define("shadow-part", class extends HTMLElement {
  connectedCallback() {
    if (!this.shadowRoot) this.attachShadow({mode: "open"}).innerHTML = this.dataset.html;
  }
});
</script>"""
"""A custom element rendering its `data-html` into its own open shadow root."""


def in_shadow(fragment: str) -> str:
    """`fragment` rendered inside a custom element's open shadow root."""
    return f'<shadow-part data-html="{html.escape(fragment)}"></shadow-part>'


def in_nested_shadows(fragment: str) -> str:
    """`fragment` in a shadow root inside another component's shadow root."""
    return in_shadow(f"<section>{in_shadow(fragment)}</section>")


def document(body: str) -> str:
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme</title>'
            f"{SHADOW}</head><body>{body}</body></html>")


async def serve(page: Page, site: Mapping[str, str | Redirect]) -> None:
    """Answers every request of `page` from `site`: keys are URLs (GET) or "POST <url>",
    values HTML or a Redirect; anything else is a 404. Nothing reaches a network."""

    async def answer(route: Route) -> None:
        request = route.request
        key = request.url if request.method == "GET" else f"{request.method} {request.url}"
        found = site.get(key)
        if isinstance(found, Redirect):
            found = found.page()
        await route.fulfill(status=200 if found else 404, content_type="text/html",
                            body=found or document("<p>Not found</p>"))

    await page.route("**/*", answer)


async def show(page: Page, body: str, *, post: str | None = None) -> None:
    """`body` as the hosted step at STEP_URL (its form's post answered with `post`)."""
    site: dict[str, str | Redirect] = {STEP_URL: document(body)}
    if post is not None:
        site[f"POST {STEP_URL}"] = document(post)
    await serve(page, site)
    await page.goto(STEP_URL)


# Fixtures ------------------------------------------------------------------------------


# The markup below speaks the default English table, whatever profile is selected.
EN = Wording(load_texts("en"))


@pytest_asyncio.fixture(loop_scope="session")
async def api() -> AsyncIterator[ApiClient]:
    """An API client the steps below never call."""
    async with ApiClient("http://127.0.0.1:9", "unused-key") as client:
        yield client


def hosted_flow(page: Page, api: ApiClient, action: str = "external_payment",
                guard: Guard | None = None, wording: Wording = EN, *,
                profile: Profile | None = None) -> HostedFlow:
    return HostedFlow(page, CATALOG[action], Subject(individual={}), api, wording,
                      timeouts=TIMEOUTS, guard=guard, profile=profile)


def violated(error: pytest.ExceptionInfo[RequirementViolation], requirement_id: str) -> str:
    """The violation's message, once it is known to name `requirement_id`."""
    assert error.value.requirement.id == requirement_id, str(error.value)
    return str(error.value)


# 1. Controls ---------------------------------------------------------------------------

PRESSED = 'onclick="event.preventDefault(); document.body.innerHTML = \'<h1>Pressed</h1>\'"'
"""What a control does here when pressed: the page changes (to a heading 'Pressed')."""

CONTROL_FORMS = {
    "button": '<button type="button" {on}>{name}</button>',
    "link": '<a href="#" {on}>{name}</a>',
    "div-role-button": '<div role="button" tabindex="0" {on}>{name}</div>',
    "input-type-submit": '<form action="/next"><input type="submit" value="{name}" {on}></form>',
    "role-menuitem": '<div role="menu" aria-label="Actions">'
                     '<div role="menuitem" tabindex="-1" {on}>{name}</div></div>',
    "button-with-icon": '<button type="button" {on}><svg aria-hidden="true" width="12" '
                        'height="12"><circle cx="6" cy="6" r="5"/></svg> {name}</button>',
    # broken: nothing a person can press by that name
    "missing": "<p>Nothing to press here.</p>",
    "plain-text": "<span>{name}</span>",
    "clickable-div-without-role": "<div {on}>{name}</div>",
    "hidden-button": '<button type="button" hidden {on}>{name}</button>',
}


@dataclass(frozen=True)
class Control:
    """A control of a hosted step: the step's heading, the control's name, how the flow
    presses it, and the requirement that press serves."""

    action: str
    heading: str
    name: str
    requirement: str
    press: Callable[[HostedFlow], Awaitable[None]]

    def page(self, form: str) -> str:
        return f"<main><h1>{self.heading}</h1>{self.control(form)}</main>"

    def control(self, form: str) -> str:
        if form == "in-open-shadow-root":
            return in_shadow(self.control("button"))
        return CONTROL_FORMS[form].replace("{name}", self.name).replace("{on}", PRESSED)


async def try_another_way(flow: HostedFlow) -> None:
    identify = IdentifyPage(flow.page, flow.wording)
    await flow.reach(identify, "PAGE-3")
    await flow.press(identify.another_way_button, "PAGE-3",
                     "the identification page offers no other way than a passkey")


CONTROLS = {
    "summary-confirm": Control("external_payment", "Authentication", "Confirm", "PAGE-4",
                               lambda flow: flow.confirm()),
    "summary-decline": Control("external_payment", "Authentication", "Decline", "PAGE-6",
                               lambda flow: flow.decline()),
    "identify-try-another-way": Control("external_payment", "Identify yourself",
                                        "Try another way", "PAGE-3", try_another_way),
    "add-passkey-skip": Control("onboarding", "Add a passkey", "Skip", "PAGE-15",
                                lambda flow: flow.skip_passkey()),
    "card-active-close": Control("card_activation", "Your card is now active", "Close",
                                 "PAGE-13", lambda flow: flow.close()),
    "card-details-close": Control("card_details", "Card details", "Close", "PAGE-14",
                                  lambda flow: flow.close()),
}


def cases(*pairs: tuple[str, str]) -> list[Any]:
    return [pytest.param(*pair, id="-".join(pair)) for pair in pairs]


@pytest.mark.parametrize(("control", "form"), cases(
    *[("summary-confirm", form) for form in (
        "button", "link", "div-role-button", "input-type-submit", "role-menuitem",
        "button-with-icon", "in-open-shadow-root")],
    ("summary-decline", "link"),
    ("identify-try-another-way", "link"),
    ("add-passkey-skip", "div-role-button"),
    ("card-active-close", "input-type-submit"),
    ("card-details-close", "role-menuitem"),
))
async def test_a_control_is_found_and_pressed_in_any_pressable_role(
    page: Page, api: ApiClient, control: str, form: str
) -> None:
    """The flow finds the control by its name in any pressable role (button, link, menu
    item; `<input type=submit>` and `role="button"` are buttons), in an open shadow root
    too, and pressing it runs the page's own handler."""
    wanted = CONTROLS[control]
    await show(page, wanted.page(form))
    await wanted.press(hosted_flow(page, api, wanted.action))
    await expect(page.get_by_role("heading", name="Pressed")).to_be_visible(timeout=2000)


@pytest.mark.parametrize(("control", "form"), cases(
    ("summary-confirm", "clickable-div-without-role"),
    ("summary-decline", "hidden-button"),
    ("identify-try-another-way", "plain-text"),
    ("card-details-close", "missing"),
))
async def test_a_step_without_the_control_violates_its_requirement(
    page: Page, api: ApiClient, control: str, form: str
) -> None:
    """No control of that name in a pressable role (none, a clickable element without a
    role, a hidden one, its name as plain text): the press fails under the requirement
    the control serves, within the control wait."""
    wanted = CONTROLS[control]
    await show(page, wanted.page(form))
    started = time.monotonic()
    with pytest.raises(RequirementViolation) as error:
        await wanted.press(hosted_flow(page, api, wanted.action))
    violated(error, wanted.requirement)
    assert time.monotonic() - started < TIMEOUTS.page_seconds


@pytest.mark.parametrize(("form", "found"), [
    pytest.param("link", True, id="link-found"),
    pytest.param("button", False, id="button-not-found"),
])
async def test_a_profile_pins_try_another_way_to_a_link(
    page: Page, api: ApiClient, form: str, found: bool
) -> None:
    """`[roles.identify] another_way = "link"`: a link of that name is pressed; a button
    of that name is then not the control, and the step violates PAGE-3."""
    pinned = Wording(load_texts("en"), roles={"identify": {"another_way": "link"}})
    await show(page, CONTROLS["identify-try-another-way"].page(form))
    flow = hosted_flow(page, api, wording=pinned)
    if found:
        await try_another_way(flow)
        await expect(page.get_by_role("heading", name="Pressed")).to_be_visible(timeout=2000)
        return
    with pytest.raises(RequirementViolation) as error:
        await try_another_way(flow)
    violated(error, "PAGE-3")
    await expect(page.get_by_role("button", name="Try another way")).to_be_visible()


# 2. Refusals ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """A step that must refuse a wrong input: its page object and texts, the wrong
    submission, the refusal a provider shows, the requirement that refusal proves."""

    page: type[HostedPage]
    heading: str
    fields: tuple[str, ...]
    button: str
    submit: Callable[[Any], Awaitable[None]]
    message: str
    requirement: str
    naming: int | None = None  # the attempts left the refusal must name (PAGE-7)


STEPS = {
    "passcode": Step(PasscodePage, "Enter your passcode", ("Passcode",), "Continue",
                     lambda step: step.enter("000000"),
                     "Wrong passcode. You have 2 attempts left.", "PAGE-7", naming=2),
    "create-passcode": Step(CreatePasscodePage, "Create your passcode",
                            ("Passcode", "Repeat passcode"), "Continue",
                            lambda step: step.create("123456", "654321"),
                            "The passcodes do not match.", "PAGE-15"),
    "sms-code": Step(PhoneCodePage, "Confirm your phone number", ("SMS code",), "Confirm",
                     lambda step: step.confirm("000000"), "Wrong code.", "PAGE-15"),
    "cvc2": Step(Cvc2Page, "Card activation", ("CVC2",), "Activate",
                 lambda step: step.activate("000"), "Wrong CVC2.", "PAGE-13"),
}


@dataclass(frozen=True)
class Shown:
    """One way a step shows a refusal: where it will show as the step first renders
    (`slot`), the same showing {message} (as a server renders it after a post), the first
    field's attributes tying it to the refusal, and the script of a page that re-renders
    in place (`form`, `field`, `button`, `msg`, `MESSAGE` in scope)."""

    slot: str
    refused: str
    tie: str = ""
    script: str = "msg.textContent = MESSAGE; msg.hidden = false;"


TIED = 'field.setAttribute("aria-invalid", "true"); msg.textContent = MESSAGE; msg.hidden = false;'

REFUSALS = {
    "role-alert": Shown('<div role="alert" id="msg"></div>',
                        '<div role="alert" id="msg">{message}</div>'),
    "role-status": Shown('<div role="status" id="msg"></div>',
                         '<div role="status" id="msg">{message}</div>'),
    "aria-live-polite": Shown('<div aria-live="polite" id="msg"></div>',
                              '<div aria-live="polite" id="msg">{message}</div>'),
    "aria-invalid-describedby": Shown('<p id="msg" class="error" hidden></p>',
                                      '<p id="msg" class="error">{message}</p>',
                                      tie='aria-describedby="msg"', script=TIED),
    "aria-invalid-errormessage": Shown('<p id="msg" class="error" hidden></p>',
                                       '<p id="msg" class="error">{message}</p>',
                                       tie='aria-errormessage="msg"', script=TIED),
    "plain-new-p": Shown("", "<p>{message}</p>", script=(
        'const p = document.createElement("p"); p.textContent = MESSAGE; form.after(p);')),
}

HEADINGS: dict[str, Callable[[str], str]] = {
    "h1": lambda title: f"<h1>{title}</h1>",
    "h2": lambda title: f"<h2>{title}</h2>",
    "role-heading": lambda title: f'<div role="heading" aria-level="1">{title}</div>',
    "css-uppercase": lambda title: f'<h1 style="text-transform: uppercase">{title}</h1>',
    "split-into-spans": lambda title: "<h1><span>{}</span> <span>{}</span></h1>".format(
        *title.rsplit(" ", 1)),
}
"""The step's heading as a provider may write it (its accessible name is the title)."""


def step_body(step: Step, *, slot: str = "", tie: str = "", script: str | None = None,
              heading: str = "h1", wrap: Callable[[str], str] = lambda body: body,
              message: str | None = None, extra: str = "") -> str:
    """`step` as a provider may render it: its heading, labelled fields (the first with
    `tie`), `slot`, `extra`, its control. Without `script` the form posts to STEP_URL; with
    it, the page answers itself: `script` runs a moment after the submit (the provider's
    answer). `wrap` puts the step somewhere (an open shadow root)."""
    fields = "".join(
        f'<label for="f{i}">{label}</label><input id="f{i}" name="f{i}" type="password" '
        f'inputmode="numeric" autocomplete="off" {tie if i == 0 else ""}>'
        for i, label in enumerate(step.fields))
    handler = ""
    if script is not None:
        script = script.replace("MESSAGE", json.dumps(message or step.message))
        handler = ' onsubmit="{}"'.format(html.escape(
            "event.preventDefault(); const form = this, field = form.querySelector('input'),"
            " button = form.querySelector('button'),"
            " msg = form.getRootNode().getElementById('msg');"
            f" setTimeout(() => {{ {script} }}, 200);"))
    return wrap(f"<main>{HEADINGS[heading](step.heading)}"
                f'<form method="post" action="{STEP_URL}"{handler}>{fields}{slot}{extra}'
                f"<button>{step.button}</button></form></main>")


def refused_body(step: Step, shown: Shown, message: str | None = None, **how: Any) -> str:
    """The step as the server renders it again after a post, showing the refusal."""
    tie = f'{shown.tie} aria-invalid="true"' if shown.tie else ""
    return step_body(step, slot=shown.refused.format(message=message or step.message),
                     tie=tie, **how)


async def show_step(page: Page, step: Step, shown: Shown, mode: str, *,
                    message: str | None = None, **how: Any) -> None:
    """The step, refusing in `shown`'s form: re-rendered by its script, or by a post."""
    if mode == "script":
        await show(page, step_body(step, slot=shown.slot, tie=shown.tie, script=shown.script,
                                   message=message, **how))
    else:
        await show(page, step_body(step, slot=shown.slot, tie=shown.tie, **how),
                   post=refused_body(step, shown, message, **how))


async def refuse(page: Page, api: ApiClient, step: Step, naming: int | None = None) -> str:
    """Reaches `step`, submits the wrong input, returns the refusal as the flow saw it."""
    flow = hosted_flow(page, api)
    shown = step.page(page, EN)
    await flow.reach(shown, step.requirement)
    return await flow.refusal(shown, step.submit(shown), step.requirement,
                              "a wrong input must be refused", naming=naming)


@pytest.mark.parametrize(("step", "form", "mode", "heading"), [
    pytest.param(*case, id="-".join(case).removesuffix("-h1")) for case in (
        ("passcode", "role-alert", "script", "h1"),
        ("passcode", "aria-live-polite", "script", "css-uppercase"),
        ("create-passcode", "plain-new-p", "post", "split-into-spans"),
        ("sms-code", "aria-invalid-describedby", "script", "h1"),
        ("sms-code", "role-status", "post", "role-heading"),
        ("cvc2", "aria-invalid-errormessage", "post", "h1"),
    )])
async def test_a_refusal_is_seen_in_any_markup(
    page: Page, api: ApiClient, *, step: str, form: str, mode: str, heading: str
) -> None:
    """A refusal as an alert, a status, a polite live region filled by script, an error
    tied to the field (aria-invalid with aria-describedby or aria-errormessage) or a plain
    new paragraph; re-rendered in place by a script, or after a form post answered with
    the same step and the error; under a heading in capitals by CSS or split into spans.
    PAGE-7's names the attempts left (naming=2)."""
    wanted = STEPS[step]
    await show_step(page, wanted, REFUSALS[form], mode, heading=heading)
    assert await refuse(page, api, wanted, naming=wanted.naming) == wanted.message


async def test_page7_a_refusal_not_naming_the_attempts_left_fails(
    page: Page, api: ApiClient
) -> None:
    """PAGE-7: a refusal (after a post) that does not name the 2 attempts left is no
    refusal naming them: the check fails under PAGE-7 after the page wait."""
    step = STEPS["passcode"]
    await show_step(page, step, REFUSALS["role-alert"], "post", message="Wrong passcode.")
    with pytest.raises(RequirementViolation) as error:
        await refuse(page, api, step, naming=2)
    assert "a refusal naming 2" in violated(error, "PAGE-7")


COUNTDOWN = ('<p>You can ask for a new code in <span class="countdown">30</span> s</p>'
             "<script>let left = 30; setInterval(() => { for (const counter of "
             "document.querySelectorAll('.countdown')) counter.textContent = --left; }, 1000);"
             "</script>")


@pytest.mark.parametrize("extra", [
    pytest.param("", id="script-answers-nothing"),
    pytest.param(COUNTDOWN, id="a-countdown-ticks-nothing-refused"),
])
async def test_a_step_that_shows_nothing_new_fails(
    page: Page, api: ApiClient, extra: str
) -> None:
    """A wrong SMS code, and the step shows nothing new (only its countdown to a new code
    goes on ticking): PAGE-15 fails within the page wait."""
    step = STEPS["sms-code"]
    await show(page, step_body(step, script="", extra=extra))
    with pytest.raises(RequirementViolation) as error:
        await refuse(page, api, step)
    assert "a refusal, the step" in violated(error, "PAGE-15")


ACTIVATED = "<main><h1>Your card is now active</h1><button>Close</button></main>"
PHONE = ("<main><h1>Confirm your phone number</h1><label for=c>SMS code</label>"
         "<input id=c><button>Confirm</button></main>")
LOCKED = "<main><h1>Too many wrong attempts</h1><button>Close</button></main>"


def replaced_by(body: str) -> str:
    return f"document.body.innerHTML = {json.dumps(body)};"


@pytest.mark.parametrize(("step", "post", "script"), [
    pytest.param("cvc2", ACTIVATED, None, id="cvc2-post-card-active"),
    pytest.param("create-passcode", None, replaced_by(PHONE), id="create-passcode-next-step"),
    pytest.param("passcode", LOCKED, None, id="passcode-post-locked-out-at-once"),
    pytest.param("cvc2", None, 'button.textContent = "Activating\u2026"; setTimeout(() => {'
                 f"{replaced_by(ACTIVATED)} }}, 400);", id="cvc2-activating-then-card-active"),
    pytest.param("cvc2", None, 'form.outerHTML = "<h2>Your card is now active</h2>'
                 '<button>Close</button>";', id="cvc2-card-active-under-the-kept-heading"),
])
async def test_a_step_that_moves_on_instead_of_refusing_fails_at_once(
    page: Page, api: ApiClient, step: str, post: str | None, script: str | None
) -> None:
    """The wrong input accepted, the page shows another step instead (the card active
    after a wrong CVC2, the next enrolment step, the lock-out after the first wrong
    passcode), posted or re-rendered, also after saying it is working ('Activating…') or
    under the step's own heading kept as the page's title: the check fails under the
    step's requirement at once, long before the page wait."""
    wanted = STEPS[step]
    await show(page, step_body(wanted, script=script), post=post)
    started = time.monotonic()
    with pytest.raises(RequirementViolation) as error:
        await refuse(page, api, wanted, naming=wanted.naming)
    assert "another step instead" in violated(error, wanted.requirement)
    assert time.monotonic() - started < TIMEOUTS.page_seconds


# 3. Headings ---------------------------------------------------------------------------


@pytest.mark.parametrize("heading", [
    pytest.param("<h1>Identify yourself</h1>", id="h1"),
    pytest.param("<h2>Identify yourself</h2>", id="h2"),
    pytest.param("<h4>Identify yourself</h4>", id="h4"),
    pytest.param('<div role="heading" aria-level="3">Identify yourself</div>',
                 id="role-heading-aria-level-3"),
    pytest.param("<h1>Identify <em>yourself</em></h1>", id="h1-with-inline-markup"),
    pytest.param(in_shadow("<h2>Identify yourself</h2>"), id="in-open-shadow-root"),
])
async def test_reach_finds_the_step_by_a_heading_of_any_level(
    page: Page, api: ApiClient, heading: str
) -> None:
    """A step's heading of any level, or `role="heading"`, in an open shadow root too:
    `reach` finds the step."""
    await show(page, f"<main>{heading}<a href='#'>Try another way</a></main>")
    await hosted_flow(page, api).reach(IdentifyPage(page, EN), "PAGE-3")


@pytest.mark.parametrize(("heading", "shown"), [
    pytest.param('<p class="title" style="font: bold 2em sans-serif">Identify yourself</p>',
                 "within 3 s", id="title-as-styled-text-no-heading"),
    pytest.param("<h1>Enter your passcode</h1>", "another step instead",
                 id="another-steps-heading"),
])
async def test_reach_fails_without_the_steps_heading(
    page: Page, api: ApiClient, heading: str, shown: str
) -> None:
    """The step's title as styled text, not a heading: `reach` fails under PAGE-3 after
    the page wait. Another step's heading instead: it fails soon after that shows."""
    await show(page, f"<main>{heading}<a href='#'>Try another way</a></main>")
    with pytest.raises(RequirementViolation) as error:
        await hosted_flow(page, api).reach(IdentifyPage(page, EN), "PAGE-3")
    assert shown in violated(error, "PAGE-3")


# 4. Open shadow roots ------------------------------------------------------------------


@pytest.mark.parametrize(("wrap", "mode"), [
    pytest.param(in_shadow, "script", id="open-shadow-root-script"),
    pytest.param(in_nested_shadows, "post", id="nested-open-shadow-roots-post"),
])
async def test_a_step_inside_open_shadow_roots_works_end_to_end(
    page: Page, api: ApiClient, wrap: Callable[[str], str], mode: str
) -> None:
    """The passcode step (heading, labelled field, control, refusal) rendered by a custom
    element into its open shadow root (or one nested in another): `reach`, the field's
    fill, the control's press and the refusal naming the attempts left all work."""
    step = STEPS["passcode"]
    await show_step(page, step, REFUSALS["role-alert"], mode, wrap=wrap)
    flow = hosted_flow(page, api)
    passcode = PasscodePage(page, EN)
    await flow.reach(passcode, "PAGE-7")
    await passcode.passcode.fill("000000")
    await expect(passcode.passcode).to_have_value("000000")
    refusal = await flow.refusal(passcode, passcode.control("continue").click(), "PAGE-7",
                                 "a wrong passcode must be refused", naming=2)
    assert refusal == step.message


async def test_a_step_inside_an_open_shadow_root_without_its_control_fails(
    page: Page, api: ApiClient
) -> None:
    """The same step in a shadow root, its Continue missing: the press fails (PAGE-3)."""
    body = step_body(STEPS["passcode"], wrap=in_shadow)
    await show(page, body.replace(html.escape("<button>Continue</button>"), ""))
    flow = hosted_flow(page, api)
    passcode = PasscodePage(page, EN)
    await flow.reach(passcode, "PAGE-3")
    await expect(passcode.passcode).to_be_visible()
    with pytest.raises(RequirementViolation) as error:
        await flow.press(passcode.control("continue"), "PAGE-3", "no Continue")
    violated(error, "PAGE-3")


# 5. Summary ----------------------------------------------------------------------------


def summary_page(body: str) -> str:
    """The summary: its heading, the introduction, `body`, Confirm and Decline."""
    return document("<header><h1>Authentication</h1></header>"
                    f"<p>I identify myself to Acme to</p>{body}"
                    "<footer><button>Confirm</button><button>Decline</button></footer>")


@pytest.mark.parametrize("markup", [
    pytest.param('<section aria-labelledby="t"><h2 id="t">Make a payment</h2></section>',
                 id="region-named-by-its-heading"),
    pytest.param("<div>Make a payment</div>", id="no-region"),
    pytest.param('<div role="dialog" aria-label="Consent"><p>Make a payment</p></div>',
                 id="dialog"),
    pytest.param("<main>Make a payment</main>", id="main"),
    pytest.param("<p>I identify myself to Acme to make a payment of 12.34 EUR.</p>",
                 id="inside-a-sentence"),
    pytest.param("<p>I identify myself to Acme to make a\n    payment.</p>",
                 id="sentence-wrapped-in-the-source"),
    pytest.param("<h2>Make a&nbsp;payment</h2>", id="no-break-space"),
    pytest.param("<h2>MAKE A PAYMENT</h2>", id="capitals"),
    pytest.param(in_shadow("<h2>Make a payment</h2>"), id="in-open-shadow-root"),
])
async def test_the_summary_names_the_action_in_any_markup(page: Page, markup: str) -> None:
    """PAGE-1: the action's wording in a region named by its heading, in no region, in a
    dialog, in `main`, inside a sentence (wrapped in the source, or a no-break space
    between its words), in capitals, in an open shadow root."""
    await page.set_content(summary_page(markup))
    with checks.proving("PAGE-1"):
        await expect(SummaryPage(page, EN).action_title("external_payment")).to_be_visible(
            timeout=500)


@pytest.mark.parametrize("markup", [
    pytest.param("<p>Please confirm.</p>", id="no-action-named"),
    pytest.param("<section><h2>Read payment history</h2></section>", id="another-action"),
    pytest.param("<p>Make a paymentplan</p>", id="only-inside-a-longer-word"),
])
async def test_a_summary_not_naming_the_action_fails(page: Page, markup: str) -> None:
    """PAGE-1: a summary that does not name the action (or names another) fails."""
    await page.set_content(summary_page(markup))
    with pytest.raises(RequirementViolation) as error, checks.proving("PAGE-1"):
        await expect(SummaryPage(page, EN).action_title("external_payment")).to_be_visible(
            timeout=500)
    violated(error, "PAGE-1")


TERMS = (("Amount", "12.34 EUR"), ("Payee", "Ada Lovelace AB"),
         ("IBAN", "DE89 3704 0044 0532 0130 00"))


def each(template: str) -> str:
    return "".join(template.format(term=term, value=value, i=i)
                   for i, (term, value) in enumerate(TERMS))


VALUE_FORMS = {
    "dl": "<dl>" + each("<dt>{term}</dt><dd>{value}</dd>") + "</dl>",
    "dl-grouped-in-divs": "<dl>" + each("<div><dt>{term}</dt><dd>{value}</dd></div>") + "</dl>",
    "table-row-headers": "<table>" + each('<tr><th scope="row">{term}</th><td>{value}</td></tr>')
                         + "</table>",
    "table-column-headers": "<table><tr>" + "".join(f"<th>{t}</th>" for t, _ in TERMS) +
                            "</tr><tr>" + "".join(f"<td>{v}</td>" for _, v in TERMS) +
                            "</tr></table>",
    "caption-above-value": each('<div class="item"><span class="caption">{term}</span>'
                                "<span>{value}</span></div>"),
    "caption-below-tied-by-aria-labelledby": each(
        '<div class="item"><strong aria-labelledby="c{i}">{value}</strong>'
        '<small id="c{i}">{term}</small></div>'),
    "aria-label": each('<p><span aria-label="{term}">{value}</span></p>'),
    "term-wrapped-in-a-span": "<dl>" + each("<dt><span>{term}</span></dt><dd>{value}</dd>") +
                              "</dl>",
    "caption-wrapped-in-a-div": each('<div class="row"><div class="label"><span>{term}</span>'
                                     '</div><div class="value">{value}</div></div>'),
    "in-open-shadow-root": in_shadow("<dl>" + each("<dt>{term}</dt><dd>{value}</dd>") +
                                     "</dl>"),
    "term-and-value-in-one-element": each("<p>{term}: {value}</p>"),
    "term-element-then-the-value": "<ul>" + each("<li><strong>{term}</strong> {value}</li>") +
                                   "</ul>",
    "term-element-with-a-colon-then-the-value": each(
        '<div class="row"><span class="label">{term}:</span> {value}</div>'),
    "terms-in-capitals-with-colons": "<dl>" + "".join(
        f"<dt>{term.upper()}:</dt><dd>{value}</dd>" for term, value in TERMS) + "</dl>",
    "terms-with-a-colon-in-rows": "<dl>" + each(
        '<div class="row"><dt>{term}:</dt>\n<dd>{value}</dd></div>') + "</dl>",
    # broken: values the page does not tie to their terms
    "values-without-terms": each("<p>{value}</p>"),
    "other-terms": "<dl>" + each("<dt>{term} (see below)</dt><dd>{value}</dd>") + "</dl>",
    "terms-only-beginning-alike": each("<p>{term}s: {value}</p>"),
    "term-after-the-value": each("<p>{value} <small>{term}</small></p>"),
}


async def read_values(page: Page) -> None:
    """PAGE-2 as the suite checks it: each value read through `detail`, then compared."""
    summary = SummaryPage(page, EN)
    shown = {}
    for key in ("amount", "payee", "iban"):
        with checks.proving("PAGE-2"):
            shown[key] = await summary.read(key, timeout=500)
    checks.amount_shown(shown["amount"], 1234, "EUR", ".")
    checks.text_shown("payee", shown["payee"], "Ada Lovelace AB")
    checks.iban_shown(shown["iban"], "DE89370400440532013000")


@pytest.mark.parametrize("form", [
    "dl", "dl-grouped-in-divs", "table-row-headers", "table-column-headers",
    "caption-above-value", "caption-below-tied-by-aria-labelledby", "aria-label",
    "term-wrapped-in-a-span", "in-open-shadow-root",
    "caption-wrapped-in-a-div", "term-and-value-in-one-element", "term-element-then-the-value",
    "term-element-with-a-colon-then-the-value", "terms-in-capitals-with-colons",
    "terms-with-a-colon-in-rows",
])
async def test_the_summary_shows_each_linked_value_in_any_markup(
    page: Page, form: str
) -> None:
    """PAGE-2: amount, payee and IBAN as `<dt>`/`<dd>` (also grouped in `<div>`s, or the
    term in a span), a table's row or column headers, a caption above the value (also
    each in its own wrapper), a caption below it tied by `aria-labelledby`, `aria-label`,
    in an open shadow root; term and value in one element ("Amount: 12.34 EUR", a term
    element then the value), terms in capitals or with a colon: `detail` finds each and
    `read` gives it without its term, as requested."""
    await page.set_content(summary_page(VALUE_FORMS[form]))
    await read_values(page)


@pytest.mark.parametrize("form", ["values-without-terms", "other-terms",
                                  "terms-only-beginning-alike", "term-after-the-value"])
async def test_values_not_tied_to_their_terms_fail(page: Page, form: str) -> None:
    """PAGE-2: values shown without their terms, under other wording (also a term that
    only begins alike: "Amounts:"), or with the term after the value, are not found."""
    await page.set_content(summary_page(VALUE_FORMS[form]))
    with pytest.raises(RequirementViolation) as error:
        await read_values(page)
    violated(error, "PAGE-2")


# 6. Origins ----------------------------------------------------------------------------

LAUNCH = "https://launch.example/sca/abc"
RETURN = "http://127.0.0.1:9/return?x=1"
LANDED = f"{RETURN}&consent_id=c1&status=approved"
EVIL = "https://evil.example/"


def hosted_site(*, launch: Mapping[str, Redirect] | None = None,
                confirm_to: str = "/consent/abc/identify", identify: str = "",
                finish_to: str = LANDED) -> dict[str, str | Redirect]:
    """A launch host sending the browser on to the app host; the summary (its Confirm a
    link); 'Identify yourself' (its other way finishes the flow); the client's return_url."""
    return {
        **(launch or {LAUNCH: Redirect(STEP_URL)}),
        STEP_URL: summary_page(f'<h2>Make a payment</h2><a href="{confirm_to}">Confirm</a>'),
        f"{APP}/consent/abc/identify": document(
            f"<main><h1>Identify yourself</h1>{identify}"
            '<a href="/consent/abc/done">Try another way</a></main>'),
        f"{APP}/consent/abc/done": Redirect(finish_to),
        LANDED: document("<h1>Back at the client</h1>"),
        "https://widgets.example/check": document("<p>Security check</p>"),
        EVIL: document("<h1>Authentication</h1>"),
    }


def guarded(page: Page, api: ApiClient) -> tuple[HostedFlow, Guard, LandingWatcher]:
    guard = Guard(page, LAUNCH, RETURN)
    landing = LandingWatcher(page, RETURN, EN, guard, timeout=TIMEOUTS.landing_seconds)
    return hosted_flow(page, api, guard=guard), guard, landing


async def through_identification(flow: HostedFlow) -> None:
    await flow.confirm()
    await try_another_way(flow)


@pytest.mark.parametrize(("launch", "identify"), [
    pytest.param({LAUNCH: Redirect(STEP_URL)}, "", id="launch-host-hands-over-by-script"),
    pytest.param({LAUNCH: Redirect(STEP_URL, by="meta-refresh")}, "",
                 id="launch-host-hands-over-by-meta-refresh"),
    pytest.param({LAUNCH: Redirect("https://sso.example/handoff"),
                  "https://sso.example/handoff": Redirect(STEP_URL)}, "",
                 id="through-a-second-host"),
    pytest.param({LAUNCH: Redirect(STEP_URL)},
                 '<iframe src="https://widgets.example/check" title="Security check"></iframe>',
                 id="a-step-shows-a-third-party-frame"),
])
async def test_the_hosts_the_launch_went_through_are_the_hosted_pages(
    page: Page, api: ApiClient, launch: Mapping[str, Redirect], identify: str
) -> None:
    """redirect_url on a launch host that sends the browser on to the app host (by
    script, by a meta refresh, through a second host): once the summary shows, every host
    on the way is a hosted page's; the flow goes on on the app host (a frame from another
    host on a step takes the browser nowhere), and its final redirect to return_url, path
    and query kept, is the landing."""
    await serve(page, hosted_site(launch=launch, identify=identify))
    flow, guard, landing = guarded(page, api)
    await flow.open(LAUNCH)
    await flow.summary()
    assert guard.departure() is None
    await through_identification(flow)
    assert await landing.wait() == LANDED
    assert guard.departure() is None


@pytest.mark.parametrize("elsewhere", [
    pytest.param(EVIL, id="another-host"),
    pytest.param("http://127.0.0.1:10/return?x=1", id="return-url-on-another-port"),
    pytest.param("http://127.0.0.1:9/elsewhere?x=1", id="return-urls-host-another-path"),
    pytest.param("http://app.example/consent/abc", id="app-host-over-http"),
])
async def test_a_later_navigation_elsewhere_is_a_departure(
    page: Page, api: ApiClient, elsewhere: str
) -> None:
    """After the summary showed, any origin that is not a hosted page's, and any URL of
    return_url's origin that is not return_url, is a PAGE-4 departure."""
    site = hosted_site()
    site[elsewhere] = document("<h1>Somewhere else</h1>")
    await serve(page, site)
    flow, guard, _ = guarded(page, api)
    await flow.open(LAUNCH)
    await flow.summary()
    await page.goto(elsewhere)
    assert guard.departure() == elsewhere


@pytest.mark.parametrize(("confirm_to", "finish_to"), [
    pytest.param(EVIL, LANDED, id="confirm-leads-elsewhere"),
    pytest.param("/consent/abc/identify", EVIL, id="final-redirect-elsewhere"),
])
async def test_a_flow_that_leaves_the_hosted_pages_fails_page4_at_once(
    page: Page, api: ApiClient, confirm_to: str, finish_to: str
) -> None:
    """Confirm leading to another host (caught while waiting for the next step), or the
    final redirect going elsewhere than return_url (caught while waiting for the
    landing): PAGE-4, at once."""
    await serve(page, hosted_site(confirm_to=confirm_to, finish_to=finish_to))
    flow, guard, landing = guarded(page, api)
    await flow.open(LAUNCH)
    started = time.monotonic()
    with pytest.raises(RequirementViolation) as error:
        await through_identification(flow)
        await landing.wait()
    assert EVIL in violated(error, "PAGE-4")
    assert guard.departure() == EVIL
    assert time.monotonic() - started < TIMEOUTS.page_seconds


# 7. Fields, however they are named -----------------------------------------------------

TYPED = {"passcode": ("000000",), "create-passcode": ("123456", "654321"),
         "sms-code": ("000000",), "cvc2": ("000",)}
"""What each step's wrong submission (STEPS) types, field by field."""

MOVE_ON = """<script>
for (const group of document.querySelectorAll('.boxes')) {
  const boxes = [...group.querySelectorAll('input')];
  boxes.forEach((box, index) => box.addEventListener('input', () => {
    if (box.value && boxes[index + 1]) boxes[index + 1].focus();
  }));
}
</script>"""


def boxes(index: int, digits: int, script: str = "") -> str:
    return ('<div class="boxes">' + "".join(
        f'<input name="f{index}d{n}" type="text" inputmode="numeric" maxlength="1">'
        for n in range(digits)) + "</div>" + script)


FIELD_FORMS: dict[str, Callable[[Step, tuple[str, ...]], str]] = {
    "labels-as-captions": lambda step, typed: "".join(
        f'<span class="caption">{label}</span><input name="f{i}" type="password">'
        for i, label in enumerate(step.fields)),
    "one-time-code-without-label": lambda step, typed: "".join(
        f'<input name="f{i}" autocomplete="one-time-code">' for i in range(len(typed))),
    "per-digit-boxes-moving-on": lambda step, typed: "".join(
        boxes(i, len(value)) for i, value in enumerate(typed)) + MOVE_ON,
    "per-digit-boxes-standing-still": lambda step, typed: "".join(
        boxes(i, len(value)) for i, value in enumerate(typed)),
    "declared-in-the-profile": lambda step, typed: "".join(
        f'<input name="f{i}" type="text" class="field-{key}">'
        for i, key in enumerate(step.page.fields)),
}
"""A step's fields as providers write them without an accessible name: captions instead
of labels, a one-time-code input, per-digit boxes (a script moving on from box to box, or
none), an ordinary text input the profile points at (`[fields.<page>] <key>`)."""


def posted_fields(data: str) -> tuple[str, ...]:
    """The values of a post of FIELD_FORMS: f0, f1, ... or their boxes f0d0, f0d1, ..."""
    posted = dict(urllib.parse.parse_qsl(data))
    values = []
    for index in range(2):
        single = posted.get(f"f{index}")
        digits = "".join(posted.get(f"f{index}d{n}", "") for n in range(8))
        if single is not None or digits:
            values.append(single if single is not None else digits)
    return tuple(values)


@pytest.mark.parametrize("step", list(STEPS))
@pytest.mark.parametrize("form", list(FIELD_FORMS))
async def test_a_field_without_a_name_is_found_filled_and_recorded(
    page: Page, api: ApiClient, *, step: str, form: str
) -> None:
    """Each step's fields found without an accessible name (by the profile's locator, or
    as the step's code fields: one-time-code, per-digit boxes) and filled: the flow goes
    on; the missing names are A11Y-4's (a SHOULD), never the step's MUST."""
    wanted, typed = STEPS[step], TYPED[step]
    table = wanted.page.table
    wording = Wording(load_texts("en"), fields={
        table: {key: f".field-{key}" for key in wanted.page.fields}})
    await show(page, f"<main><h1>{wanted.heading}</h1><form method=\"post\" "
               f"action=\"{STEP_URL}\">{FIELD_FORMS[form](wanted, typed)}"
               f"<button>{wanted.button}</button></form></main>",
               post=document("<main><h1>Next</h1></main>"))
    flow = hosted_flow(page, api, wording=wording)
    shown = wanted.page(page, wording)
    await flow.reach(shown, wanted.requirement)
    with pytest.raises(RequirementViolation) as error:
        a11y.fields_named(await a11y.page_facts(page), repr(wanted.heading))
    violated(error, "A11Y-4")
    async with page.expect_request(lambda request: request.method == "POST") as posted:
        await wanted.submit(shown)
    assert posted_fields((await posted.value).post_data or "") == typed


async def test_a_step_whose_field_cannot_be_told_violates_its_requirement(
    page: Page, api: ApiClient
) -> None:
    """Two unnamed code fields where the step asks for one: which is the passcode cannot
    be told, and the submission fails under the step's requirement (the refusal's PAGE-7),
    not as a browser's timeout naming nothing."""
    wanted = STEPS["passcode"]
    await show(page, f"<main><h1>{wanted.heading}</h1><form method=\"post\" "
               f"action=\"{STEP_URL}\"><input name=\"a\" type=\"password\">"
               "<input name=\"b\" type=\"password\"><button>Continue</button></form></main>")
    with pytest.raises(RequirementViolation) as error:
        await refuse(page, api, wanted)
    assert "never got there" in violated(error, "PAGE-7")


# 8. Steps that send themselves ---------------------------------------------------------

SENDS_ITSELF = """<script>
for (const form of document.querySelectorAll('form')) {
  const inputs = [...form.querySelectorAll('input:not([type=hidden])')];
  const size = Number(form.dataset.size);
  let sent = false;
  const go = () => {
    if (sent || inputs.map((input) => input.value).join('').length < size) return;
    sent = true;
    HOW
  };
  inputs.forEach((input, index) => input.addEventListener('input', () => {
    if (inputs.length > 1 && input.value && inputs[index + 1]) inputs[index + 1].focus();
    go();
  }));
}
</script>"""
"""A passcode step that sends itself once the code is complete (`HOW`), as the last box or
character goes in; no Continue."""

SENDING = {
    "form-post": "form.requestSubmit();",
    "script-request": ("fetch(form.action, {method: 'POST', body: new URLSearchParams("
                       "new FormData(form))}).then((answer) => answer.text())"
                       ".then((next) => { document.body.innerHTML = new DOMParser()"
                       ".parseFromString(next, 'text/html').body.innerHTML; });"),
    "nothing": "",  # broken: it never sends, and has no Continue either
    "beacon-only": "navigator.sendBeacon('https://stats.example/typed', 'done');",  # broken
}

CODE_INPUTS = {
    "labelled-boxes": '<fieldset><legend>Passcode</legend>' + "".join(
        f'<input name="d{n}" type="password" inputmode="numeric" maxlength="1" '
        f'aria-label="Digit {n + 1} of 6">' for n in range(6)) + "</fieldset>",
    "unlabelled-boxes": "".join(
        f'<input name="d{n}" type="text" inputmode="numeric" maxlength="1">' for n in range(6)),
    "one-field": '<label for="p">Passcode</label><input id="p" name="passcode" type="password">',
}


def sending_step(inputs: str, how: str, alert: str = "") -> str:
    return (f'<main><h1>Enter your passcode</h1>{alert}<form method="post" action="{STEP_URL}"'
            f' data-size="6">{CODE_INPUTS[inputs]}</form></main>'
            + SENDS_ITSELF.replace("HOW", SENDING[how]))


def posted_code(data: str) -> str:
    posted = dict(urllib.parse.parse_qsl(data))
    return posted.get("passcode") or "".join(posted.get(f"d{n}", "") for n in range(6))


@pytest.mark.parametrize(("inputs", "how"), cases(
    ("labelled-boxes", "form-post"), ("unlabelled-boxes", "script-request"),
    ("one-field", "form-post"), ("labelled-boxes", "script-request"),
))
async def test_a_step_that_sends_itself_is_not_a_missing_continue(
    page: Page, api: ApiClient, inputs: str, how: str
) -> None:
    """A passcode step without Continue that sends itself once the code is complete
    (labelled or unlabelled per-digit boxes, or one field; by a form post or a script's
    request): the code goes in once, nothing is pressed, the flow goes on to the next step."""
    await show(page, sending_step(inputs, how),
               post=document("<main><h1>Your card is now active</h1></main>"))
    flow = hosted_flow(page, api)
    passcode = PasscodePage(page, EN)
    await flow.reach(passcode, "PAGE-3")
    posts: list[str] = []
    page.on("request", lambda request: posts.append(request.post_data or "")
            if request.method == "POST" else None)
    with checks.proving("PAGE-3"):
        await passcode.enter("135790")
    await expect(page.get_by_role("heading", name="Your card is now active")).to_be_visible()
    assert [posted_code(data) for data in posts] == ["135790"]


async def test_a_step_that_sends_itself_refuses_a_wrong_code_as_any_step(
    page: Page, api: ApiClient
) -> None:
    """PAGE-7 on a step that sends itself: its wrong passcode sent by the last box, the
    step shown again with the refusal naming the attempts left."""
    refusal = '<div role="alert">Wrong passcode. You have 2 attempts left.</div>'
    await show(page, sending_step("labelled-boxes", "form-post"),
               post=document(sending_step("labelled-boxes", "form-post", alert=refusal)))
    assert await refuse(page, api, STEPS["passcode"], naming=2) == (
        "Wrong passcode. You have 2 attempts left.")


@pytest.mark.parametrize(("inputs", "how"), cases(
    ("labelled-boxes", "nothing"), ("one-field", "nothing"), ("labelled-boxes", "beacon-only"),
))
async def test_a_step_without_continue_that_does_not_send_itself_fails(
    page: Page, api: ApiClient, inputs: str, how: str
) -> None:
    """No Continue, and the step does not send itself when the code is complete (no POST,
    no new document; an analytics beacon is no submission): the missing Continue fails
    under PAGE-3, within the control wait."""
    await show(page, sending_step(inputs, how), post=document("<h1>Next</h1>"))
    flow = hosted_flow(page, api)
    passcode = PasscodePage(page, EN)
    await flow.reach(passcode, "PAGE-3")
    with pytest.raises(RequirementViolation) as error, checks.proving("PAGE-3"):
        await passcode.enter("135790")
    assert "never got there" in violated(error, "PAGE-3")


# 9. An SMS confirmation inside an action's flow ------------------------------------------

CODE_ON_PAGE = Profile.model_validate({"data": {
    "sms_code": ["page"], "sms_code_locator": "text=/\\b\\d{6}\\b/"}})
"""A target showing the texted code on its page (as a staging does)."""

SMS_STEP = ("<main><h1>Confirm with SMS code</h1><p>Your code: <b>246810</b></p>{alert}"
            f'<form method="post" action="{STEP_URL}"><label for="c">SMS code</label>'
            '<input id="c" name="code" inputmode="numeric">{button}</form></main>')
CARD_DETAILS = ("<main><h1>Card details</h1><dl><dt>Card holder</dt><dd>Ada Lovelace</dd>"
                "<dt>Card number</dt><dd>4111 1111 1111 1111</dd><dt>Valid thru</dt>"
                "<dd>02/31</dd><dt>CVC</dt><dd>123</dd></dl><button>Close</button></main>")


def sms_step(alert: str = "", button: str = "<button>Confirm</button>") -> str:
    return document(SMS_STEP.format(alert=alert, button=button))


async def test_an_sms_step_shown_inside_the_flow_is_completed(
    page: Page, api: ApiClient
) -> None:
    """Card details awaited, 'Confirm with SMS code' shown instead: the flow reads the code
    where the profile says (the page), sends it, then reaches the card details and reads
    them (PAGE-14); the code is a secret of the test from then on."""
    await serve(page, {STEP_URL: sms_step(), f"POST {STEP_URL}": document(CARD_DETAILS)})
    await page.goto(STEP_URL)
    flow = hosted_flow(page, api, "card_details", profile=CODE_ON_PAGE)
    async with page.expect_request(lambda request: request.method == "POST") as posted:
        await flow.read_card_details()
    assert dict(urllib.parse.parse_qsl((await posted.value).post_data or "")) == {
        "code": "246810"}
    assert flow.card_details == {"holder": "Ada Lovelace", "number": "4111 1111 1111 1111",
                                 "valid_thru": "02/31", "cvc": "123"}
    assert api.secrets.text("246810") != "246810"


async def test_an_sms_step_that_refuses_the_code_fails_the_step_awaited(
    page: Page, api: ApiClient
) -> None:
    """The SMS step completed, and shown again refusing the code: the card details never
    come, and PAGE-14 fails (the SMS step is completed once, not again and again)."""
    refused = sms_step(alert='<p role="alert">Wrong code.</p>')
    await serve(page, {STEP_URL: sms_step(), f"POST {STEP_URL}": refused})
    await page.goto(STEP_URL)
    flow = hosted_flow(page, api, "card_details", profile=CODE_ON_PAGE)
    with pytest.raises(RequirementViolation) as error:
        await flow.read_card_details()
    assert "'Card details' within 3 s" in violated(error, "PAGE-14")


async def test_an_sms_step_without_confirm_that_does_not_send_itself_fails(
    page: Page, api: ApiClient
) -> None:
    """The SMS step shown, no Confirm, and it does not send itself: PAGE-14 fails, naming
    the missing Confirm."""
    await serve(page, {STEP_URL: sms_step(button="")})
    await page.goto(STEP_URL)
    flow = hosted_flow(page, api, "card_details", profile=CODE_ON_PAGE)
    with pytest.raises(RequirementViolation) as error:
        await flow.read_card_details()
    assert "the SMS step has no 'Confirm' button" in violated(error, "PAGE-14")


async def test_a_step_skipped_after_an_sms_step_still_fails(
    page: Page, api: ApiClient
) -> None:
    """Identification awaited, the SMS step shown: it is completed, but then the card
    details show, identification skipped: PAGE-3 fails, another step instead."""
    await serve(page, {STEP_URL: sms_step(), f"POST {STEP_URL}": document(CARD_DETAILS)})
    await page.goto(STEP_URL)
    flow = hosted_flow(page, api, "card_details", profile=CODE_ON_PAGE)
    with pytest.raises(RequirementViolation) as error:
        await flow.identification("PAGE-3")
    assert "another step instead: 'Card details'" in violated(error, "PAGE-3")


async def test_an_sms_step_is_only_completed_by_a_flow_that_can(
    page: Page, api: ApiClient
) -> None:
    """Without a flow to complete it (a bare watch), the SMS step shown where another was
    awaited is a step shown instead: PAGE-14 fails."""
    await serve(page, {STEP_URL: sms_step()})
    await page.goto(STEP_URL)
    watch = PageWatch(page, EN, api.secrets, timeouts=TIMEOUTS)
    with pytest.raises(RequirementViolation) as error:
        await watch.reach(CardDetailsPage(page, EN), "PAGE-14")
    assert "another step instead" in violated(error, "PAGE-14")


# 10. Wording in any case and white space ------------------------------------------------


@pytest.mark.parametrize("heading", [
    pytest.param("<h1>IDENTIFY YOURSELF</h1>", id="capitals"),
    pytest.param("<h1>identify yourself</h1>", id="lower-case"),
    pytest.param("<h2>Identify&nbsp;&nbsp;yourself </h2>", id="no-break-spaces"),
    pytest.param("<h1>Identify\n   yourself</h1>", id="wrapped-in-the-source"),
])
async def test_reach_finds_a_heading_in_any_case_and_white_space(
    page: Page, api: ApiClient, heading: str
) -> None:
    """The step's heading in capitals, in lower case, with no-break or extra spaces: it is
    the step's title."""
    await show(page, f"<main>{heading}<a href='#'>Try another way</a></main>")
    await hosted_flow(page, api).reach(IdentifyPage(page, EN), "PAGE-3")


async def test_a_heading_that_only_begins_with_the_title_is_not_the_step(
    page: Page, api: ApiClient
) -> None:
    """'Identify yourself again' is not 'Identify yourself': PAGE-3 fails."""
    await show(page, "<main><h1>Identify yourself again</h1><a href='#'>Try another way</a>"
               "</main>")
    with pytest.raises(RequirementViolation) as error:
        await hosted_flow(page, api).reach(IdentifyPage(page, EN), "PAGE-3")
    violated(error, "PAGE-3")


@pytest.mark.parametrize("name", [
    pytest.param("CONFIRM", id="capitals"),
    pytest.param("confirm", id="lower-case"),
    pytest.param("&nbsp;Confirm&nbsp;", id="no-break-spaces"),
])
async def test_a_control_is_found_in_any_case_and_white_space(
    page: Page, api: ApiClient, name: str
) -> None:
    """Confirm written in capitals, in lower case, between no-break spaces: pressed."""
    wanted = CONTROLS["summary-confirm"]
    await show(page, wanted.page("button").replace(">Confirm<", f">{name}<"))
    await wanted.press(hosted_flow(page, api, wanted.action))
    await expect(page.get_by_role("heading", name="Pressed")).to_be_visible(timeout=2000)


@pytest.mark.parametrize("name", [
    pytest.param("Confirm later", id="longer-name"),
    pytest.param("Confirmed", id="longer-word"),
])
async def test_a_control_whose_name_only_begins_alike_is_not_the_control(
    page: Page, api: ApiClient, name: str
) -> None:
    """'Confirm later' or 'Confirmed' is not Confirm: PAGE-4 fails (the name is whole)."""
    wanted = CONTROLS["summary-confirm"]
    await show(page, wanted.page("button").replace(">Confirm<", f">{name}<"))
    with pytest.raises(RequirementViolation) as error:
        await wanted.press(hosted_flow(page, api, wanted.action))
    violated(error, "PAGE-4")


@pytest.mark.parametrize(("label", "named"), [
    pytest.param("PASSCODE", True, id="label-in-capitals"),
    pytest.param("Pass code", False, id="other-wording-found-as-the-code-field"),
])
async def test_a_field_label_is_read_in_any_case(
    page: Page, api: ApiClient, label: str, named: bool
) -> None:
    """A field labelled 'PASSCODE' is the passcode field by its name; 'Pass code' is other
    wording (found only as the step's code field, which A11Y-4 does not mind, the name
    being there)."""
    await show(page, "<main><h1>Enter your passcode</h1><form><label for=p>"
               f"{label}</label><input id=p type=password><button>Continue</button></form>"
               "</main>")
    field = await PasscodePage(page, EN).find("passcode")
    assert field.named is named
    await field.fill("135790")
    await expect(page.locator("#p")).to_have_value("135790")
