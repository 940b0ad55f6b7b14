"""SQLite persistence and the sandbox clock.

One connection, used only from the event-loop thread: a handler's database work runs
synchronously between two awaits, so each multi-statement change is atomic with
respect to every other request (``BEGIN IMMEDIATE`` also guards against a second
process on the same file). UNIQUE constraints back the invariants that matter
(one transaction per client and ``request_id``).

The sandbox clock is scoped per login session: ``POST /v3/simulations/clock`` moves
only the calling session's clock (an offset added to wall time, persisted in
``sessions.clock_offset``). Every time-based decision in a request uses the calling
session's clock; a consent records the session that created it and its hosted pages
use that session's clock. Parallel tests therefore never disturb each other.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS clients (
    id TEXT PRIMARY KEY, key_hash TEXT NOT NULL UNIQUE, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY, client_id TEXT NOT NULL, clock_offset REAL NOT NULL DEFAULT 0,
    access_exp REAL NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS refresh_tokens (
    token_hash TEXT PRIMARY KEY, session_id TEXT NOT NULL, used INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL, issued_at REAL);
CREATE TABLE IF NOT EXISTS individuals (
    id TEXT PRIMARY KEY, client_id TEXT NOT NULL, first_name TEXT NOT NULL,
    last_name TEXT NOT NULL, email TEXT NOT NULL, phone_number TEXT NOT NULL,
    date_of_birth TEXT NOT NULL, address TEXT, status TEXT NOT NULL,
    passcode_hash TEXT, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS passkeys (
    credential_id TEXT PRIMARY KEY, individual_id TEXT NOT NULL, public_key BLOB NOT NULL,
    sign_count INTEGER NOT NULL, created_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS passkeys_individual ON passkeys(individual_id);
CREATE TABLE IF NOT EXISTS accounts (
    id TEXT PRIMARY KEY, client_id TEXT NOT NULL, individual_id TEXT NOT NULL,
    name TEXT NOT NULL, type TEXT NOT NULL, currency TEXT NOT NULL,
    balance INTEGER NOT NULL, iban TEXT NOT NULL UNIQUE, bic TEXT NOT NULL,
    created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS cards (
    id TEXT PRIMARY KEY, client_id TEXT NOT NULL, individual_id TEXT NOT NULL,
    account_id TEXT NOT NULL, display_name TEXT NOT NULL, exp_month INTEGER NOT NULL,
    exp_year INTEGER NOT NULL, type TEXT NOT NULL, last4 TEXT NOT NULL, status TEXT NOT NULL,
    created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS card_secrets (
    card_id TEXT PRIMARY KEY, pan TEXT NOT NULL, cvc TEXT NOT NULL, pin_hash TEXT);
CREATE TABLE IF NOT EXISTS transactions (
    id TEXT PRIMARY KEY, client_id TEXT NOT NULL, request_id TEXT, request_key TEXT,
    account_id TEXT NOT NULL,
    amount INTEGER NOT NULL, currency TEXT NOT NULL, direction TEXT NOT NULL,
    counterparty TEXT, reference TEXT, type TEXT NOT NULL, status TEXT NOT NULL,
    fingerprint TEXT, created_at REAL NOT NULL, UNIQUE (client_id, request_key));
CREATE INDEX IF NOT EXISTS transactions_account ON transactions(account_id, created_at);
CREATE INDEX IF NOT EXISTS transactions_request ON transactions(client_id, request_id);
CREATE TABLE IF NOT EXISTS consents (
    id TEXT PRIMARY KEY, client_id TEXT NOT NULL, session_id TEXT NOT NULL,
    individual_id TEXT NOT NULL, action TEXT NOT NULL, scope TEXT NOT NULL,
    status TEXT NOT NULL, fingerprint TEXT NOT NULL, subject_id TEXT NOT NULL,
    summary TEXT NOT NULL, return_url TEXT, created_at REAL NOT NULL,
    expires_at REAL NOT NULL, decided_at REAL, consumed_at REAL, flow TEXT);
CREATE INDEX IF NOT EXISTS consents_lookup ON consents(client_id, action, fingerprint, status);
CREATE INDEX IF NOT EXISTS consents_subject ON consents(client_id, action, subject_id, status);
CREATE TABLE IF NOT EXISTS methods (
    token_hash TEXT PRIMARY KEY, consent_id TEXT NOT NULL, expires_at REAL NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0, token_plain TEXT);
CREATE INDEX IF NOT EXISTS methods_consent ON methods(consent_id);
CREATE TABLE IF NOT EXISTS sms_codes (
    id INTEGER PRIMARY KEY AUTOINCREMENT, client_id TEXT NOT NULL, phone_number TEXT NOT NULL,
    code TEXT NOT NULL, sent_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS sms_phone ON sms_codes(client_id, phone_number, id);
"""

# Columns added after a database may already have been made: _migrate adds them to an older
# file, then fills them in with the statement given.
# refresh_tokens.issued_at: when the token was issued on its session's clock (created_at is
# wall time, like every other created_at). An older row gets its wall time on the session's
# clock as it is now: never older than it really is, and aging with the clock from then on.
ADDED_COLUMNS = (
    (
        "refresh_tokens",
        "issued_at",
        "REAL",
        "UPDATE refresh_tokens SET issued_at = created_at + COALESCE((SELECT clock_offset"
        " FROM sessions WHERE sessions.id = refresh_tokens.session_id), 0)",
    ),
)


def iso(ts: float) -> str:
    """The documented timestamp form: ``2021-05-11T09:55:17.000Z``."""
    moment = datetime.fromtimestamp(ts, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


@dataclass
class Session:
    id: str
    client_id: str
    clock_offset: float
    access_exp: float

    def now(self) -> float:
        return time.time() + self.clock_offset


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = sqlite3.connect(
            str(path), isolation_level=None, check_same_thread=False, timeout=10.0
        )
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA busy_timeout=10000")
        self.db.execute("PRAGMA foreign_keys=OFF")
        self.db.executescript(SCHEMA)
        self._migrate()
        self._sessions: dict[str, Session] = {}

    def _migrate(self) -> None:
        """Columns added since the first schema, added to a database made before them."""
        with self.tx():  # one process at a time, should two open the same file
            for table, column, kind, fill in ADDED_COLUMNS:
                present = {row["name"] for row in self.all(f"PRAGMA table_info({table})")}
                if column not in present:
                    self.run(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
                    self.run(fill)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def one(self, sql: str, *args: Any) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.db.execute(sql, args).fetchone()
        return row

    def all(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        return list(self.db.execute(sql, args).fetchall())

    def run(self, sql: str, *args: Any) -> None:
        self.db.execute(sql, args)

    # meta

    def meta(self, key: str) -> str | None:
        row = self.one("SELECT value FROM meta WHERE key = ?", key)
        return None if row is None else str(row["value"])

    def set_meta(self, key: str, value: str) -> None:
        self.run("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", key, value)

    # sessions and their clocks (cached: this process is the only writer)

    def session(self, session_id: str) -> Session | None:
        cached = self._sessions.get(session_id)
        if cached is not None:
            return cached
        row = self.one("SELECT * FROM sessions WHERE id = ?", session_id)
        if row is None:
            return None
        found = Session(row["id"], row["client_id"], row["clock_offset"], row["access_exp"])
        self._sessions[session_id] = found
        return found

    def create_session(self, session_id: str, client_id: str, access_exp: float) -> Session:
        created = Session(session_id, client_id, 0.0, access_exp)
        self.run(
            "INSERT INTO sessions (id, client_id, clock_offset, access_exp, created_at)"
            " VALUES (?, ?, 0, ?, ?)",
            session_id,
            client_id,
            access_exp,
            time.time(),
        )
        self._sessions[session_id] = created
        return created

    def set_access_exp(self, session: Session, access_exp: float) -> None:
        self.run("UPDATE sessions SET access_exp = ? WHERE id = ?", access_exp, session.id)
        session.access_exp = access_exp

    def advance_clock(self, session: Session, seconds: int) -> None:
        offset = session.clock_offset + seconds
        self.run("UPDATE sessions SET clock_offset = ? WHERE id = ?", offset, session.id)
        session.clock_offset = offset

    def clock_of(self, session_id: str) -> float:
        """Now on the clock of the given session (wall time for an unknown one)."""
        found = self.session(session_id)
        return found.now() if found is not None else time.time()
