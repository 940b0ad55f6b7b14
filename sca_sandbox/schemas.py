"""Request bodies: strict, closed, every string capped, optional fields never null."""

from __future__ import annotations

import ipaddress
import re
from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from . import faults

MAX_AMOUNT = 100_000_000_00  # 100 million EUR in minor units


def _text(value: str) -> str:
    if not value.strip() and not faults.active("empty-string-accepted"):
        raise ValueError("must not be empty")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _capped(max_length: int) -> Any:
    return Field(max_length=max_length, json_schema_extra={"minLength": 1})


Text = Annotated[str, _capped(200), AfterValidator(_text)]
Name = Annotated[str, _capped(100), AfterValidator(_text)]
LongName = Annotated[str, _capped(140), AfterValidator(_text)]
Code = Annotated[str, _capped(20), AfterValidator(_text)]
Id = Annotated[str, _capped(64), AfterValidator(_text)]
Amount = Annotated[int, Field(ge=1, le=MAX_AMOUNT)]


def omitted() -> Any:
    """Default of an optional field: it may be left out, but its type stays non-nullable,
    so an explicit null is refused (ERR-2) and the OpenAPI document says so."""
    return Field(default=None)


_IBAN = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")
E164_PATTERN = r"^\+[1-9][0-9]{6,14}$"
_E164 = re.compile(E164_PATTERN)


def iban_is_valid(iban: str) -> bool:
    if not _IBAN.match(iban):
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def _iban(value: str) -> str:
    if not iban_is_valid(value):
        raise ValueError("must be a valid IBAN (capital letters and digits, no spaces)")
    return value


def _phone(value: str) -> str:
    if not _E164.match(value):
        raise ValueError("must be an E.164 phone number such as +46701234567")
    return value


def _birth_date(value: str) -> str:
    try:
        born = date.fromisoformat(value) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) else None
    except ValueError:
        born = None
    if born is None:
        raise ValueError("must be a date in the form YYYY-MM-DD")
    if born.year < 1900 or born >= date.today():
        raise ValueError("must be a date in the past, after 1900")
    return value


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _return_url(value: str) -> str:
    if faults.active("return-url-not-validated"):
        return value
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in value):
        raise ValueError("must not contain spaces or control characters")
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise ValueError("must be an absolute URL") from None
    if not host or not parts.netloc:
        raise ValueError("must be an absolute URL with a host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not carry credentials")
    if parts.scheme == "https" or (parts.scheme == "http" and _loopback(host)):
        return value
    raise ValueError("must use https (http only on a loopback host)")


Phone = Annotated[str, Field(max_length=16, examples=["+46701234567"]), AfterValidator(_phone)]
Iban = Annotated[
    str, Field(max_length=34, examples=["SE4550000000058398257466"]), AfterValidator(_iban)
]


class Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _drop_nulls(cls, data: Any) -> Any:
        # ERR-2: optional fields may be omitted but never sent as null (unless the fault).
        if faults.active("null-accepted-for-optional-field") and isinstance(data, dict):
            optional = {n for n, f in cls.model_fields.items() if not f.is_required()}
            return {k: v for k, v in data.items() if not (v is None and k in optional)}
        return data


class LoginBody(Body):
    api_key: Text


class RefreshBody(Body):
    refresh_token: Text


class ClockBody(Body):
    advance_seconds: Annotated[int, Field(ge=1, le=315_360_000)]


class Address(Body):
    line1: Text
    city: Name
    postal_code: Code
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$", examples=["SE"])]


class IndividualBody(Body):
    first_name: Name
    last_name: Name
    email: Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
    phone_number: Phone
    date_of_birth: Annotated[str, Field(examples=["1990-01-31"]), AfterValidator(_birth_date)]
    address: Address = omitted()


class AccountBody(Body):
    individual_id: Id
    type: Literal["current", "savings"] = omitted()


class CardBody(Body):
    individual_id: Id
    account_id: Id
    display_name: Name
    exp_month: Annotated[int, Field(ge=1, le=12)]
    exp_year: Annotated[int, Field(ge=2000, le=2100)]
    type: Literal["virtual", "physical"]


class BankAccount(Body):
    iban: Iban
    bic: Annotated[str, Field(pattern=r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")]


class Counterparty(Body):
    name: LongName
    account: BankAccount = omitted()
    account_id: Id = omitted()

    @model_validator(mode="after")
    def _one_account(self) -> Counterparty:
        if (self.account is None) == (self.account_id is None):
            raise ValueError("give exactly one of account or account_id")
        return self


class PayBody(Body):
    request_id: Name
    account_id: Id
    counterparty: Counterparty
    amount: Amount
    reference: LongName


class MoveBody(Body):
    source_account_id: Id
    target_account_id: Id
    amount: Amount
    reference: LongName
    request_id: Name


class InitBody(Body):
    return_url: Annotated[str, Field(max_length=2048), AfterValidator(_return_url)] = omitted()


class FundingBody(Body):
    account_id: Id
    amount: Amount


class CardPaymentBody(Body):
    card_id: Id
    amount: Amount
    merchant: LongName = omitted()


class KycStatusBody(Body):
    """The KYC outcome (the provider's staging: POST /v3/simulations/onboarding/status)."""

    individual_id: Id
    status: Literal["approved", "rejected"] = "approved"


class ActivateBody(Body):
    passcode: Annotated[str, Field(pattern=r"^[0-9]{6}$", examples=["123456"])]
