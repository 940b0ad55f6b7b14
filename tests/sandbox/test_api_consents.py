"""INIT and AFTER through the API, with the hosted pages driven over plain HTTP."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from sca_sandbox.process import RunningSandbox
from sca_sandbox.testing import PASSCODE, HttpFlow, SandboxClient
from sca_sandbox.testing import payment_body as payment

pytestmark = pytest.mark.api

RETURN_URL = "https://client.example/back?order=42"


async def activation_consent(client: SandboxClient) -> dict[str, Any]:
    person = await client.individual()
    account = await client.account(person["id"])
    card = await client.card(person["id"], account["id"])
    return await client.consent("POST", f"/v3/cards/{card['id']}/activate")


async def test_initiation_answers_a_method_for_the_hosted_pages(
    alpha: SandboxClient, sandbox: RunningSandbox
) -> None:
    consent = await activation_consent(alpha)

    method = await alpha.initiate(consent["id"], RETURN_URL)

    assert method["redirect_url"] == f"{sandbox.url}/sca/{method['token']}"
    assert len(method["token"]) >= 43
    assert method["expires_at"] <= consent["expires_at"]


@pytest.mark.parametrize("body", [None, {}])
async def test_the_body_may_be_omitted(alpha: SandboxClient, body: dict[str, Any] | None) -> None:
    consent = await activation_consent(alpha)

    response = await alpha.post(f"/v3/consents/{consent['id']}", json=body)

    assert response.status_code == 200


@pytest.mark.parametrize(
    "return_url",
    [
        None,
        "",
        "javascript:alert(1)",
        "data:text/html,hi",
        "/relative",
        "http://client.example/back",
        "https://",
        "ftp://client.example/",
        "https://user:pw@client.example/",
        "https://client.example:99999/",
        "https://client .example/",
        42,
    ],
)
async def test_unsafe_return_urls_answer_400(alpha: SandboxClient, return_url: Any) -> None:
    consent = await activation_consent(alpha)

    response = await alpha.post(f"/v3/consents/{consent['id']}", json={"return_url": return_url})

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "return_url"


@pytest.mark.parametrize(
    "return_url", ["http://localhost:3000/cb", "http://127.0.0.1/cb?a=1", "http://[::1]:8/x"]
)
async def test_http_is_allowed_on_loopback(alpha: SandboxClient, return_url: str) -> None:
    consent = await activation_consent(alpha)

    assert (
        await alpha.post(f"/v3/consents/{consent['id']}", json={"return_url": return_url})
    ).status_code == 200


async def test_unknown_and_foreign_consents_answer_404(
    alpha: SandboxClient, beta: SandboxClient
) -> None:
    consent = await activation_consent(alpha)

    assert (await alpha.post(f"/v3/consents/{uuid.uuid4()}")).status_code == 404
    assert (await beta.post(f"/v3/consents/{consent['id']}")).status_code == 404
    assert (await beta.get(f"/v3/consents/{consent['id']}")).status_code == 404


async def test_initiation_needs_a_bearer_token(alpha: SandboxClient) -> None:
    consent = await activation_consent(alpha)

    response = await alpha.http.post(f"/v3/consents/{consent['id']}")

    assert response.status_code == 401


async def test_initiating_again_retires_the_earlier_token(alpha: SandboxClient) -> None:
    consent = await activation_consent(alpha)
    first = await alpha.initiate(consent["id"])

    second = await alpha.initiate(consent["id"])

    assert second["token"] != first["token"]
    assert (await alpha.http.get(first["redirect_url"])).status_code == 404
    assert (await alpha.http.get(second["redirect_url"])).status_code == 200


async def test_approved_payment_runs_exactly_once(alpha: SandboxClient) -> None:
    person = await alpha.individual()
    account = await alpha.account(person["id"], balance=10_000)
    body = payment(account["id"], 2_500)
    consent = await alpha.consent("POST", "/v3/transactions/pay", json=body)
    method = await alpha.initiate(consent["id"], RETURN_URL)

    landing = await HttpFlow(alpha.http, method["redirect_url"]).approve()

    assert landing.status_code == 303
    query = parse_qs(urlsplit(landing.headers["location"]).query)
    assert query == {"order": ["42"], "consent_id": [consent["id"]], "status": ["approved"]}
    assert await alpha.status(consent["id"]) == "approved"
    first = await alpha.ok("POST", "/v3/transactions/pay", json=body)
    again = await alpha.ok("POST", "/v3/transactions/pay", json=body)
    assert first == again
    assert (
        first["amount"] == 2_500 and first["status"] == "completed" and first["type"] == "payment"
    )
    assert (await alpha.ok("GET", f"/v3/accounts/{account['id']}"))["balance"] == 7_500


async def test_an_approval_covers_only_its_own_request(alpha: SandboxClient) -> None:
    person = await alpha.individual()
    account = await alpha.account(person["id"], balance=10_000)
    body = payment(account["id"], 1_000)
    consent = await alpha.consent("POST", "/v3/transactions/pay", json=body)
    await HttpFlow(alpha.http, (await alpha.initiate(consent["id"]))["redirect_url"]).approve()

    other_amount = await alpha.consent(
        "POST", "/v3/transactions/pay", json={**body, "amount": 9_000}
    )
    other_payee = await alpha.consent(
        "POST",
        "/v3/transactions/pay",
        json={**body, "counterparty": {**body["counterparty"], "name": "Mallory"}},
    )

    assert len({consent["id"], other_amount["id"], other_payee["id"]}) == 3


async def test_concurrent_repeats_of_one_request_make_one_transaction(
    sandbox: RunningSandbox, alpha: SandboxClient
) -> None:
    person = await alpha.individual()
    account = await alpha.account(person["id"], balance=10_000)
    body = payment(account["id"], 100)
    consent = await alpha.consent("POST", "/v3/transactions/pay", json=body)
    await HttpFlow(alpha.http, (await alpha.initiate(consent["id"]))["redirect_url"]).approve()

    async def pay_on_a_new_connection() -> httpx.Response:
        async with httpx.AsyncClient(base_url=sandbox.url) as http:
            return await http.post("/v3/transactions/pay", json=body, headers=alpha.headers)

    answers = await asyncio.gather(*(pay_on_a_new_connection() for _ in range(8)))

    assert {a.status_code for a in answers} == {200}
    assert len({a.json()["id"] for a in answers}) == 1
    assert (await alpha.ok("GET", f"/v3/accounts/{account['id']}"))["balance"] == 9_900


async def test_paying_another_individuals_account_credits_it(alpha: SandboxClient) -> None:
    payer, payee = await alpha.individual(), await alpha.individual()
    source = await alpha.account(payer["id"], balance=1_000)
    target = await alpha.account(payee["id"])
    body = payment(source["id"], 400, counterparty={"name": "Payee", "account_id": target["id"]})
    consent = await alpha.consent("POST", "/v3/transactions/pay", json=body)
    await HttpFlow(alpha.http, (await alpha.initiate(consent["id"]))["redirect_url"]).approve()

    await alpha.ok("POST", "/v3/transactions/pay", json=body)

    assert (await alpha.ok("GET", f"/v3/accounts/{target['id']}"))["balance"] == 400


async def test_insufficient_funds_at_execution_answer_409(alpha: SandboxClient) -> None:
    person = await alpha.individual()
    account = await alpha.account(person["id"], balance=100)
    body = payment(account["id"], 500)
    consent = await alpha.consent("POST", "/v3/transactions/pay", json=body)
    await HttpFlow(alpha.http, (await alpha.initiate(consent["id"]))["redirect_url"]).approve()

    assert (await alpha.post("/v3/transactions/pay", json=body)).status_code == 409


@pytest.mark.lifecycle
async def test_decline_ends_the_consent_and_the_next_request_gets_a_new_one(
    alpha: SandboxClient,
) -> None:
    person = await alpha.individual()
    account = await alpha.account(person["id"], balance=10_000)
    body = payment(account["id"])
    consent = await alpha.consent("POST", "/v3/transactions/pay", json=body)

    landing = await HttpFlow(
        alpha.http, (await alpha.initiate(consent["id"], RETURN_URL))["redirect_url"]
    ).decline()

    assert parse_qs(urlsplit(landing.headers["location"]).query)["status"] == ["declined"]
    assert await alpha.status(consent["id"]) == "declined"
    assert (await alpha.post(f"/v3/consents/{consent['id']}")).status_code == 409
    retry = await alpha.consent("POST", "/v3/transactions/pay", json=body)
    assert retry["id"] != consent["id"]
    assert (await alpha.ok("GET", f"/v3/accounts/{account['id']}"))["balance"] == 10_000


@pytest.mark.lifecycle
async def test_three_wrong_passcodes_fail_the_consent(alpha: SandboxClient) -> None:
    consent = await activation_consent(alpha)
    flow = HttpFlow(alpha.http, (await alpha.initiate(consent["id"], RETURN_URL))["redirect_url"])
    await flow.open()
    await flow.step("confirm")
    await flow.step("another-way")

    await flow.step("passcode", passcode="000000")
    assert "Wrong passcode. 2 attempts left." in flow.text
    await flow.step("passcode", passcode="111111")
    assert "Wrong passcode. 1 attempt left." in flow.text
    await flow.step("passcode", passcode="222222")

    assert "Too many wrong attempts" in flow.text
    assert await alpha.status(consent["id"]) == "failed"
    assert (await flow.post("passcode", passcode=PASSCODE)).status_code == 409
    closed = await flow.post("close")
    assert parse_qs(urlsplit(closed.headers["location"]).query)["status"] == ["failed"]
    assert (await flow.open()).status_code == 409


@pytest.mark.lifecycle
async def test_a_pending_consent_expires_on_the_sandbox_clock(alpha: SandboxClient) -> None:
    consent = await activation_consent(alpha)
    method = await alpha.initiate(consent["id"], RETURN_URL)

    await alpha.advance(15 * 60 + 1)

    assert await alpha.status(consent["id"]) == "expired"
    assert (await alpha.post(f"/v3/consents/{consent['id']}")).status_code == 410
    page = await alpha.http.get(method["redirect_url"])
    assert page.status_code == 410 and "This link has expired" in page.text
    flow = HttpFlow(alpha.http, method["redirect_url"])
    await flow.open()
    assert (await flow.post("confirm")).status_code == 410
    closed = await flow.post("close")
    assert parse_qs(urlsplit(closed.headers["location"]).query)["status"] == ["expired"]
    assert await alpha.status(consent["id"]) == "expired"


@pytest.mark.lifecycle
async def test_history_approval_lasts_180_days(alpha: SandboxClient) -> None:
    person = await alpha.individual()
    account = await alpha.account(person["id"], balance=700)
    consent = await alpha.consent("GET", "/v3/transactions", params={"account_id": account["id"]})
    await HttpFlow(alpha.http, (await alpha.initiate(consent["id"]))["redirect_url"]).approve()

    listed = await alpha.ok("GET", "/v3/transactions", params={"account_id": account["id"]})
    one = await alpha.ok("GET", f"/v3/transactions/{listed['transactions'][0]['id']}")
    await alpha.advance(179 * 86400)
    still = await alpha.get("/v3/transactions", params={"account_id": account["id"]})
    await alpha.advance(2 * 86400)
    lapsed = await alpha.get("/v3/transactions", params={"account_id": account["id"]})

    assert [t["amount"] for t in listed["transactions"]] == [700] and one["type"] == "funding"
    assert still.status_code == 200
    assert lapsed.status_code == 412 and lapsed.json()["consent"]["id"] != consent["id"]


@pytest.mark.lifecycle
async def test_card_activation_and_details_over_http(alpha: SandboxClient) -> None:
    person = await alpha.individual()
    account = await alpha.account(person["id"])
    card = await alpha.card(person["id"], account["id"])
    consent = await alpha.consent("POST", f"/v3/cards/{card['id']}/activate")
    flow = HttpFlow(alpha.http, (await alpha.initiate(consent["id"]))["redirect_url"])
    await flow.approve()
    await flow.step("pin", pin="1234")
    await flow.step("cvc", cvc="abc")
    assert "Wrong CVC2." in flow.text
    assert (await alpha.ok("GET", f"/v3/cards/{card['id']}"))["status"] == "not_activated"

    details = await alpha.consent("POST", f"/v3/cards/{card['id']}/details")
    viewer = HttpFlow(alpha.http, (await alpha.initiate(details["id"]))["redirect_url"])
    await viewer.approve()
    assert "Card number" in viewer.text
    cvc = viewer.text.split('aria-label="CVC">')[1][:3]
    await flow.step("cvc", cvc=cvc)

    assert "Your card is now active" in flow.text
    assert (await alpha.ok("GET", f"/v3/cards/{card['id']}"))["status"] == "active"
    assert (await alpha.post(f"/v3/cards/{card['id']}/activate")).status_code == 409
    assert (await viewer.open()).status_code == 409, "card details are shown once"
    again = await alpha.consent("POST", f"/v3/cards/{card['id']}/details")
    assert again["id"] != details["id"]
