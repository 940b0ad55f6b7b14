"""Contract checks: one small named condition per requirement ID.

Each check raises `RequirementViolation` naming its requirement, with what was expected
and what the target did. `proving(ID)` does the same for a block of web-first
assertions (`expect(...)`) in a browser test.
"""
# ruff: noqa: PLC0414  (the `X as X` imports below are re-exports)

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import SplitResult, parse_qs, quote, unquote, urlsplit

import httpx

# How a failure names a requirement, re-exported (`X as X`): the suites write
# `checks.proving(ID)`, modules `from sca_conformance.checks import preparing`.
from sca_conformance.failures import VERDICTS as VERDICTS
from sca_conformance.failures import Mismatch as Mismatch
from sca_conformance.failures import RequirementViolation as RequirementViolation
from sca_conformance.failures import TargetNotPrepared as TargetNotPrepared
from sca_conformance.failures import hides_in_verdicts as hides_in_verdicts
from sca_conformance.failures import preparing as preparing
from sca_conformance.failures import proves as proves
from sca_conformance.failures import proving as proving
from sca_conformance.redact import luhn_valid

CLOCK_SKEW = timedelta(seconds=30)
# ISO 8601 with a zone designator: any fraction of a second, "Z" or an offset (+02:00,
# +0200, +02; the provider's documentation shows both "...17.000Z" and "...33+02:00").
ISO_ZONED = re.compile(
    r"^(?P<base>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:[.,](?P<fraction>\d+))?"
    r"(?P<zone>[Zz]|(?P<sign>[+-])(?P<hours>\d{2})(?::?(?P<minutes>\d{2}))?)$"
)


__tracebackhide__ = hides_in_verdicts


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise Mismatch(
            f"{response.request.method} {response.request.url.path} body", "JSON",
            response.text[:200],
        ) from None


def _status(response: httpx.Response, expected: int | set[int]) -> None:
    allowed = {expected} if isinstance(expected, int) else expected
    if response.status_code not in allowed:
        raise Mismatch(
            f"status of {response.request.method} {response.request.url.path}",
            " or ".join(map(str, sorted(allowed))),
            f"{response.status_code} {response.text[:200]}",
        )


def parse_timestamp(value: Any, what: str) -> datetime:
    """An ISO 8601 timestamp with its zone, as an instant (UTC): timestamps in different
    zones compare as the moments they name."""
    match = ISO_ZONED.match(value) if isinstance(value, str) else None
    if match is None:
        raise Mismatch(what, "an ISO 8601 timestamp with a zone designator, like "
                       "2021-05-11T09:55:17.000Z or 2025-06-02T12:00:33+02:00", value)
    fraction = (match["fraction"] or "0")[:6].ljust(6, "0")
    offset = timedelta(0)
    if match["sign"]:
        offset = timedelta(hours=int(match["hours"]), minutes=int(match["minutes"] or 0))
        offset = -offset if match["sign"] == "-" else offset
    try:
        moment = datetime.fromisoformat(f"{match['base']}.{fraction}")
    except ValueError:
        raise Mismatch(what, "a valid date and time", value) from None
    return (moment - offset).replace(tzinfo=UTC)


def _future(value: Any, what: str, now: datetime | None) -> datetime:
    moment = parse_timestamp(value, what)
    reference = now or datetime.now(UTC)
    if moment <= reference - CLOCK_SKEW:
        raise Mismatch(what, f"a time after {reference.isoformat()}", value)
    return moment


# AUTH -------------------------------------------------------------------------------


@proves("AUTH-1")
def login_answers_token_pair(response: httpx.Response) -> None:
    _status(response, 200)
    body = _json(response)
    for field in ("access_token", "refresh_token"):
        if not isinstance(body.get(field), str) or not body[field]:
            raise Mismatch(f"login body.{field}", "a non-empty string", body.get(field))


@proves("AUTH-1")
def unknown_key_refused(response: httpx.Response) -> None:
    _status(response, 401)


@proves("AUTH-2")
def unauthenticated_refused(response: httpx.Response) -> None:
    _status(response, 401)


@proves("AUTH-3")
def refresh_after_expiry_rotates(response: httpx.Response, old_access_token: str) -> None:
    _status(response, 200)
    body = _json(response)
    if not body.get("access_token") or body.get("access_token") == old_access_token:
        raise Mismatch("refreshed access_token", "a new token", "the same or none")
    if not body.get("refresh_token"):
        raise Mismatch("refreshed refresh_token", "a new token", body.get("refresh_token"))


@proves("AUTH-3")
def refresh_before_expiry_refused(response: httpx.Response) -> None:
    if not 400 <= response.status_code < 500:
        raise Mismatch("refresh before the access token expired", "a 4xx answer",
                       response.status_code)


@proves("AUTH-4")
def used_refresh_token_refused(response: httpx.Response) -> None:
    _status(response, 401)


# TRIGGER ----------------------------------------------------------------------------


@proves("TRIGGER-1")
def answers_412_json(response: httpx.Response) -> None:
    _status(response, 412)
    content_type = response.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise Mismatch("Content-Type of the 412", "application/json", content_type)
    _json(response)


@proves("TRIGGER-2")
def consent_in_body(response: httpx.Response) -> dict[str, Any]:
    body = _json(response)
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
    _future(consent.get("expires_at"), "consent.expires_at", now)


@proves("TRIGGER-7")
def nothing_happened(what: str, before: Any, after: Any) -> None:
    if before != after:
        raise Mismatch(f"{what} before approval", before, after)


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@dataclass(frozen=True)
class Protected:
    """What the suite knows is protected for one subject, by value: the transactions it
    created (ids, references, amounts), the balance, a card's number and CVC."""

    strings: frozenset[str] = frozenset()
    numbers: frozenset[int] = frozenset()


def _leaves(body: Any) -> Iterator[Any]:
    """Every key and scalar value of a JSON body, however deep."""
    if isinstance(body, dict):
        for key, value in body.items():
            yield str(key)
            yield from _leaves(value)
    elif isinstance(body, list):
        for value in body:
            yield from _leaves(value)
    else:
        yield body


def card_number_in(body: Any) -> bool:
    """Whether a Luhn-valid run of 13 to 19 digits (any grouping by spaces or dashes) stands
    anywhere in the body, outside ids (UUIDs)."""
    text = _UUID.sub("", " ".join(str(leaf) for leaf in _leaves(body)))
    for run in re.findall(r"(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)", text):
        number = re.sub(r"\D", "", run)
        if 13 <= len(number) <= 19 and luhn_valid(number):
            return True
    return False


def _protected_found(body: Any, protected: Protected) -> str | None:
    for leaf in _leaves(body):
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


# INIT -------------------------------------------------------------------------------


@proves("INIT-1")
def method_in_body(response: httpx.Response) -> dict[str, Any]:
    _status(response, 200)
    body = _json(response)
    method = body.get("method") if isinstance(body, dict) else None
    if not isinstance(method, dict):
        raise Mismatch("initiation body", '{"method": {...}}', body)
    for field in ("redirect_url", "token", "expires_at"):
        if not isinstance(method.get(field), str) or not method[field]:
            raise Mismatch(f"method.{field}", "a non-empty string", method.get(field))
    return method


@proves("INIT-2")
def redirect_url_carries_token(method: Mapping[str, Any]) -> None:
    url = urlsplit(str(method["redirect_url"]))
    if not url.scheme or not url.netloc:
        raise Mismatch("method.redirect_url", "an absolute URL", method["redirect_url"])
    if url.scheme != "https" and not (url.scheme == "http" and is_loopback(url.hostname)):
        raise Mismatch("method.redirect_url scheme", "https (http only on loopback)", url.scheme)
    token, redirect_url = str(method["token"]), str(method["redirect_url"])
    if not any(form in url for url in (redirect_url, unquote(redirect_url))
               for form in (token, quote(token, safe=""))):
        raise Mismatch("method.redirect_url", "to carry method.token", "no token in the URL")


@proves("INIT-3")
def method_expires_in_future(method: Mapping[str, Any], now: datetime | None = None) -> None:
    _future(method.get("expires_at"), "method.expires_at", now)


@proves("INIT-4")
def method_within_consent(method: Mapping[str, Any], consent: Mapping[str, Any]) -> None:
    method_end = parse_timestamp(method["expires_at"], "method.expires_at")
    consent_end = parse_timestamp(consent["expires_at"], "consent.expires_at")
    if method_end > consent_end:
        raise Mismatch("method.expires_at", f"not after {consent['expires_at']}",
                       method["expires_at"])


@proves("INIT-5")
def consent_not_found(response: httpx.Response) -> None:
    _status(response, 404)


@proves("INIT-6")
def return_url_refused(response: httpx.Response) -> None:
    _status(response, 400)
    error_list(response)


@proves("INIT-7")
def initiation_refused(response: httpx.Response, status: int) -> None:
    _status(response, status)


@proves("INIT-8")
def fresh_method(first: Mapping[str, Any], second: Mapping[str, Any]) -> None:
    if first["token"] == second["token"]:
        raise Mismatch("token of a re-initiation", "a fresh token", "the earlier token")


@proves("INIT-9")
def initiation_needs_token(response: httpx.Response) -> None:
    _status(response, 401)


# PAGE (the API side of it) ----------------------------------------------------------


@proves("PAGE-4")
def landed_on_return_url(landing: str, return_url: str) -> None:
    got, want = urlsplit(landing), urlsplit(return_url)
    if _place(got) != _place(want):
        raise Mismatch("landing URL", return_url, landing)
    landed_query = parse_qs(got.query)
    for key, values in parse_qs(want.query).items():
        if landed_query.get(key) != values:
            raise Mismatch(f"landing query {key!r}", values, landed_query.get(key))


def _place(url: SplitResult) -> tuple[str, str, int | None, str]:
    """Scheme, host, port and path as a browser compares them (case, default ports)."""
    default = {"http": 80, "https": 443}.get(url.scheme.lower())
    return (url.scheme.lower(), (url.hostname or "").lower(), url.port or default,
            unquote(url.path or "/"))


@proves("PAGE-5")
def landing_names_outcome(landing: str, consent_id: str, status: str) -> None:
    query = parse_qs(urlsplit(landing).query)
    if query.get("consent_id") != [consent_id]:
        raise Mismatch("landing consent_id", consent_id, query.get("consent_id"))
    if query.get("status") != [status]:
        raise Mismatch("landing status", status, query.get("status"))


@proves("PAGE-10")
def framing_refused(headers: Mapping[str, str]) -> None:
    lowered = {name.lower(): value for name, value in headers.items()}
    frame_options = lowered.get("x-frame-options", "").strip().upper()
    csp = lowered.get("content-security-policy", "")
    directives = {part.strip().split(None, 1)[0].lower(): part.strip().lower()
                  for part in csp.split(";") if part.strip()}
    ancestors = directives.get("frame-ancestors", "").split()[1:]
    if frame_options != "DENY" and ancestors != ["'none'"]:
        raise Mismatch(
            "anti-framing headers",
            "X-Frame-Options: DENY or CSP frame-ancestors 'none'",
            {"x-frame-options": frame_options or None, "content-security-policy": csp or None},
        )


@proves("PAGE-11")
def not_cached_not_referred(headers: Mapping[str, str]) -> None:
    lowered = {name.lower(): value for name, value in headers.items()}
    cache = [part.strip().lower() for part in lowered.get("cache-control", "").split(",")]
    if "no-store" not in cache:
        raise Mismatch("Cache-Control", "no-store", lowered.get("cache-control"))
    # A list names fallbacks: the last policy the browser knows is the one in force.
    policies = [p.strip().lower() for p in lowered.get("referrer-policy", "").split(",")]
    if not policies or policies[-1] != "no-referrer":
        raise Mismatch("Referrer-Policy", "no-referrer", lowered.get("referrer-policy"))


@proves("PAGE-14")
def no_card_secrets(body: Any, pan: str, cvc: str) -> None:
    """The API never returns the card number or the CVC: not the number the details page
    showed (in any grouping), nor any other card number, nor the CVC, under any key."""
    text = re.sub(r"[ -]", "", " ".join(str(leaf) for leaf in _leaves(body)))
    digits = re.sub(r"\D", "", pan)
    if digits and digits in text:
        raise Mismatch("API answer", "no card number", "the card number")
    if card_number_in(body):
        raise Mismatch("API answer", "no card number", "a Luhn-valid card number")
    if cvc and any(str(leaf).strip() == cvc for leaf in _leaves(body)
                   if leaf is not None and not isinstance(leaf, bool)):
        raise Mismatch("API answer", "no CVC", "a value equal to the CVC")


# AFTER ------------------------------------------------------------------------------


@proves("AFTER-1")
def action_performed(response: httpx.Response) -> Any:
    _status(response, 200)
    return _json(response)


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
    _status(response, 200)
    body = _json(response)
    consent = body.get("consent") if isinstance(body, dict) else None
    if not isinstance(consent, dict):
        raise Mismatch("GET consent body", '{"consent": {...}}', body)
    if consent.get("status") != status:
        raise Mismatch("consent.status", status, consent.get("status"))


@proves("AFTER-3")
def other_request_needs_consent(response: httpx.Response) -> None:
    _status(response, 412)


@proves("AFTER-4")
def new_consent_after_end(response: httpx.Response, ended_id: str) -> None:
    _status(response, 412)
    consent = _json(response).get("consent", {})
    if consent.get("id") == ended_id:
        raise Mismatch("consent id after the earlier one ended", "a new id", ended_id)
    if consent.get("status") != "pending":
        raise Mismatch("new consent.status", "pending", consent.get("status"))


@proves("AFTER-5")
def window_ended(response: httpx.Response) -> None:
    _status(response, 412)


@proves("AFTER-5")
def window_open(response: httpx.Response) -> None:
    _status(response, 200)


@proves("AFTER-6")
def expired_consent_refused(response: httpx.Response) -> None:
    if response.status_code == 200:
        raise Mismatch("initiating an expired consent", "a refusal", 200)


@proves("AFTER-6")
def consent_expired(response: httpx.Response) -> None:
    body = _json(response)
    status = (body.get("consent") or {}).get("status") if isinstance(body, dict) else None
    if status != "expired":
        raise Mismatch("consent.status past expires_at", "expired", status)


@proves("AFTER-7")
def one_shot(response: httpx.Response, ended_id: str) -> None:
    _status(response, 412)
    if _json(response).get("consent", {}).get("id") == ended_id:
        raise Mismatch("consent after one view", "a new consent", ended_id)


@proves("AFTER-7")
def already_active(response: httpx.Response) -> None:
    _status(response, 409)


# RACE -------------------------------------------------------------------------------


@proves("RACE-1")
def one_transaction(answers: Sequence[httpx.Response]) -> str:
    """Repeats of one approved payment (one request_id) sent at once: every answer that gives
    a result (200) names the same transaction, and at least one does. A repeat may instead be
    turned away while another is in progress (409, 429: idempotency keys often are). Its id."""
    ids = [str(body.get("id")) if isinstance(body, dict) else repr(body)
           for body in (_json(answer) for answer in answers if answer.status_code == 200)]
    if not ids:
        raise Mismatch(f"answers to {len(answers)} repeats of one approved payment sent at once",
                       "the payment's transaction (200) in at least one",
                       sorted({answer.status_code for answer in answers}))
    distinct = sorted(set(ids))
    if len(distinct) != 1:
        raise Mismatch(f"transactions answered to {len(answers)} repeats of one request_id "
                       "sent at once", "one transaction",
                       f"{len(distinct)}: {', '.join(distinct[:3])}{', ...' * (len(distinct) > 3)}")
    return distinct[0]


@proves("RACE-1")
def paid_once(before: int, after: int, amount: int, repeats: int) -> None:
    if before - after != amount:
        raise Mismatch(f"balance change after {repeats} repeats of one approved payment sent "
                       "at once", -amount, after - before)


def _made_once(
    first: httpx.Response, again: httpx.Response, before: int, after: int, amount: int
) -> None:
    _status(first, 200)
    _status(again, 200)
    if _json(first).get("id") != _json(again).get("id"):
        raise Mismatch("transaction of the approved payment, repeated", _json(first).get("id"),
                       _json(again).get("id"))
    if before - after != amount:
        raise Mismatch("balance change after the approved payment", -amount, after - before)


@proves("RACE-2")
def one_landing(ends: Sequence[str | None], what: str) -> str:
    """Attempts racing to approve one consent: exactly one lands on return_url, the other
    ends on one of the contract's end states (None). The landing."""
    landed = [end for end in ends if end]
    if len(landed) != 1:
        raise Mismatch(what, "one on return_url, the other on an end state",
                       " and ".join(landed) if landed else "every page on an end state")
    return landed[0]


@proves("RACE-2")
def approved_once(status: Any) -> None:
    if status != "approved":
        raise Mismatch("consent status after approvals raced", "approved", status)


@proves("RACE-2")
def payment_made_once(
    first: httpx.Response, again: httpx.Response, before: int, after: int, amount: int
) -> None:
    """The payment whose approval raced, repeated twice: one transaction, the balance
    moved once."""
    _made_once(first, again, before, after, amount)


@proves("RACE-3")
def one_of_the_two(status: Any) -> str:
    if status not in ("approved", "declined"):
        raise Mismatch("consent status after a decline and an approval raced",
                       "approved or declined", status)
    return str(status)


@proves("RACE-3")
def landing_says(ends: Mapping[str, str | None], status: str) -> None:
    """`ends`: where the approving and the declining page ended ("approve", "decline"; the
    landing URL, or None on an end state). A page is back at the client, and what it was
    told is what the consent reads: the landing's `status` where it carries one, else by
    which page landed (the approving one only when approved)."""
    landed = {attempt: url for attempt, url in ends.items() if url}
    if not landed:
        raise Mismatch("where the racing pages ended", "one of them on return_url",
                       "both on end states")
    for attempt, url in landed.items():
        said = parse_qs(urlsplit(url).query).get("status")
        if said is not None and said != [status]:
            raise Mismatch(f"the landing of the page that pressed {attempt!r}",
                           f"status={status} (as the consent reads)", url)
        if said is None and (attempt == "approve") != (status == "approved"):
            raise Mismatch("the page that landed on return_url",
                           f"the one whose {'approval' if status == 'approved' else 'decline'} "
                           f"won (the consent reads {status})", f"the one that pressed {attempt!r}")


@proves("RACE-3")
def payment_made(
    first: httpx.Response, again: httpx.Response, before: int, after: int, amount: int
) -> None:
    """The approval won: the payment, repeated twice, is made once."""
    _made_once(first, again, before, after, amount)


@proves("RACE-3")
def payment_not_made(answer: httpx.Response, before: int, after: int) -> None:
    """The decline won: repeating the payment gives no result, and no money moved."""
    if 200 <= answer.status_code < 300:
        raise Mismatch("repeating the payment after the decline won", "no result (a new 412)",
                       f"{answer.status_code} {answer.text[:200]}")
    if after != before:
        raise Mismatch("balance after the decline won", before, after)


@proves("RACE-4")
def one_working_token(issued: int, working: int) -> None:
    if working != 1:
        raise Mismatch(f"tokens of {issued} initiations of one consent sent at once that still "
                       "open its flow", 1, working)


# ERR --------------------------------------------------------------------------------


_FIELD_KEYS = ("field", "path", "pointer", "loc", "location", "property", "param", "name")


_MESSAGE_KEYS = ("message", "detail", "description", "title", "reason", "error")


def _list_of_errors(body: Any) -> list[Any] | None:
    """The first list of error objects anywhere in the body (or the body itself)."""
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        for value in body.values():
            if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                return value
            found = _list_of_errors(value) if isinstance(value, dict) else None
            if found:
                return found
    return None


def _errors_by_field(body: Any) -> list[Any] | None:
    """`{"errors": {"amount": ["must be positive"]}}`: each field with what is wrong."""
    if not isinstance(body, dict):
        return None
    for key, value in body.items():
        if "error" in key.lower() and isinstance(value, dict) and value and not any(
            k in value for k in (*_MESSAGE_KEYS, "code")) and all(
            isinstance(v, str) or (isinstance(v, list) and all(isinstance(m, str) for m in v))
            for v in value.values()
        ):
            return [{"field": field, "message": "; ".join([v] if isinstance(v, str) else v)}
                    for field, v in value.items()]
    return None


def _one_error(body: Any) -> list[Any] | None:
    """A single error object, the provider's envelope (`{"error": {"code", "message"}}`):
    a list of one."""
    if isinstance(body, dict):
        for key, value in body.items():
            if "error" in key.lower() and isinstance(value, dict) and any(
                isinstance(value.get(k), str) and value[k].strip() for k in _MESSAGE_KEYS
            ):
                return [value]
    return None


def _error_entries(body: Any) -> list[Any] | None:
    """The errors the body lists, wherever it lists them: a list of error objects (the body
    itself or anywhere inside it), errors by field, or one error object in an envelope."""
    return _list_of_errors(body) or _one_error(body) or _errors_by_field(body)


def error_list(response: httpx.Response) -> list[dict[str, Any]]:
    """A list of errors, each an object saying what is wrong (any key names it: the
    contract asks for a list, not for these names)."""
    body = _json(response)
    errors = _error_entries(body)
    if not errors:
        raise Mismatch("error body", "a list of errors, e.g. {\"errors\": [{field, message}]}",
                       body)
    for error in errors:
        texts = [v for k, v in error.items() if k not in _FIELD_KEYS and isinstance(v, str)
                 and v.strip()] if isinstance(error, dict) else []
        if not texts:
            raise Mismatch("error entry", "an object saying what is wrong", error)
    return errors


def _field_of(error: Any) -> str | None:
    """The field an error names, wherever in the error it names it (`field`, `loc`,
    `source.pointer`, ...)."""
    if not isinstance(error, dict):
        return None
    for key in _FIELD_KEYS:
        value = error.get(key)
        if isinstance(value, list):
            value = ".".join(str(part) for part in value)
        if value and isinstance(value, str | int):
            return str(value)
    for value in error.values():
        found = _field_of(value) if isinstance(value, dict) else None
        if found:
            return found
    return None


def error_fields(errors: list[dict[str, Any]]) -> list[str]:
    return [field for field in map(_field_of, errors) if field]


@proves("ERR-1")
def invalid_input_named(response: httpx.Response, field: str) -> None:
    _status(response, 400)
    fields = error_fields(error_list(response))
    # "amount", "body.amount", "/amount", "counterparty[account][iban]": the field's name
    # is one part of the path the target gives.
    if not any(field in re.split(r"[^A-Za-z0-9_]+", name) for name in fields):
        raise Mismatch("fields named by the errors", f"to include {field!r}", fields)


@proves("ERR-2")
def refused_empty_or_null(response: httpx.Response, what: str) -> None:
    if response.status_code != 400:
        raise Mismatch(what, "400", f"{response.status_code} {response.text[:200]}")


@proves("ERR-3")
def no_server_error(response: httpx.Response) -> None:
    if response.status_code >= 500:
        raise Mismatch(f"status of {response.request.method} {response.request.url.path}",
                       "not 5xx", response.status_code)


REFUSALS = frozenset({400, 413, 415, 422})
"""The answers that refuse the input itself (a 401, 404, 409 or 412 is about something else)."""


def _accepted(response: httpx.Response) -> bool:
    """The input got past validation: an answer below 400, or a consent (412)."""
    return response.status_code < 400 or response.status_code == 412


@proves("ERR-1")
def refusal_lists_errors(response: httpx.Response, fields: tuple[str, ...] | None) -> None:
    """A refused input answers a list of errors, each saying what is wrong; where the input
    had fields (a JSON object, query parameters), an error names one: one of `fields`, or
    any field when `fields` is empty. (For a body that is not an object there is none.)"""
    if response.status_code not in REFUSALS:
        return
    errors = error_list(response)
    if fields is None:
        return
    named = error_fields(errors)
    if not named:
        raise Mismatch("fields named by the errors", "at least one field", errors[:3])
    parts = {part for name in named for part in re.split(r"[^A-Za-z0-9_]+", name)}
    if fields and not parts & set(fields):
        raise Mismatch("fields named by the errors", f"to name {' or '.join(fields)}", named)


@proves("ERR-1")
def invalid_input_not_accepted(response: httpx.Response, what: str) -> None:
    if _accepted(response):
        raise Mismatch(what, "a refusal (400)", f"{response.status_code} {response.text[:200]}")


@proves("ERR-2")
def empty_or_null_not_accepted(response: httpx.Response, what: str) -> None:
    if _accepted(response):
        raise Mismatch(what, "a refusal (400)", f"{response.status_code} {response.text[:200]}")


def is_loopback(host: str | None) -> bool:
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


@proves("PAGE-6")
def declined_action_not_performed(response: httpx.Response) -> None:
    if 200 <= response.status_code < 300:
        raise Mismatch(
            f"repeating {response.request.method} {response.request.url.path} after Decline",
            "no result (the declined action is not performed)",
            f"{response.status_code} {response.text[:200]}",
        )


@proves("PAGE-6")
def consent_ended_unapproved(status: Any) -> None:
    """After Decline the consent is not approved. (That it reads "declined", the contract's
    own word, is AFTER-2's, a SHOULD: a read that still says "pending" is a stale read,
    not an approval.)"""
    if status == "approved":
        raise Mismatch("consent status after Decline", "not approved (declined)", status)


@proves("AFTER-2")
def consent_status(response: httpx.Response) -> Any:
    """The status GET /consents/{id} reports, its shape checked."""
    _status(response, 200)
    body = _json(response)
    consent = body.get("consent") if isinstance(body, dict) else None
    if not isinstance(consent, dict) or "status" not in consent:
        raise Mismatch("GET consent body", '{"consent": {"status": ...}}', body)
    return consent["status"]


@proves("PAGE-15")
def onboarding_redirect(response: httpx.Response) -> dict[str, Any]:
    """Redirect-style onboarding: 200 with an absolute redirect_url to the enrolment."""
    _status(response, {200, 201})
    body = _json(response)
    found = _find_key(body, "redirect_url")
    if not isinstance(found, str) or not urlsplit(found).scheme:
        raise Mismatch("onboarding answer's redirect_url", "an absolute URL", found)
    return {"redirect_url": found, "token": "", "expires_at": ""}


def _find_key(body: Any, key: str) -> Any:
    if isinstance(body, dict):
        if key in body:
            return body[key]
        for value in body.values():
            found = _find_key(value, key)
            if found is not None:
                return found
    return None


# Dynamic linking (PAGE-2): what the page displays against what was requested -------------


def normalised(text: str) -> str:
    return " ".join(text.split())


def electronic_iban(text: str) -> str:
    """An IBAN in electronic form: print-form spaces and case do not matter."""
    return re.sub(r"\s+", "", text).upper()


CURRENCY_SYMBOLS = {"€": "EUR", "$": "USD", "£": "GBP", "kr": "SEK", "¥": "JPY", "zł": "PLN",
                    "Fr.": "CHF", "CHF": "CHF"}


def parse_amount(displayed: str, decimal_separator: str = ".") -> tuple[int, str]:
    """(minor units, currency code) from a displayed amount such as `12.34 EUR`,
    `€12.34`, `12,34 €` or `1 234,56 EUR`."""
    text = normalised(displayed.replace("\u00a0", " ").replace("\u202f", " "))
    currency = next((code for symbol, code in CURRENCY_SYMBOLS.items() if symbol in text), "")
    code = re.search(r"\b[A-Z]{3}\b", text)
    if code:
        currency = code[0]
    number = re.search(r"-?\d[\d\s.,'’]*", text)
    if number is None:
        raise ValueError(f"no number in {displayed!r}")
    grouping = {".", ",", " ", "'", "’"} - {decimal_separator}
    digits = "".join(c for c in number[0].strip() if c not in grouping)
    try:
        value = Decimal(digits.replace(decimal_separator, "."))
    except InvalidOperation:
        raise ValueError(f"not an amount: {displayed!r}") from None
    return int(value * 100), currency


@proves("PAGE-2")
def amount_shown(displayed: str, amount: int, currency: str, decimal_separator: str) -> None:
    try:
        shown = parse_amount(displayed, decimal_separator)
    except ValueError:
        shown = (None, None)  # type: ignore[assignment]
    if shown != (amount, currency):
        raise Mismatch("the amount on the summary", f"{amount / 100:.2f} {currency}",
                       normalised(displayed))


@proves("PAGE-2")
def text_shown(label: str, displayed: str, requested: str) -> None:
    if normalised(displayed) != normalised(requested):
        raise Mismatch(f"the {label} on the summary", requested, normalised(displayed))


@proves("PAGE-2")
def iban_shown(displayed: str, requested: str) -> None:
    if electronic_iban(displayed) != electronic_iban(requested):
        raise Mismatch("the payee's IBAN on the summary (electronic form)", requested,
                       normalised(displayed))


@proves("PAGE-2")
def card_shown(displayed: str, last4: str) -> None:
    compact = re.sub(r"[\s-]", "", displayed)
    if not re.search(rf"(?<!\d){re.escape(last4)}(?!\d)", displayed) or re.search(
        r"\d{12,}", compact
    ):
        # Never echo what may be a whole card number into a failure message.
        shown = "a whole card number" if re.search(r"\d{12,}", compact) else normalised(displayed)
        raise Mismatch("the card on the summary", f"its last four digits {last4}", shown)
