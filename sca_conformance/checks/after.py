"""After the flow (AFTER): the action performed once, the consent's status, its window
and its expiry."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from sca_conformance.checks.reading import (
    json_of,
    status_is,
)
from sca_conformance.failures import Mismatch, hides_in_verdicts, proves

__tracebackhide__ = hides_in_verdicts


@proves("AFTER-1")
def action_performed(response: httpx.Response) -> Any:
    status_is(response, 200)
    return json_of(response)


@proves("AFTER-1")
def same_transaction(first: Mapping[str, Any], again: Mapping[str, Any]) -> None:
    if first.get("id") != again.get("id"):
        raise Mismatch("transaction of a repeated request_id", first.get("id"), again.get("id"))


@proves("AFTER-1")
def status_became(resource: str, body: Mapping[str, Any], status: str | Sequence[str]) -> None:
    """The resource's status is `status`, or one of the target's words for it (profile
    [words]: an individual `active` or `activated`)."""
    words = [status] if isinstance(status, str) else list(status)
    if body.get("status") not in words:
        raise Mismatch(f"status of {resource} after the hosted flow", " or ".join(words),
                       body.get("status"))


@proves("AFTER-1")
def balance_moved_once(before: int, after: int, amount: int) -> None:
    if before - after != amount:
        raise Mismatch("balance change after one approved payment", -amount, after - before)


@proves("AFTER-2")
def consent_reads(response: httpx.Response, status: str) -> None:
    status_is(response, 200)
    body = json_of(response)
    consent = body.get("consent") if isinstance(body, dict) else None
    if not isinstance(consent, dict):
        raise Mismatch("GET consent body", '{"consent": {...}}', body)
    if consent.get("status") != status:
        raise Mismatch("consent.status", status, consent.get("status"))


@proves("AFTER-3")
def other_request_needs_consent(response: httpx.Response) -> None:
    status_is(response, 412)


@proves("AFTER-4")
def new_consent_after_end(response: httpx.Response, ended_id: str) -> None:
    status_is(response, 412)
    consent = json_of(response).get("consent", {})
    if consent.get("id") == ended_id:
        raise Mismatch("consent id after the earlier one ended", "a new id", ended_id)
    if consent.get("status") != "pending":
        raise Mismatch("new consent.status", "pending", consent.get("status"))


@proves("AFTER-5")
def window_ended(response: httpx.Response) -> None:
    status_is(response, 412)


@proves("AFTER-5")
def window_open(response: httpx.Response) -> None:
    status_is(response, 200)


@proves("AFTER-6")
def expired_consent_refused(response: httpx.Response) -> None:
    if response.status_code == 200:
        raise Mismatch("initiating an expired consent", "a refusal", 200)


@proves("AFTER-6")
def consent_expired(response: httpx.Response) -> None:
    body = json_of(response)
    status = (body.get("consent") or {}).get("status") if isinstance(body, dict) else None
    if status != "expired":
        raise Mismatch("consent.status past expires_at", "expired", status)


@proves("AFTER-7")
def one_shot(response: httpx.Response, ended_id: str) -> None:
    status_is(response, 412)
    if json_of(response).get("consent", {}).get("id") == ended_id:
        raise Mismatch("consent after one view", "a new consent", ended_id)


@proves("AFTER-7")
def already_active(response: httpx.Response) -> None:
    status_is(response, 409)


@proves("AFTER-2")
def consent_status(response: httpx.Response) -> Any:
    """The status GET /consents/{id} reports, its shape checked."""
    status_is(response, 200)
    body = json_of(response)
    consent = body.get("consent") if isinstance(body, dict) else None
    if not isinstance(consent, dict) or "status" not in consent:
        raise Mismatch("GET consent body", '{"consent": {"status": ...}}', body)
    return consent["status"]
