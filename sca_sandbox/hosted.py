"""The hosted consent pages (docs/hosted-pages.md): server-side flow state per consent.

``redirect_url`` is ``/sca/{token}``; GET renders the flow's current step, each step's form
posts to ``/sca/{token}/{step}`` with the flow's CSRF value and is answered with a 303
(post/redirect/get). Time follows the clock of the session that created the consent.
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
import sqlite3
import uuid
from dataclasses import dataclass
from typing import Any

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from . import faults
from .consents import ACTIONS, landing_url, new_flow, status_of
from .context import Sandbox, sandbox_of
from .security import fast_hash, same, slow_hash, slow_verify
from .store import dumps

router = APIRouter(prefix="/sca", include_in_schema=False)

_templates = jinja2.Environment(
    loader=jinja2.PackageLoader("sca_sandbox", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)

MAX_PASSCODE_ATTEMPTS = 3
MAX_CODE_ATTEMPTS = 5
RESULT_STEPS = ("locked", "activated", "details")
CLOSABLE_STEPS = ("locked", "activated", "details", "details_viewed")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


def page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = _templates.get_template(f"{template}.html").render(**context)
    return HTMLResponse(html, status_code=status)


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


@dataclass
class Flow:
    sandbox: Sandbox
    token: str
    consent: sqlite3.Row
    method: sqlite3.Row
    state: dict[str, Any]
    now: float

    @property
    def store(self) -> Any:
        return self.sandbox.store

    @property
    def action(self) -> str:
        return str(self.consent["action"])

    @property
    def status(self) -> str:
        return status_of(self.consent, self.now)

    @property
    def base(self) -> str:
        return f"/sca/{self.token}"

    def save(self) -> None:
        self.store.run(
            "UPDATE consents SET flow = ? WHERE id = ?", dumps(self.state), self.consent["id"]
        )

    def link_expired(self) -> bool:  # AFTER-6 also keeps links alive
        if faults.active("expiry-not-enforced"):
            return False
        return self.status == "expired" or self.now >= self.method["expires_at"]

    def individual(self) -> sqlite3.Row:
        row: sqlite3.Row = self.store.one(
            "SELECT * FROM individuals WHERE id = ?", self.consent["individual_id"]
        )
        return row

    def landing(self, status: str) -> str:
        return landing_url(self.sandbox, self.consent["return_url"], self.consent["id"], status)


def _nearly(a: str, b: str) -> bool:
    if a.startswith(b) or b.startswith(a):
        return abs(len(a) - len(b)) <= 4
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) <= 3


def _near_match(sandbox: Sandbox, token: str) -> sqlite3.Row | None:
    """Only with the altered-token-accepted fault: a token off by a few characters."""
    for row in sandbox.store.all(
        "SELECT * FROM methods WHERE token_plain IS NOT NULL AND revoked = 0"
    ):
        if _nearly(str(row["token_plain"]), token):
            return row
    return None


def resolve(sandbox: Sandbox, token: str) -> Flow | None:
    if not _TOKEN.match(token):
        return None
    store = sandbox.store
    method = store.one("SELECT * FROM methods WHERE token_hash = ?", fast_hash(token))
    if method is None and faults.active("altered-token-accepted"):  # PAGE-8
        method = _near_match(sandbox, token)
    if method is None or method["revoked"]:
        return None
    consent = store.one("SELECT * FROM consents WHERE id = ?", method["consent_id"])
    if consent is None or not consent["flow"]:
        return None
    return Flow(
        sandbox,
        token,
        consent,
        method,
        json.loads(consent["flow"]),
        store.clock_of(consent["session_id"]),
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


def finish(flow: Flow, status: str) -> str:
    """End the flow (and decide the consent if still pending); the browser's destination."""
    with flow.store.tx():
        if flow.consent["status"] == "pending" and status in ("approved", "declined", "failed"):
            flow.store.run(
                "UPDATE consents SET status = ?, decided_at = ? WHERE id = ?",
                status,
                flow.now,
                flow.consent["id"],
            )
        flow.state["ended"] = True
        flow.save()
    return flow.landing(status)


def _decide(flow: Flow, status: str, step: str) -> None:
    flow.store.run(
        "UPDATE consents SET status = ?, decided_at = ? WHERE id = ? AND status = 'pending'",
        status,
        flow.now,
        flow.consent["id"],
    )
    flow.state["step"] = step


def _restart_if_reusable(flow: Flow) -> bool:  # PAGE-9
    if not faults.active("token-reusable"):
        return False
    with flow.store.tx():
        flow.store.run(
            "UPDATE consents SET status = 'pending', decided_at = NULL, consumed_at = NULL"
            " WHERE id = ?",
            flow.consent["id"],
        )
        flow.state = new_flow() | {"csrf": flow.state["csrf"]}
        flow.save()
    refreshed = flow.store.one("SELECT * FROM consents WHERE id = ?", flow.consent["id"])
    flow.consent = refreshed
    return True


# --- GET: render the current step ---------------------------------------------------------


def _summary_rows(flow: Flow) -> list[tuple[str, str]]:
    summary = json.loads(flow.consent["summary"])
    if flow.action == "external_payment":
        amount = summary["amount"] + (
            100 if faults.active("summary-shows-wrong-amount") else 0
        )  # PAGE-2
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
    return (
        "Consent request" if faults.active("summary-hides-action") else ACTIONS[flow.action].title
    )


def _has_passkey(flow: Flow) -> bool:  # PAGE-3
    if faults.active("passkey-option-missing"):
        return False
    return (
        flow.store.one(
            "SELECT 1 FROM passkeys WHERE individual_id = ?", flow.consent["individual_id"]
        )
        is not None
    )


def _mask(phone: str) -> str:
    return "•" * max(len(phone) - 3, 0) + phone[-2:]


def render(flow: Flow) -> Response:
    state = flow.state
    step = state["step"]
    alert = state.pop("alert", None)
    common = {"base": flow.base, "csrf": state["csrf"], "alert": alert}
    if step == "details":
        state["step"] = "details_viewed"  # card details are shown once
    if alert is not None or step == "details":
        flow.save()
    if step == "summary":
        return page("summary", title=_action_title(flow), rows=_summary_rows(flow), **common)
    if step == "identify":
        return page("identify", has_passkey=_has_passkey(flow), **common)
    if step == "passcode":
        return page("passcode", **common)
    if step == "locked":
        return page(
            "message",
            title="Too many wrong attempts",
            text="This consent can no longer be approved.",
            close_url=f"{flow.base}/close",
            csrf=state["csrf"],
        )
    if step == "pin":
        return page("pin", **common)
    if step == "cvc":
        return page("cvc", **common)
    if step == "activated":
        return page("activated", **common)
    if step == "details":
        card = flow.store.one(
            "SELECT c.exp_month, c.exp_year, s.pan, s.cvc, i.first_name, i.last_name FROM cards c"
            " JOIN card_secrets s ON s.card_id = c.id JOIN individuals i ON i.id = c.individual_id"
            " WHERE c.id = ?",
            flow.consent["subject_id"],
        )
        pan = card["pan"]
        return page(
            "details",
            holder=f"{card['first_name']} {card['last_name']}",
            number=" ".join(pan[i : i + 4] for i in range(0, len(pan), 4)),
            valid_thru=f"{card['exp_month']:02d}/{card['exp_year'] % 100:02d}",
            cvc=card["cvc"],
            **common,
        )
    if step == "create_passcode":
        return page("create_passcode", **common)
    if step == "sms":
        return page("sms", phone=_mask(flow.individual()["phone_number"]), **common)
    if step == "add_passkey":
        return page("add_passkey", **common)
    return completed()


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
    flow = resolve(sandbox_of(request), token)
    if flow is None:
        return invalid()
    if flow.state["ended"] and not _restart_if_reusable(flow):
        return completed()
    if flow.link_expired():
        return expired_page(flow)
    if flow.status != "pending" and flow.state["step"] not in RESULT_STEPS:
        return completed()
    return render(flow)


# --- POST: one handler per step -----------------------------------------------------------


def _csrf_ok(flow: Flow, given: str | None) -> bool:  # PAGE-12
    if faults.active("csrf-not-checked"):
        return True
    return given is not None and same(given, str(flow.state["csrf"]))


async def _begin(
    request: Request,
    token: str,
    steps: tuple[str, ...],
    *,
    json_call: bool = False,
    closing: bool = False,
) -> Flow | Response:
    """The checks every POST shares; a Response means stop and send it."""
    flow = resolve(sandbox_of(request), token)
    if flow is None:
        return invalid()
    if json_call:
        given = request.headers.get("x-csrf-token")
    else:
        try:
            given_value = (await request.form()).get("csrf")
        except Exception:  # whatever makes the form unreadable, it is refused
            given_value = None
        given = given_value if isinstance(given_value, str) else None
    if not _csrf_ok(flow, given):
        return refused()
    if flow.state["ended"]:
        return completed()
    if flow.link_expired():
        return flow if closing else expired_page(flow)
    if flow.status != "pending" and not closing:
        return completed()
    if flow.state["step"] not in steps:
        return RedirectResponse(flow.base, status_code=303)
    return flow


async def _form(request: Request, name: str) -> str:
    value = (await request.form()).get(name)
    return value if isinstance(value, str) else ""


def _again(flow: Flow) -> RedirectResponse:
    flow.save()
    return RedirectResponse(flow.base, status_code=303)


def _reload(flow: Flow, step: str) -> Flow | None:
    """After an await the flow may have moved on: re-read it and insist on the same step."""
    fresh = resolve(flow.sandbox, flow.token)
    if (
        fresh is None
        or fresh.state["ended"]
        or fresh.state["step"] != step
        or fresh.status != "pending"
    ):
        return None
    return fresh


def identified(flow: Flow) -> str:
    """The individual has proven who they are: the next URL for the browser."""
    if flow.action in ("payment_history", "external_payment"):
        return finish(flow, "approved")
    with flow.store.tx():
        if flow.action == "card_activation":
            flow.state["step"] = "pin"
        else:
            _decide(flow, "approved", "details")
        flow.save()
    return flow.base


@router.post("/{token}/confirm")
async def confirm(token: str, request: Request) -> Response:
    flow = await _begin(request, token, ("summary",))
    if isinstance(flow, Response):
        return flow
    flow.state["step"] = "create_passcode" if flow.action == "onboarding" else "identify"
    return _again(flow)


def _decline_status() -> str:  # PAGE-6
    return "approved" if faults.active("decline-still-approves") else "declined"


@router.post("/{token}/decline")
async def decline(token: str, request: Request) -> Response:
    steps = (
        "summary",
        "identify",
        "passcode",
        "pin",
        "cvc",
        "create_passcode",
        "sms",
        "add_passkey",
    )
    flow = await _begin(request, token, steps)
    if isinstance(flow, Response):
        return flow
    with flow.store.tx():
        flow.store.run(
            "UPDATE consents SET status = ?, decided_at = ? WHERE id = ?",
            _decline_status(),
            flow.now,
            flow.consent["id"],
        )
        flow.state["ended"] = True
        flow.save()
    return RedirectResponse(flow.landing("declined"), status_code=303)


@router.post("/{token}/another-way")
async def another_way(token: str, request: Request) -> Response:
    flow = await _begin(request, token, ("identify",))
    if isinstance(flow, Response):
        return flow
    flow.state["step"] = "passcode"
    return _again(flow)


def _locks_out(attempts: int) -> bool:  # PAGE-7
    return attempts >= MAX_PASSCODE_ATTEMPTS and not faults.active("no-passcode-lockout")


@router.post("/{token}/passcode")
async def passcode(token: str, request: Request) -> Response:
    flow = await _begin(request, token, ("passcode",))
    if isinstance(flow, Response):
        return flow
    candidate = await _form(request, "passcode")
    ok = bool(re.fullmatch(r"[0-9]{6}", candidate)) and await slow_verify(
        flow.individual()["passcode_hash"], candidate
    )
    fresh = _reload(flow, "passcode")
    if fresh is None:
        return RedirectResponse(flow.base, status_code=303)
    if ok:
        return RedirectResponse(identified(fresh), status_code=303)
    attempts = int(fresh.state["attempts"]) + 1
    fresh.state["attempts"] = attempts
    if _locks_out(attempts):
        with fresh.store.tx():
            _decide(fresh, "failed", "locked")
            fresh.save()
        return RedirectResponse(fresh.base, status_code=303)
    left = max(MAX_PASSCODE_ATTEMPTS - attempts, 1)
    fresh.state["alert"] = f"Wrong passcode. {left} attempt{'s' if left != 1 else ''} left."
    return _again(fresh)


@router.post("/{token}/close")
async def close(token: str, request: Request) -> Response:
    flow = await _begin(request, token, CLOSABLE_STEPS, closing=True)
    if isinstance(flow, Response):
        return flow
    if flow.link_expired():
        return RedirectResponse(finish(flow, "expired"), status_code=303)
    status = "failed" if flow.state["step"] == "locked" else "approved"
    return RedirectResponse(finish(flow, status), status_code=303)


# --- card activation ----------------------------------------------------------------------


@router.post("/{token}/pin")
async def pin(token: str, request: Request) -> Response:
    flow = await _begin(request, token, ("pin",))
    if isinstance(flow, Response):
        return flow
    chosen = await _form(request, "pin")
    if not re.fullmatch(r"[0-9]{4}", chosen):
        flow.state["alert"] = "The PIN must be 4 digits."
        return _again(flow)
    pin_hash = await slow_hash(chosen)
    fresh = _reload(flow, "pin")
    if fresh is None:
        return RedirectResponse(flow.base, status_code=303)
    fresh.state["pin_hash"] = pin_hash
    fresh.state["step"] = "cvc"
    return _again(fresh)


def _cvc_matches(given: str, expected: str) -> bool:  # PAGE-13
    if faults.active("cvc2-not-checked"):
        return True
    return bool(re.fullmatch(r"[0-9]{3}", given)) and hmac.compare_digest(
        given.encode(), expected.encode()
    )


@router.post("/{token}/cvc")
async def cvc(token: str, request: Request) -> Response:
    flow = await _begin(request, token, ("cvc",))
    if isinstance(flow, Response):
        return flow
    given = await _form(request, "cvc")
    card_id = flow.consent["subject_id"]
    secret = flow.store.one("SELECT cvc FROM card_secrets WHERE card_id = ?", card_id)
    if not _cvc_matches(given, secret["cvc"]):
        attempts = int(flow.state.get("cvc_attempts", 0)) + 1
        flow.state["cvc_attempts"] = attempts
        if attempts >= MAX_PASSCODE_ATTEMPTS:
            with flow.store.tx():
                _decide(flow, "failed", "locked")
                flow.save()
            return RedirectResponse(flow.base, status_code=303)
        flow.state["alert"] = "Wrong CVC2."
        return _again(flow)
    with flow.store.tx():
        flow.store.run(
            "UPDATE cards SET status = 'active' WHERE id = ? AND status = 'not_activated'", card_id
        )
        flow.store.run(
            "UPDATE card_secrets SET pin_hash = ? WHERE card_id = ?",
            flow.state.pop("pin_hash"),
            card_id,
        )
        _decide(flow, "approved", "activated")
        flow.save()
    return RedirectResponse(flow.base, status_code=303)


# --- onboarding ---------------------------------------------------------------------------


def _sms_step() -> str:  # PAGE-15
    return "add_passkey" if faults.active("onboarding-skips-sms") else "sms"


@router.post("/{token}/create-passcode")
async def create_passcode(token: str, request: Request) -> Response:
    flow = await _begin(request, token, ("create_passcode",))
    if isinstance(flow, Response):
        return flow
    first, second = await _form(request, "passcode"), await _form(request, "repeat_passcode")
    if not re.fullmatch(r"[0-9]{6}", first):
        flow.state["alert"] = "The passcode must be 6 digits."
        return _again(flow)
    if first != second:
        flow.state["alert"] = "The passcodes do not match."
        return _again(flow)
    passcode_hash = await slow_hash(first)
    fresh = _reload(flow, "create_passcode")
    if fresh is None:
        return RedirectResponse(flow.base, status_code=303)
    fresh.state["passcode_hash"] = passcode_hash
    fresh.state["step"] = _sms_step()
    with fresh.store.tx():
        if fresh.state["step"] == "sms":
            code = f"{secrets.randbelow(10**6):06d}"
            fresh.state["sms_code_hash"] = fast_hash(fresh.consent["id"] + code)
            fresh.store.run(
                "INSERT INTO sms_codes (client_id, phone_number, code, sent_at)"
                " VALUES (?, ?, ?, ?)",
                fresh.consent["client_id"],
                fresh.individual()["phone_number"],
                code,
                fresh.now,
            )
        fresh.save()
    return RedirectResponse(fresh.base, status_code=303)


@router.post("/{token}/sms")
async def sms(token: str, request: Request) -> Response:
    flow = await _begin(request, token, ("sms",))
    if isinstance(flow, Response):
        return flow
    code = await _form(request, "code")
    if same(fast_hash(flow.consent["id"] + code), flow.state["sms_code_hash"]):
        flow.state["step"] = "add_passkey"
        return _again(flow)
    attempts = int(flow.state.get("sms_attempts", 0)) + 1
    flow.state["sms_attempts"] = attempts
    if attempts >= MAX_CODE_ATTEMPTS:
        with flow.store.tx():
            _decide(flow, "failed", "locked")
            flow.save()
        return RedirectResponse(flow.base, status_code=303)
    flow.state["alert"] = "Wrong code."
    return _again(flow)


def complete_onboarding(flow: Flow) -> str:
    with flow.store.tx():
        flow.store.run(
            "UPDATE individuals SET status = 'active', passcode_hash = ? WHERE id = ?",
            flow.state.pop("passcode_hash"),
            flow.consent["individual_id"],
        )
    return finish(flow, "approved")


@router.post("/{token}/skip-passkey")
async def skip_passkey(token: str, request: Request) -> Response:
    flow = await _begin(request, token, ("add_passkey",))
    if isinstance(flow, Response):
        return flow
    return RedirectResponse(complete_onboarding(flow), status_code=303)


# --- passkeys (JSON calls from static/passkey.js) -----------------------------------------


def _json_error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"errors": [{"field": None, "message": message}]}, status_code=status)


def _as_json(response: Response) -> Response:
    """A page answer from _begin, turned into something the script can show."""
    if isinstance(response, RedirectResponse):
        return JSONResponse({"redirect": response.headers["location"]})
    return _json_error("This step is not available any more.", response.status_code)


async def _credential(request: Request) -> dict[str, Any] | None:
    try:
        body = json.loads(await request.body())
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


@router.post("/{token}/passkey/register-options")
async def register_options(token: str, request: Request) -> Response:
    flow = await _begin(request, token, ("add_passkey",), json_call=True)
    if isinstance(flow, Response):
        return _as_json(flow)
    individual = flow.individual()
    settings = flow.sandbox.settings
    existing = flow.store.all(
        "SELECT credential_id FROM passkeys WHERE individual_id = ?", individual["id"]
    )
    options = generate_registration_options(
        rp_id=settings.rp_id,
        rp_name="SCA Sandbox",
        user_id=uuid.UUID(individual["id"]).bytes,
        user_name=individual["email"],
        user_display_name=f"{individual['first_name']} {individual['last_name']}",
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=base64url_to_bytes(r["credential_id"]))
            for r in existing
        ],
    )
    flow.state["challenge"] = bytes_to_base64url(options.challenge)
    flow.save()
    return Response(options_to_json(options), media_type="application/json")


@router.post("/{token}/passkey/register")
async def register(token: str, request: Request) -> Response:
    flow = await _begin(request, token, ("add_passkey",), json_call=True)
    if isinstance(flow, Response):
        return _as_json(flow)
    credential = await _credential(request)
    challenge = flow.state.pop("challenge", None)
    flow.save()
    if credential is None or challenge is None:
        return _json_error("Start the passkey registration again.")
    settings = flow.sandbox.settings
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(challenge),
            expected_origin=settings.origin,
            expected_rp_id=settings.rp_id,
            require_user_verification=True,
        )
    except Exception:  # the library raises many types; each is a refusal
        return _json_error("The passkey could not be registered.")
    with flow.store.tx():
        flow.store.run(
            "INSERT OR REPLACE INTO passkeys"
            " (credential_id, individual_id, public_key, sign_count, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            bytes_to_base64url(verified.credential_id),
            flow.consent["individual_id"],
            verified.credential_public_key,
            verified.sign_count,
            flow.now,
        )
    return JSONResponse({"redirect": complete_onboarding(flow)})


@router.post("/{token}/passkey/options")
async def authentication_options(token: str, request: Request) -> Response:
    flow = await _begin(request, token, ("identify",), json_call=True)
    if isinstance(flow, Response):
        return _as_json(flow)
    rows = flow.store.all(
        "SELECT credential_id FROM passkeys WHERE individual_id = ?", flow.consent["individual_id"]
    )
    if not rows:
        return _json_error("No passkey is registered.")
    options = generate_authentication_options(
        rp_id=flow.sandbox.settings.rp_id,
        allow_credentials=[
            PublicKeyCredentialDescriptor(id=base64url_to_bytes(r["credential_id"])) for r in rows
        ],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    flow.state["challenge"] = bytes_to_base64url(options.challenge)
    flow.save()
    return Response(options_to_json(options), media_type="application/json")


@router.post("/{token}/passkey/verify")
async def verify(token: str, request: Request) -> Response:
    flow = await _begin(request, token, ("identify",), json_call=True)
    if isinstance(flow, Response):
        return _as_json(flow)
    credential = await _credential(request)
    challenge = flow.state.pop("challenge", None)
    flow.save()
    if credential is None or challenge is None or not isinstance(credential.get("rawId"), str):
        return _json_error("Start the passkey check again.")
    stored = flow.store.one(
        "SELECT * FROM passkeys WHERE credential_id = ? AND individual_id = ?",
        credential["rawId"],
        flow.consent["individual_id"],
    )
    if stored is None:
        return _json_error("This passkey is not known.")
    settings = flow.sandbox.settings
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=settings.rp_id,
            expected_origin=settings.origin,
            credential_public_key=stored["public_key"],
            credential_current_sign_count=stored["sign_count"],
            require_user_verification=True,
        )
    except Exception:  # the library raises many types; each is a refusal
        return _json_error("The passkey was not accepted.")
    flow.store.run(
        "UPDATE passkeys SET sign_count = ? WHERE credential_id = ?",
        verified.new_sign_count,
        stored["credential_id"],
    )
    return JSONResponse({"redirect": identified(flow)})
