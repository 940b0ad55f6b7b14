"""The browser behind mutual TLS with a private CA (issue 25 item 2): a TLS front that
demands a client certificate signed by a client CA of its own, serving its certificate from
a private CA. The browser, set up from the profile's [network] as the suite sets it up (the
CA bundle for the driver and Chromium, the client certificate per target origin), opens the
page; without the client certificate the front refuses the handshake."""

from __future__ import annotations

import asyncio
import datetime
import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from types import SimpleNamespace

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page, async_playwright

from sca_conformance.chromium import launch_options
from sca_conformance.connection_errors import explain_client_certificate_proxy
from sca_conformance.network import Network, NetworkSection
from sca_conformance.plugin.setup_errors import SETUP_ERROR, watch_setup_errors
from suite.tls import Pki, make_pki

pytestmark = [pytest.mark.browser]

PAGE = b"<!doctype html><html lang=en><title>front</title><h1>Behind mutual TLS</h1></html>"


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_client_certificate(folder: Path) -> tuple[Path, Path, Path]:
    """A client CA of the front's own, and a client certificate it signed: (CA, cert, key)."""
    now = datetime.datetime.now(datetime.UTC)
    valid = {"not_valid_before": now - datetime.timedelta(hours=1),
             "not_valid_after": now + datetime.timedelta(days=1)}
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder(**valid).subject_name(_name("Client CA"))
          .issuer_name(_name("Client CA")).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number())
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder(**valid).subject_name(_name("sca-conformance"))
            .issuer_name(ca.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = (folder / "client-ca.pem", folder / "client.pem", folder / "client-key.pem")
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


class Front(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def mtls_front(tmp_path: Path) -> Iterator[tuple[str, Pki, tuple[Path, Path, Path]]]:
    pki = make_pki(tmp_path)
    client = make_client_certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(pki.leaf, pki.key)
    context.load_verify_locations(client[0])
    context.verify_mode = ssl.CERT_REQUIRED
    server = ThreadingHTTPServer(("127.0.0.1", 0), Front)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"https://localhost:{server.server_address[1]}", pki, client
    finally:
        server.shutdown()
        server.server_close()


@asynccontextmanager
async def _page(network: Network, url: str) -> AsyncIterator[Page]:
    """A page of a browser set up from `network` as the suite sets it up."""
    with network.driver_environment():
        async with async_playwright() as playwright:
            launch = launch_options()
            extra = network.launch_options([url])
            browser = await playwright.chromium.launch(
                **{**launch, "args": [*launch["args"], *extra["args"]]})
            try:
                context = await browser.new_context(**network.context_options([url]))
                yield await context.new_page()
            finally:
                await browser.close()


async def _open(network: Network, url: str) -> str:
    """The page's heading, in a browser set up from `network` as the suite sets it up."""
    async with _page(network, url) as page:
        await page.goto(url)
        return await page.locator("h1").inner_text()


async def test_the_browser_opens_a_page_behind_mutual_tls_with_the_profiles_certificate(
    mtls_front: tuple[str, Pki, tuple[Path, Path, Path]],
) -> None:
    url, pki, (_, cert, key) = mtls_front
    with_cert = Network.from_profile(NetworkSection(
        ca_bundle=str(pki.ca), client_cert=str(cert), client_key=str(key)), environ={})
    assert await _open(with_cert, url) == "Behind mutual TLS"

    # The front's handshake fails (the server is trusted: no certificate error).
    without = Network.from_profile(NetworkSection(ca_bundle=str(pki.ca)), environ={})
    with pytest.raises(PlaywrightError, match=r"net::ERR_") as refused:
        await _open(without, url)
    assert "ERR_CERT" not in refused.value.message, refused.value.message


async def test_a_client_certificate_without_the_ca_is_a_setup_error_not_a_page(
    mtls_front: tuple[str, Pki, tuple[Path, Path, Path]],
) -> None:
    """Sending a client certificate, Playwright's driver makes the TLS connection itself; a
    target it does not trust then shows as the driver's own 503 page, not a failed
    navigation. The test's setup-error watch reads that page as the CA's setting."""
    url, _, (_, cert, key) = mtls_front
    network = Network.from_profile(NetworkSection(client_cert=str(cert), client_key=str(key)),
                                   environ={})
    item = SimpleNamespace(stash=pytest.Stash())
    settings = SimpleNamespace(target_url=url, network=network,
                               profile=SimpleNamespace(target=SimpleNamespace(hosted_origins=[])))
    async with _page(network, url) as page:
        watch_setup_errors(page, item, settings)  # type: ignore[arg-type]
        response = await page.goto(url)
        assert response is not None and response.status == 503
        for _ in range(100):  # the watch reads the page's body meanwhile
            if SETUP_ERROR in item.stash:
                break
            await asyncio.sleep(0.05)
    sentence = item.stash[SETUP_ERROR]
    assert sentence.startswith(f"The browser does not trust {url}'s certificate"), sentence
    assert "set [network] ca_bundle in the profile or SCA_CA_BUNDLE" in sentence, sentence


def test_the_proxy_page_of_a_refused_handshake_names_the_client_certificate() -> None:
    body = ("<html>Playwright client-certificate error: write EPROTO sslv3 alert"
            " handshake failure <br></html>")
    sentence = explain_client_certificate_proxy(body, "https://api.example:8443/x")
    assert sentence == (
        "https://api.example:8443 refused the browser's TLS handshake (Playwright's client-"
        "certificate connection: write EPROTO sslv3 alert handshake failure): set [network] "
        "client_cert and client_key in the profile or SCA_CLIENT_CERT.")
    assert explain_client_certificate_proxy("<h1>Service Unavailable</h1>", "https://x") is None
