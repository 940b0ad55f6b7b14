"""The whole suite against the sandbox's staging personality, described by a profile as a QA
engineer would describe the provider's staging (contract section 8a): TLS with a CA of its
own, return URLs registered in advance, no clock, SMS, funding or activation simulation
(individuals through the hosted onboarding and the KYC-outcome simulation, accounts that
open funded, the SMS code read on the hosted page), `activated`, 422 `{"error": ...}`,
login and request rate limits answering 429 with Retry-After, the passcode in per-digit
boxes that send themselves (no Continue) and an SMS confirmation inside the card-details
flow.

The run violates nothing: it is CONFORMANT, or INCOMPLETE naming only requirements that need
time to pass (no clock), with that reason. It logs in at most once per key and worker (plus
the first check), and counts the rate limits it waited out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from suite.tls import make_pki

from sca_sandbox.process import run_sandbox

pytestmark = [pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
KEYS = {"SCA_API_KEY": "sandbox-dev-key-alpha", "SCA_API_KEY_2": "sandbox-dev-key-beta"}
REGISTERED = "https://client.example/sca/return"
STAGING = ["--no-simulations", "clock,sms,funding,activation", "--individual-word", "activated",
           "--blocked-error-envelope", "--sms-code-on-page", "--opening-balance", "500000",
           "--passcode-boxes", "--auto-submit", "--sms-step", "card_details"]
WORKERS = 2


def test_the_whole_suite_against_the_staging_personality_violates_nothing(
    tmp_path: Path,
) -> None:
    (tmp_path / "pki").mkdir()
    pki = make_pki(tmp_path / "pki")
    with run_sandbox(tmp_path / "sandbox.db", tls=(pki.leaf, pki.key), public_host="localhost",
                     return_url_allow=[REGISTERED], login_rate_limit=6, request_rate_limit=8,
                     extra_args=STAGING) as sandbox:
        profile = tmp_path / "staging.toml"
        profile.write_text(f"""format = 2
[target]
name = "staging-personality"
base_url = "{sandbox.url}"
return_url = "{REGISTERED}"
[network]
ca_bundle = "{pki.ca}"
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
""", encoding="utf-8")
        out = tmp_path / "matrix"
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "suites", "-p", "no:cacheprovider", "-q",
             "-n", str(WORKERS), "--target", str(profile), "--coverage-matrix", str(out),
             "--output", str(tmp_path / "traces")],
            cwd=ROOT, capture_output=True, text=True, timeout=1500, check=False,
            env={**os.environ, **KEYS})
    tail = run.stdout[-4000:]
    verdict = run.stdout.strip().splitlines()[-1]
    assert run.returncode in (0, 10), tail
    assert "violated" not in run.stdout, tail
    matrix = json.loads((out / "coverage-matrix.json").read_text(encoding="utf-8"))
    untested = [row for row in matrix["requirements"] if row["level"] == "MUST"
                and row["verdict"] not in ("proved", "not selected")]
    for row in untested:  # only what needs time to pass, and it says so
        assert "clock simulation" in row["reason"], (row["id"], row["reason"], verdict)
    assert not [t for t in matrix["tests"] if t["kind"] in ("suite error", "not prepared")], tail
    traffic = matrix["api_traffic"]
    # One login per key and worker; the controller's first check is the preflight's own.
    assert traffic["logins"] <= 2 * WORKERS, traffic
    assert traffic["waits"] > 0 and "rate-limit waits:" in run.stdout, traffic
