"""A target that authenticates by OAuth2 client credentials (auth.style = "client_credentials"):
the suite's clients get their tokens at the profile's token endpoint, never send an API key,
take a new token once one expires (there is no refresh token), and mask the client's id and
secret as they mask API keys. Without a network (httpx.MockTransport)."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
import pytest

from sca_conformance.client import ApiClient, LoginRoute, LoginSession, TargetError, preflight
from sca_conformance.config import Profile, ProfileError, Settings
from sca_conformance.network import AuthSection

pytestmark = [pytest.mark.api]

CREDENTIALS = {"SCA_CLIENT_ID": "client-id-7", "SCA_CLIENT_SECRET": "client-secret-7"}
OAUTH = AuthSection(style="client_credentials", token_url="/oauth/token", scope="consents")


def target(seen: list[httpx.Request], *, expires_in: int = 300) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/oauth/token":
            token = f"at-{sum(r.url.path == '/oauth/token' for r in seen)}"
            return httpx.Response(200, json={"access_token": token, "token_type": "Bearer",
                                             "expires_in": expires_in})
        if request.headers.get("authorization", "").startswith("Bearer at-"):
            return httpx.Response(200, json={"ok": True})
        return httpx.Response(401, json={"errors": [{"code": "unauthorized"}]})

    return httpx.MockTransport(answer)


async def test_the_clients_get_their_token_by_client_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    seen: list[httpx.Request] = []
    route = LoginRoute(oauth=OAUTH)
    session = LoginSession()
    async with ApiClient("https://api.example", "", transport=target(seen), session=session,
                         route=route) as client:
        assert (await client.get("/v3/accounts")).status_code == 200
        assert (await client.get("/v3/accounts")).status_code == 200
    token, first, second = seen
    assert (token.method, token.url.path) == ("POST", "/oauth/token")
    assert token.content == b"grant_type=client_credentials&scope=consents"
    assert token.headers["authorization"] == "Basic " + base64.b64encode(
        b"client-id-7:client-secret-7").decode()
    assert first.headers["authorization"] == second.headers["authorization"] == "Bearer at-1"
    assert not any(r.url.path.endswith("/auth/login") for r in seen)
    assert session.refresh_token is None and session.logins == 1


async def test_an_expired_client_credentials_token_is_replaced_not_refreshed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    seen: list[httpx.Request] = []
    session = LoginSession()
    async with ApiClient("https://api.example", "", transport=target(seen, expires_in=0),
                         session=session, route=LoginRoute(oauth=OAUTH)) as client:
        await client.get("/v3/accounts")
        await client.get("/v3/accounts")
    paths = [r.url.path for r in seen]
    assert paths == ["/oauth/token", "/v3/accounts", "/oauth/token", "/v3/accounts"]
    assert not any(path.endswith("/auth/refresh") for path in paths)
    assert seen[-1].headers["authorization"] == "Bearer at-2"


async def test_the_preflight_asks_the_token_endpoint_and_names_its_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SCA_CLIENT_ID", "x")
    monkeypatch.setenv("SCA_CLIENT_SECRET", "y")

    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": "invalid_client"})

    monkeypatch.setattr("sca_conformance.network.Network.transport",
                        lambda self: httpx.MockTransport(refuse))
    with pytest.raises(TargetError, match=r"rejected the client credentials from SCA_CLIENT_ID"):
        await preflight("https://api.example", "", "SCA_CLIENT_ID",
                        route=LoginRoute(oauth=OAUTH))


def test_a_profile_of_client_credentials_needs_its_variables_not_an_api_key(
    tmp_path: Path,
) -> None:
    profile = tmp_path / "oauth.toml"
    profile.write_text('[target]\nbase_url = "https://api.example"\n[auth]\n'
                       'style = "client_credentials"\ntoken_url = "/oauth/token"\n')
    with pytest.raises(ProfileError, match="SCA_CLIENT_ID and SCA_CLIENT_SECRET not set"):
        Settings.resolve(target_url=None, profile_path=str(profile), strict=False, environ={})
    settings = Settings.resolve(target_url=None, profile_path=str(profile), strict=False,
                                environ=CREDENTIALS)
    assert settings.api_keys == ("", "")  # no API key is sent, and there is no second client
    assert settings.client_secrets(CREDENTIALS) == ("client-id-7", "client-secret-7")
    assert Settings.resolve(target_url=None, profile_path=str(profile), strict=False,
                            environ=CREDENTIALS).key_sources[0] == "SCA_CLIENT_ID"


def test_the_route_follows_the_profiles_paths() -> None:
    profile = Profile.model_validate({"target": {"base_path": "/api/v9"}})
    route = LoginRoute.of(profile)
    assert (route.login, route.refresh, route.oauth) == ("/api/v9/auth/login",
                                                         "/api/v9/auth/refresh", None)
    assert LoginRoute.of(Profile.model_validate(
        {"auth": {"style": "client_credentials", "token_url": "/t"}})).where == "/t"
