"""Target profiles: what a target cannot do is skipped with the reason, never failed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sca_conformance.catalog import actions_for
from sca_conformance.config import ProfileError, load_profile

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_profiles_load() -> None:
    sandbox = load_profile(ROOT / "profiles" / "sandbox.toml")
    staging = load_profile(ROOT / "profiles" / "intergiro-staging.toml")
    assert sandbox.base_url == "" and sandbox.capabilities.clock_simulation
    assert staging.base_url.startswith("https://") and staging.onboarding == "redirect"
    assert staging.api_key_env == "INTERGIRO_API_KEY"
    assert not staging.capabilities.clock_simulation


def test_a_profile_switches_actions_off_and_overrides_requests(tmp_path: Path) -> None:
    profile = tmp_path / "p.toml"
    profile.write_text(
        '[actions.card_activation]\nenabled = false\n'
        '[actions.card_details]\npath = "/v3/cards/{card_id}/sensitive"\n'
    )
    actions = {a.name: a for a in actions_for(load_profile(profile))}
    assert "card_activation" not in actions
    assert actions["card_details"].path == "/v3/cards/{card_id}/sensitive"
    profile.write_text("[actions.teleport]\nenabled = false\n")
    with pytest.raises(ProfileError, match="unknown action 'teleport'"):
        load_profile(profile)


@pytest.mark.slow
def test_missing_capabilities_skip_with_their_reason(tmp_path: Path) -> None:
    profile = tmp_path / "limited.toml"
    profile.write_text(
        '[onboarding]\nstyle = "redirect"\n'
        "[capabilities]\nclock_simulation = false\nactivation_simulation = false\n"
    )
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "suites", "-p", "no:cacheprovider", "-rs",
         "--target", str(profile), "--requirement", "TRIGGER-3,AFTER-5,PAGE-15"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:]
    assert " passed" not in run.stdout.splitlines()[-1]  # nothing could run: all skipped
    assert "onboarding.style = redirect" in run.stdout
    assert "capabilities.activation_simulation = false" in run.stdout
    assert "no clock simulation (profile: clock_simulation = false)" in run.stdout
