"""Initiating the consent (INIT): the method, its redirect URL, token and expiry."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import httpx

from sca_conformance.checks.errors import error_list
from sca_conformance.checks.reading import (
    in_future,
    is_loopback,
    json_of,
    parse_timestamp,
    status_is,
)
from sca_conformance.failures import Mismatch, hides_in_verdicts, proves

__tracebackhide__ = hides_in_verdicts


@proves("INIT-1")
def method_in_body(response: httpx.Response) -> dict[str, Any]:
    status_is(response, 200)
    body = json_of(response)
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
    in_future(method.get("expires_at"), "method.expires_at", now)


@proves("INIT-4")
def method_within_consent(method: Mapping[str, Any], consent: Mapping[str, Any]) -> None:
    method_end = parse_timestamp(method["expires_at"], "method.expires_at")
    consent_end = parse_timestamp(consent["expires_at"], "consent.expires_at")
    if method_end > consent_end:
        raise Mismatch("method.expires_at", f"not after {consent['expires_at']}",
                       method["expires_at"])


@proves("INIT-5")
def consent_not_found(response: httpx.Response) -> None:
    status_is(response, 404)


@proves("INIT-6")
def return_url_refused(response: httpx.Response) -> None:
    status_is(response, 400)
    error_list(response)


@proves("INIT-7")
def initiation_refused(response: httpx.Response, status: int) -> None:
    status_is(response, status)


@proves("INIT-8")
def fresh_method(first: Mapping[str, Any], second: Mapping[str, Any]) -> None:
    if first["token"] == second["token"]:
        raise Mismatch("token of a re-initiation", "a fresh token", "the earlier token")


@proves("INIT-9")
def initiation_needs_token(response: httpx.Response) -> None:
    status_is(response, 401)
