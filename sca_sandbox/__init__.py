"""Reference sandbox for the SCA consent contract (docs/consent-contract.md).

A FastAPI application over SQLite that implements the contract's JSON API, the hosted
consent pages and the simulations, and can inject one fault per requirement
(``sca_sandbox.faults``) so that the conformance suite can prove it detects them.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sca-conformance")  # the package's (the suite's and the sandbox's)
except PackageNotFoundError:  # a checkout on sys.path, never installed
    __version__ = "0+unknown"

# Active when the sandbox is started without --api-key: two separate clients.
DEV_API_KEYS: tuple[str, str] = ("sandbox-dev-key-alpha", "sandbox-dev-key-beta")

# Lifetimes in seconds when no option names them (--token-ttl, --consent-ttl, --method-ttl,
# --refresh-ttl). A refresh lifetime of 0 means refresh tokens never expire.
TOKEN_TTL = 600
CONSENT_TTL = 15 * 60
METHOD_TTL = 10 * 60
REFRESH_TTL = 0
