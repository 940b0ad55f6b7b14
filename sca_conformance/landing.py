"""Knowing when the browser is back on return_url, reachable or not.

The browser's own navigation requests tell where it went, even when return_url's host
does not answer; a loopback receiver gives the default return_url a real page to land on,
and a return_url registered with the provider is answered inside the browser.
"""

from __future__ import annotations

import asyncio
import re
import threading
import uuid
import weakref
from collections.abc import Awaitable, Callable
from contextlib import suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast
from urllib.parse import urlsplit, urlunsplit

from playwright.async_api import BrowserContext, Frame, Page, Request, Route
from playwright.async_api import Error as PlaywrightError

from sca_conformance.failures import Mismatch, RequirementViolation, hides_in_verdicts

if TYPE_CHECKING:
    from sca_conformance.pages import Wording

__tracebackhide__ = hides_in_verdicts

T = TypeVar("T")


class ReturnReceiver:
    """A loopback HTTP server standing in for the client's return_url; records arrivals."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        receiver = self
        self.arrivals: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                receiver.arrivals.append(self.path)
                body = b"<!doctype html><title>Client</title><h1>Back at the client</h1>"
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the browser moved on before the page finished: it has landed

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer((host, 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.base_url = f"http://{host}:{self._server.server_address[1]}"

    def __enter__(self) -> ReturnReceiver:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()

    def new_return_url(self) -> str:
        """A return_url of one test's own, with a path and a query of its own to preserve."""
        return f"{self.base_url}/sca/return/{uuid.uuid4().hex[:12]}?order={uuid.uuid4().hex[:8]}"


class RegisteredReturn(ReturnReceiver):
    """The return_url registered with the provider (the profile's target.return_url): the
    suite sends it, a nonce of each test's own in what the provider preserves (its query, or
    its fragment), and serves nothing there. The browser's arrival is known from its
    navigation (NavigationLog) and answered inside the browser (`land_without_serving`).
    A ReturnReceiver without a server, so that whatever takes a receiver takes this."""

    def __init__(self, return_url: str, nonce: str = "query") -> None:
        self.arrivals = []
        self.return_url = return_url
        self.nonce = nonce
        self.base_url = origin(return_url)

    def __enter__(self) -> ReturnReceiver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass

    def new_return_url(self) -> str:
        nonce = uuid.uuid4().hex[:12]
        parts = urlsplit(self.return_url)
        if self.nonce == "query":
            query = f"{parts.query}&sca_test={nonce}" if parts.query else f"sca_test={nonce}"
            return urlunsplit(parts._replace(query=query))
        if self.nonce == "fragment":
            return urlunsplit(parts._replace(fragment=f"sca_test={nonce}"))
        return self.return_url


async def land_without_serving(context: BrowserContext, return_url: str) -> None:
    """The browser's arrival at `return_url`'s origin and path is answered in the browser
    with a small page: nothing is served by the suite, nothing reaches the client's host."""
    prefix = place(return_url)

    async def landed(route: Route) -> None:
        await route.fulfill(status=200, content_type="text/html; charset=utf-8",
                            body=LANDED_PAGE)

    await context.route(re.compile("^" + re.escape(prefix) + r"([?#]|$)"), landed)


LANDED_PAGE = "<!doctype html><title>Client</title><h1>Back at the client</h1>"


def place(url: str) -> str:
    """`url` without its query and fragment: what a provider keeps of return_url."""
    return re.split(r"[?#]", url, maxsplit=1)[0]


class NavigationLog:
    """Every navigation a page starts, in order, whether or not its host answers, and
    waits for the next one that matches. (A redirect to an unreachable host leaves
    `page.url` on Chromium's error page, so the page's URL cannot tell where it went.)"""

    _logs: ClassVar[weakref.WeakKeyDictionary[Page, NavigationLog]] = weakref.WeakKeyDictionary()

    def __init__(self, page: Page) -> None:
        self.page = page
        self.urls: list[str] = []
        self.committed: list[str] = []
        self._cursors: dict[str, int] = {}  # per pattern: where its next wait starts
        self._changed = asyncio.Event()
        page.on("request", self._requested)
        page.on("framenavigated", self._navigated)
        NavigationLog._logs[page] = self

    @classmethod
    def of(cls, page: Page) -> NavigationLog:
        return cls._logs.get(page) or cls(page)

    def _requested(self, request: Request) -> None:
        # The page's own navigations: a frame on the page (a security check, a video)
        # loading its document has not taken the browser anywhere.
        if request.is_navigation_request() and _frame_of(request) in (None, self.page.main_frame):
            self.urls.append(request.url)
            self._changed.set()

    def _navigated(self, frame: Frame) -> None:
        if frame == self.page.main_frame:
            self.committed.append(frame.url)
            self._changed.set()

    async def wait_for(self, pattern: str, timeout: float = 10.0) -> str:
        """The next navigation (after the last one returned for it) matching `pattern`,
        once the page has committed it, or Chromium's error page for it, so that the next
        navigation cannot collide with it."""
        async with asyncio.timeout(timeout):
            url = await self.until(lambda: self._next_match(pattern))
            await self.until(lambda: self._settled(url))
            return url

    def _next_match(self, pattern: str) -> str | None:
        for index in range(self._cursors.get(pattern, 0), len(self.urls)):
            if re.search(pattern, self.urls[index]):
                self._cursors[pattern] = index + 1
                return self.urls[index]
        return None

    def _settled(self, url: str) -> bool:
        last = self.committed[-1] if self.committed else ""
        return last == url or last.startswith("chrome-error://")

    async def until(self, condition: Callable[[], T | None]) -> T:
        while True:
            result = condition()
            if result:
                return result
            self._changed.clear()
            await self._changed.wait()


def _frame_of(request: Request) -> Frame | None:
    try:
        return request.frame
    except PlaywrightError:  # a service worker's request has no frame
        return None


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class Guard:
    """Where one hosted flow may take the browser: the hosted pages' origins (redirect_url's
    and any the profile names) and return_url. Anything else is a departure, known from the
    navigation log the moment the browser starts for it."""

    def __init__(
        self, page: Page, redirect_url: str, return_url: str | None,
        hosted_origins: tuple[str, ...] = (),
    ) -> None:
        self.log = NavigationLog.of(page)
        self.start = len(self.log.urls)
        self.return_url = return_url
        self.return_prefix = place(return_url) if return_url else None
        self.origins = {origin(redirect_url), *(origin(o) for o in hosted_origins)}
        self.launching = True

    def launched(self) -> None:
        """The first hosted page shows: every origin the browser passed through to get there
        (a launch host redirecting to the app's host) is one of the hosted pages' origins.
        From now on, any other origin is a departure."""
        if not self.launching:
            return
        returning = origin(self.return_url) if self.return_url else None
        self.origins |= {origin(url) for url in self.log.urls[self.start:]
                         if url.startswith(("http://", "https://")) and origin(url) != returning}
        self.launching = False

    def _outside(self, url: str) -> bool:
        if self.launching or not url.startswith(("http://", "https://")):
            return False
        if self.return_prefix and place(url) == self.return_prefix:
            return False
        return origin(url) not in self.origins

    def departure(self) -> str | None:
        """The first URL of this flow that is neither a hosted page nor return_url."""
        return next((url for url in self.log.urls[self.start:] if self._outside(url)), None)

    async def departed(self) -> str:
        return await self.log.until(self.departure)

    def chain(self) -> str:
        return " -> ".join(self.log.urls[self.start:]) or "(no navigation)"

    def violation(self, requirement_id: str = "PAGE-4") -> RequirementViolation:
        return RequirementViolation(requirement_id, Mismatch(
            "where the browser went", f"return_url {self.return_url}",
            f"{self.departure()} (redirect chain: {self.chain()})",
        ))


async def race(*awaitables: Awaitable[Any]) -> list[asyncio.Future[Any]]:
    """Runs `awaitables` until the first of them ends, cancels the others, and returns
    them all as futures, in order (look at which are done)."""
    tasks: list[asyncio.Future[Any]] = [asyncio.ensure_future(each) for each in awaitables]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            if not task.done():
                task.cancel()
                with suppress(asyncio.CancelledError, Exception):
                    await task
    return tasks


async def first_of(primary: Awaitable[T], guard: Guard | None, requirement_id: str) -> T:
    """`primary`'s result, unless the browser leaves the hosted flow first: then the
    departure is the verdict, at once, and it is PAGE-4's whatever step the flow was in
    (`requirement_id`, the step's, names only what `primary` itself fails)."""
    if guard is None:
        return await primary
    waiting, _ = await race(primary, guard.departed())
    if not waiting.done() or waiting.cancelled():
        raise guard.violation("PAGE-4")
    return cast(T, waiting.result())


class LandingWatcher:
    """Waits for the page to reach `return_url` (its path; the provider adds to the query),
    and says at once when the browser went elsewhere or the page showed an end state."""

    def __init__(
        self, page: Page, return_url: str, wording: Wording, guard: Guard | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.page = page
        self.wording = wording  # the end states, in the target's wording
        self.return_url = return_url
        self.prefix = place(return_url)
        self.log = NavigationLog.of(page)
        self.guard = guard
        self.timeout = timeout
        self._landing: str | None = None

    async def wait(self, requirement_id: str = "PAGE-4") -> str:
        """The landing URL; a violation of `requirement_id` if the browser did not get
        there: it went elsewhere, the page showed an end state, or nothing happened."""
        if self._landing is not None:
            return self._landing
        from sca_conformance.pages import EndStates  # pages import this package's texts

        ends = EndStates(self.page, self.wording).any.first
        landing = asyncio.ensure_future(
            self.log.wait_for(f"^{re.escape(self.prefix)}", self.timeout))
        await asyncio.sleep(0)  # the log looked at once: landed already, no page to watch
        # An end state already shown is the page the individual is leaving (its Close).
        watch_ends = not landing.done() and not await ends.is_visible()
        ended = asyncio.ensure_future(
            ends.wait_for(state="visible", timeout=self.timeout * 1000)
        ) if watch_ends else None
        try:
            self._landing = await first_of(self._first(landing, ended), self.guard,
                                           requirement_id)
        except Mismatch as mismatch:
            raise RequirementViolation(requirement_id, mismatch) from None
        except TimeoutError:
            raise RequirementViolation(requirement_id, Mismatch(
                "the browser's landing", f"return_url {self.return_url} within {self.timeout:g} s",
                f"still at {self.page.url} (navigations: {' -> '.join(self.log.urls) or 'none'})",
            )) from None
        return self._landing

    async def ending(self, requirement_id: str = "PAGE-4") -> str | None:
        """Where a page that may lose a race ends: the landing URL, or None when it shows one
        of the contract's end states instead (already, or before the browser lands); a
        violation of `requirement_id` when it does neither within the landing wait, PAGE-4's
        when the browser leaves for anywhere else."""
        if self._landing is not None:
            return self._landing
        from sca_conformance.pages import EndStates

        ends = EndStates(self.page, self.wording).any.first
        landing = asyncio.ensure_future(
            self.log.wait_for(f"^{re.escape(self.prefix)}", self.timeout))
        ended = asyncio.ensure_future(ends.wait_for(state="visible", timeout=self.timeout * 1000))

        async def either() -> None:  # the first of the two to happen, not to time out
            waiting: set[asyncio.Future[Any]] = {landing, ended}
            while waiting:
                done, waiting = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                if any(future.exception() is None for future in done):
                    return

        try:
            await first_of(either(), self.guard, requirement_id)
        finally:
            for future in (landing, ended):
                if not future.done():
                    future.cancel()
                    with suppress(asyncio.CancelledError, Exception):
                        await future
        if landing.done() and not landing.cancelled() and landing.exception() is None:
            self._landing = landing.result()
            return self._landing
        if ended.done() and not ended.cancelled() and ended.exception() is None:
            return None
        raise RequirementViolation(requirement_id, Mismatch(
            "where the page ended",
            f"return_url {self.return_url} or an end state within {self.timeout:g} s",
            f"still at {self.page.url} (navigations: {' -> '.join(self.log.urls) or 'none'})",
        ))

    async def _first(self, landing: asyncio.Future[str], ended: asyncio.Future[None] | None) -> str:
        try:
            futures: set[asyncio.Future[Any]] = {landing, ended} if ended else {landing}
            await asyncio.wait(futures, return_when=asyncio.FIRST_COMPLETED)
            if landing.done():
                return landing.result()
            assert ended is not None
            if ended.exception() is not None:  # no end state within the time: wait on
                return await landing
            from sca_conformance.pages import EndStates

            shown = await EndStates(self.page, self.wording).any.first.inner_text()
            raise Mismatch("the page instead of return_url", f"return_url {self.return_url}",
                           f"the end state {shown.strip()!r} at {self.page.url}")
        finally:
            for future in (landing, ended):
                if future is not None and not future.done():
                    future.cancel()
                    with suppress(asyncio.CancelledError, Exception):
                        await future
