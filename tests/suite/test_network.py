"""Network and identity (sca_conformance.network): a private CA trusted by the API and the
browser alike (a throwaway one, trusted by these clients only, never by the machine), the
insecure switch for named hosts only, a proxy that never takes loopback, headers per origin;
setup errors end the run as TARGET UNUSABLE naming the setting, never as a violation; the
registered return_url of a provider that accepts no other."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import async_playwright

from sca_conformance.chromium import launch_options
from sca_conformance.client import ApiClient, TargetError, preflight
from sca_conformance.config import ProfileError, Settings
from sca_conformance.connection_errors import browser_setup_error, explain_browser
from sca_conformance.landing import RegisteredReturn, ReturnReceiver, place
from sca_conformance.network import Network, NetworkSection, bundle_keys
from sca_sandbox.process import run_sandbox
from suite.plugin_run import PLUGINS
from suite.tls import Pki, make_pki

ROOT = Path(__file__).resolve().parents[2]
KEYS = {"SCA_API_KEY": "sandbox-dev-key-alpha", "SCA_API_KEY_2": "sandbox-dev-key-beta"}
REGISTERED = "https://client.example/sca/return"
# The suite's own selection over TLS: the API's login and one whole browser flow.
SELECTION = ("test_login or test_approving_by_passcode_lands_on_return_url_and_performs_the"
             "_action and payment_history")
CLOSED_PROXY = "http://127.0.0.1:9"  # nothing listens there: a request through it fails


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def tls_sandbox(pki: Pki, tmp_path: Path) -> Iterator[str]:
    """The sandbox over https with the test CA's certificate, accepting only the registered
    https return_url (the staging personality's network side)."""
    with run_sandbox(tmp_path / "sandbox.db", tls=(pki.leaf, pki.key), public_host="127.0.0.1",
                     return_url_allow=[REGISTERED]) as sandbox:
        yield sandbox.url


def _network(**values: object) -> Network:
    return Network.from_profile(NetworkSection.model_validate(values), environ={})


# The settings ----------------------------------------------------------------------------


def test_the_environment_fills_what_the_profile_leaves_empty(pki: Pki) -> None:
    environ = {"SCA_CA_BUNDLE": str(pki.ca), "HTTPS_PROXY": "http://proxy.corp:3128",
               "NO_PROXY": ".internal.corp", "SCA_INSECURE_HOSTS": "old.example"}
    network = Network.from_profile(NetworkSection(), environ)
    assert network.ca_bundle == str(pki.ca)
    assert network.proxy_for("https://api.example") == "http://proxy.corp:3128"
    assert network.proxy_for("http://api.example") is None  # no HTTP_PROXY given
    for direct in ("https://127.0.0.1:8443", "https://localhost", "https://[::1]:1",
                   "https://api.internal.corp"):
        assert network.proxy_for(direct) is None, direct
    described = " | ".join(network.describe())
    assert f"CA bundle {pki.ca} (from SCA_CA_BUNDLE)" in described
    assert "INSECURE: certificates not checked for old.example" in described
    profile = Network.from_profile(NetworkSection(proxy="http://u:pw@p.corp:8080"), environ)
    assert profile.proxy_for("https://api.example") == "http://u:pw@p.corp:8080"
    assert "pw" not in " ".join(profile.describe())


@pytest.mark.parametrize(("toml", "message"), [
    ('[network]\ninsecure_hosts = ["*"]\n', "name the hosts"),
    ('[network.headers."https://a.example/path"]\nX = "1"\n', "is not an http(s) origin"),
    ('[network]\nca_bundel = "x"\n', "did you mean 'ca_bundle'"),
    ('[target]\nreturn_url = "http://client.example/back"\n', "is not an https URL"),
    ('[network]\nca_bundle = "missing.pem"\n', "missing.pem cannot be read"),
])
def test_a_network_setting_that_cannot_work_is_a_usage_error(
    toml: str, message: str, tmp_path: Path,
) -> None:
    profile = tmp_path / "p.toml"
    profile.write_text('[target]\nbase_url = "https://api.example"\n'
                       + toml.replace("[target]\n", ""))
    with pytest.raises(ProfileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Settings.resolve(target_url=None, profile_path=str(profile), strict=False,
                         environ={"SCA_API_KEY": "k"})


async def test_loopback_is_never_proxied_and_other_hosts_are() -> None:
    """HTTP_PROXY used to take the embedded sandbox's loopback requests to the proxy."""
    network = Network.from_profile(NetworkSection(), {"HTTP_PROXY": CLOSED_PROXY,
                                                       "HTTPS_PROXY": CLOSED_PROXY})
    with ReturnReceiver() as loopback:
        async with ApiClient(loopback.base_url, "k", network=network) as client:
            answer = await client.get("/sca/return/x", authenticated=False)
        assert answer.status_code == 200
        assert loopback.arrivals == ["/sca/return/x"]
    async with ApiClient("http://api.example", "k", network=network) as client:
        with pytest.raises((httpx.ProxyError, httpx.ConnectError)):
            await client.get("/v3/anything", authenticated=False)


async def test_extra_headers_go_to_their_origin_only() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    network = _network(headers={"https://api.example": {"X-Gateway-Key": "g-1"}})
    for base in ("https://api.example", "https://other.example"):
        async with ApiClient(base, "k", network=network,
                             transport=httpx.MockTransport(answer)) as client:
            await client.get("/v3/x", authenticated=False)
    assert [r.headers.get("x-gateway-key") for r in seen] == ["g-1", None]


# TLS, the API and the browser ------------------------------------------------------------


async def test_the_api_trusts_the_ca_bundle_and_without_it_says_which_setting(
    pki: Pki, tls_sandbox: str,
) -> None:
    trusted = _network(ca_bundle=str(pki.ca))
    await preflight(tls_sandbox, KEYS["SCA_API_KEY"], "SCA_API_KEY", trusted)
    with pytest.raises(TargetError) as refused:
        await preflight(tls_sandbox, KEYS["SCA_API_KEY"], "SCA_API_KEY", _network())
    assert str(refused.value).startswith("The target's certificate is not trusted (")
    assert "set [network] ca_bundle in the profile or SCA_CA_BUNDLE" in str(refused.value)


async def test_an_insecure_host_is_named_and_only_it_is_not_checked(tls_sandbox: str) -> None:
    network = _network(insecure_hosts=["127.0.0.1"])
    await preflight(tls_sandbox, KEYS["SCA_API_KEY"], "SCA_API_KEY", network)
    with pytest.raises(TargetError, match="not trusted"):
        await preflight(tls_sandbox.replace("127.0.0.1", "localhost"), KEYS["SCA_API_KEY"],
                        "SCA_API_KEY", network)


async def test_chromium_trusts_the_target_by_the_key_verified_against_the_bundle(
    pki: Pki, tls_sandbox: str,
) -> None:
    """Chromium has no CA-file flag: it is told the public keys it may accept, the target's
    own certificate's among them once it has been verified against the bundle here."""
    trusted = _network(ca_bundle=str(pki.ca))
    with pytest.raises(OSError, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
        _network().server_key(tls_sandbox)  # nothing to verify it with: never pinned
    options = trusted.launch_options([tls_sandbox])
    assert any(arg.startswith("--ignore-certificate-errors-spki-list=") for arg in
               options["args"])
    assert set(bundle_keys(str(pki.ca))) <= set(options["args"][0].split("=", 1)[1].split(","))
    async with async_playwright() as playwright:
        for network, opens in ((trusted, True), (_network(), False)):
            launch = launch_options()
            extra = network.launch_options([tls_sandbox])
            browser = await playwright.chromium.launch(
                **{**launch, "args": [*launch["args"], *extra["args"]]})
            try:
                page = await browser.new_page()
                failures: list[str] = []
                page.on("requestfailed", lambda r, seen=failures: seen.append(r.failure or ""))
                try:
                    answer = await page.goto(f"{tls_sandbox}/openapi.json")
                    assert opens and answer is not None and answer.ok
                except PlaywrightError as error:
                    assert not opens, error.message
                    code = browser_setup_error(failures[0])
                    assert code == "ERR_CERT_AUTHORITY_INVALID"
                    assert "set [network] ca_bundle" in explain_browser(code, tls_sandbox)
            finally:
                await browser.close()


# The suite over TLS: verdicts and setup errors -------------------------------------------


def _suite(*args: str, env: dict[str, str] | None = None,
           ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "suites", "-p", "no:cacheprovider", "-q", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, **KEYS, **(env or {})},
    )


def _profile(folder: Path, name: str, body: str) -> str:
    path = folder / f"{name}.toml"
    path.write_text(body)
    return str(path)


def test_the_suite_passes_over_tls_with_the_ca_in_the_profile_and_stops_without_it(
    pki: Pki, tls_sandbox: str, tmp_path: Path,
) -> None:
    target = f'[target]\nbase_url = "{tls_sandbox}"\nreturn_url = "{REGISTERED}"\n'
    trusted = _profile(tmp_path, "trusted", f'{target}[network]\nca_bundle = "{pki.ca}"\n')
    run = _suite("--target", trusted, "-k", SELECTION, "--output", str(tmp_path / "o1"))
    assert run.returncode == 0, run.stdout[-3000:]
    assert run.stdout.strip().splitlines()[-1].startswith("CONFORMANT: ")
    assert "2 passed" in run.stdout
    untrusted = _profile(tmp_path, "untrusted", target)
    stopped = _suite("--target", untrusted, "-k", SELECTION, "--output", str(tmp_path / "o2"))
    assert stopped.returncode == 11, stopped.stdout[-3000:]
    last = stopped.stdout.strip().splitlines()[-1]
    assert last.startswith("TARGET UNUSABLE: The target's certificate is not trusted")
    assert "set [network] ca_bundle in the profile or SCA_CA_BUNDLE" in last
    assert "violated" not in stopped.stdout


def test_a_target_of_registered_return_urls_without_one_in_the_profile_stops_naming_it(
    pki: Pki, tls_sandbox: str, tmp_path: Path,
) -> None:
    """The provider refuses the suite's own loopback return_url: one sentence naming
    target.return_url, not a violation of the initiation's requirements."""
    profile = _profile(tmp_path, "unregistered", f'[target]\nbase_url = "{tls_sandbox}"\n'
                       f'[network]\nca_bundle = "{pki.ca}"\n')
    run = _suite("--target", profile, "-k", SELECTION, "--output", str(tmp_path / "o"))
    assert run.returncode == 11, run.stdout[-3000:]
    last = run.stdout.strip().splitlines()[-1]
    assert last.startswith("TARGET UNUSABLE: The target refused the suite's own return_url (")
    assert last.endswith("set [target] return_url in the profile to the https return URL "
                         "registered with the provider.")
    assert "violated" not in run.stdout


def test_a_proxy_in_the_environment_leaves_the_embedded_sandbox_alone(tmp_path: Path) -> None:
    run = _suite("-k", SELECTION, "--output", str(tmp_path / "o"),
                 env={"HTTP_PROXY": CLOSED_PROXY, "HTTPS_PROXY": CLOSED_PROXY,
                      "http_proxy": CLOSED_PROXY, "https_proxy": CLOSED_PROXY})
    assert run.returncode == 0, run.stdout[-3000:]
    assert "2 passed" in run.stdout


# The registered return_url ---------------------------------------------------------------


def test_the_registered_return_url_carries_each_tests_nonce_where_the_provider_keeps_it() -> None:
    query = RegisteredReturn(f"{REGISTERED}?client=7", "query")
    first, second = query.new_return_url(), query.new_return_url()
    assert first != second
    assert first.startswith(f"{REGISTERED}?client=7&sca_test=")
    assert place(first) == REGISTERED
    fragment = RegisteredReturn(REGISTERED, "fragment").new_return_url()
    assert fragment.startswith(f"{REGISTERED}#sca_test=") and place(fragment) == REGISTERED
    assert RegisteredReturn(REGISTERED, "none").new_return_url() == REGISTERED


# Setup errors in the browser -------------------------------------------------------------


def test_a_page_that_cannot_open_for_its_certificate_is_a_setup_error_not_page_1(
    pki: Pki, tls_sandbox: str, pytester: pytest.Pytester,
) -> None:
    """What the hosted flow does when redirect_url does not open (PAGE-1's Mismatch), over
    a certificate the browser does not trust: the run stops as TARGET UNUSABLE."""
    from suite.plugin_run import INI

    pytester.makeini(INI)
    pytester.makepyfile(f"""
        import pytest
        from playwright.async_api import Error
        from sca_conformance.checks import proving
        from sca_conformance.failures import Mismatch

        @pytest.mark.requirement("PAGE-1")
        async def test_opens(page):
            with proving("PAGE-1"):
                try:
                    await page.goto("{tls_sandbox}/openapi.json")
                except Error as error:
                    raise Mismatch("opening redirect_url", "a hosted page",
                                   error.message.splitlines()[0]) from None
    """)
    result = pytester.runpytest_subprocess(*PLUGINS)
    assert result.ret == 11, result.stdout.str()[-3000:]
    last = result.stdout.lines[-1]
    assert last.startswith("TARGET UNUSABLE: The browser does not trust https://127.0.0.1:")
    assert "(ERR_CERT_AUTHORITY_INVALID): set [network] ca_bundle in the profile" in last
    assert "MUST PAGE-1 violated" not in result.stdout.str()


async def test_the_browser_sends_an_origins_extra_headers_there_only() -> None:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    seen: list[tuple[str, str | None]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append((self.headers["Host"], self.headers.get("X-Gateway-Key")))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    named, other = f"http://127.0.0.1:{port}", f"http://localhost:{port}"
    network = _network(headers={named: {"X-Gateway-Key": "g-1"}})
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(**launch_options())
            context = await browser.new_context()
            await network.add_headers(context)
            page = await context.new_page()
            await page.goto(f"{named}/a")
            await page.goto(f"{other}/b")
            await browser.close()
    finally:
        server.shutdown()
        server.server_close()
    assert seen == [(f"127.0.0.1:{port}", "g-1"), (f"localhost:{port}", None)]


def test_the_client_certificate_goes_to_the_targets_https_origins(pki: Pki) -> None:
    network = _network(client_cert=str(pki.leaf), client_key=str(pki.key))
    options = network.context_options(["https://api.example/v3", "https://id.example",
                                       "http://plain.example"])
    assert options == {"client_certificates": [
        {"origin": "https://api.example", "certPath": str(pki.leaf), "keyPath": str(pki.key)},
        {"origin": "https://id.example", "certPath": str(pki.leaf), "keyPath": str(pki.key)},
    ]}
    assert _network().context_options(["https://api.example"]) == {}


async def test_client_credentials_are_asked_for_at_the_token_endpoint() -> None:
    import base64

    from sca_conformance.network import AuthSection, client_credentials

    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"access_token": "t", "expires_in": 300})

    auth = AuthSection(style="client_credentials", token_url="/oauth/token", scope="consents")
    async with httpx.AsyncClient(base_url="https://api.example",
                                 transport=httpx.MockTransport(answer)) as http:
        got = await client_credentials(http, auth, {"SCA_CLIENT_ID": "id-1",
                                                    "SCA_CLIENT_SECRET": "s-1"})
    assert got.json()["access_token"] == "t"
    request = seen[0]
    assert (request.method, request.url.path) == ("POST", "/oauth/token")
    assert request.content == b"grant_type=client_credentials&scope=consents"
    assert request.headers["authorization"] == "Basic " + base64.b64encode(b"id-1:s-1").decode()


def test_the_insecure_hosts_are_printed_in_the_run_header(pytester: pytest.Pytester) -> None:
    from suite.plugin_run import INI

    pytester.makeini(INI)
    profile = pytester.path / "p.toml"
    profile.write_text('[target]\nembedded = true\n[network]\ninsecure_hosts = ["old.example"]\n')
    pytester.makepyfile("def test_nothing():\n    pass\n")
    result = pytester.runpytest_subprocess(*PLUGINS, "--target", str(profile), "--sca-exploratory")
    result.stdout.fnmatch_lines(["sca network: INSECURE: certificates not checked for old.example"])
    assert result.ret == 0
