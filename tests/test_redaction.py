"""Nothing secret reaches what a run writes: Allure results, screenshots, failure traces.

Runs part of the suite against a sandbox with API keys nobody has seen before and two
faults that make browser flows fail after passcodes, PINs, CVC2 and SMS codes were typed
and card details shown, then scans every file (and every zip member) for those keys, the
card numbers and CVCs and SMS codes the sandbox really handed out, JWTs and Luhn-valid
card numbers.
"""

from __future__ import annotations

import io
import json
import os
import re
import secrets
import sqlite3
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sca_conformance.publish.scan import find_secrets
from sca_conformance.redact import MASK, SecretRegistry
from sca_sandbox.process import run_sandbox

REPO_ROOT = Path(__file__).resolve().parent.parent

# Fail after the secrets were on screen: the card-details API answers with the PAN (the
# page was read first), a wrong CVC2 activates the card (a PIN was typed first), and two
# browsers both approve one consent (a passcode typed in each: evidence of both pages).
FAULTS = ("card-api-returns-pan", "cvc2-not-checked", "approval-race")
SELECTION = (
    "test_cards"  # card details shown, PIN and CVC2 typed; two of them fail
    " or two_pages_at_once"  # RACE-2: fails with two pages open
    " or (approving_by_passcode and (onboarding or card_activation))"  # passcode, SMS
    " or login_answers or used_refresh_token"  # API keys and token pairs, API only
)


@dataclass(frozen=True)
class Run:
    results: Path
    traces: Path
    api_keys: tuple[str, str]
    handed_out: dict[str, list[str]]  # what the sandbox really used: pan, cvc, sms
    outcome: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    folder = tmp_path_factory.mktemp("redaction")
    keys = (f"sk_test_{secrets.token_hex(16)}", f"sk_test_{secrets.token_hex(16)}")
    with run_sandbox(folder / "sandbox.db", api_keys=keys, faults=FAULTS) as sandbox:
        env = {**os.environ, "SCA_API_KEY": keys[0], "SCA_API_KEY_2": keys[1]}
        for name in ("SCA_TARGET_URL", "SCA_TARGET", "SCA_SANDBOX_FAULTS", "SCA_STRICT"):
            env.pop(name, None)
        outcome = subprocess.run(
            [
                sys.executable, "-m", "pytest", str(REPO_ROOT / "suites"),
                "--rootdir", str(REPO_ROOT), "-c", str(REPO_ROOT / "pyproject.toml"),
                "--target-url", sandbox.url, "--alluredir", str(folder / "results"),
                "-p", "no:cacheprovider", "-k", SELECTION, "-n", "3", "-q", "-rf",
            ],
            cwd=folder,  # its test-results/ (the traces) lands here, not in the checkout
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        handed_out = _handed_out(sandbox.db_path)
    yield Run(folder / "results", folder / "test-results", keys, handed_out, outcome)


def _handed_out(db: Path) -> dict[str, list[str]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
        cards = connection.execute("SELECT pan, cvc FROM card_secrets").fetchall()
        sms = connection.execute("SELECT code FROM sms_codes").fetchall()
        tokens = connection.execute(
            "SELECT token_plain FROM methods WHERE token_plain IS NOT NULL"
        ).fetchall()
    return {
        "pan": [pan for pan, _ in cards],
        "cvc": [cvc for _, cvc in cards],
        "sms": [code for (code,) in sms],
        "method token": [token for (token,) in tokens],
    }


@pytest.mark.slow
def test_the_run_wrote_failure_evidence_worth_scanning(run: Run) -> None:
    """Guards the scan below: a run that wrote no traces would prove nothing."""
    failed = re.findall(r"^FAILED \S*?(test_\w+\.py::\w+)", run.outcome.stdout, re.MULTILINE)
    summary = run.outcome.stdout.strip().splitlines()[-1:] + run.outcome.stderr[-2000:].splitlines()
    assert run.outcome.returncode == 1, summary
    for failing in ("test_card_details_show_on_the_page_and_never_in_the_api",
                    "test_activation_refuses_a_wrong_cvc2_and_accepts_the_right_one"):
        assert f"test_cards.py::{failing}" in failed, summary
        folder = f"suites-test-cards-py-{failing.replace('_', '-')}"
        assert (run.traces / folder / "trace.zip").is_file(), sorted(
            path.name for path in run.traces.iterdir())
    types = {
        attachment.get("type")
        for path in run.results.glob("*-result.json")
        for attachment in _attachments(json.loads(path.read_text()))
    }
    assert {"image/png", "application/zip", "application/json"} <= types
    assert run.handed_out["pan"] and run.handed_out["sms"], run.handed_out
    # The second browser's page is evidence too (masked like the first).
    [race] = [json.loads(path.read_text()) for path in run.results.glob("*-result.json")
              if "two browsers at once" in json.loads(path.read_text()).get("name", "")]
    shots = [a for a in _attachments(race) if a["name"].startswith("Screenshot at failure")]
    assert race["status"] == "failed" and len(shots) == 2, [a["name"] for a in _attachments(race)]


@pytest.mark.slow
def test_no_secret_reaches_the_results_or_the_traces(run: Run) -> None:
    literals = [
        *run.api_keys,
        *(pan for pan in run.handed_out["pan"]),
        *(" ".join(pan[i : i + 4] for i in range(0, len(pan), 4)) for pan in run.handed_out["pan"]),
        *run.handed_out["sms"],
        *run.handed_out["method token"],
    ]
    findings = [
        f"{folder.name}/{finding}"
        for folder in (run.results, run.traces)
        for finding in find_secrets(folder, literals)
    ]
    assert findings == []


@pytest.mark.slow
def test_no_cvc_reaches_the_results_or_the_traces(run: Run) -> None:
    """A CVC is three digits, too short to look for alone: look for it near its label."""
    near_label = [
        # Not after "@": Playwright's call ids in trace.stacks (`"xykt@268"`) are no CVC.
        re.compile(rb"(?i)cvc2?[^0-9]{0,60}(?<![\d@])" + cvc.encode() + rb"(?!\d)")
        for cvc in run.handed_out["cvc"]
    ]
    leaks = [
        name
        for folder in (run.results, run.traces)
        for name, content in _contents(folder)
        if any(pattern.search(content) for pattern in near_label)
    ]
    assert leaks == []


@pytest.mark.slow
def test_no_secret_reaches_the_terminal_output(run: Run, tmp_path: Path) -> None:
    output = tmp_path / "output.txt"
    output.write_text(run.outcome.stdout + run.outcome.stderr)
    literals = [*run.api_keys, *run.handed_out["pan"], *run.handed_out["sms"]]
    assert find_secrets(output, literals) == []


def test_a_scrubbed_trace_still_parses_and_keeps_its_numbers(tmp_path: Path) -> None:
    trace = tmp_path / "trace.zip"
    lines = [
        {"type": "input", "box": {"x": 44, "width": 342}, "time": 11.342},
        {"type": "action", "params": {"value": "342"}, "log": ["fill(\"4111 1111 1111 1111\")"]},
    ]
    with zipfile.ZipFile(trace, "w") as archive:
        archive.writestr("trace.trace", "\n".join(json.dumps(line) for line in lines) + "\n")
        archive.writestr("resources/page.html", "<dd>342</dd><dd>4111 1111 1111 1111 342</dd>")
    secrets = SecretRegistry()
    secrets.add("342")
    secrets.scrub_archive(trace)
    with zipfile.ZipFile(trace) as archive:
        events = [json.loads(line) for line in archive.read("trace.trace").decode().splitlines()]
        page = archive.read("resources/page.html").decode()
    assert events[0] == lines[0]  # bare numbers and decimals are layout, not secrets
    assert events[1]["params"]["value"] == MASK
    assert "4111" not in events[1]["log"][0]
    assert page == f"<dd>{MASK}</dd><dd>{MASK} {MASK}</dd>"


def _attachments(node: dict[str, object]) -> Iterator[dict[str, str]]:
    yield from node.get("attachments", [])  # type: ignore[misc]
    for step in node.get("steps", []):  # type: ignore[attr-defined]
        yield from _attachments(step)


def _contents(folder: Path) -> Iterator[tuple[str, bytes]]:
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        yield from _members(path.relative_to(folder).as_posix(), path.read_bytes())


def _members(name: str, content: bytes) -> Iterator[tuple[str, bytes]]:
    if content[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            for member in archive.namelist():
                yield from _members(f"{name}!{member}", archive.read(member))
        return
    yield name, content


