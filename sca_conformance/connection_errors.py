"""Why the target could not be reached, in one sentence naming the setting that fixes it:
for an API exchange (`explain`: TLS, proxy, DNS, a refused connection) and for the
browser's (`explain_browser`, from Chromium's setup errors). A setup error is never a
verdict on the target."""

from __future__ import annotations

import re
import socket
import ssl

import httpx

from sca_conformance.network import ENV_CA_BUNDLE, ENV_CLIENT_CERT, origin_of

CA_HINT = f"set [network] ca_bundle in the profile or {ENV_CA_BUNDLE}"
PROXY_HINT = "set [network] proxy in the profile or HTTPS_PROXY (and NO_PROXY)"
CERT_HINT = f"set [network] client_cert and client_key in the profile or {ENV_CLIENT_CERT}"

# Chromium's network errors that are the way to the target, not the target's behaviour.
BROWSER_SETUP_ERRORS = re.compile(
    r"net::(ERR_CERT_[A-Z_]+|ERR_SSL_[A-Z_]+|ERR_BAD_SSL_CLIENT_AUTH_CERT|ERR_PROXY_[A-Z_]+|"
    r"ERR_TUNNEL_CONNECTION_FAILED|ERR_NAME_NOT_RESOLVED|ERR_NAME_RESOLUTION_FAILED|"
    r"ERR_CONNECTION_REFUSED|ERR_ADDRESS_UNREACHABLE|ERR_INTERNET_DISCONNECTED|"
    r"ERR_CONNECTION_TIMED_OUT)"
)


def browser_setup_error(failure: str) -> str | None:
    """The Chromium error code in `failure` when it is a setup error, else None."""
    found = BROWSER_SETUP_ERRORS.search(failure)
    return found.group(1) if found else None


def explain_browser(code: str, url: str) -> str:
    """One sentence for a browser's setup error: what failed and the setting that fixes it."""
    where = origin_of(url)
    if code.startswith(("ERR_CERT_", "ERR_SSL_VERSION")):
        return (f"The browser does not trust {where}'s certificate ({code}): {CA_HINT} (or "
                f"name the host in [network] insecure_hosts).")
    if code in ("ERR_BAD_SSL_CLIENT_AUTH_CERT", "ERR_SSL_CLIENT_AUTH_CERT_NEEDED") \
            or code.startswith("ERR_SSL_"):
        return f"{where} refused the browser's TLS handshake ({code}): {CERT_HINT}."
    if code.startswith("ERR_PROXY_") or code == "ERR_TUNNEL_CONNECTION_FAILED":
        return f"The browser cannot reach {where} through the proxy ({code}): {PROXY_HINT}."
    if code.startswith("ERR_NAME_"):
        return (f"The browser cannot resolve {where} ({code}): check target.base_url and "
                f"target.hosted_origins, or {PROXY_HINT}.")
    return (f"The browser cannot connect to {where} ({code}): is the target up? Else "
            f"{PROXY_HINT}.")


CLIENT_CERTIFICATE_PROXY = re.compile(r"Playwright client-certificate error: ([^<]*)")
"""The page Playwright's driver answers with (503) when, sending a client certificate, its
own TLS connection to the target fails: a setup error it shows as a page, not a failure."""

CERTIFICATE_NOT_TRUSTED = re.compile(
    r"verify|self[- ]signed|certificate has expired|not yet valid|altnames|hostname", re.I)


def explain_client_certificate_proxy(body: str, url: str) -> str | None:
    """One sentence for Playwright's client-certificate proxy page in `body` (None when the
    body is another page): the target's certificate not trusted, or its handshake refused."""
    found = CLIENT_CERTIFICATE_PROXY.search(body)
    if found is None:
        return None
    where = origin_of(url)
    reason = " ".join(found.group(1).split()).rstrip(".")
    if CERTIFICATE_NOT_TRUSTED.search(reason):
        return (f"The browser does not trust {where}'s certificate (Playwright's client-"
                f"certificate connection: {reason}): {CA_HINT} (or name the host in "
                f"[network] insecure_hosts).")
    return (f"{where} refused the browser's TLS handshake (Playwright's client-certificate "
            f"connection: {reason}): {CERT_HINT}.")


def explain(error: BaseException, url: str) -> str | None:
    """One sentence for an API exchange that could not take place (TLS, proxy, DNS, a
    refused connection), naming the setting that fixes it; None for anything else."""
    where = origin_of(url)
    text = f"{error}"
    chain = [error, *(_causes(error))]
    if isinstance(error, httpx.ProxyError) or any("proxy" in str(e).lower() for e in chain
                                                   if isinstance(e, OSError)):
        return (f"The proxy refused the way to {where} ({text or type(error).__name__}): "
                f"{PROXY_HINT}.")
    for cause in chain:
        if isinstance(cause, ssl.SSLCertVerificationError) \
                or "CERTIFICATE_VERIFY_FAILED" in str(cause):
            reason = getattr(cause, "verify_message", "") or "certificate verify failed"
            return (f"The target's certificate is not trusted ({where}: {reason}): {CA_HINT} "
                    "(or name the host in [network] insecure_hosts).")
        if isinstance(cause, ssl.SSLError):
            return (f"The TLS handshake with {where} failed ({cause.reason or cause}): "
                    f"{CERT_HINT}, or check that base_url's scheme is right.")
        if isinstance(cause, socket.gaierror):
            return (f"Target unreachable: {where} cannot be resolved ({cause.strerror}): "
                    f"check target.base_url, or {PROXY_HINT}.")
        if isinstance(cause, ConnectionRefusedError):
            return (f"Target unreachable: {where} refused the connection: is the target up "
                    f"and target.base_url right? Else {PROXY_HINT}.")
    if isinstance(error, httpx.ConnectError | httpx.ConnectTimeout):
        return (f"Target unreachable: {where} ({text or type(error).__name__}): check "
                f"target.base_url, or {PROXY_HINT}.")
    return None


def _causes(error: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    seen = error.__cause__ or error.__context__
    while seen is not None and seen not in found and len(found) < 10:
        found.append(seen)
        args = [a for a in getattr(seen, "args", ()) if isinstance(a, BaseException)]
        found.extend(args)
        seen = seen.__cause__ or seen.__context__
    return found
