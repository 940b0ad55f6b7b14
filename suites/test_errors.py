"""ERR-*: invalid input on the protected endpoints answers 400 naming the field; nothing
answers 5xx."""

from __future__ import annotations

from typing import Any

import pytest

from sca_conformance import checks
from sca_conformance.catalog import Action
from sca_conformance.consents import Consents

pytestmark = [pytest.mark.api, pytest.mark.errors, pytest.mark.asyncio(loop_scope="session")]


def payment(action: Action, values: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The action's payment body with some fields changed (`a__b` for nested) or removed."""
    body = action.request(values)[2]
    if body is None:
        pytest.skip(f"{action.name} has no request body to alter (profile actions.{action.name})")
    for dotted, value in changes.items():
        target = body
        *parents, leaf = dotted.split("__")
        for parent in parents:
            target = target[parent]
        if value is ...:
            del target[leaf]
        else:
            target[leaf] = value
    return body


INVALID_PAYMENTS: dict[str, tuple[dict[str, Any], str]] = {
    "amount as a string": ({"amount": "12.00"}, "amount"),
    "negative amount": ({"amount": -500}, "amount"),
    "zero amount": ({"amount": 0}, "amount"),
    "amount as a boolean": ({"amount": True}, "amount"),
    "missing account_id": ({"account_id": ...}, "account_id"),
    "malformed IBAN": ({"counterparty__account__iban": "NOT-AN-IBAN"}, "iban"),
    "counterparty not an object": ({"counterparty": "Bob"}, "counterparty"),
}


@pytest.mark.external_payment
@pytest.mark.requirement("ERR-1")
@pytest.mark.parametrize("case", list(INVALID_PAYMENTS))
async def test_an_invalid_payment_answers_400_naming_the_field(
    case: str, consents: Consents
) -> None:
    """Invalid input answers 400 with errors naming the field"""
    changes, field = INVALID_PAYMENTS[case]
    action = consents.action("external_payment")
    subject = await consents.subject(action)
    method, path, _ = action.request(subject.values)
    response = await consents.api.request(method, path,
                                          json=payment(action, subject.values, **changes))
    checks.invalid_input_named(response, field)


@pytest.mark.requirement("ERR-2")
@pytest.mark.parametrize(
    "case",
    ["empty reference", "empty payee name", "null return_url", "null optional address"],
)
async def test_empty_strings_and_nulls_are_refused(case: str, consents: Consents) -> None:
    """Strings must be non-empty; an optional field may be omitted but not sent as null"""
    api = consents.api
    if case == "null return_url":
        action = consents.action("card_details")
        consent = await consents.pending(action, await consents.subject(action))
        response = await api.post(consents.path("consent", consent_id=consent["id"]),
                                  json={"return_url": None})
    elif case == "null optional address":
        response = await api.post(consents.path("individuals"),
                                  json={**consents.data.individual_body(), "address": None})
    else:
        action = consents.action("external_payment")
        subject = await consents.subject(action)
        change = ({"reference": ""} if case == "empty reference"
                  else {"counterparty__name": ""})
        method, path, _ = action.request(subject.values)
        response = await api.request(method, path, json=payment(action, subject.values, **change))
    checks.refused_empty_or_null(response, case)


MALFORMED = {
    "truncated JSON": (b'{"request_id": "x", "amount": ', "application/json"),
    "JSON array": (b"[1, 2, 3]", "application/json"),
    "not JSON at all": (b"amount=100&account_id=x", "application/x-www-form-urlencoded"),
    "deeply nested": (b'{"counterparty":' * 200 + b"1" + b"}" * 200, "application/json"),
    "huge string": (b'{"reference": "' + b"x" * 200_000 + b'"}', "application/json"),
    "invalid UTF-8": (b'{"reference": "\xff\xfe"}', "application/json"),
}


@pytest.mark.requirement("ERR-3")
@pytest.mark.parametrize("case", list(MALFORMED))
@pytest.mark.parametrize(
    "endpoint",
    ["pay", "consent", "card_activation"],
)
async def test_malformed_input_never_answers_5xx(
    endpoint: str, case: str, consents: Consents
) -> None:
    """No input makes the server answer 5xx"""
    action = consents.action("card_activation")
    subject = await consents.subject(action)
    consent = await consents.pending(action, subject)
    path = consents.path(endpoint, consent_id=consent["id"], card_id=subject.values["card_id"])
    content, content_type = MALFORMED[case]
    response = await consents.api.post(path, content=content,
                                       headers={"Content-Type": content_type})
    checks.no_server_error(response)
