"""Page objects and the landing watcher, in a real browser against the embedded sandbox."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from playwright.async_api import Page, Route, expect

from sca_conformance import checks
from sca_conformance.catalog import CATALOG
from sca_conformance.config import ProfileError, load_profile
from sca_conformance.consents import Consents
from sca_conformance.data import Subject
from sca_conformance.failures import RequirementViolation
from sca_conformance.flow import HostedFlow
from sca_conformance.pages import (
    CardDetailsPage,
    EndStates,
    ErrorPage,
    IdentifyPage,
    PasscodePage,
    PhoneCodePage,
    SummaryPage,
    Wording,
)
from sca_conformance.passkeys import VirtualAuthenticator
from sca_conformance.texts import load_texts

pytestmark = pytest.mark.browser


async def test_the_summary_page_object_finds_the_action_and_its_linked_values(
    consents: Consents, page: Page
) -> None:
    action = CATALOG["external_payment"]
    subject = await consents.subject(action)
    await consents.start(page, action, subject)
    summary = SummaryPage(page, consents.wording)
    await expect(summary.heading).to_be_visible()
    await expect(summary.intro).to_contain_text("I identify myself to")
    await expect(summary.action_title("external_payment")).to_be_visible()
    await expect(summary.detail("payee")).to_have_text(subject.values["payee_name"])
    await expect(summary.detail("iban")).to_have_text(subject.values["payee_iban"])
    await expect(summary.confirm_button).to_be_enabled()
    await expect(summary.decline_button).to_be_enabled()


SWEDISH_SUMMARY = """<!doctype html><html lang="sv"><body><main>
<h2>Legitimering</h2>
<p>Jag legitimerar mig hos Nordbanken att</p>
<section aria-labelledby="r"><span id="r" hidden>Medgivande</span>
  <div>Gör en betalning</div>
  <dl><dt>Belopp</dt><dd>12,34&nbsp;€</dd>
      <dt>IBAN</dt><dd>DE89 3704 0044 0532 0130 00</dd></dl>
  <div><span id="m">Mottagare</span><b aria-labelledby="m">Ada   Lovelace AB</b></div>
</section>
<button>Godkänn</button><button>Avböj</button></main></body></html>"""


async def test_page_objects_speak_the_profile_wording_and_other_markup(page: Page) -> None:
    """The Swedish table, a heading of another level, a region named by aria-labelledby,
    values in a <dl> or labelled by aria-labelledby: all found, none by the sandbox's markup."""
    await page.set_content(SWEDISH_SUMMARY)
    summary = SummaryPage(page, Wording(load_texts("sv")))
    await expect(summary.heading).to_be_visible()
    await expect(summary.intro).to_be_visible()
    await expect(summary.action_title("external_payment")).to_be_visible()
    amount = await summary.detail("amount").inner_text()
    checks.amount_shown(amount, 1234, "EUR", ",")
    checks.iban_shown(await summary.detail("iban").inner_text(), "de89370400440532013000")
    checks.text_shown("payee", await summary.detail("payee").inner_text(), "Ada Lovelace AB")
    await expect(summary.confirm_button).to_be_visible()
    await expect(summary.decline_button).to_be_visible()
    await expect(EndStates(page, summary.wording).any).to_have_count(0)


async def test_identification_offers_a_passkey_only_to_an_individual_who_has_one(
    consents: Consents, page: Page
) -> None:
    action = CATALOG["card_details"]
    subject = await consents.subject(action)
    await consents.start(page, action, subject)
    await SummaryPage(page, consents.wording).confirm()
    identify = IdentifyPage(page, consents.wording)
    await expect(identify.heading).to_be_visible()
    await expect(identify.use_passkey_button).to_have_count(0)
    await identify.try_another_way()
    passcode = PasscodePage(page, consents.wording).passcode
    await expect(passcode).to_have_attribute("type", "password")


async def test_card_details_page_object_reads_every_value(consents: Consents, page: Page) -> None:
    action = CATALOG["card_details"]
    subject = await consents.subject(action)
    started = await consents.start(page, action, subject)
    await started.flow.confirm()
    await started.flow.identify("passcode")
    details = CardDetailsPage(page, consents.wording)
    for locator in (details.holder, details.number, details.valid_thru, details.cvc):
        await expect(locator).to_have_count(1)
    await expect(details.number).to_contain_text(str(subject.values["last4"]))


async def test_an_unknown_link_shows_the_error_page(consents: Consents, page: Page) -> None:
    await page.goto(f"{consents.api.base_url}/sca/not-a-real-token")
    await expect(ErrorPage(page, consents.wording, ErrorPage.NOT_VALID).heading).to_be_visible()


async def test_landing_is_detected_when_the_return_url_host_does_not_answer(
    consents: Consents, page: Page
) -> None:
    action = CATALOG["payment_history"]
    subject = await consents.subject(action)
    unreachable = "https://client.invalid/sca/return?order=42"
    started = await consents.start(page, action, subject, return_url=unreachable)
    await started.flow.approve()
    landing = await started.landing.wait()
    assert landing.startswith("https://client.invalid/sca/return?order=42&")
    assert "status=approved" in landing


async def test_a_browser_sent_elsewhere_fails_page_4_at_once_with_the_chain(
    consents: Consents, page: Page
) -> None:
    """A redirect to anything but return_url is known from the navigation log: PAGE-4 at
    once, expected return_url, actual where it went (not a timeout)."""
    action = CATALOG["payment_history"]
    subject = await consents.subject(action)
    return_url = consents.receiver.new_return_url()
    started = await consents.start(page, action, subject, return_url=return_url)
    elsewhere = return_url.replace("/sca/return/", "/somewhere-else/")

    async def divert(route: Route) -> None:  # the provider's final redirect, gone astray
        await route.fulfill(status=303, headers={"Location": elsewhere})

    await page.route("**/passcode", divert)  # the default pages' last post
    await started.flow.approve()
    started_at = time.monotonic()
    with pytest.raises(RequirementViolation) as failure:
        await started.landing.wait()
    assert time.monotonic() - started_at < 3
    message = str(failure.value)
    assert message.startswith("MUST PAGE-4 violated: where the browser went: expected return_url")
    assert elsewhere in message and "redirect chain" in message


async def test_a_missing_control_names_its_requirement(consents: Consents, page: Page) -> None:
    action = CATALOG["payment_history"]
    started = await consents.start(page, action, await consents.subject(action))
    await page.evaluate("document.querySelectorAll('button').forEach(b => b.remove())")
    with pytest.raises(RequirementViolation, match=r"^MUST PAGE-6 violated: the summary page "
                       r"has no 'Decline' button"):
        await started.flow.decline()


async def test_the_passkey_fixture_gives_the_page_a_verifying_authenticator(
    passkey: VirtualAuthenticator,
) -> None:
    assert await passkey.credentials() == []


STEP_SHOWN = """<!doctype html><html><body><main><h1 id="h">{heading}</h1></main>
<script>{script}</script></body></html>"""


@pytest.mark.parametrize(
    ("shown", "later", "verdict"),
    [
        ("Add a passkey", None, "another step instead: 'Add a passkey'"),
        ("Add a passkey", "Confirm your phone number", None),  # a page in transition
        ("Create your passcode", "Confirm your phone number", None),  # the step being left
    ],
    ids=["skipped", "in transition", "leaving"],
)
async def test_reaching_a_step_fails_when_the_page_settles_on_another(
    consents: Consents, page: Page, shown: str, later: str | None, verdict: str | None
) -> None:
    """A page that shows another step than the one awaited fails the step's requirement
    (after the short control wait, not the page wait); one that moves on to it passes."""
    flow = HostedFlow(page, CATALOG["onboarding"], Subject(individual={}), consents.api,
                      consents.wording)
    flow.reached = "Create your passcode"
    script = (f"setTimeout(() => {{ document.getElementById('h').textContent = {later!r}; }}, 500)"
              if later else "")
    await page.set_content(STEP_SHOWN.format(heading=shown, script=script))
    if verdict is None:
        await flow.reach(PhoneCodePage(page, consents.wording), "PAGE-15")
        assert flow.reached == "Confirm your phone number"
        return
    with pytest.raises(RequirementViolation) as failure:
        await flow.reach(PhoneCodePage(page, consents.wording), "PAGE-15")
    assert str(failure.value).startswith("MUST PAGE-15 violated:"), failure.value
    assert verdict in str(failure.value)


CONTROL_LATER = """<!doctype html><html><body><main><h1>Authentication</h1><div id="c"></div>
</main><script>{script}</script></body></html>"""
ADD_BUTTON = """setTimeout(() => {{
  const b = document.createElement('button'); b.textContent = 'Decline';
  b.onclick = () => {{ document.title = 'pressed'; }};
  document.getElementById('c').append(b); }}, {ms})"""


@pytest.mark.parametrize(
    ("script", "pressed"),
    [("", False), (ADD_BUTTON.format(ms=500), True)],
    ids=["never shown", "shown by a timer after the page settled"],
)
async def test_a_missing_control_fails_its_requirement_once_the_page_has_settled(
    consents: Consents, page: Page, script: str, pressed: bool
) -> None:
    """A control rendered within the settle grace is pressed; one never rendered fails the
    requirement it is needed for, saying what the page shows."""
    flow = HostedFlow(page, CATALOG["payment_history"], Subject(individual={}), consents.api,
                      consents.wording)
    await page.set_content(CONTROL_LATER.format(script=script))
    decline = SummaryPage(page, consents.wording).decline_button
    if pressed:
        await flow.press(decline, "PAGE-6", "no Decline button")
        assert await page.title() == "pressed"
        return
    with pytest.raises(RequirementViolation) as failure:
        await flow.press(decline, "PAGE-6", "no Decline button")
    assert str(failure.value).startswith("MUST PAGE-6 violated: no Decline button"), failure.value
    assert "'Authentication'" in str(failure.value)


AFTER_A_CLICK = """<!doctype html><html><body><main><h1>Authentication</h1><div id="c"></div>
<button onclick="setTimeout(() => {{ const b = document.createElement('button');
  b.textContent = 'Decline'; b.onclick = () => {{ document.title = 'pressed'; }};
  document.getElementById('c').append(b); }}, {ms})">More</button></main></body></html>"""


async def test_a_control_a_click_renders_on_a_timer_gets_the_grace_from_the_click(
    consents: Consents, page: Page
) -> None:
    """The settle grace counts from the flow's last action as well as the page's last load:
    a control rendered in place, on a timer the flow's own click started (no request, no new
    document), is pressed, however long ago the page loaded."""
    flow = HostedFlow(page, CATALOG["payment_history"], Subject(individual={}), consents.api,
                      consents.wording)
    await page.set_content(AFTER_A_CLICK.format(ms=700))
    await page.wait_for_load_state("networkidle")
    await asyncio.sleep(1.0)  # the page loaded long before the click
    await flow.press(page.get_by_role("button", name="More"), "PAGE-6", "no More button")
    await flow.press(SummaryPage(page, consents.wording).decline_button, "PAGE-6",
                     "no Decline button")
    assert await page.title() == "pressed"


def test_a_profile_declares_a_field_its_name_does_not_find(tmp_path: Path) -> None:
    """`[fields.<page>] <key>`: a Playwright selector the page objects try after the
    accessible name; a page or key the text table does not know is refused."""
    declared = tmp_path / "otp.toml"
    declared.write_text('[target]\nembedded = true\n[fields.passcode]\npasscode = "#otp"\n',
                        encoding="utf-8")
    assert load_profile(declared).wording().fields == {"passcode": {"passcode": "#otp"}}
    declared.write_text('[target]\nembedded = true\n[fields.passcode]\npascode = "#otp"\n',
                        encoding="utf-8")
    with pytest.raises(ProfileError, match=r"unknown key 'fields\.passcode\.pascode'"):
        load_profile(declared)
