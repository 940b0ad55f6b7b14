"""The default dialect's hosted pages (docs/hosted-pages.md): English HTML from the server.

``redirect_url`` is ``/sca/{token}``; GET renders the flow's current step (a Jinja template
of ``sca_sandbox/templates``), each step's form posts to ``/sca/{token}/{step}`` with the
flow's CSRF value and is answered with a 303 (post/redirect/get). Passkeys are JSON calls
from static/passkey.js to ``/sca/{token}/passkey/{call}`` with the CSRF value in a header.

What the flow does (checks, attempts, lockout, expiry, single use, CSRF, passkeys, faults)
is flow.py's and passkeys.py's; this module turns its outcomes into pages and 303s.
"""

from __future__ import annotations

from typing import Any

import jinja2
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import faults, staging
from ..consents import ACTIONS
from ..context import sandbox_of
from ..flow import (
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
from ..passkeys import (
    authentication_options,
    credential_of,
    has_passkey,
    register_passkey,
    registration_options,
    verify_passkey,
)

router = APIRouter(prefix="/sca", include_in_schema=False)

_templates = jinja2.Environment(
    loader=jinja2.PackageLoader("sca_sandbox", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)
# The pages' own faults (A11Y-*) are one-line switches in the templates: {% if fault(...) %}.
_templates.globals["fault"] = faults.active
# So is the staging personality's page side (--passcode-boxes, --auto-submit).
_templates.globals["staging"] = staging.current

# The flow's alerts (refusals of an input, by their code) as these pages word them.
ALERTS = {
    "pin_digits": "The PIN must be 4 digits.",
    "wrong_cvc2": "Wrong CVC2.",
    "passcode_digits": "The passcode must be 6 digits.",
    "passcodes_differ": "The passcodes do not match.",
    "wrong_code": "Wrong code.",
}


def install(app: FastAPI) -> None:
    app.include_router(router)


def alert_text(alert: dict[str, Any] | None) -> str | None:
    if alert is None:
        return None
    if alert["code"] == "wrong_passcode":
        left = alert["left"]
        return f"Wrong passcode. {left} attempt{'s' if left != 1 else ''} left."
    return ALERTS[alert["code"]]


def page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = _templates.get_template(f"{template}.html").render(**context)
    return HTMLResponse(html, status_code=status)


# --- end pages, and outcomes as answers ---------------------------------------------------


def invalid() -> HTMLResponse:
    return page(
        "message",
        404,
        title="This link is not valid",
        text="Ask the service that sent you here for a new link.",
    )


def refused() -> HTMLResponse:
    return page(
        "message",
        403,
        title="Request refused",
        text="The form was not sent from this page. Open the link again.",
    )


def completed() -> HTMLResponse:
    return page(
        "message",
        409,
        title="This consent is already completed",
        text="Nothing more to do here. You can close this window.",
    )


def expired_page(flow: Flow) -> HTMLResponse:
    return page(
        "message",
        410,
        title="This link has expired",
        text="Ask for a new link to try again.",
        close_url=f"{flow.base}/close" if flow.consent["return_url"] else None,
        csrf=flow.state.get("csrf", ""),
    )


def end_page(end: End) -> HTMLResponse:
    if end.kind == "invalid":
        return invalid()
    if end.kind == "refused":
        return refused()
    if end.kind == "expired" and end.flow is not None:
        return expired_page(end.flow)
    return completed()


def answer(outcome: Outcome) -> Response:
    """An outcome as these pages give it: a 303 (post/redirect/get) or an end page."""
    if isinstance(outcome, Show):
        return RedirectResponse(outcome.flow.base, status_code=303)
    if isinstance(outcome, Leave):
        return RedirectResponse(outcome.url, status_code=303)
    return end_page(outcome)


# --- GET: the current step ----------------------------------------------------------------


def _summary_rows(flow: Flow) -> list[tuple[str, str]]:
    summary = shown_summary(flow)
    if flow.action == "external_payment":
        amount = summary["amount"]
        rows = [
            ("Amount", f"{amount // 100}.{amount % 100:02d} {summary['currency']}"),
            ("Payee", summary["payee"]),
        ]
        if summary.get("iban"):
            rows.append(("IBAN", summary["iban"]))
        else:
            rows.append(("Account", summary["account"]))
        rows.append(("Reference", summary["reference"]))
        return rows
    if flow.action in ("card_details", "card_activation"):
        return [("Card", f"•••• {summary['last4']}")]
    return [("Name", summary["name"])]


def _action_title(flow: Flow) -> str:  # PAGE-1
    return "Consent request" if action_hidden() else ACTIONS[flow.action].title


def render(flow: Flow) -> Response:
    step, alert = enter(flow)
    common = {"base": flow.base, "csrf": flow.state["csrf"], "alert": alert_text(alert)}
    if step == "summary":
        return page(
            "summary",
            title=_action_title(flow),
            rows=_summary_rows(flow),
            decline=offers_decline(),
            **common,
        )
    if step == "identify":
        return page("identify", has_passkey=has_passkey(flow), **common)
    if step == "passcode":
        return page("passcode", **common)
    if step == "locked":
        return page(
            "message",
            title="Too many wrong attempts",
            text="This consent can no longer be approved.",
            close_url=f"{flow.base}/close",
            csrf=flow.state["csrf"],
        )
    if step == "pin":
        return page("pin", **common)
    if step == "cvc":
        return page("cvc", **common)
    if step == "activated":
        return page("activated", **common)
    if step == "details":
        return page("details", **card_details(flow), **common)
    if step == "create_passcode":
        return page("create_passcode", **common)
    if step == "sms":  # onboarding's phone number, or an action confirmed (--sms-step)
        confirming = flow.action != "onboarding"
        return page("sms", phone=masked_phone(flow), shown_code=_shown_code(flow),
                    confirming=confirming,
                    title="Confirm with SMS code" if confirming else "Confirm your phone number",
                    **common)
    if step == "add_passkey":
        return page("add_passkey", **common)
    return completed()


def _shown_code(flow: Flow) -> str | None:
    """The code just texted, where staging shows it on the page (--sms-code-on-page)."""
    if not staging.current().sms_code_on_page:
        return None
    row = flow.store.one(
        "SELECT code FROM sms_codes WHERE client_id = ? AND phone_number = ?"
        " ORDER BY id DESC LIMIT 1",
        flow.consent["client_id"], flow.individual()["phone_number"],
    )
    return str(row["code"]) if row else None


@router.get("/done")
async def done(request: Request) -> HTMLResponse:
    status = request.query_params.get("status", "")
    text = {
        "approved": "You approved the request.",
        "declined": "You declined the request.",
        "failed": "The request could not be approved.",
        "expired": "The request has expired.",
    }
    return page("message", title="Done", text=text.get(status, "You can close this window."))


@router.get("/{token}")
async def show(token: str, request: Request) -> Response:
    flow = opened(sandbox_of(request), token)
    return end_page(flow) if isinstance(flow, End) else render(flow)


# --- POST: a step's form ------------------------------------------------------------------


async def _begin(
    request: Request,
    token: str,
    steps: tuple[str, ...],
    *,
    json_call: bool = False,
    closing: bool = False,
) -> Flow | Response:
    """``check`` with the CSRF value of a form (or a script's header); a Response means
    stop and send it."""
    if json_call:
        given = request.headers.get("x-csrf-token")
    else:
        try:
            given_value = (await request.form()).get("csrf")
        except Exception:  # whatever makes the form unreadable, it is refused
            given_value = None
        given = given_value if isinstance(given_value, str) else None
    checked = check(sandbox_of(request), token, given, steps, closing=closing)
    return checked if isinstance(checked, Flow) else answer(checked)


async def _post(request: Request, token: str, name: str) -> Response:
    post = POSTS[name]
    flow = await _begin(request, token, post.steps, closing=post.closing)
    if isinstance(flow, Response):
        return flow
    form = await request.form()
    fields = {field: _text(form.get(field)) for field in post.fields}
    return answer(await post.run(flow, fields))


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


@router.post("/{token}/{name}")
async def post_step(token: str, name: str, request: Request) -> Response:
    """Every step's form post (POSTS names them); anything else is not a page."""
    if name not in POSTS:
        raise StarletteHTTPException(404)
    return await _post(request, token, name)


# --- passkeys: JSON calls from static/passkey.js ------------------------------------------


def _json_error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"errors": [{"field": None, "message": message}]}, status_code=status)


def _as_json(response: Response) -> Response:
    """A page answer from _begin, turned into something the script can show."""
    if isinstance(response, RedirectResponse):
        return JSONResponse({"redirect": response.headers["location"]})
    return _json_error("This step is not available any more.", response.status_code)


def _redirect(result: Outcome | str) -> JSONResponse:
    if isinstance(result, str):
        return _json_error(result)
    if isinstance(result, Leave):
        return JSONResponse({"redirect": result.url})
    assert isinstance(result, Show), result  # a passkey step never ends on an error page
    return JSONResponse({"redirect": result.flow.base})


@router.post("/{token}/passkey/register-options")
async def register_options(token: str, request: Request) -> Response:
    flow = await _begin(request, token, ("add_passkey",), json_call=True)
    if isinstance(flow, Response):
        return _as_json(flow)
    return Response(registration_options(flow), media_type="application/json")


@router.post("/{token}/passkey/register")
async def register(token: str, request: Request) -> Response:
    credential = await credential_of(request)  # before the checks: no await after them
    flow = await _begin(request, token, ("add_passkey",), json_call=True)
    if isinstance(flow, Response):
        return _as_json(flow)
    return _redirect(register_passkey(flow, credential))


@router.post("/{token}/passkey/options")
async def authentication_options_call(token: str, request: Request) -> Response:
    flow = await _begin(request, token, ("identify",), json_call=True)
    if isinstance(flow, Response):
        return _as_json(flow)
    options = authentication_options(flow)
    if options is None:
        return _json_error("No passkey is registered.")
    return Response(options, media_type="application/json")


@router.post("/{token}/passkey/verify")
async def verify(token: str, request: Request) -> Response:
    credential = await credential_of(request)  # before the checks: no await after them
    flow = await _begin(request, token, ("identify",), json_call=True)
    if isinstance(flow, Response):
        return _as_json(flow)
    return _redirect(verify_passkey(flow, credential))
