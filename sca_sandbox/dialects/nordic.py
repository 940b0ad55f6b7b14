"""The nordic dialect's hosted pages: one static shell, the steps as JSON, Swedish texts.

    GET  /sca/consent?token=T               the shell; nordic.js renders every step in it
    GET  /sca/done?consent_id=..&status=..  the same shell, showing "Klart"
    GET  /sca/api/flow?token=T              the current step as JSON, or the end state (4xx)
    POST /sca/api/flow/{action}?token=T     a step's action: JSON body, header X-CSRF-Token;
                                            answers the next step, or {"redirect": url}
    POST /sca/api/passkey/{call}?token=T    WebAuthn options and answers

What the flow does (checks, attempts, lockout, expiry, single use, CSRF, passkeys, faults)
is flow.py's and passkeys.py's; this module only presents it. The texts are in
nordic_static/nordic.js.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import faults, passkeys
from ..context import sandbox_of
from ..flow import (
    END_STATUS,
    POSTS,
    End,
    Flow,
    Leave,
    Outcome,
    Show,
    action_hidden,
    card_details,
    check,
    enter,
    masked_phone,
    offers_decline,
    opened,
    shown_summary,
)
from . import NORDIC

STATIC = Path(__file__).parent / "nordic_static"
SHELL = (STATIC / "shell.html").read_text(encoding="utf-8")
STEPS = (
    "summary",
    "identify",
    "passcode",
    "locked",
    "pin",
    "cvc",
    "activated",
    "details",
    "create_passcode",
    "sms",
    "add_passkey",
)
PASSKEY_CALLS = {
    "register-options": ("add_passkey",),
    "register": ("add_passkey",),
    "options": ("identify",),
    "verify": ("identify",),
}

router = APIRouter(prefix="/sca", include_in_schema=False)


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/assets/nordic", StaticFiles(directory=STATIC), name="nordic")
    app.add_middleware(JsonCharset)


class JsonCharset:
    """Every JSON answer names its charset: ``application/json; charset=utf-8``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_charset(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    (name, _with_charset(value) if name.lower() == b"content-type" else value)
                    for name, value in message.get("headers", [])
                ]
            await send(message)

        await self.app(scope, receive, send_with_charset)


def _with_charset(value: bytes) -> bytes:
    if value.split(b";")[0].strip().lower() == b"application/json" and b"charset" not in value:
        return b"application/json; charset=utf-8"
    return value


# --- the shell ----------------------------------------------------------------------------


@router.get("/consent")
@router.get("/done")
async def shell() -> HTMLResponse:
    """The same static page for every token: the script asks the API what to show (and
    reads the active faults from the shell: its own switches, A11Y-*, are in nordic.js)."""
    named = f'<meta name="sandbox-faults" content="{",".join(faults.active_names())}">'
    return HTMLResponse(SHELL.replace('<meta name="sandbox-faults" content="">', named))


# --- the steps as JSON --------------------------------------------------------------------


def _token(request: Request) -> str:
    return request.query_params.get("token", "")


def _summary(flow: Flow) -> dict[str, Any]:
    summary = shown_summary(flow)
    shown = ("amount", "currency", "payee", "iban", "account", "reference", "last4", "name")
    return {
        "action": None if action_hidden() else flow.action,
        "brand": NORDIC.brand,
        "decline": offers_decline(),
        "details": {key: summary[key] for key in shown if summary.get(key) is not None},
    }


def _step(flow: Flow) -> JSONResponse:
    """The flow's current step, as a GET of the default pages would render it."""
    step, alert = enter(flow)
    if step not in STEPS:
        return _end(End("completed"))
    body: dict[str, Any] = {"step": step, "csrf": flow.state["csrf"], "alert": alert}
    if step == "summary":
        body["summary"] = _summary(flow)
    elif step == "identify":
        body["passkey"] = passkeys.has_passkey(flow)
    elif step == "sms":
        body["phone"] = masked_phone(flow)
    elif step == "details":
        body["card"] = card_details(flow)
    return JSONResponse(body)


def _end(end: End) -> JSONResponse:
    body: dict[str, Any] = {"step": end.kind, "close": False}
    if end.kind == "expired" and end.flow is not None and end.flow.consent["return_url"]:
        body |= {"close": True, "csrf": end.flow.state.get("csrf", "")}
    return JSONResponse(body, status_code=END_STATUS[end.kind])


def _show(flow: Flow) -> JSONResponse:
    found = opened(flow.sandbox, flow.token)
    return _end(found) if isinstance(found, End) else _step(found)


def _outcome(outcome: Outcome) -> JSONResponse:
    if isinstance(outcome, Leave):  # the page goes there with location.replace()
        return JSONResponse({"redirect": outcome.url})
    if isinstance(outcome, Show):
        return _show(outcome.flow)
    return _end(outcome)


def _refusal(message: str) -> JSONResponse:
    return JSONResponse({"errors": [{"field": None, "message": message}]}, status_code=400)


@router.get("/api/flow")
async def current(request: Request) -> JSONResponse:
    found = opened(sandbox_of(request), _token(request))
    return _end(found) if isinstance(found, End) else _step(found)


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _checked(request: Request, steps: tuple[str, ...], *, closing: bool = False) -> Flow | Outcome:
    return check(
        sandbox_of(request),
        _token(request),
        request.headers.get("x-csrf-token"),
        steps,
        closing=closing,
    )


@router.post("/api/flow/{name}")
async def act(name: str, request: Request) -> JSONResponse:
    post = POSTS.get(name)
    if post is None:
        raise HTTPException(404)
    body = await _body(request)  # before the checks: no await between them and the step
    flow = _checked(request, post.steps, closing=post.closing)
    if not isinstance(flow, Flow):
        return _outcome(flow)
    fields = {field: _text(body.get(field)) for field in post.fields}
    return _outcome(await post.run(flow, fields))


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


@router.post("/api/passkey/{call}")
async def passkey(call: str, request: Request) -> Response:
    steps = PASSKEY_CALLS.get(call)
    if steps is None:
        raise HTTPException(404)
    credential = await passkeys.credential_of(request)  # before the checks, as in act
    flow = _checked(request, steps)
    if not isinstance(flow, Flow):
        return _outcome(flow)
    if call == "register-options":
        options = passkeys.registration_options(flow, rp_name=NORDIC.brand)
        return Response(options, media_type="application/json")
    if call == "options":
        found = passkeys.authentication_options(flow)
        if found is None:
            return _refusal("No passkey is registered.")
        return Response(found, media_type="application/json")
    result = (
        passkeys.register_passkey(flow, credential)
        if call == "register"
        else passkeys.verify_passkey(flow, credential)
    )
    return _refusal(result) if isinstance(result, str) else _outcome(result)
