"""The accessibility probes and checks (A11Y-1..4) on small pages in legitimate and broken
forms: each legitimate form passes in any markup, each broken one fails naming its
requirement (a check that cannot fail proves nothing)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from playwright.async_api import Page, Route

from sca_conformance import accessibility as a11y
from sca_conformance.failures import RequirementViolation
from sca_conformance.redact import SecretRegistry

pytestmark = pytest.mark.browser


def document(body: str, *, lang: str = ' lang="en"', title: str = "Acme", head: str = "") -> str:
    return (f"<!doctype html><html{lang}><head><meta charset='utf-8'><title>{title}</title>"
            f"{head}</head><body><main>{body}</main></body></html>")


SHADOW = """<script>
customElements.define("shadow-part", class extends HTMLElement {
  connectedCallback() {
    if (!this.shadowRoot) this.attachShadow({mode: "open"}).innerHTML = this.dataset.html;
  }
});
</script>"""


def in_shadow(fragment: str) -> str:
    return f"<shadow-part data-html='{fragment}'></shadow-part>"


async def show(page: Page, body: str, **how: str) -> None:
    await page.set_content(document(body, **how))


def fails(error: pytest.ExceptionInfo[RequirementViolation], requirement_id: str) -> str:
    assert error.value.requirement.id == requirement_id, str(error.value)
    return str(error.value)


# A11Y-1 ------------------------------------------------------------------------------


async def test_axe_finds_serious_violations_only(page: Page) -> None:
    await show(page, '<h1>Authentication</h1><button style="color:#aaa;background:#fff">'
               "Decline</button><img src='data:,'>")
    findings = await a11y.scan(page, SecretRegistry())
    rules = {finding.rule for finding in findings}
    assert {"color-contrast", "image-alt"} <= rules
    assert all(finding.impact in a11y.SERIOUS for finding in findings)
    with pytest.raises(RequirementViolation) as error:
        a11y.no_serious_violations(findings, "'Authentication'")
    assert "color-contrast" in fails(error, "A11Y-1")


async def test_a_clean_page_has_no_findings_and_secrets_stay_masked(page: Page) -> None:
    await show(page, "<h1>Card details</h1><p>4111 1111 1111 1111</p><button>Close</button>")
    assert await a11y.scan(page) == []
    await show(page, '<h1>Card details</h1><p style="color:#ccc">4111 1111 1111 1111</p>')
    (finding,) = await a11y.scan(page, SecretRegistry())
    assert "4111" not in finding.summary


# A11Y-4 ------------------------------------------------------------------------------

NAMED = {
    "label-for": '<label for="f">Passcode</label><input id="f" type="password">',
    "wrapping-label": '<label>Passcode <input type="password"></label>',
    "aria-label": '<input type="password" aria-label="Passcode">',
    "aria-labelledby": '<span id="l">Passcode</span><input type="password" aria-labelledby="l">',
    "in-open-shadow-root": in_shadow('<label for="f">Passcode</label><input id="f">'),
}
UNNAMED = {
    "no-label": "<p>Passcode</p><input type='password'>",
    "label-text-hidden": '<label for="f"><span aria-hidden="true">Passcode</span></label>'
                         '<input id="f" type="password">',
    "in-open-shadow-root": in_shadow("<p>Passcode</p><input>"),
}


@pytest.mark.parametrize("form", list(NAMED))
async def test_a_field_named_in_any_markup_passes(page: Page, form: str) -> None:
    await show(page, f"<h1>Enter your passcode</h1>{NAMED[form]}", head=SHADOW)
    facts = await a11y.page_facts(page)
    assert facts == a11y.PageFacts("en", "Acme", ())
    for check in (a11y.language_declared, a11y.title_given, a11y.fields_named):
        check(facts, "'Enter your passcode'")


@pytest.mark.parametrize("form", list(UNNAMED))
async def test_a_field_without_an_accessible_name_fails(page: Page, form: str) -> None:
    await show(page, f"<h1>Enter your passcode</h1>{UNNAMED[form]}", head=SHADOW)
    with pytest.raises(RequirementViolation) as error:
        a11y.fields_named(await a11y.page_facts(page), "'Enter your passcode'")
    assert "<input" in fails(error, "A11Y-4")


@pytest.mark.parametrize(("how", "check"), [
    pytest.param({"lang": ""}, a11y.language_declared, id="no-lang"),
    pytest.param({"lang": ' lang=""'}, a11y.language_declared, id="empty-lang"),
    pytest.param({"title": "  "}, a11y.title_given, id="blank-title"),
])
async def test_a_page_without_language_or_title_fails(
    page: Page, how: dict[str, str], check: Callable[[a11y.PageFacts, str], None]
) -> None:
    await show(page, "<h1>Done</h1>", **how)
    with pytest.raises(RequirementViolation) as error:
        check(await a11y.page_facts(page), "'Done'")
    fails(error, "A11Y-4")


# A11Y-3 ------------------------------------------------------------------------------

MESSAGE = "Wrong passcode. 2 attempts left."
FIELD = '<label for="f">Passcode</label><input id="f" type="password" {tie}>'
ANNOUNCED = {
    "role-alert": ('<div role="alert"><p>{m}</p></div>', ""),
    "role-status": ('<p role="status">{m}</p>', ""),
    "aria-live-polite": ('<div aria-live="polite">{m}</div>', ""),
    "output": ("<output>{m}</output>", ""),
    "aria-invalid-describedby": ('<p id="e">{m}</p>', 'aria-invalid="true" aria-describedby="e"'),
    "aria-invalid-errormessage-announced": ('<p id="e" role="alert">{m}</p>',
                                            'aria-invalid="true" aria-errormessage="e"'),
    "alert-text-in-its-own-elements": ('<div role="alert">Wrong <b>passcode</b>. 2 attempts '
                                       "<span>left.</span></div>", ""),
    "alert-in-open-shadow-root": (in_shadow('<p role="alert">{m}</p>'), ""),
}
SILENT = {
    "plain-paragraph": ("<p class='error'>{m}</p>", ""),
    "described-but-not-invalid": ('<p id="e">{m}</p>', 'aria-describedby="e"'),
    "aria-live-off": ('<div aria-live="off">{m}</div>', ""),
    "invalid-described-by-another": ('<p id="e">Enter 6 digits</p><p>{m}</p>',
                                     'aria-invalid="true" aria-describedby="e"'),
    # Hidden from assistive technology, though shown.
    "alert-aria-hidden": ('<p role="alert" aria-hidden="true">{m}</p>', ""),
    "live-region-in-an-aria-hidden-ancestor": ('<div aria-hidden="true"><div aria-live="polite">'
                                               "{m}</div></div>", ""),
    "described-by-a-hidden-copy": ('<p>{m}</p><p id="e" style="display: none">{m}</p>',
                                   'aria-invalid="true" aria-describedby="e"'),
    # aria-errormessage alone, pointing at a message that is not announced (WAI-ARIA 1.2).
    "errormessage-not-announced": ('<p id="e">{m}</p>',
                                   'aria-invalid="true" aria-errormessage="e"'),
}


@pytest.mark.parametrize("form", list(ANNOUNCED))
async def test_a_refusal_announced_or_tied_to_its_field_passes(page: Page, form: str) -> None:
    shown, tie = ANNOUNCED[form]
    await show(page, f"<h1>Enter your passcode</h1>{shown.format(m=MESSAGE)}"
               f"{FIELD.format(tie=tie)}", head=SHADOW)
    reach = await a11y.refusal_reach(page, MESSAGE)
    assert reach.announced or reach.tied
    a11y.refusal_announced(reach, "a wrong passcode")


@pytest.mark.parametrize("form", list(SILENT))
async def test_a_refusal_shown_but_not_announced_fails(page: Page, form: str) -> None:
    shown, tie = SILENT[form]
    await show(page, f"<h1>Enter your passcode</h1>{shown.format(m=MESSAGE)}"
               f"{FIELD.format(tie=tie)}")
    with pytest.raises(RequirementViolation) as error:
        a11y.refusal_announced(await a11y.refusal_reach(page, MESSAGE), "a wrong passcode")
    assert "neither: shown in <" in fails(error, "A11Y-3")
    assert "not exposed" in str(error.value)


async def test_a_refusal_split_over_lines_counts_when_one_line_is_announced(page: Page) -> None:
    await show(page, '<h1>Enter your passcode</h1><p role="alert">Wrong passcode.</p>'
               "<p>2 attempts left.</p>")
    reach = await a11y.refusal_reach(page, "Wrong passcode. | 2 attempts left.")
    assert reach.announced is not None


# A11Y-2 ------------------------------------------------------------------------------

CONTROLS = {
    "button": "<button>Confirm</button>",
    "link": '<a href="#x">Confirm</a>',
    "div-role-button-tabindex-0": '<div role="button" tabindex="0">Confirm</div>',
    "menu-with-roving-tabindex": '<div role="menu" aria-label="Actions">'
                                 '<div role="menuitem" tabindex="0">Confirm</div>'
                                 '<div role="menuitem" tabindex="-1">Decline</div></div>',
    "in-open-shadow-root": in_shadow("<button>Confirm</button>"),
}
POINTER_ONLY = {
    "button-tabindex-minus-1": '<button tabindex="-1">Decline</button>',
    "div-role-button-without-tabindex": '<div role="button">Decline</div>',
    "div-with-onclick": '<div onclick="this.remove()">Decline</div>',
    "div-with-a-pointer-cursor": '<div style="cursor: pointer">Decline</div>',
}


@pytest.mark.parametrize("form", list(CONTROLS))
async def test_every_control_in_any_markup_is_reached_by_tab(page: Page, form: str) -> None:
    await show(page, f"<h1>Authentication</h1><button>Back</button>{CONTROLS[form]}",
               head=SHADOW)
    walk = await a11y.tab_walk(page)
    assert len(walk.controls) >= 2
    a11y.controls_reached_by_tab(walk, "'Authentication'")
    a11y.focus_shown(walk, "'Authentication'")


@pytest.mark.parametrize("form", list(POINTER_ONLY))
async def test_a_control_for_the_pointer_only_fails(page: Page, form: str) -> None:
    await show(page, f"<h1>Authentication</h1><button>Confirm</button>{POINTER_ONLY[form]}")
    with pytest.raises(RequirementViolation) as error:
        a11y.controls_reached_by_tab(await a11y.tab_walk(page), "'Authentication'")
    assert "Decline" in fails(error, "A11Y-2")


FOCUS_STYLES = {
    "outline-replaced-by-box-shadow": "button:focus { outline: none; box-shadow: 0 0 0 3px #36f }",
    "focus-within-on-the-wrapper": "button:focus { outline: none } p:focus-within { outline: 2px"
                                   " solid #36f }",
    "colours-inverted": "button:focus-visible { outline: none; background: #000; color: #fff }",
}


@pytest.mark.parametrize("style", list(FOCUS_STYLES))
async def test_a_focus_shown_in_any_style_passes(page: Page, style: str) -> None:
    await show(page, "<h1>Authentication</h1><p><button>Confirm</button></p>",
               head=f"<style>{FOCUS_STYLES[style]}</style>")
    a11y.focus_shown(await a11y.tab_walk(page), "'Authentication'")


NOT_DRAWN = {
    "outline-none": "button:focus, button:focus-visible { outline: none }",
    # A style that changes (the offset, an invisible colour) but draws nothing.
    "outline-none-offset-changed": ":focus, :focus-visible { outline: none !important;"
                                   " outline-offset: 4px !important }",
    "transparent-outline": "button:focus { outline: 3px solid transparent }",
}


@pytest.mark.parametrize("style", list(NOT_DRAWN))
async def test_a_focus_that_draws_nothing_fails(page: Page, style: str) -> None:
    await show(page, "<h1>Authentication</h1><button>Confirm</button>",
               head=f"<style>{NOT_DRAWN[style]}</style>")
    with pytest.raises(RequirementViolation) as error:
        a11y.focus_shown(await a11y.tab_walk(page), "'Authentication'")
    assert "Confirm" in fails(error, "A11Y-2")
    assert "pixel-identical" in str(error.value)


async def test_the_focus_is_judged_once_a_late_stylesheet_has_moved_the_page(
    page: Page,
) -> None:
    """A step whose stylesheet arrives late (a slow proxy, a loaded machine) is laid out
    twice: the focus is judged in the layout the page settles in, not the one before it.
    Measured here first: judged before, the focus's neighbourhood was taken where the
    unstyled control had been, and a correct page was told it drew no focus."""
    async def late_stylesheet(route: Route) -> None:
        await asyncio.sleep(1.5)
        await route.fulfill(content_type="text/css",
                            body="main { margin: 300px auto; width: 300px }")

    await page.route("http://a11y.test/late.css", late_stylesheet)
    await page.route("http://a11y.test/step", lambda route: route.fulfill(
        content_type="text/html",
        body=document("<h1>Authentication</h1><button>Confirm</button>",
                      head='<link rel="stylesheet" href="/late.css">')))
    await page.goto("http://a11y.test/step", wait_until="commit")
    await page.get_by_role("button", name="Confirm").wait_for(state="attached")
    walk = await a11y.tab_walk(page, 5)
    assert walk.order, "Tab reached nothing"
    a11y.focus_shown(walk, "'Authentication'")


async def test_a_skip_link_shown_only_while_focused_passes(page: Page) -> None:
    await show(page, '<a class="skip" href="#main">Skip to content</a><h1>Authentication</h1>'
               "<button>Confirm</button>",
               head="<style>.skip { position: absolute; left: -999px }"
                    " .skip:focus { left: 8px; top: 8px }</style>")
    walk = await a11y.tab_walk(page)
    assert len(walk.order) == 2
    a11y.focus_shown(walk, "'Authentication'")


STEP_SCRIPT = """<script>
function next(focus) {
  document.querySelector('main').innerHTML =
    '<h1 tabindex="-1">Enter your passcode</h1><label for="p">Passcode</label><input id="p">';
  if (focus) document.querySelector(focus).focus();
}
</script>"""


@pytest.mark.parametrize(("focus", "place"), [
    pytest.param("h1", "heading", id="heading"),
    pytest.param("input", "field", id="first-field"),
    pytest.param("main", "heading", id="a-container-starting-with-the-heading"),
])
async def test_focus_moved_to_the_new_steps_heading_or_first_field_passes(
    page: Page, focus: str, place: str
) -> None:
    await show(page, "<h1>Authentication</h1>", head=STEP_SCRIPT)
    await page.evaluate("() => { window.__scaA11yPressed = true;"
                        " document.querySelector('main').tabIndex = -1; }")
    await page.evaluate(f"() => next({focus!r})")
    found = await a11y.focus_place(page, "Enter your passcode", 1)
    assert found.place == place
    a11y.focus_moved_to_step(found, "'Enter your passcode'")


async def test_focus_left_behind_on_a_step_rendered_in_place_fails(page: Page) -> None:
    await show(page, "<h1>Authentication</h1>", head=STEP_SCRIPT)
    await page.evaluate("() => { window.__scaA11yPressed = true; next(null); }")
    with pytest.raises(RequirementViolation) as error:
        a11y.focus_moved_to_step(await a11y.focus_place(page, "Enter your passcode", 0.3),
                                 "'Enter your passcode'")
    assert "the document itself" in fails(error, "A11Y-2")


async def test_a_new_document_starts_at_its_start(page: Page) -> None:
    await show(page, "<h1>Enter your passcode</h1><input aria-label='Passcode'>")
    found = await a11y.focus_place(page, "Enter your passcode", 1)
    assert (found.place, found.fresh) == ("start", True)
    a11y.focus_moved_to_step(found, "'Enter your passcode'")


PRESSED = "document.querySelector('main').innerHTML = '<h1>Pressed</h1>'"


@pytest.mark.parametrize(("control", "key"), [
    pytest.param(f'<button onclick="{PRESSED}">Confirm</button>', "Enter", id="button"),
    pytest.param(f'<a href="#" onclick="{PRESSED}">Confirm</a>', "Enter", id="link"),
    pytest.param(f"<div role=button tabindex=0 onkeydown=\"if (event.key === ' ') {{{PRESSED}}}\""
                 f">Confirm</div>", "Space", id="div-role-button-for-space"),
    pytest.param(f'<div role=button tabindex=0 onclick="{PRESSED}">Confirm</div>', None,
                 id="div-role-button-for-the-pointer-only"),
])
async def test_a_control_is_activated_by_enter_or_space(
    page: Page, control: str, key: str | None
) -> None:
    await show(page, f"<h1>Authentication</h1>{control}")
    target = page.get_by_role("button", name="Confirm").or_(
        page.get_by_role("link", name="Confirm"))
    assert await a11y.focus_by_tab(page, target)
    assert await a11y.activate(page, target, 0.5) == key
    if key is None:
        with pytest.raises(RequirementViolation) as error:
            a11y.activated_by_key(key, "Confirm", "'Authentication'")
        fails(error, "A11Y-2")
