"""`make bench`: where the suite's time goes, measured as ratios in one run.

1. The full suite's wall time, serial and with `-n 2`, and their ratio; the logins of each
   run (one per key and worker, besides the tests that move the clock on sessions of their own).
2. Per-flow overhead: the suite's approve-by-passcode flow for an external payment against
   a minimal hand-written Playwright + httpx script doing the same calls and clicks on the
   same sandbox, interleaved, median of N flows each.
3. The browser-flow share of the serial run's time.
4. Slow failures: the same serial full-suite run against the embedded sandbox with each
   fault whose failure a suite can only notice by waiting (the browser goes somewhere
   else, a button is missing, a URL cannot be opened), each as a ratio to the clean run:
   a broken target must get its verdict about as fast as a correct one (target ≤ 1.2).
5. Logins against the staging personality (scripts/staging_personality.py: rate limits,
   TLS, no simulations): the whole suite with `-n 2`, the sandbox's own count of logins per
   key beside the suite's, at most one per key and worker (contract section 8a).
   `--logins-only` runs this part alone.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from xml.etree import ElementTree

import httpx
from playwright.async_api import Browser, async_playwright

from sca_conformance.catalog import CATALOG
from sca_conformance.chromium import launch_options
from sca_conformance.client import ApiClient
from sca_conformance.consents import Consents
from sca_conformance.data import DataFactory, digits, iban
from sca_conformance.effects import observe, verify_performed
from sca_conformance.landing import ReturnReceiver
from sca_conformance.plugin.evidence import attach_exchange
from sca_conformance.redact import SecretRegistry
from sca_sandbox import DEV_API_KEYS
from sca_sandbox.process import run_sandbox
from scripts.kill_matrix import SLOW_FAILURES, Run, parse_probe
from scripts.staging_personality import (
    WORKERS,
    logins_per_key,
    run_whole_suite,
    staging_profile,
    staging_sandbox,
)

ROOT = Path(__file__).resolve().parent.parent
SERIAL = ("-p", "no:xdist", "-p", "no:randomly")
FAULT_RUN_TIMEOUT = 1800  # seconds; a suite that waits out every timeout is slow, not hung


def run_suite(*args: str) -> tuple[float, Path]:
    junit = Path(tempfile.mkdtemp(prefix="sca-bench-")) / "junit.xml"
    started = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "suites", "-q", "-p", "no:cacheprovider",
         f"--junitxml={junit}", f"--coverage-matrix={junit.parent}", *args],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    elapsed = time.perf_counter() - started
    if run.returncode != 0:
        sys.exit(f"bench: the suite failed ({' '.join(args) or 'serial'}):\n{run.stdout[-2000:]}")
    return elapsed, junit


def api_traffic(junit: Path) -> str:
    """What a run of run_suite cost the target: its logins (one per key and worker, contract
    section 8a), refreshes and rate-limit waits, from its coverage-matrix.json."""
    summary = json.loads((junit.parent / "coverage-matrix.json").read_text())
    traffic = summary.get("api_traffic", {})
    return (f"logins {traffic.get('logins', '?')} (tests moving the clock, on sessions of "
            f"their own: {traffic.get('own_logins', '?')}), refreshes "
            f"{traffic.get('refreshes', '?')}, rate-limit waits {traffic.get('waits', '?')}")


def run_faulty_suite(fault: str) -> tuple[float, Run]:
    """The serial full suite against the sandbox with `fault`: it is expected to fail; its
    wall time, and the outcomes the kill matrix's probe saw (which failures name a
    requirement)."""
    with tempfile.TemporaryDirectory(prefix="sca-bench-") as folder:
        probe = Path(folder) / "outcomes.jsonl"
        env = {k: v for k, v in os.environ.items() if k != "SCA_SANDBOX_FAULTS"}
        env["KILL_MATRIX_PROBE_OUT"] = str(probe)
        args = [sys.executable, "-m", "pytest", "suites", "-q", "-p", "no:cacheprovider",
                "-p", "scripts.kill_matrix_probe", *SERIAL, "--sandbox-fault", fault]
        started = time.perf_counter()
        try:
            done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True,
                                  check=False, timeout=FAULT_RUN_TIMEOUT)
            code = done.returncode
        except subprocess.TimeoutExpired:
            code = -1
        elapsed = time.perf_counter() - started
        return elapsed, Run(args[3:], code, round(elapsed, 1), parse_probe(probe))


def browser_tests() -> set[tuple[str, str]]:
    listed = subprocess.run(
        [sys.executable, "-m", "pytest", "suites", "-q", "--collect-only", "-m", "browser",
         "-p", "no:cacheprovider"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout
    keys = set()
    for line in listed.splitlines():
        if "::" in line:
            path, name = line.split("::", 1)
            keys.add((path.removesuffix(".py").replace("/", "."), name))
    return keys


def durations(junit: Path) -> dict[tuple[str, str], float]:
    cases = ElementTree.parse(junit).getroot().iter("testcase")
    return {(case.get("classname", ""), case.get("name", "")): float(case.get("time", 0))
            for case in cases}


# Per-flow overhead --------------------------------------------------------------------


async def suite_flow(browser: Browser, url: str, receiver: ReturnReceiver) -> float:
    """The suite's own code path: client with its recording hook, data factory, catalog,
    consents helper, page objects, landing watcher, traced context, effect checks."""
    started = time.perf_counter()
    secrets = SecretRegistry()
    async with ApiClient(url, DEV_API_KEYS[0], secrets=secrets,
                         on_exchange=attach_exchange) as api:
        consents = Consents(api, DataFactory(api), receiver)
        action = CATALOG["external_payment"]
        subject = await consents.subject(action)
        before = await observe(consents, action, subject)
        context = await browser.new_context(viewport={"width": 430, "height": 860})
        await context.tracing.start(snapshots=True, screenshots=False, sources=False)
        page = await context.new_page()
        flow = await consents.start(page, action, subject)
        await flow.flow.approve(by="passcode")
        await flow.landing.wait()
        await verify_performed(consents, action, subject, flow.flow, before)
        await context.tracing.stop()
        await context.close()
    return time.perf_counter() - started


async def minimal_flow(browser: Browser, url: str, receiver: ReturnReceiver) -> float:
    """The same calls and clicks, hand-written with nothing but Playwright and httpx."""
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=url) as http:
        login = await http.post("/v3/auth/login", json={"api_key": DEV_API_KEYS[0]})
        http.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        person = (await http.post("/v3/individuals", json={
            "first_name": "Ada", "last_name": "Lovelace", "email": f"a{digits(9)}@example.com",
            "phone_number": f"+4670{digits(8)}", "date_of_birth": "1990-05-17"})).json()
        passcode = digits(6)
        await http.post(f"/v3/simulations/individuals/{person['id']}/activate",
                        json={"passcode": passcode})
        account = (await http.post("/v3/accounts", json={"individual_id": person["id"]})).json()
        await http.post("/v3/simulations/account_funding",
                        json={"account_id": account["id"], "amount": 250_000})
        await http.get(f"/v3/accounts/{account['id']}")
        payment = {"request_id": f"r{digits(12)}", "account_id": account["id"],
                   "counterparty": {"name": "Grace Hopper AB",
                                    "account": {"iban": iban(), "bic": "DEUTDEFF"}},
                   "amount": 1234, "reference": "Invoice 1"}
        consent = (await http.post("/v3/transactions/pay", json=payment)).json()["consent"]
        return_url = receiver.new_return_url()
        method = (await http.post(f"/v3/consents/{consent['id']}",
                                  json={"return_url": return_url})).json()["method"]
        context = await browser.new_context()
        page = await context.new_page()
        await page.goto(method["redirect_url"])
        await page.get_by_role("button", name="Confirm").click()
        await page.get_by_role("button", name="Try another way").click()
        await page.get_by_label("Passcode").fill(passcode)
        await page.get_by_role("button", name="Continue").click()
        await page.wait_for_url(return_url.split("?")[0] + "**")
        await http.post("/v3/transactions/pay", json=payment)
        await http.post("/v3/transactions/pay", json=payment)
        await http.get(f"/v3/accounts/{account['id']}")
        await context.close()
    return time.perf_counter() - started


async def flow_overhead(flows: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as folder, run_sandbox(
        Path(folder) / "bench.db"
    ) as sandbox, ReturnReceiver() as receiver:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(**launch_options())
            await suite_flow(browser, sandbox.url, receiver)  # warm both paths up
            await minimal_flow(browser, sandbox.url, receiver)
            suite_times, minimal_times = [], []
            for _ in range(flows):
                suite_times.append(await suite_flow(browser, sandbox.url, receiver))
                minimal_times.append(await minimal_flow(browser, sandbox.url, receiver))
            await browser.close()
    return statistics.median(suite_times), statistics.median(minimal_times)


def staging_logins() -> list[str]:
    """Part 5: the whole suite on WORKERS workers against the staging personality; the lines
    it prints."""
    with tempfile.TemporaryDirectory(prefix="sca-bench-") as name:
        folder = Path(name)
        started = time.perf_counter()
        with staging_sandbox(folder) as (sandbox, pki):
            run = run_whole_suite(folder, staging_profile(folder, sandbox, pki))
            per_key = logins_per_key(sandbox)
        elapsed = time.perf_counter() - started
        matrix = folder / "matrix" / "coverage-matrix.json"
        if not matrix.exists():
            sys.exit(f"bench: the staging run gave no verdict:\n{run.stdout[-2000:]}")
        traffic = json.loads(matrix.read_text())["api_traffic"]
    verdict = run.stdout.strip().splitlines()[-1]
    counted = ", ".join(f"key {number} {logins}"
                        for number, logins in enumerate(per_key.values(), start=1))
    return [
        f"5. logins against the staging personality: the whole suite, -n {WORKERS}, "
        f"{elapsed:.1f} s",
        f"   {verdict}",
        f"   the sandbox counted logins per key: {counted}; besides the workers' sessions "
        "below: the run's first check and the login tests' own (AUTH-1)",
        f"   the suite's workers: logins {traffic['logins']} (target ≤ {len(per_key) * WORKERS}:"
        f" one per key and worker), by tests moving the clock {traffic['own_logins']}, "
        f"refreshes {traffic['refreshes']}, rate-limit waits {traffic['waits']} "
        f"({traffic['wait_seconds']} s)",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, default=20)
    parser.add_argument("--fault", action="append", default=None, metavar="NAME",
                        help="a slow-failure fault for part 4 (repeatable; default: "
                        f"{', '.join(SLOW_FAILURES)}; --fault none skips part 4)")
    parser.add_argument("--logins-only", action="store_true",
                        help="run part 5 alone (the logins against the staging personality)")
    options = parser.parse_args()
    options.fault = [f for f in options.fault or SLOW_FAILURES if f != "none"]
    if options.logins_only:
        print("bench: running the full suite against the staging personality ...", flush=True)
        print("\n".join(["", *staging_logins()]))
        return

    print("bench: running the full suite serially ...", flush=True)
    serial, junit = run_suite(*SERIAL)
    print("bench: running the full suite with -n 2 ...", flush=True)
    parallel, parallel_junit = run_suite("-n", "2")
    print(f"bench: {options.flows} approve-by-passcode flows each way ...", flush=True)
    suite_median, minimal_median = asyncio.run(flow_overhead(options.flows))
    faulty = {}
    for fault in options.fault:
        print(f"bench: running the full suite serially against the fault {fault} ...",
              flush=True)
        faulty[fault] = run_faulty_suite(fault)
    print("bench: running the full suite against the staging personality ...", flush=True)
    staging = staging_logins()

    times = durations(junit)
    browser_keys = browser_tests()
    browser_time = sum(t for key, t in times.items() if key in browser_keys)
    api_time = sum(t for key, t in times.items() if key not in browser_keys)
    fixed = max(serial - browser_time - api_time, 0.0)

    print()
    print("1. full suite wall time")
    print(f"   serial {serial:6.1f} s   (target ≤ 60 s)")
    print(f"          {api_traffic(junit)} (target: logins ≤ 2, one per key)")
    print(f"   -n 2   {parallel:6.1f} s   speed-up {serial / parallel:.2f}x (target ≥ 1.5x)")
    print(f"          {api_traffic(parallel_junit)} (target: logins ≤ 4, one per key and worker)")
    print("2. per-flow overhead: approve an external payment by passcode, "
          f"median of {options.flows} each")
    print(f"   suite {suite_median * 1000:6.0f} ms   minimal script {minimal_median * 1000:6.0f} ms"
          f"   ratio {suite_median / minimal_median:.2f} (target ≤ 1.1)")
    print("3. where the serial run's time goes")
    for label, seconds in (
        (f"browser tests ({len(browser_keys)})", browser_time),
        (f"API-only tests ({len(times) - len(browser_keys)})", api_time),
        ("start-up: collection, sandbox, browser launch", fixed),
    ):
        print(f"   {label:<48} {seconds:6.1f} s  {seconds / serial:5.0%}")
    if faulty:
        print("4. slow failures: the serial full suite against a faulty sandbox, "
              "as a ratio to the clean run")
        print(f"   {'clean sandbox':<26} {serial:6.1f} s")
        for fault, (seconds, run) in faulty.items():
            failing = run.with_outcome("failed", "error")
            ended = "timed out" if run.exit_code == -1 else f"exit {run.exit_code}"
            print(f"   {fault:<26} {seconds:6.1f} s   {seconds / serial:5.2f}x   {ended}, "
                  f"{len(failing)} failing, {len(run.unattributed())} naming no requirement")
            for outcome in run.unattributed()[:3]:
                print(f"      naming none: {outcome.nodeid.split('::')[-1]}: "
                      f"{outcome.message[:100]}")
        worst = max(faulty, key=lambda name: faulty[name][0])
        print(f"   worst ratio {faulty[worst][0] / serial:.2f}x ({worst}) (target ≤ 1.2)")
    print("\n".join(staging))


if __name__ == "__main__":
    main()
