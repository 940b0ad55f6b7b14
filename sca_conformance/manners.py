"""Manners (contract section 8a): what the client does when the target protects itself. A
429 (or a 503 with Retry-After) is waited out and retried within bounds, below the
recording hook (`PoliteTransport`), and requests keep a pace (`Pacer`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from sca_conformance import failures
from sca_conformance.failures import hides_in_verdicts

__tracebackhide__ = hides_in_verdicts


def path_of(url: httpx.URL) -> str:
    """A request's path with its query, as a step or a message names it."""
    query = f"?{url.query.decode()}" if url.query else ""
    return f"{url.path}{query}"


THROTTLED = 429
UNAVAILABLE = 503


@dataclass(frozen=True)
class Manners:
    """How long one request may wait out a target's rate limit, and the pace of a worker. A
    429 (with Retry-After, seconds or an HTTP date; without one, a backoff doubling from
    `backoff_seconds`) and a 503 with Retry-After are waited out and the request sent again,
    at most `max_tries` times in all and `max_wait_seconds` of waiting; then the test is not
    prepared (RateLimited), never a verdict."""

    max_wait_seconds: float = 120.0
    max_tries: int = 6
    backoff_seconds: float = 1.0
    requests_per_second: float | None = None  # the pace of one worker; None: no pace


@dataclass(frozen=True)
class Wait:
    """One rate limit waited out: the answer that asked for it and how long it lasted."""

    method: str
    path: str  # redacted
    status: int
    seconds: float
    retry_after: str  # as the target wrote it; empty: none, a backoff
    attempt: int  # the answer's send, from 1

    @property
    def title(self) -> str:
        said = f"Retry-After: {self.retry_after}" if self.retry_after else "no Retry-After"
        return (f"Rate limited: {self.method} {self.path} → {self.status} ({said}): "
                f"waited {self.seconds:.1f} s, send {self.attempt + 1} next")


class RateLimited(failures.TargetNotPrepared):
    """The target kept limiting a request past the bounds of Manners: the test cannot give a
    verdict (contract section 8a: a 429 is the target protecting itself)."""

    def __init__(self, method: str, path: str, status: int, *, tries: int, waited: float,
                 asked: float | None, manners: Manners) -> None:
        more = (f", then asked for {asked:.0f} s more" if asked is not None
                and waited + asked > manners.max_wait_seconds else "")
        super().__init__(
            "rate limited",
            f"{method} {path} answered {status} {tries} time(s); waited {waited:.1f} s in "
            f"all{more} (bounds: rate_limits.max_tries = {manners.max_tries}, "
            f"rate_limits.max_wait_seconds = {manners.max_wait_seconds:g})",
        )


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds from `now` (the target's Date): delay-seconds or an HTTP date;
    None when absent or unreadable."""
    if not value or not value.strip():
        return None
    value = value.strip()
    with suppress(ValueError):
        return max(float(value), 0.0)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)


Sleep = Callable[[float], Any]


class Pacer:
    """At most `per_second` sends a second from this process, each waiting its turn."""

    def __init__(self, per_second: float, *, sleep: Sleep = asyncio.sleep) -> None:
        self.interval = 1.0 / per_second
        self.sleep = sleep
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def turn(self) -> None:
        async with self._lock:
            now = time.monotonic()
            if self._next > now:
                await self.sleep(self._next - now)
                now = self._next
            self._next = now + self.interval


class PoliteTransport(httpx.AsyncBaseTransport):
    """Wraps a transport: paces every send, waits out a 429 or a 503 with Retry-After and
    sends the request again, bounded by Manners. Below the client's event hooks: a report
    shows the answer that counted, and one step per wait (`on_wait`)."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        manners: Manners | None = None,
        *,
        pacer: Pacer | None = None,
        on_wait: Callable[[Wait], None] | None = None,
        mask: Callable[[str], str] = str,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.inner = inner
        self.manners = manners or Manners()
        self.pacer = pacer
        self.on_wait = on_wait
        self.mask = mask
        self.sleep = sleep

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        waited, tries = 0.0, 0
        while True:
            if self.pacer is not None:
                await self.pacer.turn()
            response = await self.inner.handle_async_request(request)
            tries += 1
            delay, said = self._delay(response, tries)
            if delay is None:
                return response
            await response.aread()
            await response.aclose()
            path = self.mask(path_of(request.url))
            if tries >= self.manners.max_tries or waited + delay > self.manners.max_wait_seconds:
                raise RateLimited(request.method, path, response.status_code, tries=tries,
                                  waited=waited, asked=delay, manners=self.manners)
            if self.on_wait is not None:
                self.on_wait(Wait(request.method, path, response.status_code, delay, said, tries))
            await self.sleep(delay)
            waited += delay

    def _delay(self, response: httpx.Response, tries: int) -> tuple[float | None, str]:
        """How long the answer asks to wait (None: it is an answer), and its Retry-After."""
        if response.status_code not in (THROTTLED, UNAVAILABLE):
            return None, ""
        said = response.headers.get("retry-after", "")
        now = datetime.now(UTC)
        with suppress(KeyError, TypeError, ValueError, IndexError):
            now = parsedate_to_datetime(response.headers["date"]).astimezone(UTC)
        seconds = retry_after_seconds(said, now)
        if seconds is not None:
            return seconds, said
        if response.status_code == UNAVAILABLE:  # no Retry-After: an answer (ERR-3's)
            return None, ""
        return self.manners.backoff_seconds * 2 ** (tries - 1), ""

    async def aclose(self) -> None:
        await self.inner.aclose()
