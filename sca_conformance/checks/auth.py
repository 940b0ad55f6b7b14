"""Session (AUTH): login, refresh and the tokens they answer."""

from __future__ import annotations

import httpx

from sca_conformance.checks.reading import (
    json_of,
    status_is,
)
from sca_conformance.failures import Mismatch, hides_in_verdicts, proves

__tracebackhide__ = hides_in_verdicts


@proves("AUTH-1")
def login_answers_token_pair(response: httpx.Response) -> None:
    status_is(response, 200)
    body = json_of(response)
    for field in ("access_token", "refresh_token"):
        if not isinstance(body.get(field), str) or not body[field]:
            raise Mismatch(f"login body.{field}", "a non-empty string", body.get(field))


@proves("AUTH-1")
def unknown_key_refused(response: httpx.Response) -> None:
    status_is(response, 401)


@proves("AUTH-2")
def unauthenticated_refused(response: httpx.Response) -> None:
    status_is(response, 401)


@proves("AUTH-3")
def refresh_after_expiry_rotates(response: httpx.Response, old_access_token: str) -> None:
    status_is(response, 200)
    body = json_of(response)
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
    status_is(response, 401)
