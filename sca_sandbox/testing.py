"""A small async client for the sandbox, used by its own tests and by the benchmark.

``SandboxClient`` logs in with one API key (its own login session, hence its own sandbox
clock), makes test data, and drives the hosted pages over plain HTTP
(``HttpFlow``) where a browser would add nothing.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

PASSCODE = "123456"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class SandboxClient:
    def __init__(self, http: httpx.AsyncClient, api_key: str) -> None:
        self.http = http
        self.api_key = api_key
        self.access_token = ""
        self.refresh_token = ""

    @classmethod
    @asynccontextmanager
    async def connect(
        cls, base_url: str, api_key: str, **options: Any
    ) -> AsyncIterator[SandboxClient]:
        async with httpx.AsyncClient(base_url=base_url, timeout=30.0, **options) as http:
            client = cls(http, api_key)
            await client.login()
            yield client

    # session

    async def login(self) -> None:
        response = await self.http.post("/v3/auth/login", json={"api_key": self.api_key})
        response.raise_for_status()
        self._keep(response.json())

    def _keep(self, pair: dict[str, str]) -> None:
        self.access_token = pair["access_token"]
        self.refresh_token = pair["refresh_token"]

    async def refresh(self) -> httpx.Response:
        response = await self.http.post(
            "/v3/auth/refresh", json={"refresh_token": self.refresh_token}
        )
        if response.status_code == 200:
            self._keep(response.json())
        return response

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return await self.http.request(method, url, headers=headers, **kwargs)

    async def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", url, **kwargs)

    async def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", url, **kwargs)

    async def ok(self, method: str, url: str, expected: int = 200, **kwargs: Any) -> Any:
        response = await self.request(method, url, **kwargs)
        if response.status_code != expected:
            raise AssertionError(
                f"{method} {url}: expected {expected}, got {response.status_code}: {response.text}"
            )
        return response.json()

    async def advance(self, seconds: int) -> str:
        """Move this session's clock; refresh the access token if that expired it."""
        now: str = (
            await self.ok("POST", "/v3/simulations/clock", json={"advance_seconds": seconds})
        )["now"]
        probe = await self.get("/v3/consents/00000000-0000-4000-8000-000000000000")
        if probe.status_code == 401:
            (await self.refresh()).raise_for_status()
        return now

    # test data

    async def individual(
        self, *, active: bool = True, phone: str | None = None, **fields: Any
    ) -> dict[str, Any]:
        body = {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": f"ada.{uuid.uuid4().hex[:8]}@example.com",
            "phone_number": phone or "+4670" + str(uuid.uuid4().int)[:7],
            "date_of_birth": "1990-12-10",
            **fields,
        }
        person: dict[str, Any] = await self.ok("POST", "/v3/individuals", 201, json=body)
        if active:
            path = f"/v3/simulations/individuals/{person['id']}/activate"
            person = await self.ok("POST", path, json={"passcode": PASSCODE})
        return person

    async def account(self, individual_id: str, *, balance: int = 0) -> dict[str, Any]:
        account: dict[str, Any] = await self.ok(
            "POST", "/v3/accounts", 201, json={"individual_id": individual_id}
        )
        if balance:
            await self.ok(
                "POST",
                "/v3/simulations/account_funding",
                json={"account_id": account["id"], "amount": balance},
            )
            account["balance"] = balance
        return account

    async def card(
        self, individual_id: str, account_id: str, *, kind: str = "physical"
    ) -> dict[str, Any]:
        body = {
            "individual_id": individual_id,
            "account_id": account_id,
            "display_name": "Ada Lovelace",
            "exp_month": 2,
            "exp_year": 2029,
            "type": kind,
        }
        card: dict[str, Any] = await self.ok("POST", "/v3/cards", 201, json=body)
        return card

    # consents

    async def consent(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        """The consent a protected request asks for (asserts the 412)."""
        body = await self.ok(method, url, 412, **kwargs)
        consent: dict[str, Any] = body["consent"]
        return consent

    async def initiate(self, consent_id: str, return_url: str | None = None) -> dict[str, Any]:
        body = {"return_url": return_url} if return_url is not None else None
        answer = await self.ok("POST", f"/v3/consents/{consent_id}", json=body)
        method: dict[str, Any] = answer["method"]
        return method

    async def status(self, consent_id: str) -> str:
        status: str = (await self.ok("GET", f"/v3/consents/{consent_id}"))["consent"]["status"]
        return status


class HttpFlow:
    """The hosted pages driven over HTTP: GET a step, POST its form with the CSRF value."""

    def __init__(self, http: httpx.AsyncClient, redirect_url: str) -> None:
        self.http = http
        self.url = redirect_url
        self.last: httpx.Response | None = None

    async def open(self) -> httpx.Response:
        self.last = await self.http.get(self.url)
        return self.last

    @property
    def text(self) -> str:
        """The HTML of the page last loaded."""
        assert self.last is not None, "no page loaded yet"
        return self.last.text

    def csrf(self) -> str:
        assert self.last is not None
        found = _CSRF.search(self.last.text)
        assert found, f"no CSRF field on the page ({self.last.status_code}): {self.last.text[:300]}"
        return found.group(1)

    async def post(self, step: str, **fields: str) -> httpx.Response:
        """POST a step's form; answers the 303 (not followed)."""
        if self.last is None:
            await self.open()
        response = await self.http.post(f"{self.url}/{step}", data={"csrf": self.csrf(), **fields})
        return response

    async def step(self, step: str, **fields: str) -> httpx.Response:
        """POST a step and, when it redirects back into the flow, load the next page."""
        response = await self.post(step, **fields)
        location = response.headers.get("location", "")
        if (
            response.status_code == 303
            and location.startswith("/sca/")
            and not location.startswith("/sca/done")
        ):
            await self.open()
        return response

    async def approve(self, passcode: str = PASSCODE) -> httpx.Response:
        """Summary → Confirm → Try another way → passcode; answers the last POST."""
        await self.open()
        await self.step("confirm")
        await self.step("another-way")
        return await self.step("passcode", passcode=passcode)

    async def decline(self) -> httpx.Response:
        await self.open()
        return await self.step("decline")


def payment_body(account_id: str, amount: int = 1234, **overrides: Any) -> dict[str, Any]:
    """A valid external payment to an IBAN, with a fresh request_id."""
    return {
        "request_id": str(uuid.uuid4()),
        "account_id": account_id,
        "counterparty": {
            "name": "Grace Hopper",
            "account": {"iban": "SE4550000000058398257466", "bic": "ESSESESS"},
        },
        "amount": amount,
        "reference": "Invoice 7",
        **overrides,
    }
