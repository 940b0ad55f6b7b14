"""The client's manners, without a network (httpx.MockTransport): rate limits waited out and
bounded, one login session shared by many clients, renewal by the target's rules, a pace."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest

from sca_conformance.checks import TargetNotPrepared
from sca_conformance.client import (
    ApiClient,
    LoginSession,
    Manners,
    Pacer,
    PoliteTransport,
    RateLimited,
    Wait,
    retry_after_seconds,
)
from sca_conformance.config import ProfileError, Settings, load_profile
from sca_conformance.plugin.fixtures import ApiSessions
from sca_conformance.verdict import Kind, parse_message

pytestmark = [pytest.mark.api]

Handler = Callable[[httpx.Request], httpx.Response]
TOKEN_BODY = {"access_token": "at-1", "refresh_token": "rt-1"}


class Sleeps:
    """Stands in for asyncio.sleep: records how long the client would have waited."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


def answers(*responses: httpx.Response) -> tuple[Handler, list[str]]:
    """A target answering these responses in turn (the last one from then on)."""
    sent: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        sent.append(f"{request.method} {request.url.path} {request.content.decode()}")
        return responses[min(len(sent), len(responses)) - 1]

    return handle, sent


def polite(handler: Handler, manners: Manners | None = None, **options: object
           ) -> tuple[httpx.AsyncClient, Sleeps, list[Wait]]:
    sleeps, waits = Sleeps(), []
    transport = PoliteTransport(httpx.MockTransport(handler), manners, sleep=sleeps,
                                on_wait=waits.append, **options)  # type: ignore[arg-type]
    return httpx.AsyncClient(base_url="http://target.test", transport=transport), sleeps, waits


async def test_a_429_with_retry_after_in_seconds_is_waited_out_and_the_request_sent_again(
) -> None:
    handle, sent = answers(httpx.Response(429, headers={"Retry-After": "7"}),
                           httpx.Response(200, json={"ok": True}))
    http, sleeps, waits = polite(handle)
    async with http:
        response = await http.post("/v3/things", json={"n": 1})

    assert response.status_code == 200 and response.json() == {"ok": True}
    assert sent == ['POST /v3/things {"n":1}'] * 2  # the same body, sent again
    assert sleeps.seconds == [7.0]
    assert [(w.status, w.seconds, w.retry_after, w.attempt) for w in waits] == [(429, 7.0, "7", 1)]
    assert waits[0].title == ("Rate limited: POST /v3/things → 429 (Retry-After: 7): "
                              "waited 7.0 s, send 2 next")


async def test_a_retry_after_date_is_read_against_the_targets_own_date() -> None:
    date = datetime(2026, 12, 6, 6, 0, 0, tzinfo=UTC)
    later = format_datetime(date + timedelta(seconds=42), usegmt=True)
    handle, _ = answers(
        httpx.Response(503, headers={"Retry-After": later,
                                     "Date": format_datetime(date, usegmt=True)}),
        httpx.Response(200))
    http, sleeps, waits = polite(handle)
    async with http:
        assert (await http.get("/v3/things")).status_code == 200
    assert sleeps.seconds == [42.0]
    assert waits[0].status == 503


def test_retry_after_reads_seconds_and_dates_and_nothing_else() -> None:
    now = datetime(2026, 12, 6, 6, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("120", now) == 120.0
    assert retry_after_seconds("Sun, 06 Dec 2026 06:01:00 GMT", now) == 60.0
    assert retry_after_seconds("Sun, 06 Dec 2026 05:59:00 GMT", now) == 0.0  # passed already
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds("", now) is None
    assert retry_after_seconds(None, now) is None


async def test_a_429_without_retry_after_backs_off_doubling() -> None:
    handle, sent = answers(httpx.Response(429), httpx.Response(429), httpx.Response(429),
                           httpx.Response(200))
    http, sleeps, _ = polite(handle, Manners(backoff_seconds=0.5))
    async with http:
        assert (await http.get("/v3/things")).status_code == 200
    assert sleeps.seconds == [0.5, 1.0, 2.0]
    assert len(sent) == 4


async def test_a_503_without_retry_after_is_an_answer_not_a_rate_limit() -> None:
    handle, sent = answers(httpx.Response(503))
    http, sleeps, waits = polite(handle)
    async with http:
        assert (await http.get("/v3/things")).status_code == 503
    assert len(sent) == 1 and not sleeps.seconds and not waits


@pytest.mark.parametrize(("manners", "sends", "slept"), [
    (Manners(max_tries=3), 3, [1.0, 1.0]),  # out of tries
    (Manners(max_wait_seconds=2.5), 3, [1.0, 1.0]),  # a third second would pass the cap
])
async def test_a_target_that_keeps_limiting_leaves_the_test_not_prepared(
    manners: Manners, sends: int, slept: list[float]
) -> None:
    handle, sent = answers(httpx.Response(429, headers={"Retry-After": "1"}))
    http, sleeps, _ = polite(handle, manners)
    async with http:
        with pytest.raises(RateLimited) as raised:
            await http.get("/v3/things")

    assert len(sent) == sends and sleeps.seconds == slept
    assert isinstance(raised.value, TargetNotPrepared)  # never a verdict, never a pass
    message = str(raised.value)
    assert message.startswith("Target could not be prepared: rate limited: GET /v3/things "
                              f"answered 429 {sends} time(s); waited 2.0 s in all")
    assert "rate_limits.max_tries" in message
    assert parse_message(message)[0] is Kind.NOT_PREPARED


async def test_a_retry_after_longer_than_the_cap_gives_up_at_once() -> None:
    handle, sent = answers(httpx.Response(429, headers={"Retry-After": "3600"}))
    http, sleeps, _ = polite(handle, Manners(max_wait_seconds=60))
    async with http:
        with pytest.raises(RateLimited, match="then asked for 3600 s more"):
            await http.get("/v3/things")
    assert len(sent) == 1 and not sleeps.seconds


async def test_the_pacer_spaces_the_sends() -> None:
    sleeps = Sleeps()
    pacer = Pacer(4, sleep=sleeps)  # one send every 0.25 s
    for _ in range(3):
        await pacer.turn()
    # The stand-in sleep lets no time pass: each send waits for the turns booked before it.
    assert sleeps.seconds == [pytest.approx(0.25, abs=0.05), pytest.approx(0.5, abs=0.05)]


# The client: a login session shared, renewed by the target's rules -----------------------


class Target:
    """Logs in, refreshes (400 before the access token's expiry, 401 for a refresh token it
    no longer knows), serves /v3/things to a current access token; a test turns its clock."""

    def __init__(self, expires_in: int = 600) -> None:
        self.now = datetime(2026, 12, 6, 6, 0, 0, tzinfo=UTC)
        self.expires_in = expires_in
        self.generation = 0
        self.expires = self.now
        self.refresh_tokens: set[str] = set()
        self.calls: list[str] = []
        self.throttle_next = 0

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(f"{request.method} {request.url.path}")
        date = {"Date": format_datetime(self.now, usegmt=True)}
        if self.throttle_next:
            self.throttle_next -= 1
            return httpx.Response(429, headers={**date, "Retry-After": "0"})
        if request.url.path == "/v3/auth/login":
            return self.tokens(date)
        if request.url.path == "/v3/auth/refresh":
            token = json.loads(request.content)["refresh_token"]
            if token not in self.refresh_tokens:
                return httpx.Response(401, headers=date, json={"errors": []})
            if self.now < self.expires:
                return httpx.Response(400, headers=date, json={"errors": []})
            self.refresh_tokens.discard(token)
            return self.tokens(date)
        if (request.headers.get("authorization") != f"Bearer at-{self.generation}"
                or self.now >= self.expires):
            return httpx.Response(401, headers=date, json={"errors": []})
        return httpx.Response(200, headers=date, json={"ok": True})

    def tokens(self, date: dict[str, str]) -> httpx.Response:
        self.generation += 1
        self.expires = self.now + timedelta(seconds=self.expires_in)
        self.refresh_tokens.add(f"rt-{self.generation}")
        return httpx.Response(200, headers=date, json={
            "access_token": f"at-{self.generation}", "refresh_token": f"rt-{self.generation}",
            "expires_in": self.expires_in})


def client_of(target: Target, session: LoginSession, **options: object) -> ApiClient:
    return ApiClient("http://target.test", "key-123456", session=session,
                     transport=httpx.MockTransport(target.handle), **options)  # type: ignore[arg-type]


async def test_many_clients_of_one_session_log_in_once_each_recording_its_own_exchanges(
) -> None:
    target, session = Target(), LoginSession()
    clients = [client_of(target, session) for _ in range(5)]
    for client in clients:
        async with client:
            assert (await client.get("/v3/things")).status_code == 200

    assert target.calls.count("POST /v3/auth/login") == 1
    assert session.logins == 1
    assert [c.logins for c in clients] == [1, 0, 0, 0, 0]  # the first test to need it
    assert [[e.title for e in c.exchanges] for c in clients[1:]] == [
        ["GET /v3/things → 200"]] * 4  # each test's evidence: its own exchanges only


async def test_nothing_logs_in_before_a_request_needs_it() -> None:
    target = Target()
    async with client_of(target, LoginSession()) as client:
        await client.post("/v3/auth/login", json={"api_key": "x"}, authenticated=False)
    assert client.logins == 0 and client.access_token is None


async def test_past_the_expiry_the_session_refreshes_before_sending() -> None:
    target, session = Target(expires_in=60), LoginSession()
    async with client_of(target, session) as client:
        await client.get("/v3/things")
        target.now += timedelta(seconds=61)
        session.skew = target.now - datetime.now(UTC)  # as the next Date would tell it
        assert (await client.get("/v3/things")).status_code == 200

    assert target.calls == ["POST /v3/auth/login", "GET /v3/things", "POST /v3/auth/refresh",
                            "GET /v3/things"]
    assert session.refreshes == 1 and session.logins == 1


async def test_a_refresh_refused_as_early_keeps_the_token_until_the_target_says_401() -> None:
    target, session = Target(expires_in=60), LoginSession()
    async with client_of(target, session) as client:
        await client.get("/v3/things")
        session.access_expires = target.now - timedelta(seconds=10)  # our guess: wrong
        assert (await client.get("/v3/things")).status_code == 200
        assert (await client.get("/v3/things")).status_code == 200

    assert target.calls == ["POST /v3/auth/login", "GET /v3/things", "POST /v3/auth/refresh",
                            "GET /v3/things", "GET /v3/things"]  # one early refresh, no login


async def test_a_401_refreshes_once_for_every_client_of_the_session() -> None:
    target, session = Target(expires_in=60), LoginSession()
    first, second = client_of(target, session), client_of(target, session)
    async with first, second:
        await first.get("/v3/things")
        target.now += timedelta(seconds=61)  # the client does not know: no Date seen since
        assert (await first.get("/v3/things")).status_code == 200
        assert (await second.get("/v3/things")).status_code == 200

    assert target.calls.count("POST /v3/auth/refresh") == 1
    assert target.calls.count("POST /v3/auth/login") == 1


async def test_a_refresh_token_the_target_no_longer_knows_means_a_new_login() -> None:
    target, session = Target(expires_in=60), LoginSession()
    async with client_of(target, session) as client:
        await client.get("/v3/things")
        target.refresh_tokens.clear()  # expired, on the target's side
        target.now += timedelta(seconds=61)
        assert (await client.get("/v3/things")).status_code == 200

    assert target.calls == ["POST /v3/auth/login", "GET /v3/things", "GET /v3/things",
                            "POST /v3/auth/refresh", "POST /v3/auth/login", "GET /v3/things"]
    assert session.logins == 2


async def test_a_throttled_login_is_waited_out_and_shown_as_a_wait_not_an_exchange() -> None:
    target, session = Target(), LoginSession()
    target.throttle_next = 2
    shown: list[Wait] = []
    async with client_of(target, session, on_wait=shown.append) as client:
        assert (await client.get("/v3/things")).status_code == 200

    assert [(w.method, w.path, w.status) for w in shown] == [("POST", "/v3/auth/login", 429)] * 2
    assert client.waits == shown
    assert [e.title for e in client.exchanges] == ["POST /v3/auth/login → 200",
                                                   "GET /v3/things → 200"]
    with pytest.raises(TargetNotPrepared, match="rate limited: the fuzz campaign: the target "
                       "limited 2 of its requests"):
        client.check_unthrottled("the fuzz campaign")


async def test_an_unthrottled_client_passes_the_check() -> None:
    async with client_of(Target(), LoginSession()) as client:
        await client.get("/v3/things")
        client.check_unthrottled("the fuzz campaign")  # raises nothing
    assert client.waits == []


# The profile's [rate_limits] ---------------------------------------------------------------


def test_the_profiles_rate_limits_set_the_bounds_and_the_pace(tmp_path: Path) -> None:
    profile = tmp_path / "staging.toml"
    profile.write_text('[target]\nbase_url = "https://api.example.test"\n'
                       "[rate_limits]\nrequests_per_second = 4\nmax_wait_seconds = 30\n"
                       "max_tries = 3\n")
    settings = Settings.resolve(target_url=None, profile_path=str(profile), strict=False,
                                environ={"SCA_API_KEY": "sk-staging"})
    sessions = ApiSessions(settings)
    assert sessions.manners == Manners(max_wait_seconds=30, max_tries=3, requests_per_second=4)
    assert sessions.pacer is not None and sessions.pacer.interval == 0.25
    assert ApiSessions(Settings.resolve(target_url=None, profile_path=None, strict=False)
                       ).pacer is None  # no pace unless the profile names one


def test_a_rate_limit_of_the_wrong_kind_is_a_usage_error(tmp_path: Path) -> None:
    profile = tmp_path / "staging.toml"
    profile.write_text('[target]\nbase_url = "https://api.example.test"\n'
                       "[rate_limits]\nrequests_per_second = 0\nmax_tries = \"3\"\n")
    with pytest.raises(ProfileError) as raised:
        load_profile(profile)
    assert "rate_limits.requests_per_second: input should be greater than 0" in str(raised.value)
    assert "rate_limits.max_tries: input should be a valid integer" in str(raised.value)


async def test_a_401_to_a_credential_the_test_chose_leaves_the_session_alone() -> None:
    target, session = Target(), LoginSession()
    async with client_of(target, session) as client:
        refused = await client.get("/v3/things", headers={"Authorization": "Bearer not-a-jwt"})
    assert refused.status_code == 401
    assert target.calls == ["POST /v3/auth/login", "GET /v3/things"]  # no refresh, no login
