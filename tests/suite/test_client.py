"""The API client, without a network (httpx.MockTransport)."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from sca_conformance.client import ApiClient, Exchange, TargetError, preflight
from sca_conformance.redact import MASK


class FakeTarget:
    """Answers login and refresh, and lets a test expire the access token."""

    def __init__(self) -> None:
        self.generation = 0
        self.expired = False
        self.calls: list[str] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(f"{request.method} {request.url.path}")
        if request.url.path == "/v3/auth/login":
            return self.tokens()
        if request.url.path == "/v3/auth/refresh":
            self.expired = False
            return self.tokens()
        if self.expired or request.headers.get("authorization") != f"Bearer at-{self.generation}":
            return httpx.Response(401, json={"errors": [{"field": None, "message": "expired"}]})
        return httpx.Response(200, json={"ok": True, "card_number": "4111111111111111"})

    def tokens(self) -> httpx.Response:
        self.generation += 1
        return httpx.Response(200, json={
            "access_token": f"at-{self.generation}", "refresh_token": f"rt-{self.generation}",
        })


@pytest.mark.api
async def test_an_expired_access_token_is_refreshed_once_and_the_request_retried() -> None:
    fake = FakeTarget()
    async with ApiClient("http://target.test", "key-123456",
                         transport=httpx.MockTransport(fake.handle)) as client:
        assert (await client.get("/v3/things")).status_code == 200
        fake.expired = True
        response = await client.get("/v3/things")
    assert response.status_code == 200
    assert fake.calls == [
        "POST /v3/auth/login", "GET /v3/things", "GET /v3/things", "POST /v3/auth/refresh",
        "GET /v3/things",
    ]


@pytest.mark.api
async def test_every_exchange_is_recorded_with_secrets_masked() -> None:
    fake = FakeTarget()
    seen: list[Exchange] = []
    async with ApiClient("http://target.test", "key-123456", on_exchange=seen.append,
                         transport=httpx.MockTransport(fake.handle)) as client:
        await client.post("/v3/things", json={"passcode": "123456", "note": "key-123456"})
    login, call = seen
    assert login.title == "POST /v3/auth/login → 200"
    assert login.request == {"api_key": MASK}
    assert login.response == {"access_token": MASK, "refresh_token": MASK}
    assert call.request == {"passcode": MASK, "note": MASK}
    assert call.response["card_number"] == MASK
    assert "key-123456" not in json.dumps([e.__dict__ for e in seen], default=str)


@pytest.mark.api
async def test_an_exchange_is_timed_from_its_request_sent_to_its_answer_read() -> None:
    async def slowly(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.2)
        return httpx.Response(200, json={"access_token": "at-1", "refresh_token": "rt-1"})

    seen: list[Exchange] = []
    async with ApiClient("http://target.test", "key-123456", on_exchange=seen.append,
                         transport=httpx.MockTransport(slowly)) as client:
        await client.login()
    (login,) = seen
    assert login.stopped - login.started >= 0.2
    assert login.elapsed_ms == pytest.approx((login.stopped - login.started) * 1000)


@pytest.mark.api
@pytest.mark.parametrize(
    ("handler", "message"),
    [
        (lambda r: httpx.Response(200, text="<html>hello</html>",
                                  headers={"content-type": "text/html"}), "not JSON"),
        (lambda r: httpx.Response(401, json={"errors": []}), "rejected the API key from SCA_API"),
        (lambda r: httpx.Response(404, json={"detail": "nope"}), "does not speak the consent"),
    ],
    ids=["html", "wrong-key", "not-the-contract"],
)
async def test_preflight_explains_an_unusable_target_in_one_sentence(
    handler: object, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = httpx.AsyncClient.__init__

    def with_mock(self: httpx.AsyncClient, *args: object, **kwargs: object) -> None:
        kwargs["transport"] = httpx.MockTransport(handler)  # type: ignore[arg-type]
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(httpx.AsyncClient, "__init__", with_mock)
    with pytest.raises(TargetError, match=message):
        await preflight("http://target.test", "key", "SCA_API_KEY")


@pytest.mark.api
async def test_preflight_names_an_unreachable_target_and_a_bad_url() -> None:
    with pytest.raises(TargetError, match=r"Target unreachable: http://127\.0\.0\.1:9"):
        await preflight("http://127.0.0.1:9", "key", "SCA_API_KEY")
    with pytest.raises(TargetError, match="not an absolute http"):
        await preflight("localhost:8000", "key", "SCA_API_KEY")
