"""Login, refresh, and the bearer check every other /v3 endpoint depends on."""

from __future__ import annotations

import sqlite3
import time
import uuid
from typing import Annotated

from fastapi import APIRouter, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from . import faults
from .context import Caller, Sandbox, sandbox_of
from .errors import ApiError
from .schemas import LoginBody, RefreshBody
from .security import fast_hash, new_token, read_access_token, sign_access_token
from .store import Session

router = APIRouter(prefix="/v3/auth", tags=["auth"])
bearer = HTTPBearer(auto_error=False, description="The access_token from POST /v3/auth/login")


def _issue(sandbox: Sandbox, session: Session) -> dict[str, str]:
    """A new token pair for the session; the caller holds the transaction."""
    store = sandbox.store
    now = session.now()
    exp = int(now) + sandbox.settings.token_ttl
    access = sign_access_token(
        sandbox.signing_secret,
        {"sub": session.client_id, "sid": session.id, "iat": int(now), "exp": exp},
    )
    refresh = new_token()
    store.run(
        "INSERT INTO refresh_tokens (token_hash, session_id, created_at, issued_at)"
        " VALUES (?, ?, ?, ?)",
        fast_hash(refresh),
        session.id,
        time.time(),
        now,
    )
    store.set_access_exp(session, exp)
    return {"access_token": access, "refresh_token": refresh}


def _client_for_key(sandbox: Sandbox, api_key: str) -> str | None:  # AUTH-1
    key_hash = fast_hash(api_key)
    client_id = sandbox.active_key_hashes.get(key_hash)
    if client_id is None and faults.active("login-accepts-unknown-key"):
        client_id = "unknown-" + key_hash[:16]
    return client_id


@router.post(
    "/login", summary="Log in with an API key",
    responses={401: {"description": "Unknown key"},
               429: {"description": "Too many logins (--login-rate-limit): see Retry-After"}},
)
async def login(body: LoginBody, request: Request) -> dict[str, str]:
    sandbox = sandbox_of(request)
    sandbox.limits.check_login(fast_hash(body.api_key))
    client_id = _client_for_key(sandbox, body.api_key)
    if client_id is None:
        raise ApiError(401, "Unknown API key", "api_key")
    store = sandbox.store
    with store.tx():
        session = store.create_session(str(uuid.uuid4()), client_id, 0)
        return _issue(sandbox, session)


def _refresh_token_expired(sandbox: Sandbox, session: Session, row: sqlite3.Row) -> bool:
    """Older than --refresh-ttl on the session's clock (0: refresh tokens never expire)."""
    ttl = sandbox.settings.refresh_ttl
    if not ttl:
        return False
    issued_at = row["issued_at"]  # on the session's clock (store.ADDED_COLUMNS)
    if issued_at is None:
        issued_at = row["created_at"]
    return bool(session.now() >= issued_at + ttl)


def _refresh_allowed(session: Session) -> bool:  # AUTH-3
    return faults.active("refresh-before-expiry-allowed") or session.now() >= session.access_exp


@router.post(
    "/refresh",
    summary="Exchange a refresh token for a new pair once the access token has expired",
    responses={
        400: {"description": "Access token still valid"},
        401: {"description": "Unknown or used"},
    },
)
async def refresh(body: RefreshBody, request: Request) -> dict[str, str]:
    sandbox = sandbox_of(request)
    store = sandbox.store
    row = store.one(
        "SELECT * FROM refresh_tokens WHERE token_hash = ?", fast_hash(body.refresh_token)
    )
    if row is None or row["used"]:
        raise ApiError(401, "Unknown or already used refresh token", "refresh_token")
    session = store.session(row["session_id"])
    if session is None:
        raise ApiError(401, "Unknown session", "refresh_token")
    if _refresh_token_expired(sandbox, session, row):
        raise ApiError(401, "The refresh token has expired", "refresh_token")
    if not _refresh_allowed(session):
        raise ApiError(400, "The access token has not expired yet", "refresh_token")
    with store.tx():
        if not faults.active("refresh-token-reusable"):  # AUTH-4
            store.run("UPDATE refresh_tokens SET used = 1 WHERE token_hash = ?", row["token_hash"])
        return _issue(sandbox, session)


def _expired(session: Session, exp: float) -> bool:  # AUTH-2
    return session.now() >= exp and not faults.active("expired-token-accepted")


def _authenticate(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Caller:
    sandbox = sandbox_of(request)
    if credentials is None or not credentials.credentials:
        raise ApiError(401, "A bearer access token is required")
    claims = read_access_token(sandbox.signing_secret, credentials.credentials)
    if claims is None:
        raise ApiError(401, "Invalid access token")
    session = sandbox.store.session(claims["sid"])
    if session is None or session.client_id != claims["sub"]:
        raise ApiError(401, "Invalid access token")
    if _expired(session, claims["exp"]):
        raise ApiError(401, "The access token has expired")
    return Caller(sandbox, session.client_id, session, session.now())


Credentials = Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]


async def caller(request: Request, credentials: Credentials) -> Caller:
    return _authenticate(request, credentials)


async def caller_for_init(request: Request, credentials: Credentials) -> Caller | None:
    try:
        return _authenticate(request, credentials)
    except ApiError:
        if faults.active("init-without-auth"):  # INIT-9
            return None
        raise
