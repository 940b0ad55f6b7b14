"""--return-url-allow PREFIX (the staging personality): only a return_url registered in
advance (https, starting with PREFIX; the client's own query or fragment after it) is
accepted, at initiation and at the onboarding by redirect alike; any other answers 400
naming return_url. Without one, the provider's own landing is used, as without the option."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from sca_sandbox.process import run_sandbox
from sca_sandbox.testing import SandboxClient, payment_body

pytestmark = [pytest.mark.api]

REGISTERED = "https://client.example/sca/return"
REFUSED = ["http://127.0.0.1:8080/sca/return", "https://client.example/elsewhere",
           "https://attacker.example/sca/return"]
ACCEPTED = [REGISTERED, f"{REGISTERED}?sca_test=1f2e", f"{REGISTERED}#sca_test=1f2e"]


@asynccontextmanager
async def registered_only(folder: Path, dialect: str) -> AsyncIterator[SandboxClient]:
    with run_sandbox(folder / "sandbox.db", dialect=dialect,
                     return_url_allow=[REGISTERED]) as sandbox:
        async with SandboxClient.connect(sandbox.url, sandbox.api_keys[0]) as client:
            yield client


@pytest.mark.parametrize("dialect", ["default", "nordic"])
async def test_initiation_accepts_only_a_registered_return_url(
    tmp_path: Path, dialect: str,
) -> None:
    async with registered_only(tmp_path, dialect) as api:
        await _initiations(api)


async def _initiations(api: SandboxClient) -> None:
    person = await api.individual()
    account = await api.account(person["id"], balance=10_000)
    consent = await api.consent("POST", "/v3/transactions/pay", json=payment_body(account["id"]))
    for return_url in REFUSED:
        answer = await api.post(f"/v3/consents/{consent['id']}", json={"return_url": return_url})
        assert answer.status_code == 400, (return_url, answer.text)
        assert answer.json()["errors"][0]["field"] == "return_url"
    for return_url in ACCEPTED:
        method = await api.initiate(consent["id"], return_url)
        assert method["redirect_url"], return_url
    assert (await api.initiate(consent["id"]))["redirect_url"]  # none: the provider's own


async def test_the_onboarding_by_redirect_accepts_only_a_registered_return_url(
    tmp_path: Path,
) -> None:
    async with registered_only(tmp_path, "nordic") as api:  # its onboarding is by redirect
        await _onboardings(api)


async def _onboardings(api: SandboxClient) -> None:
    person = await api.individual(active=False)
    path = f"/v3/individuals/{person['id']}/onboard"
    for return_url in REFUSED:
        answer = await api.post(path, json={"return_url": return_url})
        assert answer.status_code == 400, (return_url, answer.text)
        assert answer.json()["errors"][0]["field"] == "return_url"
    for return_url in ACCEPTED:
        answer = await api.post(path, json={"return_url": return_url})
        assert answer.status_code == 200, (return_url, answer.text)
        assert answer.json()["redirect_url"]
    assert (await api.post(path)).status_code == 200  # none: the provider's own landing
