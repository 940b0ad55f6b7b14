"""PAGE: the hosted pages in headless Chromium, located by role and visible text."""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.async_api import Browser, Page, Route, expect

from sca_conformance.landing import NavigationLog
from sca_conformance.passkeys import add_virtual_authenticator
from sca_sandbox.process import RunningSandbox
from sca_sandbox.testing import PASSCODE, SandboxClient, payment_body

pytestmark = pytest.mark.browser

RETURN_URL = "https://client.example/sca/return?order=42&lang=en"


async def landed(page: Page, pattern: str = r"^https://client\.example/") -> dict[str, list[str]]:
    """The query the browser arrived at RETURN_URL with (its first arrival matching)."""
    parts = urlsplit(await NavigationLog.of(page).wait_for(pattern))
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://client.example/sca/return"
    return parse_qs(parts.query)


async def payment_consent(
    client: SandboxClient, **overrides: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    person = await client.individual()
    account = await client.account(person["id"], balance=10_000)
    body = payment_body(account["id"], 1234, **overrides)
    return await client.consent("POST", "/v3/transactions/pay", json=body), body


async def use_passcode(page: Page, passcode: str = PASSCODE) -> None:
    await page.get_by_role("button", name="Confirm").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Identify yourself")
    await page.get_by_role("button", name="Try another way").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Enter your passcode")
    await page.get_by_label("Passcode").fill(passcode)
    await page.get_by_role("button", name="Continue").click()


async def test_payment_summary_links_the_amount_and_payee_then_approves(
    alpha: SandboxClient, page: Page
) -> None:
    consent, body = await payment_consent(alpha)
    method = await alpha.initiate(consent["id"], RETURN_URL)

    await page.goto(method["redirect_url"])

    await expect(page.get_by_role("heading", level=1)).to_have_text("Authentication")
    await expect(page.get_by_text("I identify myself to SCA Sandbox to")).to_be_visible()
    region = page.get_by_role("region", name="Consent")
    await expect(region.get_by_role("heading", level=2)).to_have_text("Make a payment")
    await expect(region.get_by_label("Amount")).to_have_text("12.34 EUR")
    await expect(region.get_by_label("Payee")).to_have_text("Grace Hopper")
    await expect(region.get_by_label("IBAN")).to_have_text(body["counterparty"]["account"]["iban"])
    await expect(region.get_by_label("Reference")).to_have_text("Invoice 7")
    await expect(page.get_by_role("button", name="Decline")).to_be_visible()

    await page.get_by_role("button", name="Confirm").click()
    await expect(page.get_by_role("button", name="Use passkey")).to_have_count(0)
    await page.get_by_role("button", name="Try another way").click()
    await page.get_by_label("Passcode").fill(PASSCODE)
    await page.get_by_role("button", name="Continue").click()

    assert await landed(page) == {
        "order": ["42"],
        "lang": ["en"],
        "consent_id": [consent["id"]],
        "status": ["approved"],
    }
    assert await alpha.status(consent["id"]) == "approved"

    await page.goto(method["redirect_url"])
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "This consent is already completed"
    )


async def test_decline_lands_declined(alpha: SandboxClient, page: Page) -> None:
    consent, _ = await payment_consent(alpha)
    method = await alpha.initiate(consent["id"], RETURN_URL)

    await page.goto(method["redirect_url"])
    await page.get_by_role("button", name="Decline").click()

    assert (await landed(page, r"status=declined"))["status"] == ["declined"]
    assert await alpha.status(consent["id"]) == "declined"


@pytest.mark.lifecycle
async def test_three_wrong_passcodes_lock_the_consent(alpha: SandboxClient, page: Page) -> None:
    consent, _ = await payment_consent(alpha)
    method = await alpha.initiate(consent["id"], RETURN_URL)
    await page.goto(method["redirect_url"])

    await use_passcode(page, "000000")
    await expect(page.get_by_role("alert")).to_have_text("Wrong passcode. 2 attempts left.")
    await page.get_by_label("Passcode").fill("000001")
    await page.get_by_role("button", name="Continue").click()
    await expect(page.get_by_role("alert")).to_have_text("Wrong passcode. 1 attempt left.")
    await page.get_by_label("Passcode").fill("000002")
    await page.get_by_role("button", name="Continue").click()

    await expect(page.get_by_role("heading", level=1)).to_have_text("Too many wrong attempts")
    await page.get_by_role("button", name="Close").click()
    await landed(page, r"status=failed")
    assert await alpha.status(consent["id"]) == "failed"


async def test_card_details_then_activation_with_pin_and_cvc2(
    alpha: SandboxClient, page: Page
) -> None:
    person = await alpha.individual()
    account = await alpha.account(person["id"])
    card = await alpha.card(person["id"], account["id"])

    details = await alpha.consent("POST", f"/v3/cards/{card['id']}/details")
    await page.goto((await alpha.initiate(details["id"], RETURN_URL))["redirect_url"])
    region = page.get_by_role("region", name="Consent")
    await expect(region.get_by_role("heading", level=2)).to_have_text("View card details")
    await expect(region.get_by_label("Card")).to_have_text(f"•••• {card['last4']}")
    await use_passcode(page)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Card details")
    await expect(page.get_by_label("Card holder")).to_have_text("Ada Lovelace")
    await expect(page.get_by_label("Card number")).to_have_text(
        re.compile(rf"^\d{{4}} \d{{4}} \d{{4}} {card['last4']}$")
    )
    await expect(page.get_by_label("Valid thru")).to_have_text("02/29")
    cvc = await page.get_by_label("CVC", exact=True).inner_text()
    await page.get_by_role("button", name="Close").click()
    await landed(page, r"status=approved")

    activation = await alpha.consent("POST", f"/v3/cards/{card['id']}/activate")
    await page.goto((await alpha.initiate(activation["id"], RETURN_URL))["redirect_url"])
    await expect(page.get_by_role("region", name="Consent").get_by_role("heading")).to_have_text(
        "Activate card"
    )
    await use_passcode(page)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Set PIN code")
    await expect(page.get_by_text("Please choose a 4-digit PIN")).to_be_visible()
    await page.get_by_label("PIN").fill("4321")
    await page.get_by_role("button", name="Continue").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Card activation")
    await page.get_by_label("CVC2").fill("000" if cvc != "000" else "111")
    await page.get_by_role("button", name="Activate").click()
    await expect(page.get_by_role("alert")).to_have_text("Wrong CVC2.")
    assert (await alpha.ok("GET", f"/v3/cards/{card['id']}"))["status"] == "not_activated"
    await page.get_by_label("CVC2").fill(cvc)
    await page.get_by_role("button", name="Activate").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Your card is now active")
    await page.get_by_role("button", name="Close").click()

    await landed(page, r"status=approved")
    assert (await alpha.ok("GET", f"/v3/cards/{card['id']}"))["status"] == "active"


async def test_onboarding_with_sms_and_a_passkey_then_a_payment_by_passkey(
    alpha: SandboxClient, page: Page
) -> None:
    authenticator = await add_virtual_authenticator(page)
    person = await alpha.individual(active=False)
    onboarding = await alpha.consent("POST", f"/v3/individuals/{person['id']}/onboard")
    await page.goto((await alpha.initiate(onboarding["id"], RETURN_URL))["redirect_url"])

    await expect(page.get_by_role("region", name="Consent").get_by_role("heading")).to_have_text(
        "Complete onboarding"
    )
    await page.get_by_role("button", name="Confirm").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Create your passcode")
    await page.get_by_label("Passcode", exact=True).fill("246810")
    await page.get_by_label("Repeat passcode").fill("246811")
    await page.get_by_role("button", name="Continue").click()
    await expect(page.get_by_role("alert")).to_have_text("The passcodes do not match.")
    await page.get_by_label("Passcode", exact=True).fill("246810")
    await page.get_by_label("Repeat passcode").fill("246810")
    await page.get_by_role("button", name="Continue").click()

    await expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your phone number")
    await expect(page.get_by_text(person["phone_number"][-2:], exact=False)).to_be_visible()
    sms = await alpha.ok(
        "GET", "/v3/simulations/sms", params={"phone_number": person["phone_number"]}
    )
    await page.get_by_label("SMS code").fill("999999" if sms["code"] != "999999" else "000000")
    await page.get_by_role("button", name="Confirm").click()
    await expect(page.get_by_role("alert")).to_have_text("Wrong code.")
    await page.get_by_label("SMS code").fill(sms["code"])
    await page.get_by_role("button", name="Confirm").click()

    await expect(page.get_by_role("heading", level=1)).to_have_text("Add a passkey")
    await page.get_by_role("button", name="Add passkey").click()
    await landed(page, r"status=approved")
    assert len(await authenticator.credentials()) == 1
    assert (await alpha.ok("GET", f"/v3/individuals/{person['id']}"))["status"] == "active"

    account = await alpha.account(person["id"], balance=5_000)
    body = payment_body(account["id"], 700)
    consent = await alpha.consent("POST", "/v3/transactions/pay", json=body)
    await page.goto((await alpha.initiate(consent["id"], RETURN_URL))["redirect_url"])
    await page.get_by_role("button", name="Confirm").click()
    await page.get_by_role("button", name="Use passkey").click()

    assert (await landed(page, r"status=approved"))["consent_id"] == [consent["id"]]
    assert (await alpha.ok("POST", "/v3/transactions/pay", json=body))["amount"] == 700


async def test_onboarding_without_a_passkey(alpha: SandboxClient, page: Page) -> None:
    person = await alpha.individual(active=False)
    onboarding = await alpha.consent("POST", f"/v3/individuals/{person['id']}/onboard")
    await page.goto((await alpha.initiate(onboarding["id"]))["redirect_url"])

    await page.get_by_role("button", name="Confirm").click()
    await page.get_by_label("Passcode", exact=True).fill("12345")
    await page.get_by_label("Repeat passcode").fill("12345")
    await page.get_by_role("button", name="Continue").click()
    await expect(page.get_by_role("alert")).to_have_text("The passcode must be 6 digits.")
    await page.get_by_label("Passcode", exact=True).fill("135790")
    await page.get_by_label("Repeat passcode").fill("135790")
    await page.get_by_role("button", name="Continue").click()
    sms = await alpha.ok(
        "GET", "/v3/simulations/sms", params={"phone_number": person["phone_number"]}
    )
    await page.get_by_label("SMS code").fill(sms["code"])
    await page.get_by_role("button", name="Confirm").click()
    await page.get_by_role("button", name="Skip").click()

    await expect(page.get_by_role("heading", level=1)).to_have_text("Done")
    assert (await alpha.ok("GET", f"/v3/individuals/{person['id']}"))["status"] == "active"


class HeldScript:
    """Holds back /static/passkey.js until released: a page whose buttons are visible before
    their script has run, as under CPU load."""

    def __init__(self) -> None:
        self.released = asyncio.Event()

    async def install(self, page: Page) -> None:
        await page.route("**/static/passkey.js", self._answer)

    async def _answer(self, route: Route) -> None:
        await self.released.wait()
        await route.continue_()

    def hold(self) -> None:
        self.released.clear()

    def release(self) -> None:
        self.released.set()


async def press_before_the_script(page: Page, script: HeldScript, name: str) -> None:
    """Clicks `name` while its script is held: the button shows, disabled, and the click
    waits for it; the script released, the click happens."""
    button = page.get_by_role("button", name=name)
    await expect(button).to_be_visible()
    await expect(button).to_be_disabled()
    click = asyncio.create_task(button.click(timeout=10_000))
    await asyncio.sleep(0.5)
    assert not click.done(), "the click must wait for the button to be enabled"
    script.release()
    await click


async def test_a_passkey_button_is_enabled_only_once_its_handler_is_attached(
    alpha: SandboxClient, page: Page
) -> None:
    authenticator = await add_virtual_authenticator(page)
    script = HeldScript()
    await script.install(page)
    person = await alpha.individual(active=False)
    onboarding = await alpha.consent("POST", f"/v3/individuals/{person['id']}/onboard")
    await page.goto((await alpha.initiate(onboarding["id"], RETURN_URL))["redirect_url"])
    await page.get_by_role("button", name="Confirm").click()
    await page.get_by_label("Passcode", exact=True).fill("246810")
    await page.get_by_label("Repeat passcode").fill("246810")
    await page.get_by_role("button", name="Continue").click()
    sms = await alpha.ok(
        "GET", "/v3/simulations/sms", params={"phone_number": person["phone_number"]}
    )
    await page.get_by_label("SMS code").fill(sms["code"])
    await page.get_by_role("button", name="Confirm").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Add a passkey")

    await press_before_the_script(page, script, "Add passkey")

    await landed(page, r"status=approved")
    assert len(await authenticator.credentials()) == 1

    script.hold()
    account = await alpha.account(person["id"], balance=5_000)
    consent = await alpha.consent(
        "POST", "/v3/transactions/pay", json=payment_body(account["id"], 700)
    )
    await page.goto((await alpha.initiate(consent["id"], RETURN_URL))["redirect_url"])
    await page.get_by_role("button", name="Confirm").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Identify yourself")

    await press_before_the_script(page, script, "Use passkey")

    assert (await landed(page, r"status=approved"))["consent_id"] == [consent["id"]]


async def test_without_javascript_the_passcode_route_still_works(
    alpha: SandboxClient, chromium: Browser
) -> None:
    person = await alpha.individual(active=False)
    onboarding = await alpha.consent("POST", f"/v3/individuals/{person['id']}/onboard")
    redirect_url = (await alpha.initiate(onboarding["id"]))["redirect_url"]
    context = await chromium.new_context(java_script_enabled=False)
    try:
        page = await context.new_page()
        await page.goto(redirect_url)
        await page.get_by_role("button", name="Confirm").click()
        await page.get_by_label("Passcode", exact=True).fill("135790")
        await page.get_by_label("Repeat passcode").fill("135790")
        await page.get_by_role("button", name="Continue").click()
        sms = await alpha.ok(
            "GET", "/v3/simulations/sms", params={"phone_number": person["phone_number"]}
        )
        await page.get_by_label("SMS code").fill(sms["code"])
        await page.get_by_role("button", name="Confirm").click()
        await expect(page.get_by_role("button", name="Add passkey")).to_be_disabled()
        await page.get_by_role("button", name="Skip").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Done")
    finally:
        await context.close()
    assert (await alpha.ok("GET", f"/v3/individuals/{person['id']}"))["status"] == "active"


@pytest.mark.security
async def test_an_altered_token_is_not_a_valid_link(alpha: SandboxClient, page: Page) -> None:
    consent, _ = await payment_consent(alpha)
    method = await alpha.initiate(consent["id"], RETURN_URL)
    url = method["redirect_url"]
    altered = url[:-1] + ("A" if url[-1] != "A" else "B")

    response = await page.goto(altered)

    assert response is not None and response.status == 404
    await expect(page.get_by_role("heading", level=1)).to_have_text("This link is not valid")


# Chromium's local-network-access checks block a page from elsewhere framing a loopback
# sandbox anyway, so the framing page is the sandbox's own Done page: DENY and
# frame-ancestors 'none' refuse same-origin framing too.
FRAME_IT = """src => new Promise(loaded => {
    const frame = document.createElement("iframe");
    frame.title = "sca";
    frame.src = src;
    frame.onload = () => loaded(null);
    document.body.append(frame);
})"""


@pytest.mark.security
async def test_the_pages_refuse_to_be_framed(
    alpha: SandboxClient, sandbox: RunningSandbox, page: Page
) -> None:
    consent, _ = await payment_consent(alpha)
    method = await alpha.initiate(consent["id"], RETURN_URL)
    await page.goto(f"{sandbox.url}/sca/done")

    await page.evaluate(FRAME_IT, method["redirect_url"])

    frame = page.frame_locator('iframe[title="sca"]')
    await expect(frame.get_by_role("button", name="Confirm")).to_have_count(0)
    assert [f.url for f in page.frames[1:]] == ["chrome-error://chromewebdata/"]
