"""AUTH: login, bearer tokens on the sandbox clock, refresh rotation."""

from __future__ import annotations

import httpx
import jwt
import pytest

from sca_sandbox.process import RunningSandbox
from sca_sandbox.testing import SandboxClient

pytestmark = [pytest.mark.api, pytest.mark.security]

PROBE = "/v3/consents/00000000-0000-4000-8000-000000000000"


async def test_login_answers_a_token_pair(alpha: SandboxClient) -> None:
    response = await alpha.http.post("/v3/auth/login", json={"api_key": alpha.api_key})

    assert response.status_code == 200
    assert set(response.json()) == {"access_token", "refresh_token"}


async def test_login_with_an_unknown_key_answers_401(alpha: SandboxClient) -> None:
    response = await alpha.http.post("/v3/auth/login", json={"api_key": "not-a-key"})

    assert response.status_code == 401
    assert response.json()["errors"][0]["field"] == "api_key"


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Basic abc", "Bearer not.a.jwt", "Bearer " + "x" * 5000],
)
async def test_missing_or_malformed_tokens_answer_401(
    alpha: SandboxClient, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}

    response = await alpha.http.get(PROBE, headers=headers)

    assert response.status_code == 401
    assert response.json()["errors"]


async def test_a_tampered_token_answers_401(alpha: SandboxClient) -> None:
    claims = jwt.decode(alpha.access_token, options={"verify_signature": False})
    forged = jwt.encode(
        {**claims, "exp": claims["exp"] + 3600},
        "a-guessed-secret-that-is-long-enough-for-hs256",
        algorithm="HS256",
    )
    header, payload, signature = alpha.access_token.split(".")
    flipped = f"{header}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"

    for token in (forged, flipped):
        response = await alpha.http.get(PROBE, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401


async def test_the_token_expires_on_the_sandbox_clock_and_refresh_rotates(
    alpha: SandboxClient,
) -> None:
    early = await alpha.refresh()
    assert early.status_code == 400, "refreshing while the access token is valid must be refused"

    await alpha.ok("POST", "/v3/simulations/clock", json={"advance_seconds": 601})
    expired = await alpha.get(PROBE)
    assert expired.status_code == 401

    old_refresh = alpha.refresh_token
    renewed = await alpha.refresh()
    assert renewed.status_code == 200
    assert (await alpha.get(PROBE)).status_code == 404  # authenticated again; the id is unknown

    reused = await alpha.http.post("/v3/auth/refresh", json={"refresh_token": old_refresh})
    assert reused.status_code == 401


async def test_each_login_has_its_own_clock(sandbox: RunningSandbox, alpha: SandboxClient) -> None:
    async with SandboxClient.connect(sandbox.url, sandbox.api_keys[0]) as other:
        await alpha.ok("POST", "/v3/simulations/clock", json={"advance_seconds": 3600})

        assert (await alpha.get(PROBE)).status_code == 401
        assert (await other.get(PROBE)).status_code == 404


async def test_openapi_document_describes_the_json_api_only(sandbox: RunningSandbox) -> None:
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        document = (await http.get("/openapi.json")).json()

    assert "/v3/consents/{consent_id}" in document["paths"]
    assert "/v3/transactions/pay" in document["paths"]
    assert not any(path.startswith("/sca") for path in document["paths"])
    onboard = document["paths"]["/v3/individuals/{individual_id}/onboard"]["post"]
    assert "412" in onboard["responses"]  # the contract's onboarding, in the default dialect
    assert "scope onboarding" in onboard["summary"]
