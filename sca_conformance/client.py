"""Async client for the consent contract's API: login, refresh on 401, one recording hook."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from sca_conformance.failures import hides_in_verdicts
from sca_conformance.redact import SecretRegistry

__tracebackhide__ = hides_in_verdicts


class TargetError(Exception):
    """The target cannot be tested at all: unreachable, wrong key, or not speaking JSON."""


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str
    status: int
    request: Any
    response: Any
    elapsed_ms: float
    content_type: str = ""
    started: float = 0.0  # when the request was sent, in seconds since the epoch
    stopped: float = 0.0  # when its answer had been read

    @property
    def title(self) -> str:
        return f"{self.method} {self.path} → {self.status}"


ExchangeListener = Callable[[Exchange], None]
_NO_BODY = object()


class ApiClient:
    """One API client (one API key, one login session) for one test."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        secrets: SecretRegistry | None = None,
        on_exchange: ExchangeListener | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 15.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.secrets = secrets or SecretRegistry()
        self.secrets.add(api_key)
        self._api_key = api_key
        self._on_exchange = on_exchange
        self.access_token: str | None = None
        self.refresh_token: str | None = None
        self.access_expires: datetime | None = None  # as the target tells it, if it does
        self.server_time: datetime | None = None  # the Date of the target's last answer
        self.exchanges: list[Exchange] = []
        self.http = httpx.AsyncClient(
            base_url=self.base_url,
            transport=transport,
            timeout=timeout,
            follow_redirects=False,
            event_hooks={"request": [self._stamp], "response": [self._record]},
        )

    async def __aenter__(self) -> ApiClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    # Session -------------------------------------------------------------------------

    async def login(self) -> None:
        response = await self.http.post("/v3/auth/login", json={"api_key": self._api_key})
        if response.status_code != 200:
            raise TargetError(f"login failed with {response.status_code}")
        self._take_tokens(response.json())

    async def refresh(self) -> httpx.Response:
        response = await self.http.post(
            "/v3/auth/refresh", json={"refresh_token": self.refresh_token}
        )
        if response.status_code == 200:
            self._take_tokens(response.json())
        return response

    def _take_tokens(self, body: dict[str, Any]) -> None:
        self.access_token = body["access_token"]
        self.refresh_token = body["refresh_token"]
        self.secrets.add(self.access_token, self.refresh_token)
        self.access_expires = token_expiry(body, self.now())

    def now(self) -> datetime:
        """The target's time: the Date of its last answer, else this machine's."""
        return self.server_time or datetime.now(UTC)

    # Requests ------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = _NO_BODY,
        content: bytes | str | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        authenticated: bool = True,
    ) -> httpx.Response:
        """Sends one request; on a 401 with an expired session, refreshes and retries once."""
        if authenticated and self.access_token is None:
            await self.login()
        send = {"json": json, "content": content, "params": params, "headers": headers,
                "authenticated": authenticated}
        response = await self._send(method, path, **send)
        if authenticated and response.status_code == 401:
            refreshed = await self.refresh()
            if refreshed.status_code != 200:
                await self.login()
            response = await self._send(method, path, **send)
        return response

    async def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any,
        content: bytes | str | None,
        params: dict[str, Any] | None,
        headers: dict[str, str] | None,
        authenticated: bool,
    ) -> httpx.Response:
        all_headers = dict(headers or {})
        if authenticated:
            all_headers.setdefault("Authorization", f"Bearer {self.access_token}")
        kwargs: dict[str, Any] = {"params": params, "headers": all_headers}
        if json is not _NO_BODY:
            kwargs["json"] = json
        elif content is not None:
            kwargs["content"] = content
        return await self.http.request(method, path, **kwargs)

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", path, **kwargs)

    # The one place every exchange passes -----------------------------------------------

    async def _stamp(self, request: httpx.Request) -> None:
        request.extensions["sca_started"] = (time.time(), time.perf_counter())

    async def _record(self, response: httpx.Response) -> None:
        await response.aread()
        request = response.request
        read = (time.time(), time.perf_counter())
        started, counter = request.extensions.get("sca_started", read)
        elapsed = read[1] - counter
        with suppress(KeyError, TypeError, ValueError):  # no Date, or not one
            self.server_time = parsedate_to_datetime(response.headers["date"]).astimezone(UTC)
        self._take_response_secrets(response)
        exchange = Exchange(
            method=request.method,
            path=self.secrets.text(_path(request.url)),
            status=response.status_code,
            request=self.secrets.body(request.content),
            response=self.secrets.body(response.content),
            elapsed_ms=elapsed * 1000,
            content_type=response.headers.get("content-type", ""),
            started=started,
            stopped=started + elapsed,
        )
        self.exchanges.append(exchange)
        if self._on_exchange:
            self._on_exchange(exchange)

    def _take_response_secrets(self, response: httpx.Response) -> None:
        """Learns secrets handed out by the target before anything is written down."""
        if "json" not in response.headers.get("content-type", ""):
            return
        try:
            body = response.json()
        except ValueError:
            return
        if isinstance(body, dict):
            self.secrets.add(body.get("access_token"), body.get("refresh_token"))
            method = body.get("method")
            if isinstance(method, dict) and isinstance(method.get("token"), str):
                self.secrets.add(method["token"])


def token_expiry(body: dict[str, Any], now: datetime) -> datetime | None:
    """When the access token of a login or refresh answer expires, as the target says it:
    `expires_in` seconds from its answer, or the token's own `exp` claim when it is a JWT
    (read, not verified: the target verifies it). None when the target does not say."""
    expires_in = body.get("expires_in")
    if isinstance(expires_in, int | float) and not isinstance(expires_in, bool):
        return now + timedelta(seconds=float(expires_in))
    parts = str(body.get("access_token") or "").split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        return datetime.fromtimestamp(float(claims["exp"]), UTC)
    except (ValueError, KeyError, TypeError):
        return None


def _path(url: httpx.URL) -> str:
    query = f"?{url.query.decode()}" if url.query else ""
    return f"{url.path}{query}"


async def preflight(base_url: str, api_key: str, key_source: str) -> None:
    """Stops the session early, with one sentence, when the target cannot be tested."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise TargetError(f"Target URL {base_url!r} is not an absolute http(s) URL.")
    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=10.0) as http:
            response = await http.post("/v3/auth/login", json={"api_key": api_key})
    except httpx.HTTPError as error:
        raise TargetError(
            f"Target unreachable: {base_url} ({type(error).__name__}: {error or 'no answer'})."
        ) from None
    content_type = response.headers.get("content-type", "")
    if "json" not in content_type:
        raise TargetError(
            f"Target {base_url} answered POST /v3/auth/login with {response.status_code} and "
            f"{content_type or 'no content type'}, not JSON: is this the API's base URL?"
        )
    if response.status_code == 401:
        raise TargetError(f"Target {base_url} rejected the API key from {key_source} (401).")
    try:
        body = response.json()
    except ValueError:
        raise TargetError(
            f"Target {base_url} answered POST /v3/auth/login with a body that is not JSON."
        ) from None
    if response.status_code != 200 or not isinstance(body, dict) or "access_token" not in body:
        raise TargetError(
            f"Target {base_url} answered POST /v3/auth/login with {response.status_code} "
            "and no access_token: it does not speak the consent contract."
        )
