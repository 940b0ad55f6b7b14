"""Async client for the consent contract's API, with manners (contract section 8a): one login
session per key shared by a worker's tests and renewed by the target's rules, a 429 (or a 503
with Retry-After) waited out and retried within bounds, a pace, one recording hook."""

# ruff: noqa: PLC0414  (the `X as X` imports below are re-exports)

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from sca_conformance import failures
from sca_conformance.connection_errors import explain
from sca_conformance.endpoints import BASE_PATH, ENDPOINTS
from sca_conformance.failures import hides_in_verdicts

# Manners, re-exported (`X as X`): `from sca_conformance.client import Manners`.
from sca_conformance.manners import THROTTLED as THROTTLED
from sca_conformance.manners import UNAVAILABLE as UNAVAILABLE
from sca_conformance.manners import Manners as Manners
from sca_conformance.manners import Pacer as Pacer
from sca_conformance.manners import PoliteTransport as PoliteTransport
from sca_conformance.manners import RateLimited as RateLimited
from sca_conformance.manners import Sleep as Sleep
from sca_conformance.manners import Wait as Wait
from sca_conformance.manners import path_of
from sca_conformance.manners import retry_after_seconds as retry_after_seconds
from sca_conformance.network import Network, client_credentials
from sca_conformance.redact import SecretRegistry

if TYPE_CHECKING:
    from sca_conformance.network import AuthSection
    from sca_conformance.profile import Profile

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


# Login sessions ----------------------------------------------------------------------


@dataclass(frozen=True)
class LoginRoute:
    """How a client gets its tokens: the contract's API-key login at `login` (refreshed at
    `refresh`), or, with `oauth`, OAuth2 client credentials at the profile's token endpoint
    (RFC 6749 4.4; then there is no refresh token, and an expired token means a new one)."""

    login: str = BASE_PATH + ENDPOINTS["login"]
    refresh: str = BASE_PATH + ENDPOINTS["refresh"]
    oauth: AuthSection | None = None

    @classmethod
    def of(cls, profile: Profile) -> LoginRoute:
        """The profile's: its login and refresh paths, or its OAuth2 client credentials."""
        from sca_conformance.catalog import endpoint

        oauth = profile.auth if profile.auth.style == "client_credentials" else None
        return cls(endpoint(profile, "login"), endpoint(profile, "refresh"), oauth)

    @property
    def where(self) -> str:
        return self.oauth.token_url if self.oauth is not None else f"POST {self.login}"

    async def send(self, http: httpx.AsyncClient, api_key: str) -> httpx.Response:
        if self.oauth is not None:
            return await client_credentials(http, self.oauth)
        return await http.post(self.login, json={"api_key": api_key})


class LoginSession:
    """One login of one API key: its token pair, shared by the clients of a worker's tests
    (one login per key and worker, contract section 8a), renewed by the target's rules."""

    def __init__(self) -> None:
        self.access_token: str | None = None
        self.refresh_token: str | None = None
        self.access_expires: datetime | None = None  # as the target tells it, if it does
        self.skew = timedelta(0)  # the target's Date less this machine's time
        self.lock = asyncio.Lock()
        self.logins = 0
        self.refreshes = 0

    def expired(self) -> bool:
        """Whether the access token has expired on the target's clock (as far as known)."""
        return self.access_expires is not None and (
            datetime.now(UTC) + self.skew >= self.access_expires)


class ApiClient:
    """One API client for one test: its own exchanges (the test's evidence), the login
    session of its key (shared with the worker's other tests, or its own)."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        secrets: SecretRegistry | None = None,
        on_exchange: ExchangeListener | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 15.0,
        network: Network | None = None,
        session: LoginSession | None = None,
        manners: Manners | None = None,
        pacer: Pacer | None = None,
        on_wait: Callable[[Wait], None] | None = None,
        route: LoginRoute | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.route = route or LoginRoute()
        self.secrets = secrets or SecretRegistry()
        self.secrets.add(api_key)
        self._api_key = api_key
        self._on_exchange = on_exchange
        self._on_wait = on_wait
        self.session = session or LoginSession()
        self.server_time: datetime | None = None  # the Date of the target's last answer
        self.exchanges: list[Exchange] = []
        self.waits: list[Wait] = []
        self.logins = 0  # made by this client (its session may have been logged in before)
        self.refreshes = 0
        # The network's routing transport (trust, identity, proxy per host) inside the
        # rate-limit manners, so that every request, wherever it goes, is polite.
        options = (network or Network()).httpx_options(self.base_url)
        inner = transport or options.pop("transport")
        options.pop("transport", None)
        polite = PoliteTransport(inner, manners, pacer=pacer, on_wait=self._waited,
                                 mask=self.secrets.text)
        self.http = httpx.AsyncClient(
            **options,
            base_url=self.base_url,
            transport=polite,
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

    # The session's tokens, as this client sees them ---------------------------------

    @property
    def access_token(self) -> str | None:
        return self.session.access_token

    @access_token.setter
    def access_token(self, value: str | None) -> None:
        self.session.access_token = value

    @property
    def refresh_token(self) -> str | None:
        return self.session.refresh_token

    @refresh_token.setter
    def refresh_token(self, value: str | None) -> None:
        self.session.refresh_token = value

    @property
    def access_expires(self) -> datetime | None:
        return self.session.access_expires

    # Session -------------------------------------------------------------------------

    async def login(self) -> None:
        """A new login for this client's session (the AUTH tests' own)."""
        response = await self.route.send(self.http, self._api_key)
        if response.status_code != 200:
            raise TargetError(f"login failed with {response.status_code}")
        self._take_tokens(response.json())
        self.logins += 1
        self.session.logins += 1

    async def refresh(self) -> httpx.Response:
        response = await self.http.post(
            self.route.refresh, json={"refresh_token": self.refresh_token}
        )
        if response.status_code == 200:
            self._take_tokens(response.json())
            self.refreshes += 1
            self.session.refreshes += 1
        return response

    def _take_tokens(self, body: dict[str, Any]) -> None:
        session = self.session
        session.access_token = body["access_token"]
        # Client credentials give no refresh token: an expired token means a new one.
        session.refresh_token = (body.get("refresh_token") if self.route.oauth is not None
                                 else body["refresh_token"])
        self.secrets.add(session.access_token, session.refresh_token)
        session.access_expires = token_expiry(body, self.now())

    def now(self) -> datetime:
        """The target's time: the Date of its last answer, else this machine's."""
        return self.server_time or datetime.now(UTC)

    async def _ready(self) -> None:
        """Logged in, at first use; past the access token's expiry, refreshed (the target
        refuses a refresh before it: contract section 8a)."""
        session = self.session
        if session.access_token is not None and not session.expired():
            return
        async with session.lock:
            if session.access_token is None:
                await self.login()
            elif session.expired():
                await self._renew(early_is_fine=True)

    async def _renewed(self, stale: str | None) -> None:
        """After a 401: refreshed, else (the refresh token expired or used) logged in again;
        once, however many of the session's clients saw the 401."""
        async with self.session.lock:
            if self.session.access_token == stale:
                await self._renew(early_is_fine=False)

    async def _renew(self, *, early_is_fine: bool) -> None:
        if self.session.refresh_token is not None:
            refreshed = await self.refresh()
            if refreshed.status_code == 200:
                return
            if early_is_fine and refreshed.status_code == 400:
                # Not expired on the target's clock: keep the token, and wait for its 401.
                self.session.access_expires = None
                return
        await self.login()

    def check_unthrottled(self, what: str) -> None:
        """Many requests in a time budget (a fuzz campaign) that the target throttled are
        not a green run: the waits spent the budget, so it sent less than it was meant to."""
        if self.waits:
            waited = sum(wait.seconds for wait in self.waits)
            raise failures.TargetNotPrepared(
                "rate limited", f"{what}: the target limited {len(self.waits)} of its requests "
                f"(waited {waited:.1f} s in all), so it sent less than it was meant to; pace "
                "the run (rate_limits.requests_per_second) or send fewer (--fuzz-examples)")

    def _waited(self, wait: Wait) -> None:
        self.waits.append(wait)
        if self._on_wait is not None:
            self._on_wait(wait)

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
        """Sends one request; on a 401, renews the session (refresh, else login) and sends
        it once more."""
        if authenticated:
            await self._ready()
        sent_with = self.access_token
        send = {"json": json, "content": content, "params": params, "headers": headers,
                "authenticated": authenticated}
        response = await self._send(method, path, **send)
        own_credential = not any(name.lower() == "authorization" for name in headers or {})
        if authenticated and own_credential and response.status_code == 401:
            await self._renewed(sent_with)
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
            self.session.skew = self.server_time - datetime.now(UTC)
        self._take_response_secrets(response)
        exchange = Exchange(
            method=request.method,
            path=self.secrets.text(path_of(request.url)),
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


async def preflight(
    base_url: str, api_key: str, key_source: str, network: Network | None = None,
    manners: Manners | None = None, *, route: LoginRoute | None = None,
) -> None:
    """Stops the session early, with one sentence, when the target cannot be tested (its
    rate limit waited out as any request's)."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise TargetError(f"Target URL {base_url!r} is not an absolute http(s) URL.")
    options = (network or Network()).httpx_options(base_url)
    options["transport"] = PoliteTransport(options["transport"], manners)
    route = route or LoginRoute()
    try:
        async with httpx.AsyncClient(**options, base_url=base_url, timeout=10.0) as http:
            response = await route.send(http, api_key)
    except RateLimited as error:
        raise TargetError(f"Target {base_url} kept limiting the first login: {error}") from None
    except httpx.HTTPError as error:
        if sentence := explain(error, base_url):
            raise TargetError(sentence) from None
        raise TargetError(
            f"Target unreachable: {base_url} ({type(error).__name__}: {error or 'no answer'})."
        ) from None
    where = route.where
    content_type = response.headers.get("content-type", "")
    if "json" not in content_type:
        raise TargetError(
            f"Target {base_url} answered {where} with {response.status_code} and "
            f"{content_type or 'no content type'}, not JSON: is this the API's base URL?"
        )
    if response.status_code == 401:
        what = "client credentials" if route.oauth is not None else "API key"
        raise TargetError(f"Target {base_url} rejected the {what} from {key_source} (401).")
    try:
        body = response.json()
    except ValueError:
        raise TargetError(
            f"Target {base_url} answered {where} with a body that is not JSON."
        ) from None
    if response.status_code != 200 or not isinstance(body, dict) or "access_token" not in body:
        raise TargetError(
            f"Target {base_url} answered {where} with {response.status_code} "
            "and no access_token: it does not speak the consent contract."
        )
