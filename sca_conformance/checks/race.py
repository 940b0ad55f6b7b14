"""Concurrency (RACE): repeats, approvals and declines racing on one consent."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from sca_conformance.checks.reading import (
    json_of,
    status_is,
)
from sca_conformance.failures import Mismatch, hides_in_verdicts, proves

__tracebackhide__ = hides_in_verdicts


@proves("RACE-1")
def one_transaction(answers: Sequence[httpx.Response]) -> str:
    """Repeats of one approved payment (one request_id) sent at once: every answer that gives
    a result (200) names the same transaction, and at least one does. A repeat may instead be
    turned away while another is in progress (409, 429: idempotency keys often are). Its id."""
    ids = [str(body.get("id")) if isinstance(body, dict) else repr(body)
           for body in (json_of(answer) for answer in answers if answer.status_code == 200)]
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
    status_is(first, 200)
    status_is(again, 200)
    if json_of(first).get("id") != json_of(again).get("id"):
        raise Mismatch("transaction of the approved payment, repeated", json_of(first).get("id"),
                       json_of(again).get("id"))
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
