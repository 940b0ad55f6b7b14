"""The one error shape of the API: ``{"errors": [{"field": ..., "message": ...}]}``."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from . import faults

log = logging.getLogger("sca_sandbox")


class ApiError(Exception):
    def __init__(
        self, status: int, message: str, field: str | None = None, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.errors = [(field, message)]
        self.code = code  # set: the provider's envelope, {"error": {"code", "message"}}


def error_response(status: int, errors: Sequence[tuple[str | None, str]]) -> JSONResponse:
    named = not faults.active("validation-error-without-field")
    body = {"errors": [{"field": f if named else None, "message": m} for f, m in errors]}
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


def _field(loc: Sequence[Any]) -> str | None:
    parts = (
        [str(p) for p in loc[1:]]
        if loc and loc[0] in ("body", "query", "path", "header")
        else [str(p) for p in loc]
    )
    return ".".join(parts) or None


def _message(error: dict[str, Any]) -> str:
    message = str(error.get("msg", "is invalid"))
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if error.get("type") == "missing":
        return "is required"
    if error.get("type") == "extra_forbidden":
        return "is not a known field"
    return message


async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors: list[tuple[str | None, str]] = []
    for error in exc.errors():
        loc = tuple(error.get("loc", ()))
        if error.get("type") == "json_invalid":
            if faults.active("malformed-json-500"):
                return JSONResponse({"detail": "Internal Server Error"}, status_code=500)
            errors.append((None, "The body is not valid JSON"))
        elif loc == ("body",) and error.get("type") == "missing":
            errors.append((None, "A JSON body is required"))
        elif loc == ("body",):
            errors.append((None, "The body must be a JSON object: " + _message(error)))
        else:
            errors.append((_field(loc), _message(error)))
    return error_response(400, errors or [(None, "Invalid request")])


async def on_api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    if exc.code is not None:
        body = {"error": {"code": exc.code, "message": str(exc)}}
        return JSONResponse(body, status_code=exc.status, headers={"Cache-Control": "no-store"})
    return error_response(exc.status, exc.errors)


async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    messages = {404: "Not found", 405: "Method not allowed"}
    response = error_response(
        exc.status_code, [(None, messages.get(exc.status_code, str(exc.detail)))]
    )
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    # A true bug: the fuzzer must never reach this.
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, [(None, "Internal error")])
