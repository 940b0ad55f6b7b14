"""sca-conformance doctor: the checks before any data is created, and the plan."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sca_conformance.config import Settings
from sca_conformance.doctor import plan
from sca_sandbox.process import run_sandbox
from suite.test_network import KEYS, Pki, pki  # noqa: F401 - the throwaway CA fixture

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def tls_target(pki: Pki, tmp_path: Path) -> Iterator[str]:  # noqa: F811
    with run_sandbox(tmp_path / "sandbox.db", tls=(pki.leaf, pki.key),
                     public_host="127.0.0.1") as sandbox:
        yield sandbox.url


def _doctor(profile: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sca_conformance.cli", "doctor", "--target", str(profile)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, **KEYS},
    )


def test_doctor_checks_the_target_and_prints_the_plan(
    pki: Pki, tls_target: str, tmp_path: Path,  # noqa: F811
) -> None:
    profile = tmp_path / "staging.toml"
    profile.write_text(f'[target]\nbase_url = "{tls_target}"\n[network]\nca_bundle = "{pki.ca}"\n'
                       "[capabilities]\nclock_simulation = false\n")
    run = _doctor(profile)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    for check in ("TLS: certificate verified (issuer CN=Test CA", "login: 200, an access token",
                  "refresh: answers", "paths: all ", "browser: Chromium opened "):
        assert any(check in line and line.lstrip().startswith("ok") for line in lines), check
    assert any(line.lstrip().startswith("--   first hosted page: not tried") for line in lines)
    assert any(line.split()[:3] == ["AUTH-1", "MUST", "can"] for line in lines)
    assert any(line.split()[:2] == ["AFTER-6", "MUST"]
               and "needs the target's clock simulation" in line for line in lines)
    untrusted = tmp_path / "untrusted.toml"
    untrusted.write_text(f'[target]\nbase_url = "{tls_target}"\n')
    stopped = _doctor(untrusted)
    assert stopped.returncode == 11, stopped.stdout
    assert stopped.stdout.splitlines()[-1].startswith(
        "TARGET UNUSABLE: The target's certificate is not trusted")
    assert "set [network] ca_bundle in the profile or SCA_CA_BUNDLE" in stopped.stdout


def test_the_plan_says_auth_is_not_applicable_to_client_credentials(tmp_path: Path) -> None:
    profile = tmp_path / "oauth.toml"
    profile.write_text('[target]\nbase_url = "https://api.example"\n[auth]\n'
                       'style = "client_credentials"\ntoken_url = "/oauth/token"\n')
    settings = Settings.resolve(target_url=None, profile_path=str(profile), strict=False,
                                environ={"SCA_CLIENT_ID": "i", "SCA_CLIENT_SECRET": "s"})
    lines = plan(settings, str(profile))
    auth = [line for line in lines if line.split()[:1] == ["AUTH-1"]]
    assert auth and "cannot be proved: not applicable: the target's tokens come from OAuth2" \
        in auth[0]
    assert any(line.split()[:3] == ["INIT-1", "MUST", "can"] for line in lines)
