"""The hosted consent flow (docs/hosted-pages.md) as a state machine, whatever presents it.

Each consent keeps its flow's state in its row (``consents.flow``, JSON): the current step,
the CSRF value bound to it, the wrong attempts so far, an alert to show once. ``resolve``
finds the flow of a link's token; ``opened`` and ``enter`` say what a GET shows; ``check``
holds the checks every post shares, and each step function (``POSTS``) answers an
``Outcome`` rather than a response: show the current step, leave for a URL, or an end state.
A dialect (``sca_sandbox/dialects``) presents it: ``default`` as pages and 303s, ``nordic``
as JSON. Passkeys are in ``passkeys.py``. Time follows the clock of the session that created
the consent.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import re
import secrets
import sqlite3
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from . import faults, staging
from .consents import landing_url, new_flow, status_of
from .context import Sandbox
from .security import fast_hash, same, slow_hash, slow_verify
from .store import dumps

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

# What a flow counts wrong attempts at (state["attempts"][kind]), and how many lock it.
Attempt = Literal["passcode", "cvc", "sms"]
ATTEMPT_LIMITS: dict[Attempt, int] = {
    "passcode": MAX_PASSCODE_ATTEMPTS,
    "cvc": MAX_PASSCODE_ATTEMPTS,
    "sms": MAX_CODE_ATTEMPTS,
}


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
    """Show the flow's current step (the default pages: 303 back to the flow's link)."""

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


def action_hidden() -> bool:  # PAGE-1
    return faults.active("summary-hides-action")


def offers_decline() -> bool:  # PAGE-6
    return not faults.active("decline-button-missing")


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
    """The step to show and its alert; an alert is shown once, and so are card details.

    An alert refuses an input: ``{"code", ...}`` kept in the flow until its step is shown
    again, worded by each dialect (``ALERTS`` in dialects/default.py, nordic.js)."""
    state = flow.state
    step: str = state["step"]
    alert = state.pop("alert", None)
    if step == "details":
        state["step"] = "details_viewed"  # card details are shown once
    if alert is not None or step == "details":
        flow.save()
    return step, alert


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


def wrong_attempt(flow: Flow, kind: Attempt) -> int:
    """Count one more wrong ``kind`` in the flow's state; the attempts left (0: no more)."""
    attempts: dict[str, int] = flow.state["attempts"]
    attempts[kind] = attempts.get(kind, 0) + 1
    return max(ATTEMPT_LIMITS[kind] - attempts[kind], 0)


def _lock(flow: Flow) -> Show:
    """Too many wrong attempts: the consent fails and the flow shows the locked step."""
    with flow.store.tx():
        _decide(flow, "failed", "locked")
        flow.save()
    return Show(flow)


Fields = Mapping[str, str]


def text_code(flow: Flow) -> None:
    """Texts a new one-time code to the individual (the SMS simulation finds it): the flow
    keeps its hash for the SMS step. Inside the caller's transaction."""
    code = f"{secrets.randbelow(10**6):06d}"
    flow.state["sms_code_hash"] = fast_hash(flow.consent["id"] + code)
    flow.store.run(
        "INSERT INTO sms_codes (client_id, phone_number, code, sent_at) VALUES (?, ?, ?, ?)",
        flow.consent["client_id"],
        flow.individual()["phone_number"],
        code,
        flow.now,
    )


def _sms_confirmation_due(flow: Flow) -> bool:
    """Whether the action's flow asks for an SMS code after identification (--sms-step)."""
    return flow.action in staging.current().sms_steps and not flow.state.get("sms_confirmed")


def identified(flow: Flow) -> Outcome:
    """The individual has proven who they are: what comes next (an SMS code first, where
    the staging personality asks for one in this action's flow)."""
    if _sms_confirmation_due(flow):
        with flow.store.tx():
            text_code(flow)
            flow.state["step"] = "sms"
            flow.save()
        return Show(flow)
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


async def _declining() -> None:  # RACE-3
    """A decline is written in the step its checks passed in, with no await between: an
    approval racing it has either ended the flow before (the decline then ends on
    "completed") or finds it ended. With the fault, a check-then-act: a pause after the
    checks, then the decline written over whatever an approval decided meanwhile."""
    if faults.active("decline-approval-race"):
        await asyncio.sleep(faults.RACE_WINDOW)


async def decline_step(flow: Flow, fields: Fields) -> Outcome:
    await _declining()
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


def _locks_out(left: int) -> bool:  # PAGE-7
    return left == 0 and not faults.active("no-passcode-lockout")


async def _after_verifying(flow: Flow) -> Flow | None:  # RACE-2
    """The flow after the passcode's slow check (an await): re-read, None when it has moved
    on meanwhile (a second submission of it approved, a decline ended it), so that of two
    submissions at once exactly one approves. With the fault, a check-then-act: the flow as
    checked before the await, after a pause in which a second submission passes the same
    checks; both approve."""
    if faults.active("approval-race"):
        await asyncio.sleep(faults.RACE_WINDOW)
        return flow
    return _reload(flow, "passcode")


async def passcode_step(flow: Flow, fields: Fields) -> Outcome:
    candidate = fields["passcode"]
    ok = bool(re.fullmatch(r"[0-9]{6}", candidate)) and await slow_verify(
        flow.individual()["passcode_hash"], candidate
    )
    fresh = await _after_verifying(flow)
    if fresh is None:
        return Show(flow)
    if ok:
        return identified(fresh)
    left = wrong_attempt(fresh, "passcode")
    if _locks_out(left):
        return _lock(fresh)
    fresh.state["alert"] = {"code": "wrong_passcode", "left": max(left, 1)}
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
        if wrong_attempt(flow, "cvc") == 0:
            return _lock(flow)
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
            text_code(fresh)
        fresh.save()
    return Show(fresh)


async def sms_step(flow: Flow, fields: Fields) -> Outcome:
    if same(fast_hash(flow.consent["id"] + fields["code"]), flow.state["sms_code_hash"]):
        if flow.action != "onboarding":  # the confirmation of an identified action
            flow.state["sms_confirmed"] = True
            return identified(flow)
        flow.state["step"] = "add_passkey"
        return _again(flow)
    if wrong_attempt(flow, "sms") == 0:
        return _lock(flow)
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
