"""Section 8: the simulations, scoped to the calling client."""

from __future__ import annotations

import pytest

from sca_sandbox.testing import SandboxClient

pytestmark = pytest.mark.api


async def test_funding_and_card_payments_move_the_balance(alpha: SandboxClient) -> None:
    person = await alpha.individual()
    account = await alpha.account(person["id"], balance=2_000)
    card = await alpha.card(person["id"], account["id"], kind="virtual")

    paid = await alpha.ok(
        "POST",
        "/v3/simulations/card_payment",
        json={"card_id": card["id"], "amount": 500, "merchant": "Coffee"},
    )

    assert paid["type"] == "card_payment" and paid["counterparty"]["name"] == "Coffee"
    assert (await alpha.ok("GET", f"/v3/accounts/{account['id']}"))["balance"] == 1_500


async def test_card_payments_need_an_active_card_and_funds(alpha: SandboxClient) -> None:
    person = await alpha.individual()
    account = await alpha.account(person["id"], balance=100)
    physical = await alpha.card(person["id"], account["id"])
    virtual = await alpha.card(person["id"], account["id"], kind="virtual")

    inactive = await alpha.post(
        "/v3/simulations/card_payment", json={"card_id": physical["id"], "amount": 50}
    )
    too_much = await alpha.post(
        "/v3/simulations/card_payment", json={"card_id": virtual["id"], "amount": 500}
    )

    assert inactive.status_code == 409
    assert too_much.status_code == 409


async def test_sms_codes_are_per_client_and_404_when_none_was_sent(alpha: SandboxClient) -> None:
    response = await alpha.get("/v3/simulations/sms", params={"phone_number": "+46709999999"})

    assert response.status_code == 404


async def test_activation_makes_the_individual_active(alpha: SandboxClient) -> None:
    person = await alpha.individual(active=False)

    activated = await alpha.ok(
        "POST", f"/v3/simulations/individuals/{person['id']}/activate", json={"passcode": "654321"}
    )
    refused = await alpha.post(
        f"/v3/simulations/individuals/{person['id']}/activate", json={"passcode": "12ab56"}
    )

    assert person["status"] == "pending" and activated["status"] == "active"
    assert refused.status_code == 400


@pytest.mark.security
async def test_clients_do_not_see_each_others_objects(
    alpha: SandboxClient, beta: SandboxClient
) -> None:
    person = await alpha.individual()
    account = await alpha.account(person["id"])
    card = await alpha.card(person["id"], account["id"])

    for path in (
        f"/v3/individuals/{person['id']}",
        f"/v3/accounts/{account['id']}",
        f"/v3/cards/{card['id']}",
        f"/v3/accounts/{account['id']}/bank_details",
    ):
        assert (await beta.get(path)).status_code == 404
    assert (await beta.post(f"/v3/cards/{card['id']}/activate")).status_code == 404
    assert (
        await beta.post(
            "/v3/simulations/account_funding", json={"account_id": account["id"], "amount": 1}
        )
    ).status_code == 404


@pytest.mark.parametrize("seconds", [0, -1, 315_360_001, True, 1.5, None])
async def test_the_clock_only_moves_forward_by_whole_seconds(
    alpha: SandboxClient, seconds: object
) -> None:
    response = await alpha.post("/v3/simulations/clock", json={"advance_seconds": seconds})

    assert response.status_code == 400


async def test_an_unencoded_plus_in_the_phone_number_is_understood(alpha: SandboxClient) -> None:
    response = await alpha.get("/v3/simulations/sms?phone_number=+46709999998")

    assert response.status_code == 404
    assert response.json()["errors"][0]["message"] == "No code was sent to this phone number"
