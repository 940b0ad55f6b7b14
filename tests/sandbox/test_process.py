"""The command line, the process helper, persistence across restarts, and faults."""

from __future__ import annotations

import asyncio
import re
import sys
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from sca_sandbox import DEV_API_KEYS
from sca_sandbox.faults import FAULTS
from sca_sandbox.process import run_sandbox
from sca_sandbox.testing import HttpFlow, SandboxClient, payment_body

REPO = Path(__file__).resolve().parents[2]
CONTRACT = (REPO / "docs" / "consent-contract.md").read_text()
# Sections 1-6 and 9: what the sandbox implements and can break (7 and 8 describe, not require)
CHECKED_SECTIONS = CONTRACT.split("## 7.")[0] + CONTRACT.split("## 9.")[1]


@dataclass
class Finished:
    returncode: int | None
    stdout: str
    stderr: str


async def sandbox_cli(*args: str) -> Finished:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sca_sandbox",
        *args,
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    return Finished(process.returncode, stdout.decode(), stderr.decode())


async def test_list_faults_prints_one_line_per_fault() -> None:
    result = await sandbox_cli("--list-faults")

    lines = result.stdout.strip().splitlines()
    assert result.returncode == 0
    assert len(lines) == len(FAULTS)
    for line in lines:
        name, requirement, description = line.split(" ", 2)
        assert name in FAULTS and FAULTS[name].requirement == requirement and description


async def test_every_requirement_of_sections_1_to_6_and_9_has_a_fault() -> None:
    requirements = set(
        re.findall(
            r"^\| ((?:AUTH|TRIGGER|INIT|PAGE|AFTER|ERR|A11Y|RACE)-\d+) \|", CHECKED_SECTIONS,
            re.MULTILINE
        )
    )
    covered = {fault.requirement for fault in FAULTS.values()}

    assert len(requirements) == 55
    assert requirements <= covered


async def test_every_fault_is_switched_somewhere_in_the_behaviour_code() -> None:
    # The behaviour code, its dialects' code and the pages' templates and scripts (where the
    # accessibility faults are switched).
    sources = "".join(
        p.read_text() for pattern in ("*.py", "*.html", "*.js")
        for p in (REPO / "sca_sandbox").rglob(pattern) if p.name != "faults.py"
    )

    assert [name for name in FAULTS
            if f'"{name}"' not in sources and f"'{name}'" not in sources] == []


async def test_an_unknown_fault_is_one_readable_line_and_exit_2() -> None:
    result = await sandbox_cli("--fault", "no-such-fault", "--port", "0")

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "sca-sandbox: unknown fault 'no-such-fault' (see --list-faults)"
    ]


@pytest.mark.parametrize(
    ("option", "value", "least"),
    [
        ("--token-ttl", "0", "1 second"),
        ("--consent-ttl", "0", "1 second"),
        ("--method-ttl", "-5", "1 second"),
        ("--refresh-ttl", "-1", "0 seconds"),
    ],
)
async def test_a_lifetime_out_of_range_is_one_readable_line_and_exit_2(
    option: str, value: str, least: str
) -> None:
    result = await sandbox_cli(option, value, "--port", "0")

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"sca-sandbox: {option} must be at least {least}"]


async def test_run_sandbox_passes_the_lifetimes_on_as_options(tmp_path: Path) -> None:
    with run_sandbox(tmp_path / "t.db", consent_ttl=1800, method_ttl=300, refresh_ttl=0) as ok:
        command = " ".join(ok.process.args)  # type: ignore[arg-type]
    assert "--consent-ttl 1800 --method-ttl 300 --refresh-ttl 0 " in command
    assert "--token-ttl" not in command, "None leaves the command line's default"
    with (
        pytest.raises(RuntimeError, match="--method-ttl must be at least 1 second"),
        run_sandbox(tmp_path / "u.db", method_ttl=0),
    ):
        pass


async def test_a_sandbox_that_cannot_start_raises_with_its_stderr(tmp_path: Path) -> None:
    with (
        pytest.raises(RuntimeError, match="unknown fault"),
        run_sandbox(tmp_path / "x.db", faults=["nope"]),
    ):
        pass


async def test_sandboxes_started_side_by_side_get_their_own_ports(tmp_path: Path) -> None:
    with ExitStack() as stack:
        running = [stack.enter_context(run_sandbox(tmp_path / f"{i}.db")) for i in range(3)]
        ports = {urlsplit(sandbox.url).port for sandbox in running}
        async with httpx.AsyncClient() as http:
            ready = [(await http.get(f"{s.url}/openapi.json")).status_code for s in running]

    assert len(ports) == 3
    assert ready == [200, 200, 200]
    assert all(sandbox.process.returncode == 0 for sandbox in running)


async def test_an_explicit_public_url_with_port_0_gets_the_real_port(tmp_path: Path) -> None:
    with run_sandbox(tmp_path / "p.db", public_url="http://127.0.0.1:0") as sandbox:
        async with SandboxClient.connect(sandbox.url, sandbox.api_keys[0]) as client:
            person = await client.individual()
            account = await client.account(person["id"])
            card = await client.card(person["id"], account["id"])
            consent = await client.consent("POST", f"/v3/cards/{card['id']}/activate")
            method = await client.initiate(consent["id"])

    port = urlsplit(sandbox.url).port
    assert method["redirect_url"].startswith(f"http://127.0.0.1:{port}/sca/")


@pytest.mark.lifecycle
async def test_a_restart_keeps_data_tokens_and_clocks(tmp_path: Path) -> None:
    db = tmp_path / "kept.db"
    with run_sandbox(db) as first:
        async with SandboxClient.connect(first.url, DEV_API_KEYS[0]) as client:
            person = await client.individual()
            account = await client.account(person["id"], balance=5_000)
            body = payment_body(account["id"], 1_000)
            consent = await client.consent("POST", "/v3/transactions/pay", json=body)
            await HttpFlow(
                client.http, (await client.initiate(consent["id"]))["redirect_url"]
            ).approve()
            await client.ok("POST", "/v3/simulations/clock", json={"advance_seconds": 60})
            token, refresh = client.access_token, client.refresh_token
    assert first.process.returncode == 0, "SIGTERM shuts down cleanly"

    with run_sandbox(db) as second:
        async with httpx.AsyncClient(base_url=second.url) as http:
            restored = SandboxClient(http, DEV_API_KEYS[0])
            restored.access_token, restored.refresh_token = token, refresh

            assert (await restored.ok("GET", f"/v3/individuals/{person['id']}"))[
                "status"
            ] == "active"
            assert await restored.status(consent["id"]) == "approved"
            paid = await restored.ok("POST", "/v3/transactions/pay", json=body)
            assert paid["amount"] == 1_000
            assert (await restored.refresh()).status_code == 400, (
                "the session clock and token survived"
            )


@pytest.mark.slow
async def test_faults_switch_behaviour(tmp_path: Path) -> None:
    faults = ["status-capitalised", "framing-allowed", "card-api-returns-pan"]
    with run_sandbox(tmp_path / "faulty.db", faults=faults) as sandbox:
        async with SandboxClient.connect(sandbox.url, sandbox.api_keys[0]) as client:
            person = await client.individual()
            account = await client.account(person["id"])
            card = await client.card(person["id"], account["id"])
            consent = await client.consent("POST", f"/v3/cards/{card['id']}/activate")
            method = await client.initiate(consent["id"])
            page = await client.http.get(method["redirect_url"])

    assert consent["status"] == "Pending"
    assert "x-frame-options" not in page.headers
    assert "frame-ancestors" not in page.headers["content-security-policy"]
    assert re.fullmatch(r"\d{16}", card["pan"])
