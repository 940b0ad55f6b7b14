"""The nordic dialect (``--dialect nordic``): the same contract, presented otherwise.

Other scope names, ``_links`` beside the 412's consent, ``charset=utf-8`` on every JSON
answer, ``redirect_url`` = ``/sca/consent?token=...``, onboarding answering 200 with a
``redirect_url``, and Swedish hosted pages rendered by a script from JSON (no forms, inputs
named by ``aria-labelledby``), located here by role and by the texts of
``sca_conformance/texts/sv.toml``.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import Page, Route, expect

from sca_conformance.landing import NavigationLog
from sca_conformance.passkeys import add_virtual_authenticator
from sca_sandbox.process import RunningSandbox, run_sandbox
from sca_sandbox.testing import PASSCODE, SandboxClient, payment_body

RETURN_URL = "https://client.example/sca/return?order=42&lang=en"
JSON = "application/json; charset=utf-8"
SCOPES = {
    "payment_history": "transactions:read",
    "external_payment": "payments:write",
    "card_details": "cards:sensitive:read",
    "card_activation": "cards:activate",
}
# Faults that do not disturb each other: one nordic sandbox holds them all.
FAULTY = [
    "csrf-not-checked",
    "summary-shows-wrong-amount",
    "summary-hides-action",
    "decline-button-missing",
    "passkey-option-missing",
    "onboarding-skips-sms",
    "cvc2-not-checked",
    "no-passcode-lockout",
    "return-url-query-dropped",
    "framing-allowed",
    "cacheable-pages",
]


@pytest.fixture(scope="module")
def nordic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    with run_sandbox(tmp_path_factory.mktemp("nordic") / "sandbox.db", dialect="nordic") as running:
        yield running


@pytest_asyncio.fixture
async def client(nordic: RunningSandbox) -> AsyncIterator[SandboxClient]:
    async with SandboxClient.connect(nordic.url, nordic.api_keys[0]) as connected:
        yield connected


@pytest.fixture(scope="module")
def faulty_nordic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    db: Path = tmp_path_factory.mktemp("nordic-faulty") / "sandbox.db"
    with run_sandbox(db, dialect="nordic", faults=FAULTY) as running:
        yield running


@pytest_asyncio.fixture
async def faulty(faulty_nordic: RunningSandbox) -> AsyncIterator[SandboxClient]:
    async with SandboxClient.connect(faulty_nordic.url, faulty_nordic.api_keys[0]) as connected:
        yield connected


# --- helpers ------------------------------------------------------------------------------


async def requests_for(client: SandboxClient) -> dict[str, tuple[str, str, dict[str, Any]]]:
    person = await client.individual()
    account = await client.account(person["id"], balance=10_000)
    card = await client.card(person["id"], account["id"])
    return {
        "payment_history": ("GET", "/v3/transactions", {"params": {"account_id": account["id"]}}),
        "external_payment": ("POST", "/v3/transactions/pay", {"json": payment_body(account["id"])}),
        "card_details": ("POST", f"/v3/cards/{card['id']}/details", {}),
        "card_activation": ("POST", f"/v3/cards/{card['id']}/activate", {}),
    }


async def payment_consent(
    client: SandboxClient, amount: int = 123_456, **overrides: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    person = await client.individual()
    account = await client.account(person["id"], balance=500_000)
    body = payment_body(account["id"], amount, **overrides)
    return await client.consent("POST", "/v3/transactions/pay", json=body), body


async def onboarding_url(client: SandboxClient, person: dict[str, Any], **body: Any) -> str:
    path = f"/v3/individuals/{person['id']}/onboard"
    answer = await client.ok("POST", path, json=body or None)
    url: str = answer["redirect_url"]
    return url


class JsonFlow:
    """The nordic pages' JSON calls, driven over plain HTTP as the page's script does."""

    def __init__(self, http: httpx.AsyncClient, redirect_url: str) -> None:
        self.http = http
        self.token = parse_qs(urlsplit(redirect_url).query)["token"][0]
        self.csrf = ""

    async def current(self) -> httpx.Response:
        response = await self.http.get("/sca/api/flow", params={"token": self.token})
        self.csrf = response.json().get("csrf") or self.csrf
        return response

    async def post(self, action: str, csrf: str | None = None, **fields: str) -> httpx.Response:
        headers = {"X-CSRF-Token": self.csrf if csrf is None else csrf}
        return await self.http.post(
            f"/sca/api/flow/{action}", params={"token": self.token}, json=fields, headers=headers
        )


async def landed(page: Page, pattern: str = r"^https://client\.example/") -> dict[str, list[str]]:
    parts = urlsplit(await NavigationLog.of(page).wait_for(pattern))
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://client.example/sca/return"
    return parse_qs(parts.query)


def h1(page: Page) -> Any:
    return page.get_by_role("heading", level=1)


async def assert_nordic_markup(page: Page) -> None:
    """No forms, no <label>, no aria-label; every input named by another element's id."""
    await expect(h1(page)).to_have_count(1)
    assert await page.locator("form").count() == 0
    assert await page.locator("label").count() == 0
    assert await page.locator("[aria-label]").count() == 0
    for field in await page.locator("input").all():
        named_by = await field.get_attribute("aria-labelledby")
        assert named_by and await page.locator(f"#{named_by}").count() == 1
        assert await field.get_attribute("type") == "password"


async def use_passcode(page: Page, passcode: str = PASSCODE) -> None:
    await page.get_by_role("button", name="Godkänn").click()
    await expect(h1(page)).to_have_text("Legitimera dig")
    await page.get_by_role("button", name="Prova ett annat sätt").click()
    await expect(h1(page)).to_have_text("Ange din kod")
    await page.get_by_label("Kod", exact=True).fill(passcode)
    await page.get_by_role("button", name="Fortsätt").click()


# --- the API ------------------------------------------------------------------------------


@pytest.mark.api
async def test_the_412_names_the_dialects_scopes_beside_links(client: SandboxClient) -> None:
    for action, (method, path, kwargs) in (await requests_for(client)).items():
        response = await client.request(method, path, **kwargs)

        assert response.status_code == 412, (action, response.text)
        assert response.headers["content-type"] == JSON
        body = response.json()
        consent = body["consent"]
        assert set(body) == {"consent", "_links"}
        assert body["_links"] == {"initiate": {"href": f"/v3/consents/{consent['id']}"}}
        assert uuid.UUID(consent["id"]).version == 4
        assert consent["status"] == "pending"
        assert consent["scope"] == [SCOPES[action]]
        read = await client.ok("GET", f"/v3/consents/{consent['id']}")
        assert read["consent"]["scope"] == [SCOPES[action]]


@pytest.mark.api
async def test_every_json_answer_names_its_charset(client: SandboxClient) -> None:
    unknown = await client.get(f"/v3/consents/{uuid.uuid4()}")
    invalid = await client.post("/v3/individuals", json={"first_name": ""})
    anonymous = await client.http.get("/v3/individuals/x")

    assert [r.status_code for r in (unknown, invalid, anonymous)] == [404, 400, 401]
    for response in (unknown, invalid, anonymous):
        assert response.headers["content-type"] == JSON


@pytest.mark.api
async def test_redirect_url_carries_the_token_as_a_query_parameter_of_one_static_shell(
    client: SandboxClient, nordic: RunningSandbox
) -> None:
    consent, _ = await payment_consent(client)
    method = await client.initiate(consent["id"], RETURN_URL)
    other = await client.initiate((await payment_consent(client))[0]["id"], RETURN_URL)

    assert method["redirect_url"] == f"{nordic.url}/sca/consent?token={method['token']}"
    shell = await client.http.get(method["redirect_url"])
    assert shell.status_code == 200
    assert shell.headers["content-type"] == "text/html; charset=utf-8"
    assert shell.text == (await client.http.get(other["redirect_url"])).text
    assert method["token"] not in shell.text
    assert 'aria-busy="true"' in shell.text and "Laddar…" in shell.text
    assert re.findall(r"<script[^>]*>", shell.text) == [
        '<script src="/assets/nordic/nordic.js" defer>'
    ]
    step = await client.http.get("/sca/api/flow", params={"token": method["token"]})
    assert step.headers["content-type"] == JSON
    for response in (shell, step):
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["referrer-policy"] == "no-referrer"
    # The default dialect's pages are not there.
    assert (await client.http.get(f"/sca/{method['token']}")).status_code == 404


@pytest.mark.api
async def test_onboarding_answers_200_with_a_redirect_url_at_once(
    client: SandboxClient, nordic: RunningSandbox
) -> None:
    person = await client.individual(active=False)
    path = f"/v3/individuals/{person['id']}/onboard"

    response = await client.post(path, json={"return_url": RETURN_URL})
    bare = await client.post(path)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == JSON
    assert set(response.json()) == {"redirect_url", "expires_at"}
    assert re.fullmatch(
        rf"{re.escape(nordic.url)}/sca/consent\?token=[A-Za-z0-9_-]{{20,}}",
        response.json()["redirect_url"],
    )
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", response.json()["expires_at"])
    assert bare.status_code == 200
    assert bare.json()["redirect_url"] != response.json()["redirect_url"]
    for body, field in (({"return_url": "javascript:alert(1)"}, "return_url"), ("{", None)):
        kwargs: dict[str, Any] = {"json": body} if isinstance(body, dict) else {"content": body}
        refused = await client.post(path, **kwargs)
        assert refused.status_code == 400, refused.text
        assert refused.json()["errors"][0]["field"] == field
    assert (await client.ok("GET", f"/v3/individuals/{person['id']}"))["status"] == "pending"
    active = await client.individual()
    assert (await client.post(f"/v3/individuals/{active['id']}/onboard")).status_code == 409


async def test_the_openapi_document_describes_the_dialect(nordic: RunningSandbox) -> None:
    async with httpx.AsyncClient(base_url=nordic.url) as http:
        document = (await http.get("/openapi.json")).json()

    onboard = document["paths"]["/v3/individuals/{individual_id}/onboard"]["post"]
    assert "412" not in onboard["responses"]
    answer = onboard["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer["required"] == ["redirect_url", "expires_at"]
    pay = document["paths"]["/v3/transactions/pay"]["post"]
    assert "412" in pay["responses"]
    assert f"scope {SCOPES['external_payment']}" in pay["summary"]


@pytest.mark.api
async def test_the_json_calls_check_csrf_and_the_step(client: SandboxClient) -> None:
    consent, _ = await payment_consent(client)
    flow = JsonFlow(client.http, (await client.initiate(consent["id"], RETURN_URL))["redirect_url"])
    assert (await flow.current()).json()["step"] == "summary"

    forged = await flow.post("decline", csrf="")
    early = await flow.post("passcode", passcode=PASSCODE)
    unknown = await flow.post("approve")

    assert (forged.status_code, forged.json()["step"]) == (403, "refused")
    assert (early.status_code, early.json()["step"]) == (200, "summary")
    assert unknown.status_code == 404
    assert await client.status(consent["id"]) == "pending"
    assert (await flow.post("confirm")).json()["step"] == "identify"
    assert (await flow.post("another-way")).json()["step"] == "passcode"
    wrong = (await flow.post("passcode", passcode="000000")).json()
    assert wrong["alert"] == {"code": "wrong_passcode", "left": 2}
    done = (await flow.post("passcode", passcode=PASSCODE)).json()
    assert done == {
        "redirect": f"{RETURN_URL}&consent_id={consent['id']}&status=approved",
    }
    assert (await flow.current()).status_code == 409  # single use


@pytest.mark.api
async def test_faults_take_effect_in_the_nordic_dialect(
    faulty: SandboxClient, faulty_nordic: RunningSandbox
) -> None:
    consent, _ = await payment_consent(faulty, 1234)
    method = await faulty.initiate(consent["id"], RETURN_URL)
    flow = JsonFlow(faulty.http, method["redirect_url"])

    summary = (await flow.current()).json()["summary"]
    assert summary["action"] is None  # summary-hides-action
    assert summary["details"]["amount"] == 1334  # summary-shows-wrong-amount
    assert summary["decline"] is False  # decline-button-missing
    shell = await faulty.http.get(method["redirect_url"])
    assert "x-frame-options" not in shell.headers  # framing-allowed
    assert shell.headers["cache-control"] == "public, max-age=300"  # cacheable-pages
    assert (await flow.post("confirm", csrf="forged")).json()["step"] == "identify"  # csrf
    assert (await flow.current()).json()["passkey"] is False  # passkey-option-missing
    await flow.post("another-way")
    for _ in range(4):  # no-passcode-lockout
        assert (await flow.post("passcode", passcode="000000")).json()["step"] == "passcode"
    done = (await flow.post("passcode", passcode=PASSCODE)).json()
    assert done["redirect"].startswith("https://client.example/sca/return?consent_id=")  # query

    person = await faulty.individual(active=False)
    onboarding = JsonFlow(faulty.http, await onboarding_url(faulty, person))
    await onboarding.current()
    await onboarding.post("confirm")
    step = await onboarding.post("create-passcode", passcode="135790", repeat_passcode="135790")
    assert step.json()["step"] == "add_passkey"  # onboarding-skips-sms

    await onboarding.post("skip-passkey")
    account = await faulty.account(person["id"])
    card = await faulty.card(person["id"], account["id"])
    activation = await faulty.consent("POST", f"/v3/cards/{card['id']}/activate")
    cards = JsonFlow(faulty.http, (await faulty.initiate(activation["id"]))["redirect_url"])
    await cards.current()
    for action, fields in (("confirm", {}), ("another-way", {}), ("pin", {"pin": "4321"})):
        await cards.post(action, **fields)
    assert (await cards.current()).json()["step"] == "passcode"
    await cards.post("passcode", passcode="135790")
    await cards.post("pin", pin="4321")
    activated = await cards.post("cvc", cvc="x")  # cvc2-not-checked
    assert activated.json()["step"] == "activated"


# --- the pages in a browser ---------------------------------------------------------------


@pytest.mark.browser
async def test_a_payment_approved_by_passcode_through_the_swedish_pages(
    client: SandboxClient, page: Page
) -> None:
    consent, body = await payment_consent(client)
    method = await client.initiate(consent["id"], RETURN_URL)
    held, release = asyncio.Event(), asyncio.Event()

    async def hold(route: Route) -> None:
        held.set()
        await release.wait()
        await route.continue_()

    await page.route(re.compile(r"/sca/api/flow\?"), hold)
    await page.goto(method["redirect_url"])
    await held.wait()
    await expect(page.get_by_role("status")).to_have_text("Laddar…")
    await expect(page.locator("main")).to_have_attribute("aria-busy", "true")
    release.set()

    await expect(h1(page)).to_have_text("Legitimering")
    await page.unroute(re.compile(r"/sca/api/flow\?"))
    await expect(page.locator("main")).to_have_attribute("aria-busy", "false")
    await expect(page.get_by_text("Jag legitimerar mig hos Nordbanken Sandbox att")).to_be_visible()
    region = page.get_by_role("region", name="Medgivande")
    await expect(region.get_by_role("heading", level=2)).to_have_text("Gör en betalning")
    await expect(region.get_by_label("Belopp", exact=True)).to_have_text("1 234,56 €")
    await expect(region.get_by_label("Mottagare", exact=True)).to_have_text("Grace Hopper")
    await expect(region.get_by_label("IBAN", exact=True)).to_have_text(
        "SE45 5000 0000 0583 9825 7466"
    )
    await expect(region.get_by_label("Meddelande", exact=True)).to_have_text("Invoice 7")
    await expect(page.get_by_role("button", name="Avböj")).to_be_visible()
    await assert_nordic_markup(page)

    await page.get_by_role("button", name="Godkänn").click()
    await expect(h1(page)).to_have_text("Legitimera dig")
    await expect(page.get_by_role("button", name="Använd nyckel")).to_have_count(0)
    await page.get_by_role("button", name="Prova ett annat sätt").click()
    await expect(h1(page)).to_have_text("Ange din kod")
    await assert_nordic_markup(page)
    await page.get_by_label("Kod", exact=True).fill(PASSCODE)
    await page.get_by_label("Kod", exact=True).press("Enter")

    assert await landed(page) == {
        "order": ["42"],
        "lang": ["en"],
        "consent_id": [consent["id"]],
        "status": ["approved"],
    }
    assert await client.status(consent["id"]) == "approved"
    assert (await client.ok("POST", "/v3/transactions/pay", json=body))["amount"] == 123_456

    await page.goto(method["redirect_url"])
    await expect(h1(page)).to_have_text("Medgivandet är redan slutfört")


@pytest.mark.browser
async def test_decline_lands_declined(client: SandboxClient, page: Page) -> None:
    consent, _ = await payment_consent(client)
    await page.goto((await client.initiate(consent["id"], RETURN_URL))["redirect_url"])

    await page.get_by_role("button", name="Avböj").click()

    assert (await landed(page, r"status=declined"))["consent_id"] == [consent["id"]]
    assert await client.status(consent["id"]) == "declined"


@pytest.mark.browser
async def test_three_wrong_passcodes_lock_the_consent(client: SandboxClient, page: Page) -> None:
    consent, _ = await payment_consent(client)
    await page.goto((await client.initiate(consent["id"], RETURN_URL))["redirect_url"])

    await use_passcode(page, "000000")
    await expect(page.get_by_role("alert")).to_have_text("Fel kod. 2 försök kvar.")
    await page.get_by_label("Kod", exact=True).fill("000001")
    await page.get_by_role("button", name="Fortsätt").click()
    await expect(page.get_by_role("alert")).to_have_text("Fel kod. 1 försök kvar.")
    await page.get_by_label("Kod", exact=True).fill("000002")
    await page.get_by_role("button", name="Fortsätt").click()

    await expect(h1(page)).to_have_text("För många felaktiga försök")
    await page.get_by_role("button", name="Stäng").click()
    await landed(page, r"status=failed")
    assert await client.status(consent["id"]) == "failed"


@pytest.mark.browser
async def test_onboarding_by_redirect_with_a_passkey_then_a_payment_by_passkey(
    client: SandboxClient, page: Page
) -> None:
    authenticator = await add_virtual_authenticator(page)
    person = await client.individual(active=False)
    await page.goto(await onboarding_url(client, person, return_url=RETURN_URL))

    region = page.get_by_role("region", name="Medgivande")
    await expect(region.get_by_role("heading", level=2)).to_have_text("Slutför registreringen")
    await page.get_by_role("button", name="Godkänn").click()
    await expect(h1(page)).to_have_text("Skapa din kod")
    await assert_nordic_markup(page)
    await page.get_by_label("Kod", exact=True).fill("246810")
    await page.get_by_label("Upprepa koden", exact=True).fill("246811")
    await page.get_by_role("button", name="Fortsätt").click()
    await expect(page.get_by_role("alert")).to_have_text("Koderna matchar inte.")
    await page.get_by_label("Kod", exact=True).fill("24681")
    await page.get_by_label("Upprepa koden", exact=True).fill("24681")
    await page.get_by_role("button", name="Fortsätt").click()
    await expect(page.get_by_role("alert")).to_have_text("Koden måste vara 6 siffror.")
    await page.get_by_label("Kod", exact=True).fill("246810")
    await page.get_by_label("Upprepa koden", exact=True).fill("246810")
    await page.get_by_role("button", name="Fortsätt").click()

    await expect(h1(page)).to_have_text("Bekräfta ditt telefonnummer")
    await expect(page.get_by_text(person["phone_number"][-2:], exact=False)).to_be_visible()
    sms = await client.ok(
        "GET", "/v3/simulations/sms", params={"phone_number": person["phone_number"]}
    )
    await page.get_by_label("SMS-kod").fill("999999" if sms["code"] != "999999" else "000000")
    await page.get_by_role("button", name="Bekräfta").click()
    await expect(page.get_by_role("alert")).to_have_text("Fel kod.")
    await page.get_by_label("SMS-kod").fill(sms["code"])
    await page.get_by_role("button", name="Bekräfta").click()

    await expect(h1(page)).to_have_text("Lägg till en nyckel")
    await page.get_by_role("button", name="Lägg till nyckel").click()
    query = await landed(page, r"status=approved")
    assert query["order"] == ["42"] and len(query["consent_id"]) == 1
    assert await client.status(query["consent_id"][0]) == "approved"
    assert len(await authenticator.credentials()) == 1
    assert (await client.ok("GET", f"/v3/individuals/{person['id']}"))["status"] == "active"

    account = await client.account(person["id"], balance=5_000)
    body = payment_body(account["id"], 700)
    consent = await client.consent("POST", "/v3/transactions/pay", json=body)
    await page.goto((await client.initiate(consent["id"], RETURN_URL))["redirect_url"])
    await page.get_by_role("button", name="Godkänn").click()
    await page.get_by_role("button", name="Använd nyckel").click()

    assert (await landed(page, r"status=approved"))["consent_id"] == [consent["id"]]
    assert (await client.ok("POST", "/v3/transactions/pay", json=body))["amount"] == 700


@pytest.mark.browser
async def test_onboarding_without_return_url_or_passkey_ends_on_klart(
    client: SandboxClient, page: Page
) -> None:
    person = await client.individual(active=False)
    await page.goto(await onboarding_url(client, person))

    await page.get_by_role("button", name="Godkänn").click()
    await page.get_by_label("Kod", exact=True).fill("135790")
    await page.get_by_label("Upprepa koden", exact=True).fill("135790")
    await page.get_by_role("button", name="Fortsätt").click()
    await expect(h1(page)).to_have_text("Bekräfta ditt telefonnummer")
    sms = await client.ok(
        "GET", "/v3/simulations/sms", params={"phone_number": person["phone_number"]}
    )
    await page.get_by_label("SMS-kod", exact=True).fill(sms["code"])
    await page.get_by_role("button", name="Bekräfta").click()
    await page.get_by_role("button", name="Hoppa över").click()

    await expect(h1(page)).to_have_text("Klart")
    assert urlsplit(page.url).path == "/sca/done"
    assert (await client.ok("GET", f"/v3/individuals/{person['id']}"))["status"] == "active"


@pytest.mark.browser
async def test_card_details_then_activation_with_pin_and_cvc2(
    client: SandboxClient, page: Page
) -> None:
    person = await client.individual()
    account = await client.account(person["id"])
    card = await client.card(person["id"], account["id"])

    details = await client.consent("POST", f"/v3/cards/{card['id']}/details")
    await page.goto((await client.initiate(details["id"], RETURN_URL))["redirect_url"])
    region = page.get_by_role("region", name="Medgivande")
    await expect(region.get_by_role("heading", level=2)).to_have_text("Visa kortuppgifter")
    await expect(region.get_by_label("Kort", exact=True)).to_have_text(f"•••• {card['last4']}")
    await use_passcode(page)
    await expect(h1(page)).to_have_text("Kortuppgifter")
    await assert_nordic_markup(page)
    await expect(page.get_by_label("Kortinnehavare")).to_have_text("Ada Lovelace")
    await expect(page.get_by_label("Kortnummer")).to_have_text(
        re.compile(rf"^\d{{4}} \d{{4}} \d{{4}} {card['last4']}$")
    )
    await expect(page.get_by_label("Giltigt till")).to_have_text("02/29")
    cvc = await page.get_by_label("CVC", exact=True).inner_text()
    await page.get_by_role("button", name="Stäng").click()
    await landed(page, r"status=approved")

    activation = await client.consent("POST", f"/v3/cards/{card['id']}/activate")
    await page.goto((await client.initiate(activation["id"], RETURN_URL))["redirect_url"])
    await expect(page.get_by_role("region", name="Medgivande").get_by_role("heading")).to_have_text(
        "Aktivera kort"
    )
    await use_passcode(page)
    await expect(h1(page)).to_have_text("Välj PIN-kod")
    await page.get_by_label("PIN-kod", exact=True).fill("4321")
    await page.get_by_role("button", name="Fortsätt").click()
    await expect(h1(page)).to_have_text("Kortaktivering")
    await page.get_by_label("CVC2-kod").fill("000" if cvc != "000" else "111")
    await page.get_by_role("button", name="Aktivera").click()
    await expect(page.get_by_role("alert")).to_have_text("Fel CVC2-kod.")
    assert (await client.ok("GET", f"/v3/cards/{card['id']}"))["status"] == "not_activated"
    await page.get_by_label("CVC2-kod").fill(cvc)
    await page.get_by_role("button", name="Aktivera").click()
    await expect(h1(page)).to_have_text("Ditt kort är nu aktivt")
    await page.get_by_role("button", name="Stäng").click()

    await landed(page, r"status=approved")
    assert (await client.ok("GET", f"/v3/cards/{card['id']}"))["status"] == "active"


@pytest.mark.browser
@pytest.mark.lifecycle
async def test_altered_and_expired_links_say_so(client: SandboxClient, page: Page) -> None:
    consent, _ = await payment_consent(client)
    method = await client.initiate(consent["id"], RETURN_URL)
    url = method["redirect_url"]

    await page.goto(url[:-1] + ("A" if url[-1] != "A" else "B"))
    await expect(h1(page)).to_have_text("Länken är inte giltig")
    await expect(page.get_by_role("button")).to_have_count(0)

    await client.advance(3600)
    await page.goto(url)
    await expect(h1(page)).to_have_text("Länken har gått ut")
    await page.get_by_role("button", name="Stäng").click()
    assert (await landed(page, r"status=expired"))["consent_id"] == [consent["id"]]
    assert await client.status(consent["id"]) == "expired"
