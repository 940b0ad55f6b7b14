"""Lifetimes as options: --consent-ttl, --method-ttl and --refresh-ttl (run_sandbox's
consent_ttl, method_ttl and refresh_ttl), on the login session's clock."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from sca_sandbox import DEV_API_KEYS
from sca_sandbox.process import RunningSandbox, run_sandbox
from sca_sandbox.testing import SandboxClient

pytestmark = [pytest.mark.api, pytest.mark.lifecycle]

CONSENT_TTL = 30 * 60
METHOD_TTL = 5 * 60
REFRESH_TTL = 12 * 3600
TOKEN_TTL = 600  # the default access token lifetime
PROBE = "/v3/consents/00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def timed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    """A sandbox whose consents live 30 min, methods 5 min and refresh tokens 12 h."""
    with run_sandbox(
        tmp_path_factory.mktemp("lifetimes") / "sandbox.db",
        consent_ttl=CONSENT_TTL,
        method_ttl=METHOD_TTL,
        refresh_ttl=REFRESH_TTL,
    ) as running:
        yield running


def moment(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def wall() -> float:
    return datetime.now(UTC).timestamp()


async def activation_consent(client: SandboxClient) -> dict[str, Any]:
    person = await client.individual()
    account = await client.account(person["id"])
    card = await client.card(person["id"], account["id"])
    return await client.consent("POST", f"/v3/cards/{card['id']}/activate")


async def advance(client: SandboxClient, seconds: int) -> None:
    """Move the clock without refreshing (SandboxClient.advance would refresh)."""
    await client.ok("POST", "/v3/simulations/clock", json={"advance_seconds": seconds})


# --- consents and methods ------------------------------------------------------------------


async def test_a_consent_lives_consent_ttl_and_a_method_method_ttl(
    timed: RunningSandbox,
) -> None:
    async with SandboxClient.connect(timed.url, timed.api_keys[0]) as client:
        before = wall()
        consent = await activation_consent(client)
        method = await client.initiate(consent["id"])
        after = wall()

    created = moment(consent["created_at"])
    assert moment(consent["expires_at"]) - created == pytest.approx(CONSENT_TTL, abs=0.01)
    assert before - 1 <= moment(consent["expires_at"]) - CONSENT_TTL <= after + 1
    assert before - 1 <= moment(method["expires_at"]) - METHOD_TTL <= after + 1


async def test_the_consent_expires_after_consent_ttl_on_the_session_clock(
    timed: RunningSandbox,
) -> None:
    async with SandboxClient.connect(timed.url, timed.api_keys[0]) as client:
        consent = await activation_consent(client)

        await client.advance(15 * 60 + 60)  # past the default 15 minutes
        assert await client.status(consent["id"]) == "pending"
        await client.advance(CONSENT_TTL - 15 * 60)
        assert await client.status(consent["id"]) == "expired"


async def test_a_method_never_outlives_its_consent(timed: RunningSandbox) -> None:
    async with SandboxClient.connect(timed.url, timed.api_keys[0]) as client:
        consent = await activation_consent(client)
        await client.advance(CONSENT_TTL - 120)  # 2 minutes left, less than METHOD_TTL

        method = await client.initiate(consent["id"])

    assert method["expires_at"] == consent["expires_at"]


async def test_a_method_expires_after_method_ttl_while_its_consent_lives_on(
    timed: RunningSandbox,
) -> None:
    async with SandboxClient.connect(timed.url, timed.api_keys[0]) as client:
        consent = await activation_consent(client)
        method = await client.initiate(consent["id"])
        alive = await client.http.get(method["redirect_url"])

        await client.advance(METHOD_TTL + 1)
        gone = await client.http.get(method["redirect_url"])
        status = await client.status(consent["id"])

    assert alive.status_code == 200
    assert gone.status_code == 410
    assert status == "pending"


# --- refresh tokens ------------------------------------------------------------------------


async def test_a_refresh_within_refresh_ttl_works_and_each_token_counts_from_its_issue(
    timed: RunningSandbox,
) -> None:
    async with SandboxClient.connect(timed.url, timed.api_keys[0]) as client:
        await advance(client, TOKEN_TTL + 1)  # the access token has expired
        assert (await client.get(PROBE)).status_code == 401
        assert (await client.refresh()).status_code == 200

        await advance(client, REFRESH_TTL - 60)  # 12 h since login, not since that refresh
        late = await client.refresh()

        assert late.status_code == 200
        assert (await client.get(PROBE)).status_code == 404  # authenticated again


async def test_a_refresh_token_older_than_refresh_ttl_answers_401(
    timed: RunningSandbox,
) -> None:
    async with SandboxClient.connect(timed.url, timed.api_keys[0]) as client:
        await advance(client, REFRESH_TTL + 1)

        response = await client.refresh()

    assert response.status_code == 401
    assert response.json()["errors"][0]["field"] == "refresh_token"


async def test_the_refresh_lifetime_follows_only_the_calling_sessions_clock(
    timed: RunningSandbox,
) -> None:
    async with (
        SandboxClient.connect(timed.url, timed.api_keys[0]) as moved,
        SandboxClient.connect(timed.url, timed.api_keys[0]) as still,
    ):
        await advance(moved, REFRESH_TTL + 1)

        assert (await moved.refresh()).status_code == 401
        assert (await still.refresh()).status_code == 400  # its access token is still valid


async def test_by_default_refresh_tokens_never_expire(sandbox: RunningSandbox) -> None:
    async with SandboxClient.connect(sandbox.url, sandbox.api_keys[0]) as client:
        await advance(client, 315_360_000)  # ten years

        response = await client.refresh()

    assert response.status_code == 200


# --- restarts and older databases ----------------------------------------------------------


async def test_a_restart_keeps_refresh_token_ages_on_the_session_clock(tmp_path: Path) -> None:
    db = tmp_path / "kept.db"
    with run_sandbox(db, refresh_ttl=3600) as first:
        async with (
            SandboxClient.connect(first.url, DEV_API_KEYS[0]) as aged,
            SandboxClient.connect(first.url, DEV_API_KEYS[0]) as young,
        ):
            await advance(aged, 3601)  # refresh token expired on its clock, not in wall time
            await advance(young, TOKEN_TTL + 1)
            kept = [aged.refresh_token, young.refresh_token]

    with run_sandbox(db, refresh_ttl=3600) as second:
        async with httpx.AsyncClient(base_url=second.url) as http:
            answers = [
                (await http.post("/v3/auth/refresh", json={"refresh_token": token})).status_code
                for token in kept
            ]

    assert answers == [401, 200]


async def test_a_database_from_before_issued_at_keeps_working(tmp_path: Path) -> None:
    """The column is added on start; older refresh tokens age on the session clock from then."""
    db = tmp_path / "old.db"
    with run_sandbox(db) as first:
        async with (
            SandboxClient.connect(first.url, DEV_API_KEYS[0]) as fresh,
            SandboxClient.connect(first.url, DEV_API_KEYS[0]) as stale,
        ):
            kept = [(c.access_token, c.refresh_token) for c in (fresh, stale)]
    with sqlite3.connect(db) as old:  # as the schema was before the column existed
        old.execute("ALTER TABLE refresh_tokens DROP COLUMN issued_at")
    with sqlite3.connect(db) as check:
        columns = {row[1] for row in check.execute("PRAGMA table_info(refresh_tokens)")}
    assert "issued_at" not in columns

    with run_sandbox(db, refresh_ttl=3600) as second:
        async with httpx.AsyncClient(base_url=second.url) as http:
            fresh, stale = (SandboxClient(http, DEV_API_KEYS[0]) for _ in kept)
            (fresh.access_token, fresh.refresh_token), (stale.access_token, stale.refresh_token) = (
                kept
            )
            await advance(fresh, TOKEN_TTL + 1)
            await advance(stale, 3601)

            assert (await fresh.refresh()).status_code == 200
            assert (await stale.refresh()).status_code == 401
            await advance(fresh, TOKEN_TTL + 1)
            assert (await fresh.refresh()).status_code == 200, "new tokens carry issued_at"
    with sqlite3.connect(db) as check:
        issued = [row[0] for row in check.execute("SELECT issued_at FROM refresh_tokens")]
    assert len(issued) == 4 and None not in issued
