"""Settings and the per-process state every handler reaches through ``request.app``."""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import Request

from . import CONSENT_TTL, METHOD_TTL, REFRESH_TTL, TOKEN_TTL
from .limits import Limits
from .security import fast_hash
from .store import Session, Store


@dataclass(frozen=True)
class Settings:
    db_path: Path
    public_url: str
    api_keys: tuple[str, ...]
    token_ttl: int = TOKEN_TTL  # access token, seconds
    consent_ttl: int = CONSENT_TTL  # a new consent's expires_at, seconds after its creation
    method_ttl: int = METHOD_TTL  # a method's expires_at (never after its consent's)
    refresh_ttl: int = REFRESH_TTL  # refresh token, seconds on the session clock; 0 = never
    faults: tuple[str, ...] = ()
    host: str = "127.0.0.1"
    port: int = 8000
    dialect: str = "default"  # sca_sandbox.dialects.DIALECTS
    return_url_allow: tuple[str, ...] = ()  # registered return_url prefixes; empty: any
    login_rate_limit: int = 0  # logins a minute per API key; 0: no limit
    request_rate_limit: int = 0  # requests a second per client; 0: no limit

    @property
    def rp_id(self) -> str:
        return urlsplit(self.public_url).hostname or "localhost"

    @property
    def origin(self) -> str:
        parts = urlsplit(self.public_url)
        return f"{parts.scheme}://{parts.netloc}"


@dataclass
class Sandbox:
    settings: Settings
    store: Store
    signing_secret: str
    active_key_hashes: dict[str, str] = field(default_factory=dict)  # key hash -> client id
    limits: Limits = field(init=False)

    def __post_init__(self) -> None:
        self.limits = Limits.of(self.settings.login_rate_limit, self.settings.request_rate_limit)

    @classmethod
    def open(cls, settings: Settings) -> Sandbox:
        store = Store(settings.db_path)
        with store.tx():
            secret = store.meta("jwt_secret")
            if secret is None:
                secret = secrets.token_urlsafe(48)
                store.set_meta("jwt_secret", secret)
            clients: dict[str, str] = {}
            for key in settings.api_keys:
                key_hash = fast_hash(key)
                row = store.one("SELECT id FROM clients WHERE key_hash = ?", key_hash)
                if row is None:
                    client_id = str(uuid.uuid4())
                    store.run(
                        "INSERT INTO clients (id, key_hash, created_at) VALUES (?, ?, ?)",
                        client_id,
                        key_hash,
                        time.time(),
                    )
                else:
                    client_id = row["id"]
                clients[key_hash] = client_id
        return cls(settings, store, secret, clients)

    def close(self) -> None:
        self.store.close()


@dataclass
class Caller:
    """An authenticated request: the client, its login session, and now on its clock."""

    sandbox: Sandbox
    client_id: str
    session: Session
    now: float

    @property
    def store(self) -> Store:
        return self.sandbox.store


def sandbox_of(request: Request) -> Sandbox:
    found: Sandbox = request.app.state.sandbox
    return found
