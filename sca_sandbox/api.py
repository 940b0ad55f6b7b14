"""The JSON API of contract sections 2, 3, 5, 7 and 8."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import sqlite3
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from . import faults, staging
from .auth import caller, caller_for_init
from .consents import (
    find_approved,
    history_window_open,
    initiate,
    read_consent,
    require_consent,
)
from .context import Caller, sandbox_of
from .dialects import dialect_of
from .dialects.redirect import onboard_by_redirect
from .errors import ApiError
from .schemas import (
    E164_PATTERN,
    AccountBody,
    ActivateBody,
    CardBody,
    CardPaymentBody,
    ClockBody,
    FundingBody,
    IndividualBody,
    InitBody,
    KycStatusBody,
    MoveBody,
    PayBody,
    iban_is_valid,
)
from .security import slow_hash
from .store import dumps, iso

Auth = Annotated[Caller, Depends(caller)]
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Invalid input: {errors: [{field, message}]}"},
    401: {"description": "Missing, malformed or expired access token"},
    404: {"description": "Unknown id (or another client's)"},
}
PROTECTED: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    409: {"description": "Conflict (individual not active, state does not allow it)"},
    412: {"description": "Consent required: {consent: {id, status, scope, expires_at}}"},
}
MAX_BALANCE = 10**15
BIC = "SCSBDEFFXXX"

router = APIRouter(prefix="/v3")


# --- serialisation -----------------------------------------------------------------------


def individual_json(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "first_name": row["first_name"],
        "last_name": row["last_name"],
        "email": row["email"],
        "phone_number": row["phone_number"],
        "date_of_birth": row["date_of_birth"],
        "address": json.loads(row["address"]) if row["address"] else None,
        "status": staging.individual_word(row["status"]),
        "created_at": iso(row["created_at"]),
    }


def account_json(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "individual_id": row["individual_id"],
        "name": row["name"],
        "type": row["type"],
        "currency": row["currency"],
        "balance": row["balance"],
        "created_at": iso(row["created_at"]),
    }


def card_json(row: sqlite3.Row, caller: Caller) -> dict[str, Any]:
    card = {
        "id": row["id"],
        "individual_id": row["individual_id"],
        "account_id": row["account_id"],
        "display_name": row["display_name"],
        "exp_month": row["exp_month"],
        "exp_year": row["exp_year"],
        "type": row["type"],
        "last4": row["last4"],
        "status": row["status"],
        "created_at": iso(row["created_at"]),
    }
    if faults.active("card-api-returns-pan"):  # PAGE-14
        secret = caller.store.one("SELECT pan, cvc FROM card_secrets WHERE card_id = ?", row["id"])
        if secret is not None:
            card["pan"], card["cvc"] = secret["pan"], secret["cvc"]
    return card


def transaction_json(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "request_id": row["request_id"],
        "account_id": row["account_id"],
        "amount": row["amount"],
        "currency": row["currency"],
        "direction": row["direction"],
        "counterparty": json.loads(row["counterparty"]) if row["counterparty"] else None,
        "reference": row["reference"],
        "type": row["type"],
        "status": row["status"],
        "created_at": iso(row["created_at"]),
    }


# --- lookups -----------------------------------------------------------------------------


def _own(
    caller: Caller, table: str, object_id: str, what: str, field: str | None = None
) -> sqlite3.Row:
    row = (
        caller.store.one(f"SELECT * FROM {table} WHERE id = ?", object_id)
        if len(object_id) <= 64
        else None
    )
    if row is None or row["client_id"] != caller.client_id:
        raise ApiError(404, f"No such {what}", field)
    return row


def _active_individual(caller: Caller, individual_id: str) -> sqlite3.Row:
    row = _own(caller, "individuals", individual_id, "individual")
    if row["status"] != "active":
        if staging.current().blocked_error_envelope:  # the provider's answer
            raise ApiError(422, "Request blocked: the individual is not activated",
                           code="request_blocked")
        raise ApiError(409, "The individual is not active: onboard them first")
    return row


def _simulation(name: str) -> None:
    """A simulation switched off (--no-simulations) is not there, as on the provider's
    staging."""
    if not staging.simulated(name):
        raise ApiError(404, "Not found")


# --- individuals -------------------------------------------------------------------------


@router.post("/individuals", status_code=201, responses=ERRORS, tags=["individuals"])
async def create_individual(body: IndividualBody, caller: Auth) -> JSONResponse:
    individual_id = str(uuid.uuid4())
    address = dumps(body.address.model_dump()) if body.address is not None else None
    store = caller.store
    store.run(
        "INSERT INTO individuals (id, client_id, first_name, last_name, email, phone_number,"
        " date_of_birth, address, status, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?)",
        individual_id,
        caller.client_id,
        body.first_name,
        body.last_name,
        body.email,
        body.phone_number,
        body.date_of_birth,
        address,
        caller.now,
    )
    row = _own(caller, "individuals", individual_id, "individual")
    return JSONResponse(individual_json(row), status_code=201)


@router.get("/individuals/{individual_id}", responses=ERRORS, tags=["individuals"])
async def get_individual(individual_id: str, caller: Auth) -> dict[str, Any]:
    return individual_json(_own(caller, "individuals", individual_id, "individual"))


@router.post(
    "/individuals/{individual_id}/onboard",
    responses=PROTECTED,
    tags=["individuals"],
    summary="Onboard (KYC): protected, scope onboarding",
)
async def onboard(individual_id: str, caller: Auth, request: Request) -> JSONResponse:
    row = _own(caller, "individuals", individual_id, "individual")
    if row["status"] == "active":
        raise ApiError(409, "The individual is already onboarded")
    consent: dict[str, Any] = {
        "individual_id": individual_id,
        "subject_id": individual_id,
        "fingerprint": individual_id,
        "summary": {"name": f"{row['first_name']} {row['last_name']}"},
    }
    if dialect_of(caller.sandbox).onboarding == "redirect":  # 200 + redirect_url at once
        return await onboard_by_redirect(caller, request, **consent)
    return require_consent(caller, "onboarding", **consent)


# --- accounts ----------------------------------------------------------------------------


def _new_iban(store: Any) -> str:
    while True:
        bban = "50000000" + f"{secrets.randbelow(10**10):010d}"
        check = 98 - int("".join(str(int(ch, 36)) for ch in bban + "DE00")) % 97
        iban = f"DE{check:02d}{bban}"
        assert iban_is_valid(iban)
        if store.one("SELECT 1 FROM accounts WHERE iban = ?", iban) is None:
            return iban


@router.post("/accounts", status_code=201, responses=ERRORS, tags=["accounts"])
async def create_account(body: AccountBody, caller: Auth) -> JSONResponse:
    _own(caller, "individuals", body.individual_id, "individual", "individual_id")
    kind = body.type or "current"
    account_id = str(uuid.uuid4())
    store = caller.store
    with store.tx():
        store.run(
            "INSERT INTO accounts (id, client_id, individual_id, name, type, currency, balance,"
            " iban, bic, created_at) VALUES (?, ?, ?, ?, ?, 'EUR', ?, ?, ?, ?)",
            account_id,
            caller.client_id,
            body.individual_id,
            f"{kind.capitalize()} account",
            kind,
            staging.current().opening_balance,
            _new_iban(store),
            BIC,
            caller.now,
        )
    return JSONResponse(
        account_json(_own(caller, "accounts", account_id, "account")), status_code=201
    )


@router.get("/accounts/{account_id}", responses=ERRORS, tags=["accounts"])
async def get_account(account_id: str, caller: Auth) -> dict[str, Any]:
    return account_json(_own(caller, "accounts", account_id, "account"))


@router.get("/accounts/{account_id}/bank_details", responses=ERRORS, tags=["accounts"])
async def bank_details(account_id: str, caller: Auth) -> dict[str, Any]:
    row = _own(caller, "accounts", account_id, "account")
    return {"iban": row["iban"], "bic": row["bic"]}


# --- cards -------------------------------------------------------------------------------


def _luhn_pan() -> str:
    body = "4" + "".join(str(secrets.randbelow(10)) for _ in range(14))
    total = 0
    for i, ch in enumerate(reversed(body)):
        digit = int(ch)
        if i % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return body + str((10 - total % 10) % 10)


@router.post(
    "/cards",
    status_code=201,
    responses={**ERRORS, 409: {"description": "Account not the individual's"}},
    tags=["cards"],
)
async def create_card(body: CardBody, caller: Auth) -> JSONResponse:
    _own(caller, "individuals", body.individual_id, "individual", "individual_id")
    account = _own(caller, "accounts", body.account_id, "account", "account_id")
    if account["individual_id"] != body.individual_id:
        raise ApiError(409, "The account does not belong to the individual", "account_id")
    card_id = str(uuid.uuid4())
    pan = _luhn_pan()
    status = "not_activated" if body.type == "physical" else "active"
    store = caller.store
    with store.tx():
        store.run(
            "INSERT INTO cards (id, client_id, individual_id, account_id, display_name, exp_month,"
            " exp_year, type, last4, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            card_id,
            caller.client_id,
            body.individual_id,
            body.account_id,
            body.display_name,
            body.exp_month,
            body.exp_year,
            body.type,
            pan[-4:],
            status,
            caller.now,
        )
        store.run(
            "INSERT INTO card_secrets (card_id, pan, cvc) VALUES (?, ?, ?)",
            card_id,
            pan,
            f"{secrets.randbelow(1000):03d}",
        )
    return JSONResponse(card_json(_own(caller, "cards", card_id, "card"), caller), status_code=201)


@router.get("/cards/{card_id}", responses=ERRORS, tags=["cards"])
async def get_card(card_id: str, caller: Auth) -> dict[str, Any]:
    return card_json(_own(caller, "cards", card_id, "card"), caller)


def _card_summary(card: sqlite3.Row) -> dict[str, Any]:
    return {"last4": card["last4"]}


def _recent_details_view(caller: Caller, card_id: str) -> bool:  # AFTER-7
    if not faults.active("card-details-consent-reusable"):
        return False
    row = caller.store.one(
        "SELECT 1 FROM consents WHERE client_id = ? AND action = 'card_details' AND subject_id = ?"
        " AND status = 'approved' AND decided_at > ?",
        caller.client_id,
        card_id,
        caller.now - caller.sandbox.settings.consent_ttl,
    )
    return row is not None


@router.post(
    "/cards/{card_id}/details",
    responses=PROTECTED,
    tags=["cards"],
    summary="View card details: always a consent; the hosted page shows them",
)
async def card_details(card_id: str, caller: Auth) -> JSONResponse:
    card = _own(caller, "cards", card_id, "card")
    _active_individual(caller, card["individual_id"])
    if _recent_details_view(caller, card_id):
        return JSONResponse({"card": card_json(card, caller)})
    return require_consent(
        caller,
        "card_details",
        individual_id=card["individual_id"],
        subject_id=card_id,
        fingerprint=card_id,
        summary=_card_summary(card),
    )


def _already_active_conflicts() -> bool:  # AFTER-7
    return not faults.active("reactivation-answers-412")


@router.post(
    "/cards/{card_id}/activate",
    responses=PROTECTED,
    tags=["cards"],
    summary="Activate a physical card: protected, scope activate_card",
)
async def activate_card(card_id: str, caller: Auth) -> JSONResponse:
    card = _own(caller, "cards", card_id, "card")
    _active_individual(caller, card["individual_id"])
    if card["status"] != "not_activated" and _already_active_conflicts():
        raise ApiError(409, f"The card is already {card['status']}")
    return require_consent(
        caller,
        "card_activation",
        individual_id=card["individual_id"],
        subject_id=card_id,
        fingerprint=card_id,
        summary=_card_summary(card),
    )


# --- transactions ------------------------------------------------------------------------


def _insert_transaction(
    caller: Caller,
    *,
    account_id: str,
    amount: int,
    direction: str,
    kind: str,
    request_id: str | None = None,
    request_key: str | None = None,
    counterparty: dict[str, Any] | None = None,
    reference: str | None = None,
    fingerprint: str | None = None,
) -> str:
    store = caller.store
    tx_id = str(uuid.uuid4())
    store.run(
        "INSERT INTO transactions (id, client_id, request_id, request_key, account_id, amount,"
        " currency, direction, counterparty, reference, type, status, fingerprint, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, 'EUR', ?, ?, ?, ?, 'completed', ?, ?)",
        tx_id,
        caller.client_id,
        request_id,
        request_key,
        account_id,
        amount,
        direction,
        dumps(counterparty) if counterparty is not None else None,
        reference,
        kind,
        fingerprint,
        caller.now,
    )
    delta = amount if direction == "credit" else -amount
    store.run("UPDATE accounts SET balance = balance + ? WHERE id = ?", delta, account_id)
    return tx_id


def _transaction(caller: Caller, tx_id: str) -> dict[str, Any]:
    row = caller.store.one("SELECT * FROM transactions WHERE id = ?", tx_id)
    assert row is not None
    return transaction_json(row)


def _previous(caller: Caller, request_id: str, fingerprint: str) -> dict[str, Any] | None:
    """The transaction this client already made for request_id (idempotency): found by the
    request_id it records, whether or not the UNIQUE key holds it (see _payment_key)."""
    row = caller.store.one(
        "SELECT * FROM transactions WHERE client_id = ? AND request_id = ? ORDER BY rowid LIMIT 1",
        caller.client_id,
        request_id,
    )
    if row is None:
        return None
    if row["fingerprint"] != fingerprint:
        raise ApiError(409, "request_id was already used for a different request", "request_id")
    return transaction_json(row)


def _check_funds(account: sqlite3.Row, amount: int) -> None:
    if account["balance"] < amount:
        raise ApiError(409, "Insufficient funds", "amount")


def _payment_fingerprint(caller: Caller, body: PayBody) -> str:  # AFTER-3
    if faults.active("consent-not-bound-to-amount"):
        return dumps({"account_id": body.account_id})
    return dumps(body.model_dump(exclude_none=True))


async def _payment_key(request_id: str) -> str | None:  # RACE-1
    """The key an approved payment is written with: its request_id, which the UNIQUE
    constraint holds to one transaction in the very transaction that pays, and no await lies
    between the idempotency check (_previous) and that write: a concurrent repeat finds the
    payment or is the payment, never both. With the fault, a check-then-act: the payment
    waits a moment after the check and is written without the key, so a repeat racing it
    passes the same check and pays too (a later repeat still finds it by request_id)."""
    if not faults.active("payment-repeat-race"):
        return request_id
    await asyncio.sleep(faults.RACE_WINDOW)
    return None


def _execute_payment(
    caller: Caller,
    *,
    body: PayBody,
    source: sqlite3.Row,
    target: sqlite3.Row | None,
    fingerprint: str,
    consent_id: str | None,
    request_key: str | None = None,
) -> str:
    counterparty = body.counterparty.model_dump(exclude_none=True)
    twice = faults.active("payment-executed-twice")  # AFTER-1
    store = caller.store
    with store.tx():
        tx_id = _insert_transaction(
            caller,
            account_id=source["id"],
            amount=body.amount,
            direction="debit",
            kind="payment",
            request_id=body.request_id,
            request_key=None if twice else request_key,
            counterparty=counterparty,
            reference=body.reference,
            fingerprint=fingerprint,
        )
        if target is not None:
            _insert_transaction(
                caller,
                account_id=target["id"],
                amount=body.amount,
                direction="credit",
                kind="payment",
                counterparty={"name": "Incoming payment", "account_id": source["id"]},
                reference=body.reference,
            )
        if consent_id is not None and not twice:
            store.run("UPDATE consents SET consumed_at = ? WHERE id = ?", caller.now, consent_id)
    return tx_id


@router.post(
    "/transactions/pay",
    responses=PROTECTED,
    tags=["transactions"],
    summary="External payment: protected, scope make_payment; idempotent by request_id",
)
async def pay(body: PayBody, caller: Auth) -> JSONResponse:
    fingerprint = _payment_fingerprint(caller, body)
    if not faults.active("payment-executed-twice"):
        previous = _previous(caller, body.request_id, fingerprint)
        if previous is not None:
            return JSONResponse(previous)
    source = _own(caller, "accounts", body.account_id, "account", "account_id")
    individual = _active_individual(caller, source["individual_id"])
    target = None
    if body.counterparty.account_id is not None:
        target = _own(
            caller, "accounts", body.counterparty.account_id, "account", "counterparty.account_id"
        )
        if target["id"] == source["id"]:
            raise ApiError(400, "must differ from account_id", "counterparty.account_id")
    consent = find_approved(caller, "external_payment", fingerprint)
    if consent is None:
        if (
            faults.active("payment-executed-before-approval") and source["balance"] >= body.amount
        ):  # TRIGGER-7
            _execute_payment(
                caller,
                body=body,
                source=source,
                target=target,
                fingerprint=fingerprint,
                consent_id=None,
                request_key=body.request_id,
            )
        payee = body.counterparty
        summary = {
            "amount": body.amount,
            "currency": "EUR",
            "payee": payee.name,
            "iban": payee.account.iban if payee.account is not None else None,
            "account": payee.account_id,
            "reference": body.reference,
            "payer": f"{individual['first_name']} {individual['last_name']}",
        }
        return require_consent(
            caller,
            "external_payment",
            individual_id=source["individual_id"],
            subject_id=source["id"],
            fingerprint=fingerprint,
            summary=summary,
        )
    _check_funds(source, body.amount)
    tx_id = _execute_payment(
        caller,
        body=body,
        source=source,
        target=target,
        fingerprint=fingerprint,
        consent_id=consent["id"],
        request_key=await _payment_key(body.request_id),
    )
    return JSONResponse(_transaction(caller, tx_id))


@router.post(
    "/transactions/move",
    responses={**ERRORS, 409: {"description": "Different owners or funds"}},
    tags=["transactions"],
    summary="Move between the same individual's accounts (not protected)",
)
async def move(body: MoveBody, caller: Auth) -> JSONResponse:
    fingerprint = dumps(body.model_dump())
    previous = _previous(caller, body.request_id, fingerprint)
    if previous is not None:
        return JSONResponse(previous)
    source = _own(caller, "accounts", body.source_account_id, "account", "source_account_id")
    target = _own(caller, "accounts", body.target_account_id, "account", "target_account_id")
    if source["id"] == target["id"]:
        raise ApiError(400, "must differ from source_account_id", "target_account_id")
    if source["individual_id"] != target["individual_id"]:
        raise ApiError(409, "Both accounts must belong to the same individual", "target_account_id")
    if faults.active("move-requires-consent"):  # TRIGGER-9
        return require_consent(
            caller,
            "external_payment",
            individual_id=source["individual_id"],
            subject_id=source["id"],
            fingerprint=fingerprint,
            summary={"amount": body.amount, "currency": "EUR"},
        )
    _check_funds(source, body.amount)
    with caller.store.tx():
        tx_id = _insert_transaction(
            caller,
            account_id=source["id"],
            amount=body.amount,
            direction="debit",
            kind="move",
            request_id=body.request_id,
            request_key=body.request_id,
            counterparty={"name": target["name"], "account_id": target["id"]},
            reference=body.reference,
            fingerprint=fingerprint,
        )
        _insert_transaction(
            caller,
            account_id=target["id"],
            amount=body.amount,
            direction="credit",
            kind="move",
            counterparty={"name": source["name"], "account_id": source["id"]},
            reference=body.reference,
        )
    return JSONResponse(_transaction(caller, tx_id))


def _history_consent(caller: Caller, individual: sqlite3.Row) -> JSONResponse | None:
    """None when an approval in the window covers this individual, else the 412."""
    row = caller.store.one(
        "SELECT decided_at FROM consents WHERE client_id = ? AND action = 'payment_history'"
        " AND subject_id = ? AND status = 'approved' ORDER BY decided_at DESC LIMIT 1",
        caller.client_id,
        individual["id"],
    )
    if row is not None and history_window_open(row["decided_at"], caller.now):
        return None
    return require_consent(
        caller,
        "payment_history",
        individual_id=individual["id"],
        subject_id=individual["id"],
        fingerprint=individual["id"],
        summary={"name": f"{individual['first_name']} {individual['last_name']}"},
    )


@router.get(
    "/transactions",
    responses=PROTECTED,
    tags=["transactions"],
    summary="An account's transactions: protected, scope read_transactions",
)
async def list_transactions(
    caller: Auth, account_id: Annotated[str, Query(min_length=1, max_length=64)]
) -> JSONResponse:
    account = _own(caller, "accounts", account_id, "account", "account_id")
    individual = _active_individual(caller, account["individual_id"])
    refused = _history_consent(caller, individual)
    if refused is not None:
        return refused
    rows = caller.store.all(
        "SELECT * FROM transactions WHERE account_id = ?"
        " ORDER BY created_at DESC, rowid DESC LIMIT 500",
        account_id,
    )
    return JSONResponse({"transactions": [transaction_json(r) for r in rows]})


@router.get(
    "/transactions/{transaction_id}",
    responses=PROTECTED,
    tags=["transactions"],
    summary="One transaction: protected, scope read_transactions",
)
async def get_transaction(transaction_id: str, caller: Auth) -> JSONResponse:
    row = _own(caller, "transactions", transaction_id, "transaction")
    account = _own(caller, "accounts", row["account_id"], "account")
    individual = _active_individual(caller, account["individual_id"])
    refused = _history_consent(caller, individual)
    if refused is not None:
        return refused
    return JSONResponse(transaction_json(row))


# --- consents ----------------------------------------------------------------------------


@router.get("/consents/{consent_id}", responses=ERRORS, tags=["consents"])
async def get_consent(consent_id: str, caller: Auth) -> dict[str, Any]:
    return read_consent(caller, consent_id)


@router.post(
    "/consents/{consent_id}",
    responses={
        **ERRORS,
        409: {"description": "No longer pending"},
        410: {"description": "Expired"},
    },
    tags=["consents"],
    summary="Initiate a consent: answers the method with redirect_url",
)
async def initiate_consent(
    consent_id: str,
    request: Request,
    caller: Annotated[Caller | None, Depends(caller_for_init)],
    body: InitBody | None = None,
) -> dict[str, Any]:
    return_url = body.return_url if body is not None else None
    staging.registered(sandbox_of(request).settings.return_url_allow, return_url)
    return await initiate(sandbox_of(request), caller, consent_id, return_url)


# --- simulations -------------------------------------------------------------------------


@router.post(
    "/simulations/clock",
    responses=ERRORS,
    tags=["simulations"],
    summary="Move the calling session's clock forward",
)
async def advance_clock(body: ClockBody, caller: Auth) -> dict[str, str]:
    _simulation("clock")
    caller.store.advance_clock(caller.session, body.advance_seconds)
    return {"now": iso(caller.session.now())}


@router.get(
    "/simulations/sms",
    responses=ERRORS,
    tags=["simulations"],
    summary="The last one-time code sent to a phone number",
)
async def last_sms(
    caller: Auth,
    phone_number: Annotated[str, Query(max_length=16, examples=["+46701234567"])],
) -> dict[str, str]:
    _simulation("sms")
    if phone_number.startswith(" "):  # an unencoded "+" in the query string reads as a space
        phone_number = "+" + phone_number[1:]
    if not re.fullmatch(E164_PATTERN, phone_number):
        raise ApiError(400, "must be an E.164 phone number such as +46701234567", "phone_number")
    row = caller.store.one(
        "SELECT * FROM sms_codes WHERE client_id = ? AND phone_number = ? ORDER BY id DESC LIMIT 1",
        caller.client_id,
        phone_number,
    )
    if row is None:
        raise ApiError(404, "No code was sent to this phone number", "phone_number")
    return {
        "phone_number": row["phone_number"],
        "code": row["code"],
        "sent_at": iso(row["sent_at"]),
    }


@router.post("/simulations/account_funding", responses=ERRORS, tags=["simulations"])
async def account_funding(body: FundingBody, caller: Auth) -> JSONResponse:
    _simulation("funding")
    account = _own(caller, "accounts", body.account_id, "account", "account_id")
    if account["balance"] + body.amount > MAX_BALANCE:
        raise ApiError(409, "The balance would exceed the sandbox limit", "amount")
    with caller.store.tx():
        tx_id = _insert_transaction(
            caller,
            account_id=account["id"],
            amount=body.amount,
            direction="credit",
            kind="funding",
            counterparty={"name": "Sandbox funding"},
            reference="Sandbox funding",
        )
    return JSONResponse(_transaction(caller, tx_id))


@router.post(
    "/simulations/card_payment",
    responses={**ERRORS, 409: {"description": "Card or funds"}},
    tags=["simulations"],
)
async def card_payment(body: CardPaymentBody, caller: Auth) -> JSONResponse:
    card = _own(caller, "cards", body.card_id, "card", "card_id")
    if card["status"] != "active":
        raise ApiError(409, "The card is not active", "card_id")
    account = _own(caller, "accounts", card["account_id"], "account")
    _check_funds(account, body.amount)
    merchant = body.merchant or "Sandbox merchant"
    with caller.store.tx():
        tx_id = _insert_transaction(
            caller,
            account_id=account["id"],
            amount=body.amount,
            direction="debit",
            kind="card_payment",
            counterparty={"name": merchant, "card_id": card["id"]},
            reference=merchant,
        )
    return JSONResponse(_transaction(caller, tx_id))


@router.post(
    "/simulations/individuals/{individual_id}/activate",
    responses=ERRORS,
    tags=["simulations"],
    summary="Put an individual straight into the active state with a passcode (no passkey)",
)
async def activate_individual(
    individual_id: str, body: ActivateBody, caller: Auth
) -> dict[str, Any]:
    _simulation("activation")
    _own(caller, "individuals", individual_id, "individual")
    passcode_hash = await slow_hash(body.passcode)
    caller.store.run(
        "UPDATE individuals SET status = 'active', passcode_hash = ? WHERE id = ?",
        passcode_hash,
        individual_id,
    )
    return individual_json(_own(caller, "individuals", individual_id, "individual"))


@router.post(
    "/simulations/onboarding/status",
    responses={**ERRORS, 409: {"description": "Onboarding not completed"}},
    tags=["simulations"],
    summary="The KYC outcome of an individual who completed the hosted onboarding",
)
async def onboarding_status(body: KycStatusBody, caller: Auth) -> dict[str, Any]:
    row = _own(caller, "individuals", body.individual_id, "individual", "individual_id")
    if row["passcode_hash"] is None:
        raise ApiError(409, "The individual has not completed the onboarding", "individual_id")
    status = "active" if body.status == "approved" else "rejected"
    caller.store.run("UPDATE individuals SET status = ? WHERE id = ?", status, row["id"])
    return individual_json(_own(caller, "individuals", row["id"], "individual"))
