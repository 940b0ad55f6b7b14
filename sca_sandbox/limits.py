"""Rate limits, off by default: a target protecting itself as the provider's staging does
(contract section 8a). ``--login-rate-limit N``: N logins a minute per API key, the next one
answers 429; ``--request-rate-limit N``: N requests a second per client (its bearer token),
the next one answers 429. Each 429 says in Retry-After when one more would be admitted."""

from __future__ import annotations

import math
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from .errors import error_response
from .security import read_access_token


class Window:
    """At most `limit` events per `seconds` for each key (a sliding window of their times)."""

    def __init__(self, limit: int, seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.seconds = seconds
        self.clock = clock
        self.events: defaultdict[str, deque[float]] = defaultdict(deque)

    def admit(self, key: str) -> int | None:
        """None when admitted (and counted); else Retry-After: the whole seconds until one
        more event of the key would be."""
        now = self.clock()
        events = self.events[key]
        while events and events[0] <= now - self.seconds:
            events.popleft()
        if len(events) >= self.limit:
            return max(math.ceil(events[0] + self.seconds - now), 1)
        events.append(now)
        return None


@dataclass
class Limits:
    logins: Window | None = None
    requests: Window | None = None

    @classmethod
    def of(cls, logins_per_minute: int, requests_per_second: int) -> Limits:
        return cls(Window(logins_per_minute, 60.0) if logins_per_minute else None,
                   Window(requests_per_second, 1.0) if requests_per_second else None)

    def check_login(self, key_hash: str) -> None:
        """Raises the 429 of a login over the limit (before the key is even looked at)."""
        wait = self.logins.admit(key_hash) if self.logins else None
        if wait is not None:
            raise HTTPException(429, f"Too many logins with this API key: retry in {wait} s",
                                headers={"Retry-After": str(wait)})


class RequestRateLimit:
    """Pure ASGI middleware: a client's requests over the limit answer 429 with Retry-After.
    A request without a valid bearer token is not counted (its endpoint refuses it)."""

    def __init__(self, app: ASGIApp, window: Window, signing_secret: str) -> None:
        self.app = app
        self.window = window
        self.signing_secret = signing_secret

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = self._client(scope) if scope["type"] == "http" else None
        wait = self.window.admit(client) if client else None
        if wait is None:
            await self.app(scope, receive, send)
            return
        response = error_response(
            429, [(None, f"Too many requests from this client: retry in {wait} s")])
        response.headers["Retry-After"] = str(wait)
        await response(scope, receive, send)

    def _client(self, scope: Scope) -> str | None:
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                if scheme.lower() != "bearer":
                    return None
                claims = read_access_token(self.signing_secret, token.strip())
                return str(claims["sub"]) if claims else None
        return None


class Throttle:
    """Pure ASGI middleware (``--throttle-every N``): every Nth API request of a caller
    answers 429 with ``Retry-After: retry_after``, whatever it asks; a target that throttles
    without a pattern a client could learn. A caller is its Authorization header (the login
    and other requests without one are one caller). The hosted pages are not counted: a
    browser does not retry."""

    def __init__(self, app: ASGIApp, every: int, retry_after: int, prefix: str = "/v3/") -> None:
        self.app = app
        self.every = every
        self.retry_after = retry_after
        self.prefix = prefix
        self.counts: defaultdict[bytes, int] = defaultdict(int)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        caller = next((value for name, value in scope["headers"] if name == b"authorization"),
                      b"")
        self.counts[caller] += 1
        if self.counts[caller] % self.every:
            await self.app(scope, receive, send)
            return
        response = error_response(
            429, [(None, f"Too many requests: retry in {self.retry_after} s")])
        response.headers["Retry-After"] = str(self.retry_after)
        await response(scope, receive, send)
