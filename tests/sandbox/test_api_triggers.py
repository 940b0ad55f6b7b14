"""TRIGGER: the five protected actions answer 412 with a fresh pending consent."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from sca_sandbox.testing import SandboxClient
from sca_sandbox.testing import payment_body as payment

pytestmark = pytest.mark.api

ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


async def protected_requests(client: SandboxClient) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """One request per action, for a fresh active individual: method, path, request kwargs."""
    pending = await client.individual(active=False)
    person = await client.individual()
    account = await client.account(person["id"], balance=10_000)
    card = await client.card(person["id"], account["id"])
    return {
        "onboarding": ("POST", f"/v3/individuals/{pending['id']}/onboard", {}),
        "read_transactions": ("GET", "/v3/transactions", {"params": {"account_id": account["id"]}}),
        "make_payment": ("POST", "/v3/transactions/pay", {"json": payment(account["id"])}),
        "view_card_details": ("POST", f"/v3/cards/{card['id']}/details", {}),
        "activate_card": ("POST", f"/v3/cards/{card['id']}/activate", {}),
    }


async def test_every_protected_action_answers_412_with_a_pending_consent(
    alpha: SandboxClient,
) -> None:
    requests = await protected_requests(alpha)

    for scope, (method, path, kwargs) in requests.items():
        response = await alpha.request(method, path, **kwargs)

        assert response.status_code == 412, (scope, response.text)
        assert response.headers["content-type"] == "application/json"
        consent = response.json()["consent"]
        assert uuid.UUID(consent["id"]).version == 4
        assert consent["status"] == "pending"
        assert consent["scope"] == [scope]
        assert ISO_UTC.match(consent["expires_at"])
        expires = datetime.strptime(consent["expires_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=UTC
        )
        assert expires > datetime.now(UTC)


async def test_two_requests_get_two_consents(alpha: SandboxClient) -> None:
    method, path, kwargs = (await protected_requests(alpha))["activate_card"]

    first = await alpha.consent(method, path, **kwargs)
    second = await alpha.consent(method, path, **kwargs)

    assert first["id"] != second["id"]


async def test_nothing_happens_before_approval(alpha: SandboxClient) -> None:
    person = await alpha.individual()
    account = await alpha.account(person["id"], balance=5_000)
    card = await alpha.card(person["id"], account["id"])

    await alpha.consent("POST", "/v3/transactions/pay", json=payment(account["id"], 1_000))
    await alpha.consent("POST", f"/v3/cards/{card['id']}/activate")
    details = await alpha.post(f"/v3/cards/{card['id']}/details")

    assert (await alpha.ok("GET", f"/v3/accounts/{account['id']}"))["balance"] == 5_000
    assert (await alpha.ok("GET", f"/v3/cards/{card['id']}"))["status"] == "not_activated"
    assert set(details.json()) == {"consent"}


async def test_actions_for_an_individual_who_is_not_active_answer_409(alpha: SandboxClient) -> None:
    person = await alpha.individual(active=False)
    account = await alpha.account(person["id"])
    card = await alpha.card(person["id"], account["id"])

    for method, path, kwargs in [
        ("GET", "/v3/transactions", {"params": {"account_id": account["id"]}}),
        ("POST", "/v3/transactions/pay", {"json": payment(account["id"])}),
        ("POST", f"/v3/cards/{card['id']}/details", {}),
        ("POST", f"/v3/cards/{card['id']}/activate", {}),
    ]:
        response = await alpha.request(method, path, **kwargs)
        assert response.status_code == 409, path
        assert response.json()["errors"][0]["message"]


async def test_onboarding_an_active_individual_answers_409(alpha: SandboxClient) -> None:
    person = await alpha.individual()

    assert (await alpha.post(f"/v3/individuals/{person['id']}/onboard")).status_code == 409


async def test_unprotected_actions_never_answer_412(alpha: SandboxClient) -> None:
    person = await alpha.individual()
    current = await alpha.account(person["id"], balance=3_000)
    savings = await alpha.account(person["id"])
    move = {
        "source_account_id": current["id"],
        "target_account_id": savings["id"],
        "amount": 1_000,
        "reference": "Savings",
        "request_id": str(uuid.uuid4()),
    }

    moved = await alpha.post("/v3/transactions/move", json=move)
    again = await alpha.post("/v3/transactions/move", json=move)
    details = await alpha.get(f"/v3/accounts/{current['id']}/bank_details")

    assert moved.status_code == 200 and moved.json()["type"] == "move"
    assert again.json()["id"] == moved.json()["id"]
    assert (await alpha.ok("GET", f"/v3/accounts/{savings['id']}"))["balance"] == 1_000
    assert details.status_code == 200
    assert re.match(r"^[A-Z]{2}\d{2}[A-Z0-9]+$", details.json()["iban"])


async def test_moves_between_different_individuals_answer_409(alpha: SandboxClient) -> None:
    one, two = await alpha.individual(), await alpha.individual()
    source = await alpha.account(one["id"], balance=1_000)
    target = await alpha.account(two["id"])
    move = {
        "source_account_id": source["id"],
        "target_account_id": target["id"],
        "amount": 100,
        "reference": "x",
        "request_id": str(uuid.uuid4()),
    }

    assert (await alpha.post("/v3/transactions/move", json=move)).status_code == 409


async def test_cards_never_show_their_number_in_the_api(alpha: SandboxClient) -> None:
    person = await alpha.individual()
    account = await alpha.account(person["id"])
    card = await alpha.card(person["id"], account["id"], kind="virtual")

    read = await alpha.ok("GET", f"/v3/cards/{card['id']}")

    assert card["status"] == "active"
    assert set(read) == {
        "id",
        "individual_id",
        "account_id",
        "display_name",
        "exp_month",
        "exp_year",
        "type",
        "last4",
        "status",
        "created_at",
    }
