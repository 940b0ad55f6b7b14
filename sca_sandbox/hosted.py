"""The hosted consent pages (docs/hosted-pages.md): server-side flow state per consent.

``redirect_url`` is ``/sca/{token}``; GET renders the flow's current step, each step's form
posts to ``/sca/{token}/{step}`` with the flow's CSRF value and is answered with a 303
(post/redirect/get). Time follows the clock of the session that created the consent.

The flow itself (the checks, the steps, passkeys) is in functions that answer an
``Outcome`` instead of a response, so that a dialect (``sca_sandbox/dialects``) can present
the same flow another way; the routes here turn outcomes into pages and 303s.
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
import sqlite3
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
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
DECLINABLE_STEPS = (
    "summary",
    "identify",
    "passcode",
    "pin",
    "cvc",
    "create_passcode",
    "sms",
    "add_passkey",
)
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,128}$")

# Refusals of an input, kept in the flow as {"code", ...} until the step is shown again.
ALERTS = {
    "pin_digits": "The PIN must be 4 digits.",
    "wrong_cvc2": "Wrong CVC2.",
    "passcode_digits": "The passcode must be 6 digits.",
    "passcodes_differ": "The passcodes do not match.",
    "wrong_code": "Wrong code.",
}


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


# --- what a request leads to, whatever the presentation -----------------------------------


@dataclass
class Show:
    """Show the flow's current step (here: 303 back to the flow's link)."""

    flow: Flow


@dataclass
class Leave:
    """The browser leaves the hosted pages for ``url`` (return_url, or the Done page)."""

    url: str


@dataclass
class End:
    """An end page instead of a step: ``invalid`` (404), ``refused`` (403), ``completed``
    (409) or ``expired`` (410; ``flow`` is the expired flow)."""

    kind: str
    flow: Flow | None = None


Outcome = Show | Leave | End
END_STATUS = {"invalid": 404, "refused": 403, "completed": 409, "expired": 410}


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


def end_page(end: End) -> HTMLResponse:
    if end.kind == "invalid":
        return invalid()
    if end.kind == "refused":
        return refused()
    if end.kind == "expired" and end.flow is not None:
        return expired_page(end.flow)
    return completed()


def answer(outcome: Outcome) -> Response:
    """An outcome as the default pages give it: a 303 (post/redirect/get) or an end page."""
    if isinstance(outcome, Show):
        return RedirectResponse(outcome.flow.base, status_code=303)
    if isinstance(outcome, Leave):
        return RedirectResponse(outcome.url, status_code=303)
    return end_page(outcome)


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


# --- GET: the current step ----------------------------------------------------------------


def shown_summary(flow: Flow) -> dict[str, Any]:
    """What the summary links the consent to (PAGE-2): the request's own values."""
    summary: dict[str, Any] = json.loads(flow.consent["summary"])
    if flow.action == "external_payment" and faults.active("summary-shows-wrong-amount"):
        summary["amount"] += 100
    return summary


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


def action_hidden() -> bool:  # PAGE-1
    return faults.active("summary-hides-action")


def _action_title(flow: Flow) -> str:  # PAGE-1
    return "Consent request" if action_hidden() else ACTIONS[flow.action].title


def offers_decline() -> bool:  # PAGE-6
    return not faults.active("decline-button-missing")


def has_passkey(flow: Flow) -> bool:  # PAGE-3
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


def masked_phone(flow: Flow) -> str:
    return _mask(flow.individual()["phone_number"])


def card_details(flow: Flow) -> dict[str, Any]:
    """What the card-details step shows (PAGE-14): only here, never in the API."""
    card = flow.store.one(
        "SELECT c.exp_month, c.exp_year, s.pan, s.cvc, i.first_name, i.last_name FROM cards c"
        " JOIN card_secrets s ON s.card_id = c.id JOIN individuals i ON i.id = c.individual_id"
        " WHERE c.id = ?",
        flow.consent["subject_id"],
    )
    pan = card["pan"]
    return {
        "holder": f"{card['first_name']} {card['last_name']}",
        "number": " ".join(pan[i : i + 4] for i in range(0, len(pan), 4)),
        "valid_thru": f"{card['exp_month']:02d}/{card['exp_year'] % 100:02d}",
        "cvc": card["cvc"],
    }


def opened(sandbox: Sandbox, token: str) -> Flow | End:
    """The flow a GET of its link shows, or the end page shown instead."""
    flow = resolve(sandbox, token)
    if flow is None:
        return End("invalid")
    if flow.state["ended"] and not _restart_if_reusable(flow):
        return End("completed")
    if flow.link_expired():
        return End("expired", flow)
    if flow.status != "pending" and flow.state["step"] not in RESULT_STEPS:
        return End("completed")
    return flow


def enter(flow: Flow) -> tuple[str, dict[str, Any] | None]:
    """The step to show and its alert; an alert is shown once, and so are card details."""
    state = flow.state
    step: str = state["step"]
    alert = state.pop("alert", None)
    if step == "details":
        state["step"] = "details_viewed"  # card details are shown once
    if alert is not None or step == "details":
        flow.save()
    return step, alert


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
    if step == "sms":
        return page("sms", phone=masked_phone(flow), **common)
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
    flow = opened(sandbox_of(request), token)
    return end_page(flow) if isinstance(flow, End) else render(flow)


# --- POST: the checks every post shares, then one function per step -----------------------


def _csrf_ok(flow: Flow, given: str | None) -> bool:  # PAGE-12
    if faults.active("csrf-not-checked"):
        return True
    return given is not None and same(given, str(flow.state["csrf"]))


def check(
    sandbox: Sandbox,
    token: str,
    given_csrf: str | None,
    steps: tuple[str, ...],
    *,
    closing: bool = False,
) -> Flow | Outcome:
    """The checks every POST shares; an Outcome means stop there."""
    flow = resolve(sandbox, token)
    if flow is None:
        return End("invalid")
    if not _csrf_ok(flow, given_csrf):
        return End("refused")
    if flow.state["ended"]:
        return End("completed")
    if flow.link_expired():
        return flow if closing else End("expired", flow)
    if flow.status != "pending" and not closing:
        return End("completed")
    if flow.state["step"] not in steps:
        return Show(flow)
    return flow


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


def _again(flow: Flow) -> Show:
    flow.save()
    return Show(flow)


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


Fields = Mapping[str, str]


def identified(flow: Flow) -> Outcome:
    """The individual has proven who they are: what comes next."""
    if flow.action in ("payment_history", "external_payment"):
        return Leave(finish(flow, "approved"))
    with flow.store.tx():
        if flow.action == "card_activation":
            flow.state["step"] = "pin"
        else:
            _decide(flow, "approved", "details")
        flow.save()
    return Show(flow)


async def confirm_step(flow: Flow, fields: Fields) -> Outcome:
    flow.state["step"] = "create_passcode" if flow.action == "onboarding" else "identify"
    return _again(flow)


def _decline_status() -> str:  # PAGE-6
    return "approved" if faults.active("decline-still-approves") else "declined"


async def decline_step(flow: Flow, fields: Fields) -> Outcome:
    with flow.store.tx():
        flow.store.run(
            "UPDATE consents SET status = ?, decided_at = ? WHERE id = ?",
            _decline_status(),
            flow.now,
            flow.consent["id"],
        )
        flow.state["ended"] = True
        flow.save()
    return Leave(flow.landing("declined"))


async def another_way_step(flow: Flow, fields: Fields) -> Outcome:
    flow.state["step"] = "passcode"
    return _again(flow)


def _locks_out(attempts: int) -> bool:  # PAGE-7
    return attempts >= MAX_PASSCODE_ATTEMPTS and not faults.active("no-passcode-lockout")


async def passcode_step(flow: Flow, fields: Fields) -> Outcome:
    candidate = fields["passcode"]
    ok = bool(re.fullmatch(r"[0-9]{6}", candidate)) and await slow_verify(
        flow.individual()["passcode_hash"], candidate
    )
    fresh = _reload(flow, "passcode")
    if fresh is None:
        return Show(flow)
    if ok:
        return identified(fresh)
    attempts = int(fresh.state["attempts"]) + 1
    fresh.state["attempts"] = attempts
    if _locks_out(attempts):
        with fresh.store.tx():
            _decide(fresh, "failed", "locked")
            fresh.save()
        return Show(fresh)
    left = max(MAX_PASSCODE_ATTEMPTS - attempts, 1)
    fresh.state["alert"] = {"code": "wrong_passcode", "left": left}
    return _again(fresh)


async def close_step(flow: Flow, fields: Fields) -> Outcome:
    if flow.link_expired():
        return Leave(finish(flow, "expired"))
    status = "failed" if flow.state["step"] == "locked" else "approved"
    return Leave(finish(flow, status))


# card activation


async def pin_step(flow: Flow, fields: Fields) -> Outcome:
    chosen = fields["pin"]
    if not re.fullmatch(r"[0-9]{4}", chosen):
        flow.state["alert"] = {"code": "pin_digits"}
        return _again(flow)
    pin_hash = await slow_hash(chosen)
    fresh = _reload(flow, "pin")
    if fresh is None:
        return Show(flow)
    fresh.state["pin_hash"] = pin_hash
    fresh.state["step"] = "cvc"
    return _again(fresh)


def _cvc_matches(given: str, expected: str) -> bool:  # PAGE-13
    if faults.active("cvc2-not-checked"):
        return True
    return bool(re.fullmatch(r"[0-9]{3}", given)) and hmac.compare_digest(
        given.encode(), expected.encode()
    )


async def cvc_step(flow: Flow, fields: Fields) -> Outcome:
    card_id = flow.consent["subject_id"]
    secret = flow.store.one("SELECT cvc FROM card_secrets WHERE card_id = ?", card_id)
    if not _cvc_matches(fields["cvc"], secret["cvc"]):
        attempts = int(flow.state.get("cvc_attempts", 0)) + 1
        flow.state["cvc_attempts"] = attempts
        if attempts >= MAX_PASSCODE_ATTEMPTS:
            with flow.store.tx():
                _decide(flow, "failed", "locked")
                flow.save()
            return Show(flow)
        flow.state["alert"] = {"code": "wrong_cvc2"}
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
    return Show(flow)


# onboarding


def _sms_step() -> str:  # PAGE-15
    return "add_passkey" if faults.active("onboarding-skips-sms") else "sms"


async def create_passcode_step(flow: Flow, fields: Fields) -> Outcome:
    first, second = fields["passcode"], fields["repeat_passcode"]
    if not re.fullmatch(r"[0-9]{6}", first):
        flow.state["alert"] = {"code": "passcode_digits"}
        return _again(flow)
    if first != second:
        flow.state["alert"] = {"code": "passcodes_differ"}
        return _again(flow)
    passcode_hash = await slow_hash(first)
    fresh = _reload(flow, "create_passcode")
    if fresh is None:
        return Show(flow)
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
    return Show(fresh)


async def sms_step(flow: Flow, fields: Fields) -> Outcome:
    if same(fast_hash(flow.consent["id"] + fields["code"]), flow.state["sms_code_hash"]):
        flow.state["step"] = "add_passkey"
        return _again(flow)
    attempts = int(flow.state.get("sms_attempts", 0)) + 1
    flow.state["sms_attempts"] = attempts
    if attempts >= MAX_CODE_ATTEMPTS:
        with flow.store.tx():
            _decide(flow, "failed", "locked")
            flow.save()
        return Show(flow)
    flow.state["alert"] = {"code": "wrong_code"}
    return _again(flow)


def complete_onboarding(flow: Flow) -> str:
    with flow.store.tx():
        flow.store.run(
            "UPDATE individuals SET status = 'active', passcode_hash = ? WHERE id = ?",
            flow.state.pop("passcode_hash"),
            flow.consent["individual_id"],
        )
    return finish(flow, "approved")


async def skip_passkey_step(flow: Flow, fields: Fields) -> Outcome:
    return Leave(complete_onboarding(flow))


@dataclass(frozen=True)
class Post:
    """A state-changing post: the steps it is allowed from, what it does, its inputs."""

    steps: tuple[str, ...]
    run: Callable[[Flow, Fields], Awaitable[Outcome]]
    fields: tuple[str, ...] = ()
    closing: bool = False


POSTS: dict[str, Post] = {
    "confirm": Post(("summary",), confirm_step),
    "decline": Post(DECLINABLE_STEPS, decline_step),
    "another-way": Post(("identify",), another_way_step),
    "passcode": Post(("passcode",), passcode_step, ("passcode",)),
    "close": Post(CLOSABLE_STEPS, close_step, closing=True),
    "pin": Post(("pin",), pin_step, ("pin",)),
    "cvc": Post(("cvc",), cvc_step, ("cvc",)),
    "create-passcode": Post(
        ("create_passcode",), create_passcode_step, ("passcode", "repeat_passcode")
    ),
    "sms": Post(("sms",), sms_step, ("code",)),
    "skip-passkey": Post(("add_passkey",), skip_passkey_step),
}


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


# --- passkeys -----------------------------------------------------------------------------


def registration_options(flow: Flow, rp_name: str = "SCA Sandbox") -> str:
    """WebAuthn registration options (JSON) for the add_passkey step; keeps the challenge."""
    individual = flow.individual()
    settings = flow.sandbox.settings
    existing = flow.store.all(
        "SELECT credential_id FROM passkeys WHERE individual_id = ?", individual["id"]
    )
    options = generate_registration_options(
        rp_id=settings.rp_id,
        rp_name=rp_name,
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
    return options_to_json(options)


def register_passkey(flow: Flow, credential: dict[str, Any] | None) -> Outcome | str:
    """Verify and store a new passkey, which completes onboarding; a str is a refusal."""
    challenge = flow.state.pop("challenge", None)
    flow.save()
    if credential is None or challenge is None:
        return "Start the passkey registration again."
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
        return "The passkey could not be registered."
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
    return Leave(complete_onboarding(flow))


def authentication_options(flow: Flow) -> str | None:
    """WebAuthn assertion options (JSON) for the identify step; None without a passkey."""
    rows = flow.store.all(
        "SELECT credential_id FROM passkeys WHERE individual_id = ?", flow.consent["individual_id"]
    )
    if not rows:
        return None
    options = generate_authentication_options(
        rp_id=flow.sandbox.settings.rp_id,
        allow_credentials=[
            PublicKeyCredentialDescriptor(id=base64url_to_bytes(r["credential_id"])) for r in rows
        ],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    flow.state["challenge"] = bytes_to_base64url(options.challenge)
    flow.save()
    return options_to_json(options)


def verify_passkey(flow: Flow, credential: dict[str, Any] | None) -> Outcome | str:
    """Check a passkey assertion (PAGE-3); a str is a refusal."""
    challenge = flow.state.pop("challenge", None)
    flow.save()
    if credential is None or challenge is None or not isinstance(credential.get("rawId"), str):
        return "Start the passkey check again."
    stored = flow.store.one(
        "SELECT * FROM passkeys WHERE credential_id = ? AND individual_id = ?",
        credential["rawId"],
        flow.consent["individual_id"],
    )
    if stored is None:
        return "This passkey is not known."
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
        return "The passkey was not accepted."
    flow.store.run(
        "UPDATE passkeys SET sign_count = ? WHERE credential_id = ?",
        verified.new_sign_count,
        stored["credential_id"],
    )
    return identified(flow)


# JSON calls from static/passkey.js


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


async def credential_of(request: Request) -> dict[str, Any] | None:
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
    return Response(registration_options(flow), media_type="application/json")


@router.post("/{token}/passkey/register")
async def register(token: str, request: Request) -> Response:
    flow = await _begin(request, token, ("add_passkey",), json_call=True)
    if isinstance(flow, Response):
        return _as_json(flow)
    return _redirect(register_passkey(flow, await credential_of(request)))


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
    flow = await _begin(request, token, ("identify",), json_call=True)
    if isinstance(flow, Response):
        return _as_json(flow)
    return _redirect(verify_passkey(flow, await credential_of(request)))
