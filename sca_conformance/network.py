"""How the suite reaches a target, for the API (httpx) and the browser (Playwright) alike.

One `Network`, made from the profile's [network] section and the environment, says whom to
trust (the system's store, certifi's, a CA bundle), who the suite is (a client certificate),
which hosts are not checked at all (named, never all), which proxy to go through (loopback
never), and which headers an origin wants. The API gets it as httpx options; Chromium, which
has no CA-file flag, trusts the public keys of the bundle's certificates and of the target's
own certificates, each first verified here against the bundle
(``--ignore-certificate-errors-spki-list``).

A failure to reach the target (TLS, proxy, DNS, a refused connection) is a setup error,
never a verdict: `connection_errors.explain` turns one into the sentence that names the
setting fixing it.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import re
import ssl
import tempfile
import warnings
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, model_validator

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, Route

LOOPBACK = ("localhost", "127.0.0.1", "::1")
ENV_CA_BUNDLE = "SCA_CA_BUNDLE"
ENV_CLIENT_CERT = "SCA_CLIENT_CERT"
ENV_CLIENT_KEY = "SCA_CLIENT_KEY"
ENV_INSECURE_HOSTS = "SCA_INSECURE_HOSTS"


class _Settings(BaseModel):
    """A section of the profile (sca_conformance.config): strict, every key known."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True,
                              use_attribute_docstrings=True)


class NetworkSection(_Settings):
    """How the suite reaches the target, for the API and the browser alike (sca_conformance
    .network): whom to trust, who the suite is, through which proxy, with which headers."""

    ca_bundle: str = ""
    """PEM file of the CA(s) to trust besides the system's (SCA_CA_BUNDLE)"""
    client_cert: str = ""
    """PEM client certificate for mTLS (SCA_CLIENT_CERT)"""
    client_key: str = ""
    """its private key, PEM (SCA_CLIENT_KEY); empty: in client_cert"""
    insecure_hosts: list[str] = []
    """Hosts whose certificate is not checked at all (named, never all): printed in the header."""
    proxy: str = ""
    """http(s)://host:port; empty: HTTPS_PROXY / HTTP_PROXY of the environment"""
    no_proxy: list[str] = []
    """hosts reached directly, besides NO_PROXY and loopback (always)"""
    headers: dict[str, dict[str, str]] = {}
    """Extra request headers per origin: [network.headers."https://api.example"]
    X-Key = "..." (sent to that origin only)."""

    @model_validator(mode="after")
    def _values(self) -> NetworkSection:
        for value in self.headers:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.path.strip("/"):
                raise ValueError(f"network.headers: {value!r} is not an http(s) origin")
        if self.proxy and urlsplit(self.proxy).scheme not in ("http", "https", "socks5"):
            raise ValueError(f"network.proxy: {self.proxy!r} is not an http(s) or socks5 URL")
        if "*" in self.insecure_hosts:
            raise ValueError("network.insecure_hosts: name the hosts; '*' is not accepted")
        return self


class AuthSection(_Settings):
    """How the suite gets its access token: the contract's API-key login, or OAuth2 client
    credentials at the provider's token endpoint (AUTH-1..4 are then not applicable)."""

    style: Literal["api_key", "client_credentials"] = "api_key"
    """api_key: the contract's login with an API key; client_credentials: OAuth2 at token_url
    (AUTH-1..4 then not applicable)."""
    token_url: str = ""
    """client_credentials: the token endpoint (absolute, or a path)"""
    client_id_env: str = "SCA_CLIENT_ID"
    """The environment variable holding the OAuth2 client's id."""
    client_secret_env: str = "SCA_CLIENT_SECRET"
    """The environment variable holding the OAuth2 client's secret (masked like an API key)."""
    scope: str = ""
    """The scope asked for with client credentials (empty: none sent)."""

    @model_validator(mode="after")
    def _token_url(self) -> AuthSection:
        if self.style == "client_credentials" and not self.token_url:
            raise ValueError("auth.token_url: client_credentials needs the token endpoint")
        return self


class NetworkError(Exception):
    """A [network] setting that cannot be used as written (a missing file, a bad PEM)."""


@dataclass(frozen=True)
class Network:
    ca_bundle: str = ""
    client_cert: str = ""
    client_key: str = ""
    insecure_hosts: tuple[str, ...] = ()
    proxies: tuple[tuple[str, str], ...] = ()  # (scheme, proxy URL): "http", "https"
    no_proxy: tuple[str, ...] = ()
    headers: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()  # per origin
    sources: tuple[tuple[str, str], ...] = field(default=(), compare=False)  # setting -> where

    @classmethod
    def from_profile(
        cls, section: NetworkSection, environ: Mapping[str, str] = os.environ,
        base: Path | None = None,
    ) -> Network:
        """The profile's settings, the environment filling what it leaves empty (SCA_CA_BUNDLE,
        SCA_CLIENT_CERT, SCA_CLIENT_KEY, SCA_INSECURE_HOSTS, HTTPS_PROXY, HTTP_PROXY,
        NO_PROXY). Relative files are relative to `base` (the profile's folder)."""
        sources: list[tuple[str, str]] = []

        def file(value: str, env: str, key: str) -> str:
            if value:
                sources.append((key, f"profile [network] {key}"))
                path = Path(value).expanduser()
                return str(path if path.is_absolute() or base is None else base / path)
            if environ.get(env):
                sources.append((key, env))
                return str(Path(environ[env]).expanduser())
            return ""

        ca_bundle = file(section.ca_bundle, ENV_CA_BUNDLE, "ca_bundle") \
            or file("", "SSL_CERT_FILE", "ca_bundle")  # what httpx itself would have read
        client_cert = file(section.client_cert, ENV_CLIENT_CERT, "client_cert")
        client_key = file(section.client_key, ENV_CLIENT_KEY, "client_key")
        named = environ.get(ENV_INSECURE_HOSTS, "").split(",")
        insecure = [*section.insecure_hosts, *(h.strip() for h in named if h.strip())]
        if section.proxy:
            proxies = [("http", section.proxy), ("https", section.proxy)]
            sources.append(("proxy", "profile [network] proxy"))
        else:
            found = _environment_proxies(environ)
            proxies = [(scheme, found[scheme]) for scheme in ("http", "https") if scheme in found]
            if proxies:
                sources.append(("proxy", "the environment (HTTPS_PROXY, HTTP_PROXY)"))
        no_proxy = [*section.no_proxy, *_environment_no_proxy(environ)]
        headers = tuple((origin_of(o), tuple(sorted(h.items())))
                        for o, h in sorted(section.headers.items()))
        return cls(ca_bundle=ca_bundle, client_cert=client_cert, client_key=client_key,
                   insecure_hosts=tuple(dict.fromkeys(h.lower() for h in insecure)),
                   proxies=tuple(proxies), no_proxy=tuple(dict.fromkeys(no_proxy)),
                   headers=headers, sources=tuple(sources))

    # What it is ---------------------------------------------------------------------------

    def proxy_for(self, url: str) -> str | None:
        """The proxy a request to `url` goes through; None for loopback and NO_PROXY hosts."""
        parts = urlsplit(url)
        if bypassed(parts.hostname or "", self.no_proxy):
            return None
        return dict(self.proxies).get(parts.scheme)

    def headers_for(self, url: str) -> dict[str, str]:
        return dict(dict(self.headers).get(origin_of(url), ()))

    def describe(self) -> list[str]:
        """What the run header and the report's environment say about the network."""
        lines = []
        where = dict(self.sources)
        if self.ca_bundle:
            lines.append(f"CA bundle {self.ca_bundle} (from {where.get('ca_bundle')}), "
                         "with the system's trust store")
        if self.client_cert:
            lines.append(f"client certificate {self.client_cert}")
        if self.insecure_hosts:
            lines.append("INSECURE: certificates not checked for "
                         + ", ".join(self.insecure_hosts))
        if self.proxies:
            shown = ", ".join(f"{scheme} via {_no_password(url)}" for scheme, url in self.proxies)
            lines.append(f"proxy: {shown} (not for loopback"
                         + (f", {', '.join(self.no_proxy)})" if self.no_proxy else ")"))
        if self.headers:
            lines.append("extra headers for " + ", ".join(o for o, _ in self.headers))
        return lines

    # The API ------------------------------------------------------------------------------

    def ssl_context(self, verify: bool = True) -> ssl.SSLContext:
        return _ssl_context(self.ca_bundle if verify else None, self.client_cert,
                            self.client_key, verify)

    def transport(self) -> httpx.AsyncBaseTransport:
        """One transport routing each request by its host: no certificate check for the
        insecure hosts only, direct for loopback and NO_PROXY hosts, else through the proxy of
        its scheme, if any. One transport, so that what wraps it (the client's rate-limit
        manners) sees every request, wherever it goes."""
        verified = self.ssl_context()
        unchecked = self.ssl_context(verify=False) if self.insecure_hosts else None
        routes: dict[tuple[bool, str | None], httpx.AsyncBaseTransport] = {}

        def route(insecure: bool, proxy: str | None) -> httpx.AsyncBaseTransport:
            if (insecure, proxy) not in routes:
                routes[(insecure, proxy)] = httpx.AsyncHTTPTransport(
                    verify=unchecked if insecure and unchecked else verified, proxy=proxy)
            return routes[(insecure, proxy)]

        def choose(url: httpx.URL) -> httpx.AsyncBaseTransport:
            host = url.host.lower()
            return route(host in self.insecure_hosts, self.proxy_for(str(url)))

        return _Routed(choose, lambda: list(routes.values()))

    def httpx_options(self, base_url: str) -> dict[str, Any]:
        """httpx.AsyncClient's keyword arguments for a client of `base_url`: its trust and
        identity, a proxy for what is not loopback or NO_PROXY, no certificate check for the
        insecure hosts only (all in one routing `transport()`), the base origin's extra
        headers. The environment is read here, once, not again by httpx (trust_env=False):
        HTTP_PROXY never reaches loopback."""
        options: dict[str, Any] = {"transport": self.transport(), "trust_env": False}
        if headers := self.headers_for(base_url):
            options["headers"] = headers
        return options

    # The browser --------------------------------------------------------------------------

    def launch_options(self, target_urls: Iterable[str]) -> dict[str, Any]:
        """Chromium's launch options: the proxy (loopback and NO_PROXY bypassed) and the
        public keys it may accept although it does not know their CA: those of the bundle's
        certificates (when a server sends its chain) and those of the target's own
        certificates, fetched and verified against the bundle here (the insecure hosts'
        without a check: they are named)."""
        options: dict[str, Any] = {"args": []}
        proxy = dict(self.proxies).get("https") or dict(self.proxies).get("http")
        if proxy:
            parts = urlsplit(proxy)
            options["proxy"] = {"server": f"{parts.scheme}://{parts.hostname}"
                                + (f":{parts.port}" if parts.port else ""),
                                "bypass": ",".join((*LOOPBACK, "*.localhost", *self.no_proxy))}
            if parts.username:
                options["proxy"]["username"] = parts.username
                options["proxy"]["password"] = parts.password or ""
        keys = set(bundle_keys(self.ca_bundle)) if self.ca_bundle else set()
        for url in dict.fromkeys(target_urls):
            parts = urlsplit(url)
            if parts.scheme != "https" or not parts.hostname:
                continue
            insecure = parts.hostname.lower() in self.insecure_hosts
            if self.ca_bundle or insecure:
                keys.add(self.server_key(url, verify=not insecure))
        if keys:
            spki_list = ",".join(sorted(keys))
            options["args"].append(f"--ignore-certificate-errors-spki-list={spki_list}")
        return options

    def certificate(self, url: str, verify: bool = True) -> bytes:
        """`url`'s certificate (DER) as this trust sees it, through the proxy the URL takes:
        verified against the bundle unless told not to. Raises an OSError (ssl.SSLError)
        when it does not verify or the host cannot be reached."""
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port or 443
        context = self.ssl_context(verify=verify)
        proxy = self.proxy_for(url)
        if proxy:
            proxied = urlsplit(proxy)
            connection = http.client.HTTPSConnection(
                proxied.hostname or "", proxied.port or 80, context=context, timeout=10)
            connection.set_tunnel(host, port)
        else:
            connection = http.client.HTTPSConnection(host, port, context=context, timeout=10)
        try:
            connection.connect()
            assert isinstance(connection.sock, ssl.SSLSocket)
            der = connection.sock.getpeercert(binary_form=True)
        finally:
            connection.close()
        if not der:
            raise ssl.SSLError(f"{host}:{port} showed no certificate")
        return der

    def server_key(self, url: str, verify: bool = True) -> str:
        """The SPKI hash of `url`'s certificate (`certificate`): the key Chromium may then
        accept."""
        from cryptography import x509

        return spki_hash(x509.load_der_x509_certificate(self.certificate(url, verify)))

    @contextmanager
    def driver_environment(self) -> Iterator[None]:
        """While Playwright's driver runs: Node's trust gets the CA bundle too
        (NODE_EXTRA_CA_CERTS; one this environment sets already is kept, beside it), for the
        requests the driver sends itself (APIRequestContext, route.fetch)."""
        if not self.ca_bundle:
            yield
            return
        before = os.environ.get("NODE_EXTRA_CA_CERTS")
        with tempfile.TemporaryDirectory(prefix="sca-node-ca-") as folder:
            combined = Path(folder) / "ca.pem"
            kept = Path(before).read_bytes() + b"\n" if before and Path(before).is_file() else b""
            combined.write_bytes(kept + Path(self.ca_bundle).read_bytes())
            os.environ["NODE_EXTRA_CA_CERTS"] = str(combined)
            try:
                yield
            finally:
                if before is None:
                    os.environ.pop("NODE_EXTRA_CA_CERTS", None)
                else:
                    os.environ["NODE_EXTRA_CA_CERTS"] = before

    def context_options(self, target_urls: Iterable[str]) -> dict[str, Any]:
        """A browser context's options: the client certificate for the target's https
        origins (Playwright's client_certificates)."""
        if not self.client_cert:
            return {}
        origins = dict.fromkeys(origin_of(u) for u in target_urls if u.startswith("https://"))
        certificate: dict[str, str] = {"certPath": self.client_cert}
        if self.client_key:
            certificate["keyPath"] = self.client_key
        return {"client_certificates": [{"origin": o, **certificate} for o in origins]}

    async def add_headers(self, context: BrowserContext) -> None:
        """The extra headers of each origin named, on the browser's requests to it only."""
        for origin, pairs in self.headers:
            await context.route(re.compile("^" + re.escape(origin) + "(/|$)"),
                                _adding(dict(pairs)))


def _adding(extra: dict[str, str]) -> Callable[[Route], Awaitable[None]]:
    # One parameter: Playwright hands a handler of two the request as well.
    async def add(route: Route) -> None:
        await route.continue_(headers={**route.request.headers, **extra})

    return add


async def client_credentials(
    http: httpx.AsyncClient, auth: AuthSection, environ: Mapping[str, str] = os.environ,
) -> httpx.Response:
    """OAuth2 client credentials (RFC 6749 4.4) at the profile's token endpoint, the client's
    id and secret from the environment variables it names: the answer, to be read as a
    login's (access_token, expires_in, perhaps refresh_token)."""
    form = {"grant_type": "client_credentials"}
    if auth.scope:
        form["scope"] = auth.scope
    credentials = (environ.get(auth.client_id_env, ""), environ.get(auth.client_secret_env, ""))
    return await http.post(auth.token_url, data=form, auth=credentials)


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def bypassed(host: str, no_proxy: Iterable[str] = ()) -> bool:
    """Whether `host` is reached without a proxy: loopback always, and NO_PROXY's hosts
    (a name, its subdomains with a leading dot or not, or `*`)."""
    host = host.strip("[]").lower()
    if host in LOOPBACK or host.endswith(".localhost") or host.startswith("127."):
        return True
    for named in no_proxy:
        entry = named.strip().lower().lstrip("*")
        if entry == "":
            return True
        bare = entry.lstrip(".")
        if host == bare or host.endswith("." + bare):
            return True
    return False


def _pattern(host: str) -> str:
    host = host.strip().lower().lstrip("*").lstrip(".") if host.startswith(("*", ".")) else host
    host = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"all://{host}"


def _environment_proxies(environ: Mapping[str, str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for scheme in ("http", "https"):
        for name in (f"{scheme}_proxy", f"{scheme.upper()}_PROXY", "all_proxy", "ALL_PROXY"):
            if environ.get(name):
                found[scheme] = environ[name]
                break
    return found


def _environment_no_proxy(environ: Mapping[str, str]) -> list[str]:
    value = environ.get("no_proxy") or environ.get("NO_PROXY") or ""
    return [entry.strip() for entry in value.split(",") if entry.strip()]


def _no_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)


@cache
def _ssl_context(ca_bundle: str | None, client_cert: str, client_key: str,
                 verify: bool) -> ssl.SSLContext:
    """The system's trust store (truststore when installed, else OpenSSL's default paths
    and certifi's bundle), the CA bundle named, the client certificate."""
    if not verify:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        try:
            import truststore

            context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        except ImportError:
            import certifi

            context = ssl.create_default_context()
            context.load_verify_locations(certifi.where())
        if ca_bundle:
            try:
                context.load_verify_locations(ca_bundle)
            except (OSError, ssl.SSLError) as error:
                raise NetworkError(f"the CA bundle {ca_bundle} cannot be read: {error}") from None
    if client_cert:
        try:
            context.load_cert_chain(client_cert, client_key or None)
        except (OSError, ssl.SSLError) as error:
            raise NetworkError(f"the client certificate {client_cert} cannot be used: "
                               f"{error}") from None
    return context


def spki_hash(certificate: Any) -> str:
    """base64(sha256(SubjectPublicKeyInfo)): what Chromium's SPKI list names a key by."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    der = certificate.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def bundle_keys(path: str) -> list[str]:
    from cryptography import x509
    from cryptography.utils import CryptographyDeprecationWarning

    try:
        with warnings.catch_warnings():  # a system bundle's old CA (a serial of 0) is no news
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)
            certificates = x509.load_pem_x509_certificates(Path(path).read_bytes())
    except (OSError, ValueError) as error:
        raise NetworkError(f"the CA bundle {path} cannot be read: {error}") from None
    return [spki_hash(certificate) for certificate in certificates]


class _Routed(httpx.AsyncBaseTransport):
    """Sends each request through the transport `choose` picks for its URL."""

    def __init__(self, choose: Callable[[httpx.URL], httpx.AsyncBaseTransport],
                 made: Callable[[], list[httpx.AsyncBaseTransport]]) -> None:
        self._choose = choose
        self._made = made

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._choose(request.url).handle_async_request(request)

    async def aclose(self) -> None:
        for transport in self._made():
            await transport.aclose()
