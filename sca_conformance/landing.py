"""Knowing when the browser is back on return_url, reachable or not.

The browser's own navigation requests tell where it went, even when return_url's host
does not answer; a loopback receiver gives the default return_url a real page to land on.
"""

from __future__ import annotations

import asyncio
import re
import threading
import uuid
import weakref
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import ClassVar, TypeVar

from playwright.async_api import Frame, Page, Request

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
        if request.is_navigation_request():
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
            url = await self._until(lambda: self._next_match(pattern))
            await self._until(lambda: self._settled(url))
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

    async def _until(self, condition: Callable[[], T | None]) -> T:
        while True:
            result = condition()
            if result:
                return result
            self._changed.clear()
            await self._changed.wait()


class LandingWatcher:
    """Waits for the page to reach `return_url` (its path; the provider adds to the query)."""

    def __init__(self, page: Page, return_url: str) -> None:
        self.prefix = return_url.split("?", 1)[0]
        self.log = NavigationLog.of(page)
        self._landing: str | None = None

    async def wait(self, timeout: float = 10.0) -> str:
        """The landing URL; raises TimeoutError if the browser never went there."""
        if self._landing is None:
            self._landing = await self.log.wait_for(f"^{re.escape(self.prefix)}", timeout)
        return self._landing
