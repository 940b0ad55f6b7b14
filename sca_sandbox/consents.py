"""Consents: the 412 that asks for one, its status over time, and its initiation."""

from __future__ import annotations

import asyncio
import json
import secrets
import sqlite3
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlencode, urlsplit, urlunsplit

from fastapi.responses import JSONResponse

from . import faults
from .context import Caller, Sandbox
from .dialects import dialect_of
from .errors import ApiError
from .security import fast_hash, new_token
from .store import Store, dumps, iso

# Lifetimes come from the settings (--consent-ttl, --method-ttl); the history window does not.
HISTORY_WINDOW = 180 * 24 * 3600


@dataclass(frozen=True)
class Action:
    name: str
    scope: str
    title: str


ACTIONS = {
    a.name: a
    for a in (
        Action("onboarding", "onboarding", "Complete onboarding"),
        Action("payment_history", "read_transactions", "Read payment history"),
        Action("external_payment", "make_payment", "Make a payment"),
        Action("card_details", "view_card_details", "View card details"),
        Action("card_activation", "activate_card", "Activate card"),
    )
}

ENDED = ("approved", "declined", "failed")


# --- one small function per requirement that a fault can break --------------------------


def _new_consent_id() -> str:  # TRIGGER-3
    return (
        "cns_" + secrets.token_hex(12)
        if faults.active("consent-id-not-uuid")
        else str(uuid.uuid4())
    )


def _trigger_status_code() -> int:  # TRIGGER-1
    return 403 if faults.active("protected-action-answers-403") else 412


def _trigger_media_type() -> str:  # TRIGGER-1
    return "text/plain" if faults.active("consent-content-type-text") else "application/json"


def _wrap(consent: dict[str, Any]) -> dict[str, Any]:  # TRIGGER-2
    return consent if faults.active("consent-not-wrapped") else {"consent": consent}


def _new_status() -> str:  # TRIGGER-4
    return "Pending" if faults.active("status-capitalised") else "pending"


def _scope(scope: str) -> list[str]:  # TRIGGER-5
    return ["default"] if faults.active("scope-missing-action") else [scope]


def _trigger_expiry(ts: float) -> str:  # TRIGGER-6
    return iso(ts)[:-1] if faults.active("expires-at-without-timezone") else iso(ts)


def _read_status(status: str) -> str:  # AFTER-2
    return "pending" if faults.active("consent-status-not-updated") else status


def status_of(row: sqlite3.Row, now: float) -> str:  # AFTER-6
    status = str(row["status"])
    if (
        status == "pending"
        and now >= row["expires_at"]
        and not faults.active("expiry-not-enforced")
    ):
        return "expired"
    return status


def history_window_open(decided_at: float, now: float) -> bool:  # AFTER-5
    return faults.active("history-window-never-ends") or now - decided_at < HISTORY_WINDOW


# --- creating consents (the 412) ---------------------------------------------------------


def consent_json(row: sqlite3.Row, status: str) -> dict[str, Any]:
    return {
        "id": row["id"],
        "status": status,
        "scope": list(json.loads(row["scope"])),
        "expires_at": iso(row["expires_at"]),
        "created_at": iso(row["created_at"]),
    }


def _reusable_consent(
    caller: Caller, action: Action, subject_id: str, fingerprint: str
) -> str | None:
    store = caller.store
    if faults.active("consent-id-reused"):  # TRIGGER-8
        row = store.one(
            "SELECT id FROM consents WHERE client_id = ? AND action = ? AND subject_id = ?"
            " AND status = 'pending' AND expires_at > ? ORDER BY created_at DESC LIMIT 1",
            caller.client_id,
            action.name,
            subject_id,
            caller.now,
        )
        if row is not None:
            return str(row["id"])
    if faults.active("declined-consent-id-reused"):  # AFTER-4
        row = store.one(
            "SELECT id FROM consents WHERE client_id = ? AND action = ? AND fingerprint = ?"
            " AND (status IN ('declined', 'failed') OR (status = 'pending' AND expires_at <= ?))"
            " ORDER BY created_at DESC LIMIT 1",
            caller.client_id,
            action.name,
            fingerprint,
            caller.now,
        )
        if row is not None:
            return str(row["id"])
    return None


def new_consent(
    caller: Caller,
    action_name: str,
    *,
    individual_id: str,
    subject_id: str,
    fingerprint: str,
    summary: dict[str, Any],
) -> tuple[str, float]:
    """Record a new pending consent for exactly this request: its id and expiry."""
    action = ACTIONS[action_name]
    scope = dialect_of(caller.sandbox).scope(action.name, action.scope)
    store = caller.store
    now = caller.now
    expires_at = now + caller.sandbox.settings.consent_ttl
    with store.tx():
        consent_id = _reusable_consent(caller, action, subject_id, fingerprint)
        if consent_id is None:
            consent_id = _new_consent_id()
            store.run(
                "INSERT INTO consents (id, client_id, session_id, individual_id, action, scope,"
                " status, fingerprint, subject_id, summary, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)",
                consent_id,
                caller.client_id,
                caller.session.id,
                individual_id,
                action.name,
                dumps([scope]),
                fingerprint,
                subject_id,
                dumps(summary),
                now,
                expires_at,
            )
        else:
            store.run(
                "UPDATE consents SET status = 'pending', session_id = ?, created_at = ?,"
                " expires_at = ?, decided_at = NULL, flow = NULL WHERE id = ?",
                caller.session.id,
                now,
                expires_at,
                consent_id,
            )
            store.run("UPDATE methods SET revoked = 1 WHERE consent_id = ?", consent_id)
    return consent_id, expires_at


def require_consent(
    caller: Caller,
    action_name: str,
    *,
    individual_id: str,
    subject_id: str,
    fingerprint: str,
    summary: dict[str, Any],
) -> JSONResponse:
    """Record a new pending consent for exactly this request and answer the 412."""
    consent_id, expires_at = new_consent(
        caller,
        action_name,
        individual_id=individual_id,
        subject_id=subject_id,
        fingerprint=fingerprint,
        summary=summary,
    )
    action = ACTIONS[action_name]
    dialect = dialect_of(caller.sandbox)
    body = {
        "id": consent_id,
        "status": _new_status(),
        "scope": _scope(dialect.scope(action.name, action.scope)),
        "expires_at": _trigger_expiry(expires_at),
        "created_at": iso(caller.now),
    }
    wrapped = _wrap(body)
    if dialect.consent_links and "consent" in wrapped:
        wrapped["_links"] = {"initiate": {"href": f"/v3/consents/{consent_id}"}}
    return JSONResponse(
        wrapped, status_code=_trigger_status_code(), media_type=_trigger_media_type()
    )


def find_approved(caller: Caller, action: str, fingerprint: str) -> sqlite3.Row | None:
    """An approved consent for this exact request that has not been used up."""
    return caller.store.one(
        "SELECT * FROM consents WHERE client_id = ? AND action = ? AND fingerprint = ?"
        " AND status = 'approved' AND consumed_at IS NULL ORDER BY decided_at DESC LIMIT 1",
        caller.client_id,
        action,
        fingerprint,
    )


# --- reading and initiating --------------------------------------------------------------


def own_consent(caller: Caller, consent_id: str, *, any_client: bool = False) -> sqlite3.Row:
    row = (
        caller.store.one("SELECT * FROM consents WHERE id = ?", consent_id)
        if len(consent_id) <= 64
        else None
    )
    if row is None or (row["client_id"] != caller.client_id and not any_client):
        raise ApiError(404, "No such consent")
    return row


def read_consent(caller: Caller, consent_id: str) -> dict[str, Any]:
    row = own_consent(caller, consent_id)
    now = caller.store.clock_of(row["session_id"])
    consent = consent_json(row, _read_status(status_of(row, now)))
    return consent if faults.active("consent-read-unwrapped") else {"consent": consent}  # AFTER-2


def _method_expiry(sandbox: Sandbox, now: float, consent_expires_at: float) -> float:  # INIT-4
    settings = sandbox.settings
    if faults.active("method-outlives-consent"):
        return max(now + 2 * settings.consent_ttl, consent_expires_at + settings.method_ttl)
    return min(now + settings.method_ttl, consent_expires_at)


def _shown_method_expiry(expires_at: float, now: float) -> str:  # INIT-3
    return iso(now - 60) if faults.active("method-expires-at-in-past") else iso(expires_at)


def _redirect_url(sandbox: Sandbox, token: str) -> str:  # INIT-2
    base = "" if faults.active("redirect-url-relative") else sandbox.settings.public_url.rstrip("/")
    shown = "" if faults.active("redirect-url-without-token") else token
    return dialect_of(sandbox).hosted_url(base, shown)


def _check_initiable(status: str) -> None:  # INIT-7
    if status == "pending" or faults.active("reinit-after-approval-allowed"):
        return
    if status == "expired":
        raise ApiError(410, "The consent has expired")
    raise ApiError(409, f"The consent is already {status}")


def new_flow() -> dict[str, Any]:
    """A flow's state at its start; ``attempts`` counts wrong inputs by kind (flow.py)."""
    return {"step": "summary", "csrf": secrets.token_urlsafe(24), "attempts": {}, "ended": False}


async def _earlier_methods(store: Store, consent_id: str) -> list[str] | None:  # RACE-4
    """Which of the consent's methods a new one retires: None, all of them, in the same
    transaction that adds it, with no await since the consent was read: of concurrent
    initiations exactly one token is left working, the last one's. With the fault, a
    check-then-act: the working tokens read first, a pause, then only those retired, so that
    a concurrent initiation's token, added meanwhile, keeps working too."""
    if not faults.active("initiation-race"):
        return None
    rows = store.all(
        "SELECT token_hash FROM methods WHERE consent_id = ? AND revoked = 0", consent_id
    )
    await asyncio.sleep(faults.RACE_WINDOW)
    return [str(row["token_hash"]) for row in rows]


def _retire(store: Store, consent_id: str, only: list[str] | None) -> None:
    if only is None:
        store.run("UPDATE methods SET revoked = 1 WHERE consent_id = ?", consent_id)
    for token_hash in only or ():
        store.run("UPDATE methods SET revoked = 1 WHERE token_hash = ?", token_hash)


async def initiate(
    sandbox: Sandbox, caller: Caller | None, consent_id: str, return_url: str | None
) -> dict[str, Any]:
    store = sandbox.store
    if caller is None:  # only reachable with the init-without-auth fault
        row = store.one("SELECT * FROM consents WHERE id = ?", consent_id)
        if row is None:
            raise ApiError(404, "No such consent")
    else:
        row = own_consent(
            caller, consent_id, any_client=faults.active("consent-visible-to-other-client")
        )
    now = store.clock_of(row["session_id"])
    _check_initiable(status_of(row, now))
    earlier = await _earlier_methods(store, row["id"])
    token = new_token()
    expires_at = _method_expiry(sandbox, now, row["expires_at"])
    with store.tx():
        if not faults.active("reinit-keeps-old-token"):  # INIT-8
            _retire(store, row["id"], earlier)
        plain = token if faults.active("altered-token-accepted") else None
        store.run(
            "INSERT INTO methods (token_hash, consent_id, expires_at, token_plain)"
            " VALUES (?, ?, ?, ?)",
            fast_hash(token),
            row["id"],
            expires_at,
            plain,
        )
        store.run(
            "UPDATE consents SET return_url = ?, flow = ? WHERE id = ?",
            return_url,
            dumps(new_flow()),
            row["id"],
        )
    method: dict[str, Any] = {"redirect_url": _redirect_url(sandbox, token), "token": token}
    if faults.active("method-missing-token"):  # INIT-1
        del method["token"]
    method["expires_at"] = _shown_method_expiry(expires_at, now)
    return {"method": method}


# --- the end of a flow -------------------------------------------------------------------


def landing_url(sandbox: Sandbox, return_url: str | None, consent_id: str, status: str) -> str:
    """return_url with consent_id and status appended (PAGE-4, PAGE-5), else our Done page."""
    added = [("consent_id", consent_id)]
    if not faults.active("landing-without-status"):
        added.append(("status", status))
    if not return_url:
        return "/sca/done?" + urlencode(added)
    parts = urlsplit(return_url)
    query = parts.query
    if faults.active("return-url-query-dropped"):
        query = ""
    merged = f"{query}&{urlencode(added)}" if query else urlencode(added)
    path = "/" if faults.active("landing-path-dropped") else parts.path
    return urlunsplit((parts.scheme, _landing_netloc(parts), path, merged, ""))


def _landing_netloc(parts: SplitResult) -> str:  # PAGE-4
    """return_url's host and port, or (fault) the same host on the next port: nothing there."""
    if not faults.active("landing-on-other-port"):
        return parts.netloc
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = parts.netloc.rsplit("@", 1)[-1]
    host = host if host.endswith("]") or ":" not in host else host.rsplit(":", 1)[0]
    return f"{host}:{port + 1 if port < 65535 else port - 1}"
