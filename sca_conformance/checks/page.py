"""Hosted consent pages (PAGE), the API side of them: the landing on return_url, the
pages' headers, what the API never returns, a declined action, redirect onboarding.
(What the summary displays, PAGE-2, is `linking`.)"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import SplitResult, parse_qs, unquote, urlsplit

import httpx

from sca_conformance.checks.reading import (
    card_number_in,
    find_key,
    json_of,
    leaves,
    status_is,
)
from sca_conformance.failures import Mismatch, hides_in_verdicts, proves

__tracebackhide__ = hides_in_verdicts


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
    text = re.sub(r"[ -]", "", " ".join(str(leaf) for leaf in leaves(body)))
    digits = re.sub(r"\D", "", pan)
    if digits and digits in text:
        raise Mismatch("API answer", "no card number", "the card number")
    if card_number_in(body):
        raise Mismatch("API answer", "no card number", "a Luhn-valid card number")
    if cvc and any(str(leaf).strip() == cvc for leaf in leaves(body)
                   if leaf is not None and not isinstance(leaf, bool)):
        raise Mismatch("API answer", "no CVC", "a value equal to the CVC")


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


@proves("PAGE-15")
def onboarding_redirect(response: httpx.Response) -> dict[str, Any]:
    """Redirect-style onboarding: 200 with an absolute redirect_url to the enrolment."""
    status_is(response, {200, 201})
    body = json_of(response)
    found = find_key(body, "redirect_url")
    if not isinstance(found, str) or not urlsplit(found).scheme:
        raise Mismatch("onboarding answer's redirect_url", "an absolute URL", found)
    return {"redirect_url": found, "token": "", "expires_at": ""}
