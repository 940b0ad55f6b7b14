"""The sandbox's staging personality (contract section 8a) and the profile a QA engineer
writes for it, for tests/test_staging_run.py and `make bench`: TLS with a throwaway CA of its
own, return URLs registered in advance, no clock, SMS, funding or activation simulation,
`activated`, 422 `{"error": ...}`, the SMS code on the page, accounts that open funded, and
login and request rate limits answering 429 with Retry-After."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sca_sandbox.process import RunningSandbox, run_sandbox
from sca_sandbox.security import fast_hash
from tests.suite.tls import Pki, make_pki

ROOT = Path(__file__).resolve().parent.parent
KEYS = {"SCA_API_KEY": "sandbox-dev-key-alpha", "SCA_API_KEY_2": "sandbox-dev-key-beta"}
REGISTERED = "https://client.example/sca/return"
STAGING = ["--no-simulations", "clock,sms,funding,activation", "--individual-word", "activated",
           "--blocked-error-envelope", "--sms-code-on-page", "--opening-balance", "500000",
           "--passcode-boxes", "--auto-submit", "--sms-step", "card_details"]
WORKERS = 2


@contextmanager
def staging_sandbox(folder: Path, *, request_rate_limit: int = 8, extra_args: Sequence[str] = ()
                    ) -> Iterator[tuple[RunningSandbox, Pki]]:
    """The staging personality over TLS with a throwaway CA of its own (and `extra_args`)."""
    (folder / "pki").mkdir()
    pki = make_pki(folder / "pki")
    with run_sandbox(folder / "sandbox.db", tls=(pki.leaf, pki.key), public_host="localhost",
                     return_url_allow=[REGISTERED], login_rate_limit=6,
                     request_rate_limit=request_rate_limit,
                     extra_args=[*STAGING, *extra_args]) as sandbox:
        yield sandbox, pki


def staging_profile(folder: Path, sandbox: RunningSandbox, pki: Pki, *,
                    ca_bundle: bool = True, return_url: bool = True, max_tries: int = 6
                    ) -> Path:
    """The profile a QA engineer writes for it; without the CA bundle or the registered
    return_url if asked (the two settings a first run most likely misses); `max_tries`: the
    tries a request gets against the rate limits ([rate_limits])."""
    profile = folder / "staging.toml"
    profile.write_text(f"""format = 2
[target]
name = "staging-personality"
base_url = "{sandbox.url}"
{f'return_url = "{REGISTERED}"' if return_url else ""}
[network]
{f'ca_bundle = "{pki.ca}"' if ca_bundle else ""}
[capabilities]
clock_simulation = false
sms_simulation = false
activation_simulation = false
funding_simulation = false
[words]
individual_active = ["activated"]
[data]
individuals = ["onboarding"]
money = ["opens_funded"]
sms_code = ["page"]
sms_code_locator = "text=/\\\\b\\\\d{{6}}\\\\b/"
[rate_limits]
max_wait_seconds = 180
max_tries = {max_tries}
""", encoding="utf-8")
    return profile


def run_whole_suite(folder: Path, profile: Path, timeout: float = 1500
                    ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "suites", "-p", "no:cacheprovider", "-q",
         "-n", str(WORKERS), "--target", str(profile), "--coverage-matrix",
         str(folder / "matrix"), "--output", str(folder / "traces")],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False,
        env={**os.environ, **KEYS})


def logins_per_key(sandbox: RunningSandbox) -> dict[str, int]:
    """The login sessions the sandbox opened, per API key (its own count, not the suite's)."""
    with sqlite3.connect(sandbox.db_path) as connection:
        counted = dict(connection.execute(
            "SELECT clients.key_hash, COUNT(sessions.id) FROM clients"
            " LEFT JOIN sessions ON sessions.client_id = clients.id GROUP BY clients.id"))
    return {key: counted.get(fast_hash(key), 0) for key in sandbox.api_keys}
