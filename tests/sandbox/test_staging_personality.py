"""The staging personality, as options: its data side (--no-simulations, the KYC-outcome
simulation, --individual-word, --blocked-error-envelope, --sms-code-on-page and
--opening-balance) and its pages (--passcode-boxes, --auto-submit, --sms-step ACTION)
(sca_sandbox/staging.py). Without them the sandbox is unchanged."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Page, expect

from sca_conformance.client import ApiClient
from sca_conformance.config import load_profile
from sca_conformance.data import sms_code
from sca_conformance.pages import PasscodePage, SmsCodePage, Wording
from sca_sandbox import DEV_API_KEYS
from sca_sandbox.process import RunningSandbox, run_sandbox
from sca_sandbox.testing import PASSCODE as PLAIN_PASSCODE
from sca_sandbox.testing import HttpFlow, SandboxClient, payment_body

pytestmark = [pytest.mark.api]

STAGING_OPTIONS = (
    "--no-simulations", "clock,sms,funding,activation", "--individual-word", "activated",
    "--blocked-error-envelope", "--sms-code-on-page", "--opening-balance", "500000",
    "--passcode-boxes", "--auto-submit", "--sms-step", "card_details",
)
RETURN_URL = "https://client.example/sca/return"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    with run_sandbox(tmp_path_factory.mktemp("staging") / "sandbox.db",
                     extra_args=STAGING_OPTIONS) as running:
        yield running


@pytest_asyncio.fixture
async def client(staged: RunningSandbox) -> AsyncIterator[SandboxClient]:
    async with SandboxClient.connect(staged.url, DEV_API_KEYS[0]) as connected:
        yield connected


async def at_the_sms_step(client: SandboxClient) -> tuple[dict[str, str], HttpFlow]:
    """A new individual's hosted onboarding, up to the step that asks for the SMS code."""
    person = await client.individual(active=False)
    consent = await client.consent("POST", f"/v3/individuals/{person['id']}/onboard")
    flow = HttpFlow(client.http, (await client.initiate(consent["id"], RETURN_URL))[
        "redirect_url"])
    await flow.open()
    await flow.step("confirm")
    await flow.step("create-passcode", passcode="135790", repeat_passcode="135790")
    return person, flow


async def onboarded(client: SandboxClient) -> dict[str, str]:
    """An individual through the hosted onboarding, the SMS code read from the page."""
    person, flow = await at_the_sms_step(client)
    shown = re.search(r'class="staging-code">[^<]*<strong>(\d{6})</strong>', flow.text)
    assert shown, flow.text
    await flow.step("sms", code=shown.group(1))
    done = await flow.post("skip-passkey")
    assert done.headers["location"].startswith(RETURN_URL)
    return person


PASSCODE = "135790"  # the one at_the_sms_step creates


def code_shown(flow: HttpFlow) -> str:
    shown = re.search(r'class="staging-code">[^<]*<strong>(\d{6})</strong>', flow.text)
    assert shown, flow.text
    return shown.group(1)


async def at_the_card_details(client: SandboxClient) -> tuple[dict[str, str], str]:
    """An activated individual's card, and the redirect_url of its card-details consent."""
    person = await onboarded(client)
    await client.ok("POST", "/v3/simulations/onboarding/status",
                    json={"individual_id": person["id"], "status": "approved"})
    account = await client.account(person["id"])
    card = await client.card(person["id"], account["id"])
    consent = await client.consent("POST", f"/v3/cards/{card['id']}/details")
    method = await client.initiate(consent["id"], RETURN_URL)
    return consent, str(method["redirect_url"])


async def test_card_details_ask_for_an_sms_code_after_identification(
    client: SandboxClient,
) -> None:
    """--sms-step card_details: passcode, then 'Confirm with SMS code' (a wrong code
    refused), then the card details; the consent approved only then."""
    consent, redirect_url = await at_the_card_details(client)
    flow = HttpFlow(client.http, redirect_url)
    await flow.approve(PASSCODE)
    assert "<h1>Confirm with SMS code</h1>" in flow.text
    assert await client.status(consent["id"]) == "pending"
    code = code_shown(flow)
    await flow.step("sms", code=f"{(int(code) + 1) % 10**6:06d}")
    assert "Wrong code." in flow.text and "<h1>Confirm with SMS code</h1>" in flow.text
    await flow.step("sms", code=code_shown(flow))
    assert "<h1>Card details</h1>" in flow.text
    assert await client.status(consent["id"]) == "approved"


async def test_the_passcode_shows_in_labelled_boxes_without_continue(
    client: SandboxClient,
) -> None:
    """--passcode-boxes --auto-submit: six boxes in a group named Passcode, each labelled;
    the form sends itself (data-auto-submit), no Continue."""
    _, redirect_url = await at_the_card_details(client)
    flow = HttpFlow(client.http, redirect_url)
    await flow.open()
    await flow.step("confirm")
    await flow.step("another-way")
    assert "<legend>Passcode</legend>" in flow.text
    assert all(f'aria-label="Passcode digit {n} of 6"' in flow.text for n in range(1, 7))
    assert "data-auto-submit" in flow.text and ">Continue<" not in flow.text


@pytest.mark.browser
async def test_the_last_digit_sends_the_passcode_in_a_browser(
    client: SandboxClient, page: Page
) -> None:
    """In a browser: the passcode typed into its boxes is sent by the last digit, and the
    card details' SMS step follows."""
    _, redirect_url = await at_the_card_details(client)
    wording = Wording()
    await page.goto(redirect_url)
    await page.get_by_role("button", name="Confirm").click()
    await page.get_by_role("button", name="Try another way").click()
    passcode = PasscodePage(page, wording)
    await expect(passcode.heading).to_be_visible()
    await passcode.enter(PASSCODE)
    await expect(SmsCodePage(page, wording).heading).to_be_visible()


async def test_the_page_options_are_the_default_dialects() -> None:
    run = subprocess.run([sys.executable, "-m", "sca_sandbox", "--dialect", "nordic",
                          "--auto-submit", "--sms-step", "card_details"],
                         capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 2
    assert "--auto-submit, --sms-step: the default dialect's pages only" in run.stderr


async def test_the_simulations_switched_off_are_not_there(client: SandboxClient) -> None:
    person = await client.individual(active=False)
    account = await client.account(person["id"])
    for method, path, body in (
        ("POST", "/v3/simulations/clock", {"advance_seconds": 60}),
        ("POST", "/v3/simulations/account_funding", {"account_id": account["id"], "amount": 1}),
        ("POST", f"/v3/simulations/individuals/{person['id']}/activate",
         {"passcode": "123456"}),
    ):
        assert (await client.request(method, path, json=body)).status_code == 404, path
    sms = await client.get("/v3/simulations/sms", params={"phone_number": "+46701234567"})
    assert sms.status_code == 404


async def test_an_unknown_simulation_name_is_a_usage_error() -> None:
    run = subprocess.run([sys.executable, "-m", "sca_sandbox", "--no-simulations", "clock,tea"],
                         capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 2
    assert "unknown simulation tea (valid: clock, sms, funding, activation)" in run.stderr


async def test_the_hosted_onboarding_shows_the_sms_code_and_kyc_activates(
    client: SandboxClient,
) -> None:
    person = await onboarded(client)
    approved = await client.ok("POST", "/v3/simulations/onboarding/status",
                               json={"individual_id": person["id"], "status": "approved"})
    assert approved["status"] == "activated"
    assert (await client.ok("GET", f"/v3/individuals/{person['id']}"))["status"] == "activated"
    rejected = await client.ok("POST", "/v3/simulations/onboarding/status",
                               json={"individual_id": person["id"], "status": "rejected"})
    assert rejected["status"] == "rejected"


async def test_kyc_needs_the_onboarding_completed(client: SandboxClient) -> None:
    person = await client.individual(active=False)
    answer = await client.post("/v3/simulations/onboarding/status",
                               json={"individual_id": person["id"]})
    assert answer.status_code == 409
    assert answer.json()["errors"][0]["field"] == "individual_id"


async def test_a_blocked_individual_answers_422_in_the_providers_envelope(
    client: SandboxClient,
) -> None:
    person = await client.individual(active=False)
    account = await client.account(person["id"])
    answer = await client.post("/v3/transactions/pay", json=payment_body(account["id"]))
    assert answer.status_code == 422
    assert answer.json() == {"error": {
        "code": "request_blocked", "message": "Request blocked: the individual is not activated"}}


async def test_accounts_open_funded(client: SandboxClient) -> None:
    person = await client.individual(active=False)
    assert (await client.account(person["id"]))["balance"] == 500_000


async def test_without_the_options_the_sandbox_is_unchanged(sandbox: RunningSandbox) -> None:
    async with SandboxClient.connect(sandbox.url, DEV_API_KEYS[0]) as plain:
        person = await plain.individual()
        assert person["status"] == "active"
        pending = await plain.individual(active=False)
        account = await plain.account(pending["id"])
        assert account["balance"] == 0
        blocked = await plain.post("/v3/transactions/pay", json=payment_body(account["id"]))
        assert blocked.status_code == 409 and "errors" in blocked.json()
        assert (await plain.post("/v3/simulations/onboarding/status",
                                 json={"individual_id": person["id"]})).status_code == 200
        account = await plain.account(person["id"])
        card = await plain.card(person["id"], account["id"])
        consent = await plain.consent("POST", f"/v3/cards/{card['id']}/details")
        flow = HttpFlow(plain.http, (await plain.initiate(consent["id"]))["redirect_url"])
        await flow.open()
        await flow.step("confirm")
        await flow.step("another-way")
        assert '<label for="passcode">Passcode</label>' in flow.text and ">Continue<" in flow.text
        await flow.step("passcode", passcode=PLAIN_PASSCODE)
        assert "<h1>Card details</h1>" in flow.text


@pytest.mark.browser
async def test_the_suite_reads_the_code_on_the_page_with_the_templates_locator(
    client: SandboxClient, page: Page
) -> None:
    """The staging template's locator finds the code where --sms-code-on-page shows it."""
    person, flow = await at_the_sms_step(client)
    await page.set_content(flow.text)
    profile = load_profile(ROOT / "profiles" / "intergiro-staging.toml")
    api = ApiClient("http://unused.test", "k")
    code = await sms_code(api, page, person["phone_number"], profile, environ={})
    assert re.search(rf"<strong>{code}</strong>", flow.text)
    assert api.secrets.text(code) != code  # a secret of the test from now on
