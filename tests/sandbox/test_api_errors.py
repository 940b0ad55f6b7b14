"""ERR: invalid input answers 400 with named fields; nothing answers 5xx."""

from __future__ import annotations

from typing import Any

import pytest

from sca_sandbox.testing import SandboxClient, payment_body

pytestmark = pytest.mark.api

PERSON = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada@example.com",
    "phone_number": "+46701234567",
    "date_of_birth": "1990-12-10",
}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"first_name": None}, "first_name"),
        ({"first_name": ""}, "first_name"),
        ({"first_name": "   "}, "first_name"),
        ({"first_name": "x" * 101}, "first_name"),
        ({"first_name": 7}, "first_name"),
        ({"email": "not-an-email"}, "email"),
        ({"phone_number": "0701234567"}, "phone_number"),
        ({"date_of_birth": "1990-02-30"}, "date_of_birth"),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
        ({"address": None}, "address"),
        (
            {
                "address": {
                    "line1": "Street 1",
                    "city": "Lund",
                    "postal_code": "22100",
                    "country": "sweden",
                }
            },
            "address.country",
        ),
        ({"nickname": "Ada"}, "nickname"),
    ],
)
async def test_invalid_individuals_name_the_field(
    alpha: SandboxClient, change: dict[str, Any], field: str
) -> None:
    response = await alpha.post("/v3/individuals", json={**PERSON, **change})

    assert response.status_code == 400
    assert field in [error["field"] for error in response.json()["errors"]]
    assert all(error["message"] for error in response.json()["errors"])


async def test_missing_fields_are_each_named(alpha: SandboxClient) -> None:
    response = await alpha.post("/v3/individuals", json={"first_name": "Ada"})

    named = {error["field"] for error in response.json()["errors"]}
    assert response.status_code == 400
    assert named == {"last_name", "email", "phone_number", "date_of_birth"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": 0}, "amount"),
        ({"amount": -5}, "amount"),
        ({"amount": 10**20}, "amount"),
        ({"amount": True}, "amount"),
        ({"amount": 12.5}, "amount"),
        ({"amount": "100"}, "amount"),
        ({"reference": ""}, "reference"),
        ({"request_id": None}, "request_id"),
        (
            {
                "counterparty": {
                    "name": "X",
                    "account": {"iban": "SE4550000000058398257467", "bic": "ESSESESS"},
                }
            },
            "counterparty.account.iban",
        ),
        (
            {
                "counterparty": {
                    "name": "X",
                    "account": {"iban": "SE4550000000058398257466", "bic": "bad"},
                }
            },
            "counterparty.account.bic",
        ),
        ({"counterparty": {"name": "X"}}, "counterparty"),
        ({"counterparty": {"name": "X", "account_id": None}}, "counterparty.account_id"),
    ],
)
async def test_invalid_payments_name_the_field(
    alpha: SandboxClient, change: dict[str, Any], field: str
) -> None:
    response = await alpha.post("/v3/transactions/pay", json=payment_body("any-account", **change))

    assert response.status_code == 400
    assert field in [error["field"] for error in response.json()["errors"]]


@pytest.mark.parametrize(
    "content",
    [b"{", b"", b"null", b"[]", b'"text"', b"\xff\xfe", b'{"first_name": "\\ud800"}', b"{" * 5000],
)
async def test_malformed_bodies_answer_400(alpha: SandboxClient, content: bytes) -> None:
    response = await alpha.post(
        "/v3/individuals", content=content, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert response.json()["errors"]


async def test_a_form_body_answers_400(alpha: SandboxClient) -> None:
    response = await alpha.post("/v3/auth/refresh", data={"refresh_token": "x"})

    assert response.status_code == 400


async def test_unknown_routes_and_methods_answer_json_errors(alpha: SandboxClient) -> None:
    missing = await alpha.get("/v3/nothing-here")
    wrong_method = await alpha.request("DELETE", "/v3/individuals")

    assert missing.status_code == 404 and missing.json()["errors"]
    assert wrong_method.status_code == 405 and wrong_method.json()["errors"]


async def test_query_parameters_are_validated(alpha: SandboxClient) -> None:
    no_account = await alpha.get("/v3/transactions")
    bad_phone = await alpha.get("/v3/simulations/sms", params={"phone_number": "hello"})

    assert no_account.status_code == 400 and no_account.json()["errors"][0]["field"] == "account_id"
    assert bad_phone.status_code == 400 and bad_phone.json()["errors"][0]["field"] == "phone_number"
