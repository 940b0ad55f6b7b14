"""Knowing when the browser is back on return_url, reachable or not.

The browser's own navigation requests tell where it went, even when return_url's host
does not answer; a loopback receiver gives the default return_url a real page to land on.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

from playwright.async_api import Frame, Page, Request


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


class LandingWatcher:
    """Resolves with the first navigation of `page` to a URL under `return_url`, once the
    page has committed it (or Chromium's error page, when the host does not answer), so
    the next navigation cannot collide with it."""

    def __init__(self, page: Page, return_url: str) -> None:
        self.prefix = return_url.split("?", 1)[0]
        self.page = page
        loop = asyncio.get_running_loop()
        self._landed: asyncio.Future[str] = loop.create_future()
        self._settled: asyncio.Future[None] = loop.create_future()
        page.on("request", self._on_request)
        page.on("framenavigated", self._on_navigated)

    def _on_request(self, request: Request) -> None:
        if (
            request.is_navigation_request()
            and request.url.startswith(self.prefix)
            and not self._landed.done()
        ):
            self._landed.set_result(request.url)

    def _on_navigated(self, frame: Frame) -> None:
        if frame != self.page.main_frame or self._settled.done() or not self._landed.done():
            return
        if frame.url.startswith(self.prefix) or frame.url.startswith("chrome-error://"):
            self._settled.set_result(None)

    @property
    def landed(self) -> bool:
        return self._landed.done()

    async def wait(self, timeout: float = 10.0) -> str:
        """The landing URL; raises TimeoutError if the browser never went there."""
        url = await asyncio.wait_for(asyncio.shield(self._landed), timeout)
        await asyncio.wait_for(asyncio.shield(self._settled), timeout)
        return url
