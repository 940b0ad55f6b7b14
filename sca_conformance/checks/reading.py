"""Reading a target's answer for the checks: its JSON body, its status, an ISO 8601
timestamp, every leaf of a body, a card number in it, a loopback host. Each raises
`Mismatch` with what it looked at; the check that calls it names the requirement."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from sca_conformance.failures import Mismatch, hides_in_verdicts
from sca_conformance.redact import luhn_valid

__tracebackhide__ = hides_in_verdicts


CLOCK_SKEW = timedelta(seconds=30)


# ISO 8601 with a zone designator: any fraction of a second, "Z" or an offset (+02:00,
# +0200, +02; the provider's documentation shows both "...17.000Z" and "...33+02:00").
ISO_ZONED = re.compile(
    r"^(?P<base>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:[.,](?P<fraction>\d+))?"
    r"(?P<zone>[Zz]|(?P<sign>[+-])(?P<hours>\d{2})(?::?(?P<minutes>\d{2}))?)$"
)


def json_of(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise Mismatch(
            f"{response.request.method} {response.request.url.path} body", "JSON",
            response.text[:200],
        ) from None


def status_is(response: httpx.Response, expected: int | set[int]) -> None:
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


def in_future(value: Any, what: str, now: datetime | None) -> datetime:
    moment = parse_timestamp(value, what)
    reference = now or datetime.now(UTC)
    if moment <= reference - CLOCK_SKEW:
        raise Mismatch(what, f"a time after {reference.isoformat()}", value)
    return moment


UUID_TEXT = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def leaves(body: Any) -> Iterator[Any]:
    """Every key and scalar value of a JSON body, however deep."""
    if isinstance(body, dict):
        for key, value in body.items():
            yield str(key)
            yield from leaves(value)
    elif isinstance(body, list):
        for value in body:
            yield from leaves(value)
    else:
        yield body


def card_number_in(body: Any) -> bool:
    """Whether a Luhn-valid run of 13 to 19 digits (any grouping by spaces or dashes) stands
    anywhere in the body, outside ids (UUIDs)."""
    text = UUID_TEXT.sub("", " ".join(str(leaf) for leaf in leaves(body)))
    for run in re.findall(r"(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)", text):
        number = re.sub(r"\D", "", run)
        if 13 <= len(number) <= 19 and luhn_valid(number):
            return True
    return False


def is_loopback(host: str | None) -> bool:
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def find_key(body: Any, key: str) -> Any:
    if isinstance(body, dict):
        if key in body:
            return body[key]
        for value in body.values():
            found = find_key(value, key)
            if found is not None:
                return found
    return None
