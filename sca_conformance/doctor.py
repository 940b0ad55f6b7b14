"""sca-conformance doctor [--target PROFILE | --target-url URL]: is the target usable, and
what can a run prove of it? Before any data is created.

It checks the API key(s), TLS (the certificate against the trust configured), the proxy,
the login and a refresh, every path the suite will call (in the target's OpenAPI document,
or by an answer to a GET that creates nothing), the browser (Chromium launched with the
suite's network options, opening the target) and says that the first hosted page was not
tried (a redirect_url needs a consent). Then it prints the plan: for every requirement of
the contract, whether the profile lets a run prove it, and if not, why.

Exit status: 0 when every check passed, 11 (TARGET UNUSABLE) when one failed, 4 when the
profile cannot be used as written.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import ssl
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from sca_conformance.capabilities import lacking, not_applicable
from sca_conformance.client import LoginRoute
from sca_conformance.config import ProfileError, Settings
from sca_conformance.connection_errors import browser_setup_error, explain, explain_browser
from sca_conformance.verdict import EXIT_CODES, RunVerdict

# Fixtures that skip a test for a capability the profile denies (the needs gate's other face).
GATING_FIXTURES = {"clock": "clock_simulation", "passkey": "passkeys"}
PLAN_FILE = "SCA_DOCTOR_PLAN"  # where the collection plugin below writes the suite's tests
CONTRACT_PATHS = ("login", "refresh", "consent")  # catalog.ENDPOINTS, beside the actions


@dataclass
class Check:
    name: str
    ok: bool | None  # None: not tried
    detail: str

    def line(self) -> str:
        mark = {True: "ok  ", False: "FAIL", None: "--  "}[self.ok]
        return f"  {mark} {self.name}: {self.detail}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="sca-conformance doctor",
        description="Check that the target can be tested (keys, TLS, proxy, login, paths, "
        "browser) and print what a run can prove of it, before any data is created.")
    parser.add_argument("--target", metavar="PROFILE", help="the target's profile (TOML)")
    parser.add_argument("--target-url", metavar="URL", help="base URL of a running target "
                        "(with --target: the profile's settings for this URL)")
    parser.add_argument("--no-browser", action="store_true", help="leave the browser out")
    args = parser.parse_args(argv)
    try:
        settings = Settings.resolve(target_url=args.target_url, profile_path=args.target,
                                    strict=False)
    except ProfileError as error:
        print(f"sca-conformance doctor: {error}", file=sys.stderr)
        return 4
    print(f"target: {settings.described_target}")
    if settings.embedded:
        print("  the embedded sandbox is started by each run on loopback: nothing to check "
              "before it")
        checks: list[Check] = []
    else:
        checks = asyncio.run(run_checks(settings, browser=not args.no_browser))
    for check in checks:
        print(check.line())
    print()
    for line in plan(settings, args.target):
        print(line)
    failed = [check for check in checks if check.ok is False]
    if failed:
        print(f"\nTARGET UNUSABLE: {failed[0].detail}")
        return EXIT_CODES[RunVerdict.TARGET_UNUSABLE]
    return 0


# The checks ----------------------------------------------------------------------------


async def run_checks(settings: Settings, browser: bool = True) -> list[Check]:
    checks = [_keys(settings), *_network(settings)]
    tls = _tls(settings)
    if tls is not None:
        checks.append(tls)
    if any(check.ok is False for check in checks):
        return checks
    token, session = await _login(settings)
    checks += session
    if token is not None:
        checks += await _paths(settings, token)
    if browser:
        checks.append(await _browser(settings))
    checks.append(Check("first hosted page", None, "not tried: a redirect_url needs a "
                        "consent, and doctor creates no data (a run's first test opens one)"))
    return checks


def _keys(settings: Settings) -> Check:
    first, second = settings.key_sources
    detail = f"{first} is set"
    detail += (f"; {second} is set (the isolation checks can run)" if settings.api_keys[1]
               else f"; {second} is not set: the isolation checks will be skipped")
    if settings.profile.auth.style == "client_credentials":
        auth = settings.profile.auth
        missing = [n for n in (auth.client_id_env, auth.client_secret_env) if not os.environ.get(n)]
        if missing:
            return Check("keys", False, f"{', '.join(missing)} not set: the client credentials "
                         "of auth.style = 'client_credentials' come from there")
        detail = f"{auth.client_id_env} and {auth.client_secret_env} are set"
    return Check("keys", True, detail)


def _network(settings: Settings) -> list[Check]:
    network = settings.network
    via = network.proxy_for(settings.target_url)
    shown = [Check("proxy", True, f"through {via}" if via else "direct (no proxy for this host)")]
    shown += [Check("network", True, line) for line in network.describe()]
    return shown


def _tls(settings: Settings) -> Check | None:
    url = settings.target_url
    parts = urlsplit(url)
    if parts.scheme != "https":
        return Check("TLS", None, f"not used: {url} is plain http")
    host = (parts.hostname or "").lower()
    insecure = host in settings.network.insecure_hosts
    try:
        der = settings.network.certificate(url, verify=not insecure)
    except (OSError, ssl.SSLError) as error:
        return Check("TLS", False, explain(error, url) or f"{type(error).__name__}: {error}")
    from cryptography import x509

    certificate = x509.load_der_x509_certificate(der)
    issuer = certificate.issuer.rfc4514_string()
    until = certificate.not_valid_after_utc.date().isoformat()
    if insecure:
        return Check("TLS", True, f"NOT CHECKED for {host} ([network] insecure_hosts); "
                     f"issuer {issuer}, valid until {until}")
    return Check("TLS", True, f"certificate verified (issuer {issuer}, valid until {until})")


def _client(settings: Settings) -> httpx.AsyncClient:
    options = settings.network.httpx_options(settings.target_url)
    return httpx.AsyncClient(**options, base_url=settings.target_url,
                             timeout=settings.profile.timeouts.api_seconds)


async def _login(settings: Settings) -> tuple[str | None, list[Check]]:
    """The access token, and what the login and a refresh said."""
    auth = settings.profile.auth
    route = LoginRoute.of(settings.profile)
    async with _client(settings) as http:
        try:
            answer = await route.send(http, settings.api_keys[0])
        except httpx.HTTPError as error:
            return None, [Check("login", False, explain(error, settings.target_url)
                                or f"{type(error).__name__}: {error}")]
        body = _json(answer)
        token = body.get("access_token") if isinstance(body, dict) else None
        if answer.status_code != 200 or not isinstance(token, str):
            return None, [Check("login", False, f"{route.where} answered {answer.status_code} "
                                "without an access_token: check the key "
                                f"({settings.key_sources[0]}) and target.base_url")]
        checks = [Check("login", True, f"{answer.status_code}, an access token"
                        + (f" for {body['expires_in']} s" if "expires_in" in body else ""))]
        refresh_token = body.get("refresh_token")
        if auth.style != "api_key" or not isinstance(refresh_token, str):
            checks.append(Check("refresh", None, "not tried: the login gave no refresh token"))
            return token, checks
        refreshed = await http.post(route.refresh, json={"refresh_token": refresh_token})
        fresh = _json(refreshed)
        if refreshed.status_code == 200 and isinstance(fresh, dict) and fresh.get("access_token"):
            checks.append(Check("refresh", True, "200, a new access token"))
            token = str(fresh["access_token"])
        elif refreshed.status_code == 400 and isinstance(fresh, dict):
            # The contract refreshes an expired access token only: answered, and in JSON.
            checks.append(Check("refresh", True, "answers (400 before the access token "
                                "expires, as the contract has it)"))
        else:
            checks.append(Check("refresh", False, f"POST {route.refresh} answered "
                                f"{refreshed.status_code}: the suite refreshes its sessions"))
        return token, checks


def _json(answer: httpx.Response) -> Any:
    try:
        return answer.json()
    except ValueError:
        return None


def suite_paths(settings: Settings) -> list[str]:
    """Every path the suite calls: the contract's and each enabled action's request."""
    from sca_conformance.catalog import actions_for, endpoint

    paths = [endpoint(settings.profile, name) for name in CONTRACT_PATHS]
    for action in actions_for(settings.profile):
        paths.append(action.path)
    return list(dict.fromkeys(paths))


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path.split("?", 1)[0]).rstrip("/")


async def _paths(settings: Settings, token: str) -> list[Check]:
    """Each path in the target's OpenAPI document, or answering a GET (with an unknown id
    where it has one): no request that could create anything."""
    wanted = suite_paths(settings)
    headers = {"Authorization": f"Bearer {token}"}
    async with _client(settings) as http:
        document = settings.profile.target.openapi or "/openapi.json"
        published: set[str] = set()
        if document != "none" and not Path(document).is_file():
            try:
                answer = await http.get(document)
                body = _json(answer) if answer.status_code == 200 else None
                if isinstance(body, dict) and isinstance(body.get("paths"), dict):
                    published = {_shape(p) for p in body["paths"]}
            except httpx.HTTPError:
                published = set()
        if published:
            missing = [p for p in wanted if _shape(p) not in published]
            if missing:
                return [Check("paths", False, f"not in the target's OpenAPI document "
                              f"({document}): {', '.join(missing)}: set the actions' paths "
                              "in the profile ([actions.NAME] path)")]
            return [Check("paths", True, f"all {len(wanted)} in the target's OpenAPI document "
                          f"({document})")]
        answered = []
        for path in wanted:
            filled = re.sub(r"\{[^}]*\}", str(uuid.uuid4()), path)
            try:
                answer = await http.get(filled, headers=headers)
            except httpx.HTTPError as error:
                return [Check("paths", False, explain(error, settings.target_url)
                              or f"GET {path}: {type(error).__name__}")]
            answered.append(f"{path} {answer.status_code}")
        return [Check("paths", True, "no OpenAPI document; each answered a GET: "
                      + ", ".join(answered))]


async def _browser(settings: Settings) -> Check:
    from playwright.async_api import Error as PlaywrightError
    from playwright.async_api import async_playwright

    from sca_conformance.chromium import launch_args

    network = settings.network
    urls = [settings.target_url, *settings.profile.target.hosted_origins]
    try:
        extra = network.launch_options(urls)
    except OSError as error:
        return Check("browser", False, explain(error, settings.target_url) or str(error))
    launch = launch_args({"args": extra.pop("args")}, headed=False)
    failures: list[str] = []
    async with async_playwright() as playwright:
        try:
            browser = await playwright.chromium.launch(**{**launch, **extra})
        except PlaywrightError as error:
            return Check("browser", False, "Chromium does not start: "
                         f"{error.message.splitlines()[0]} (sca-conformance setup installs one)")
        try:
            context = await browser.new_context(**network.context_options(urls))
            await network.add_headers(context)
            page = await context.new_page()
            page.on("requestfailed", lambda request: failures.append(request.failure or ""))
            opened = f"{settings.target_url}/"
            try:
                answer = await page.goto(opened)
            except PlaywrightError as error:
                code = browser_setup_error(" ".join(failures) or error.message)
                return Check("browser", False, explain_browser(code, opened) if code
                             else error.message.splitlines()[0])
            status = answer.status if answer is not None else "no answer"
            return Check("browser", True, f"Chromium opened {opened} ({status})")
        finally:
            await browser.close()


# The plan --------------------------------------------------------------------------------


def plan(settings: Settings, profile_path: str | None) -> list[str]:
    """What a run of the suite can prove of this target, requirement by requirement: the
    suite's tests as collected for the profile, each gated by what the profile declares."""
    from sca_conformance.requirements import registry

    tests = collect(settings, profile_path)
    lines = ["plan (what a run can prove, as the profile declares the target):"]
    if tests is None:
        return [*lines, "  the suite could not be collected: run `sca-conformance run -- "
                "--collect-only` to see why"]
    by_requirement: dict[str, list[str | None]] = {}
    for test in tests:
        reason = _gate(settings, test)
        for requirement_id in test["requirements"]:
            by_requirement.setdefault(requirement_id, []).append(reason)
    accepted = settings.profile.verdict.accept_untested
    provable = 0
    for requirement_id, requirement in registry().items():
        reasons = by_requirement.get(requirement_id, [])
        runnable = sum(1 for reason in reasons if reason is None)
        if runnable:
            provable += requirement.level == "MUST"
            state = f"can be proved ({runnable} test{'s' if runnable != 1 else ''})"
        elif reasons:
            state = f"cannot be proved: {sorted({r for r in reasons if r})[0]}"
        else:
            state = "no test for this profile (its actions are switched off)"
        if not runnable and requirement_id in accepted:
            state += f"; accepted untested: {accepted[requirement_id]}"
        lines.append(f"  {requirement_id:<10} {requirement.level:<6} {state}")
    must = sum(1 for r in registry().values() if r.level == "MUST")
    lines.append(f"  {provable} of {must} MUST requirements can be proved")
    lacking = [name for name, value in settings.profile.capabilities.model_dump().items()
               if value is False]
    if lacking:
        lines.append("  tests whose data needs " + ", ".join(lacking).replace("_", " ")
                     + " are skipped at run time as well (profile [capabilities])")
    return lines


def _gate(settings: Settings, test: dict[str, Any]) -> str | None:
    """Why this test would be skipped for the profile (None: it runs)."""
    if reason := not_applicable(settings, test["requirements"]):
        return reason
    gated = [GATING_FIXTURES[f] for f in test.get("fixtures", []) if f in GATING_FIXTURES]
    for capability in [*test["needs"], *gated]:
        if reason := lacking(settings, capability):
            return reason
    return None


def collect(settings: Settings, profile_path: str | None) -> list[dict[str, Any]] | None:
    """The suite's tests for this profile (pytest --collect-only in a process of its own,
    this module loaded as a plugin writing each test's requirements and needs)."""
    from sca_conformance.activation import suites_folder

    suites = suites_folder()
    if suites is None or not (suites / "suite.ini").is_file():
        return None
    with tempfile.TemporaryDirectory(prefix="sca-doctor-") as folder:
        out = Path(folder) / "plan.json"
        command = [sys.executable, "-m", "pytest", str(suites), "-c", str(suites / "suite.ini"),
                   "--rootdir", str(suites), "-p", "no:playwright", "-p", "no:playwright-asyncio",
                   "-p", "no:cacheprovider", "--collect-only", "-q", "-p", __name__]
        if profile_path:
            command += ["--target", str(Path(profile_path).resolve())]
        elif settings.target_url:
            command += ["--target-url", settings.target_url]
        keys = {source: key for source, key in zip(settings.key_sources, settings.api_keys,
                                                    strict=True) if key}
        auth = settings.profile.auth
        if auth.style == "client_credentials":  # collecting sends nothing: any value will do
            keys |= {env: os.environ.get(env) or "collect-only"
                     for env in (auth.client_id_env, auth.client_secret_env)}
        done = subprocess.run(command, capture_output=True, text=True, check=False,
                              env={**os.environ, **keys, PLAN_FILE: str(out)}, cwd=folder)
        if done.returncode != 0 or not out.is_file():
            return None
        tests: list[dict[str, Any]] = json.loads(out.read_text(encoding="utf-8"))
        return tests


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Loaded as a plugin by `collect`: each test's requirements and needs, to PLAN_FILE."""
    target = os.environ.get(PLAN_FILE)
    if not target:
        return
    tests = [{"nodeid": item.nodeid,
              "requirements": [i for m in item.iter_markers("requirement") for i in m.args],
              "needs": [c for m in item.iter_markers("needs") for c in m.args],
              "fixtures": list(getattr(item, "fixturenames", []))}
             for item in items]
    Path(target).write_text(json.dumps(tests), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
