"""The ASGI application: JSON API, hosted pages, static files, headers, error shapes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import __version__, api, auth, faults
from .consents import ACTIONS
from .context import Sandbox
from .dialects import Dialect, dialect_of
from .dialects import install as install_dialect
from .dialects.redirect import describe_onboarding
from .errors import (
    ApiError,
    error_response,
    on_api_error,
    on_http_error,
    on_unexpected,
    on_validation_error,
)
from .limits import RequestRateLimit

_NO_CSP = ("/docs", "/redoc")


def security_headers() -> list[tuple[bytes, bytes]]:
    """Headers on every response (PAGE-10, PAGE-11): the token travels in page URLs."""
    csp = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'"
    headers = [(b"x-content-type-options", b"nosniff")]
    if not faults.active("framing-allowed"):
        headers.append((b"x-frame-options", b"DENY"))
        csp += "; frame-ancestors 'none'"
    headers.append((b"content-security-policy", csp.encode()))
    if faults.active("cacheable-pages"):
        headers.append((b"cache-control", b"public, max-age=300"))
    else:
        headers += [(b"cache-control", b"no-store"), (b"referrer-policy", b"no-referrer")]
    return headers


class SecurityHeaders:
    """Pure ASGI middleware (BaseHTTPMiddleware costs too much per request)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.headers = security_headers()
        self.names = {name for name, _ in self.headers}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(_NO_CSP):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() not in self.names
                ]
                message["headers"] = kept + self.headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """Refuse declared bodies over the limit before anything reads them."""

    def __init__(self, app: ASGIApp, limit: int = 1_000_000) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == b"content-length" and (not value.isdigit() or int(value) > self.limit):
                    response = error_response(
                        413, [(None, f"The body is larger than {self.limit} bytes")]
                    )
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document, without a database (it does not depend on one)."""
    return create_app(None).openapi()


ONBOARD = "/v3/individuals/{individual_id}/onboard"
SCOPED = re.compile(r"scope (\w+)")


def describe_dialect(app: FastAPI, dialect: Dialect) -> None:
    """The OpenAPI document says what this dialect answers: its scope names, and a 200 with
    the onboarding page where onboarding is by redirect (not the contract's 412)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = generate()
        scopes = {a.scope: dialect.scope(a.name, a.scope) for a in ACTIONS.values()}
        for path in document["paths"].values():
            for operation in path.values():
                operation["summary"] = SCOPED.sub(
                    lambda m: f"scope {scopes.get(m[1], m[1])}",
                    operation.get("summary", ""),
                )
        if dialect.onboarding == "redirect":
            describe_onboarding(document["paths"][ONBOARD]["post"])
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(sandbox: Sandbox | None) -> FastAPI:
    app = FastAPI(
        title="SCA Sandbox",
        version=__version__,
        description="Reference sandbox of the SCA consent contract (docs/consent-contract.md).",
        redoc_url=None,
    )
    app.state.sandbox = sandbox
    app.include_router(auth.router)
    app.include_router(api.router)
    dialect = dialect_of(sandbox)
    install_dialect(app, dialect.name)  # its hosted pages (sca_sandbox/dialects)
    describe_dialect(app, dialect)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)
    app.add_middleware(BodyLimit)
    if sandbox is not None and sandbox.limits.requests is not None:
        app.add_middleware(RequestRateLimit, window=sandbox.limits.requests,
                           signing_secret=sandbox.signing_secret)
    app.add_middleware(SecurityHeaders)
    return app
