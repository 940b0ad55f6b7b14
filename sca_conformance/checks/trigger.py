"""Protected actions (TRIGGER): the 412 that answers a protected request and the consent
it carries, and what it must not carry."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from sca_conformance.checks.reading import (
    card_number_in,
    in_future,
    json_of,
    leaves,
    status_is,
)
from sca_conformance.failures import Mismatch, hides_in_verdicts, proves

__tracebackhide__ = hides_in_verdicts


@proves("TRIGGER-1")
def answers_412_json(response: httpx.Response) -> None:
    status_is(response, 412)
    content_type = response.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise Mismatch("Content-Type of the 412", "application/json", content_type)
    json_of(response)


@proves("TRIGGER-2")
def consent_in_body(response: httpx.Response) -> dict[str, Any]:
    body = json_of(response)
    consent = body.get("consent") if isinstance(body, dict) else None
    if not isinstance(consent, dict):
        raise Mismatch("412 body", '{"consent": {...}}', body)
    if not isinstance(consent.get("id"), str) or not consent["id"]:
        raise Mismatch("consent.id", "a non-empty string", consent.get("id"))
    return consent


@proves("TRIGGER-3")
def consent_id_is_uuid(consent: Mapping[str, Any]) -> None:
    try:
        uuid.UUID(str(consent["id"]))
    except ValueError:
        raise Mismatch("consent.id", "a UUID", consent["id"]) from None


@proves("TRIGGER-4")
def consent_is_pending(consent: Mapping[str, Any]) -> None:
    if consent.get("status") != "pending":
        raise Mismatch("consent.status", '"pending"', consent.get("status"))


@proves("TRIGGER-5")
def scope_contains(consent: Mapping[str, Any], scope: str) -> None:
    scopes = consent.get("scope")
    if not isinstance(scopes, list) or not scopes or not all(isinstance(s, str) for s in scopes):
        raise Mismatch("consent.scope", "a non-empty array of strings", scopes)
    if scope not in scopes:
        raise Mismatch("consent.scope", f"to contain {scope!r}", scopes)


@proves("TRIGGER-6")
def consent_expires_in_future(consent: Mapping[str, Any], now: datetime | None = None) -> None:
    in_future(consent.get("expires_at"), "consent.expires_at", now)


@proves("TRIGGER-7")
def nothing_happened(what: str, before: Any, after: Any) -> None:
    if before != after:
        raise Mismatch(f"{what} before approval", before, after)


@dataclass(frozen=True)
class Protected:
    """What the suite knows is protected for one subject, by value: the transactions it
    created (ids, references, amounts), the balance, a card's number and CVC."""

    strings: frozenset[str] = frozenset()
    numbers: frozenset[int] = frozenset()


def _protected_found(body: Any, protected: Protected) -> str | None:
    for leaf in leaves(body):
        if isinstance(leaf, bool) or leaf is None:
            continue
        if isinstance(leaf, int | float) and int(leaf) == leaf and int(leaf) in protected.numbers:
            return "a protected amount or balance"
        if isinstance(leaf, str) and any(value in leaf for value in protected.strings):
            return "a protected value (a transaction's id or reference, a card's CVC)"
        if isinstance(leaf, str) and leaf.strip().lstrip("-").isdigit() and (
                int(leaf) in protected.numbers):
            return "a protected amount or balance"
    return None


@proves("TRIGGER-7")
def no_protected_data(body: Any, protected: Protected = Protected()) -> None:
    """The 412 may carry keys the contract does not name (`_links`, a trace id); it must
    not carry the action's result: none of what the suite knows is protected, under any
    key, and no card number."""
    found = _protected_found(body, protected)
    if found:
        raise Mismatch("the 412 body", "no protected data", found)
    if card_number_in(body):
        raise Mismatch("the 412 body", "no card number", "a Luhn-valid card number")


@proves("TRIGGER-8")
def consent_ids_distinct(first: Mapping[str, Any], second: Mapping[str, Any]) -> None:
    if first["id"] == second["id"]:
        raise Mismatch("consent ids of two requests", "two distinct ids", first["id"])


@proves("TRIGGER-9")
def not_protected(response: httpx.Response, what: str) -> None:
    if response.status_code == 412:
        raise Mismatch(f"{what} (not a protected action)", "no 412", response.status_code)
    if not 200 <= response.status_code < 300:
        raise Mismatch(f"{what} (not a protected action)", "a 2xx answer",
                       f"{response.status_code} {response.text[:200]}")
