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
the first check), and counts the rate limits it waited out.

The sandbox also answers every other API request of each caller with 429 (`--throttle-every
2`, Retry-After 0 so that a thousand waits cost no time; a wait of Retry-After: 1 is
tests/test_rate_limited_run.py's): the verdict is the same, and every test waited."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from sca_conformance.verdict import EXIT_CODES, RunVerdict
from scripts.staging_personality import (
    WORKERS,
    run_whole_suite,
    staging_profile,
    staging_sandbox,
)

pytestmark = [pytest.mark.slow]

THROTTLE = ["--throttle-every", "2", "--throttle-retry-after", "0"]


def test_the_whole_suite_against_the_staging_personality_violates_nothing(
    tmp_path: Path,
) -> None:
    with staging_sandbox(tmp_path, extra_args=THROTTLE) as (sandbox, pki):
        # A request of a burst (RACE-1's payments at once) meets the throttle's parity at
        # random, besides the request rate limit: more tries than the default 6, so that
        # none runs out of them (2^-20).
        profile = staging_profile(tmp_path, sandbox, pki, max_tries=20)
        run = run_whole_suite(tmp_path, profile)
    out = tmp_path / "matrix"
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
    # Every other request waited: at least one a test that ran (each sends more than two).
    ran = [t for t in matrix["tests"] if t["kind"] != "skipped"]
    assert traffic["waits"] >= len(ran), traffic
    assert f", rate-limit waits: {traffic['waits']}, total " in run.stdout, traffic


# The same run with one of the two settings a first run most likely misses: it stops at
# once (no test past the first each worker ran; well under a minute, start-up included),
# with one sentence naming the setting and no verdict of any requirement.
AT_ONCE_SECONDS = 60


@pytest.mark.parametrize(("missing", "sentence"), [
    ("ca_bundle", "set [network] ca_bundle in the profile or SCA_CA_BUNDLE"),
    ("return_url", "set [target] return_url in the profile to the https return URL "
                   "registered with the provider."),
])
def test_the_same_run_without_the_ca_or_the_return_url_stops_at_once_naming_it(
    tmp_path: Path, missing: str, sentence: str,
) -> None:
    with staging_sandbox(tmp_path) as (sandbox, pki):
        profile = staging_profile(tmp_path, sandbox, pki, **{missing: False})
        started = time.monotonic()
        run = run_whole_suite(tmp_path, profile, timeout=600)
        took = time.monotonic() - started
    tail = run.stdout[-3000:] + run.stderr[-2000:]
    last = run.stdout.strip().splitlines()[-1]
    assert run.returncode == EXIT_CODES[RunVerdict.TARGET_UNUSABLE], tail
    assert last.startswith("TARGET UNUSABLE: "), tail
    assert sentence in last, last
    assert last.count(". ") == 0 and last.endswith("."), last  # one sentence
    assert "violated" not in run.stdout and " passed" not in run.stdout, tail
    assert took < AT_ONCE_SECONDS, (took, tail)
    # The CA's is found before any test; the return_url's by each worker's first test, which
    # ends skipped with the sentence (no verdict), and the worker stops.
    matrix = json.loads((tmp_path / "matrix" / "coverage-matrix.json").read_text("utf-8"))
    assert matrix["unusable"] == last.removeprefix("TARGET UNUSABLE: ")
    assert len(matrix["tests"]) <= (0 if missing == "ca_bundle" else WORKERS), matrix["tests"]
    assert all(test["kind"] == "skipped" for test in matrix["tests"]), matrix["tests"]
