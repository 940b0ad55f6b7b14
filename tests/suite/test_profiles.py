"""Target profiles: strict (a typo is a usage error naming the key, never a silent
default), a named target is never replaced by the embedded sandbox, and what a target
cannot do is skipped with the reason, never failed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sca_conformance.catalog import actions_for
from sca_conformance.config import ProfileError, Settings, load_profile
from sca_conformance.texts import languages, load_texts

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_profiles_load() -> None:
    sandbox = load_profile(ROOT / "profiles" / "sandbox.toml")
    staging = load_profile(ROOT / "profiles" / "intergiro-staging.toml")
    nordic = load_profile(ROOT / "profiles" / "sandbox-nordic.toml")
    assert sandbox.target.embedded and sandbox.capabilities.clock_simulation
    assert staging.base_url.startswith("https://") and staging.onboarding.style == "redirect"
    assert staging.keys.primary_env == "INTERGIRO_API_KEY"
    assert not staging.capabilities.clock_simulation
    assert nordic.sandbox_dialect == "nordic" and nordic.texts.language == "sv"
    assert {a.name: a.scope for a in actions_for(nordic)}["external_payment"] == "payments:write"


def test_a_profile_switches_actions_off_and_overrides_requests(tmp_path: Path) -> None:
    profile = tmp_path / "p.toml"
    profile.write_text(
        '[target]\nbase_url = "https://staging.example.com"\n'
        '[actions.card_activation]\nenabled = false\n'
        '[actions.card_details]\npath = "/v3/cards/{card_id}/sensitive"\nscope = "cards:read"\n'
    )
    actions = {a.name: a for a in actions_for(load_profile(profile))}
    assert "card_activation" not in actions
    assert actions["card_details"].path == "/v3/cards/{card_id}/sensitive"
    assert actions["card_details"].scope == "cards:read"


BROKEN = {
    "a typo in base_url": ('[target]\nbase_ur1 = "https://staging.example.com"\n',
                           "unknown key 'target.base_ur1'; did you mean 'base_url'?"),
    "a misspelt section": ('[target]\nbase_url = "https://x.example"\n'
                           "[capabilites]\nclock_simulation = false\n",
                           "unknown key 'capabilites'; did you mean 'capabilities'?"),
    "a boolean as a string": ('[target]\nbase_url = "https://x.example"\n'
                              '[capabilities]\nclock_simulation = "false"\n',
                              "capabilities.clock_simulation: input should be a valid boolean"),
    "an unknown action": ('[target]\nbase_url = "https://x.example"\n'
                          "[actions.card_activaton]\nenabled = false\n",
                          "unknown action 'actions.card_activaton'; did you mean "
                          "'card_activation'?"),
    "an unknown text": ('[target]\nbase_url = "https://x.example"\n'
                        '[texts.summary]\nheadng = "Autentisering"\n',
                        "unknown key 'texts.summary.headng'; did you mean 'heading'?"),
    "an unknown language": ('[target]\nbase_url = "https://x.example"\n[texts]\nlanguage = "xx"\n',
                            "texts.language 'xx' has no table"),
    "a wrong onboarding style": ('[target]\nbase_url = "https://x.example"\n'
                                 '[onboarding]\nstyle = "redirected"\n',
                                 "onboarding.style: input should be 'consent' or 'redirect'"),
    "no target at all": ('[target]\nname = "staging"\n', "names no target"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_profile_is_refused_naming_the_key(case: str, tmp_path: Path) -> None:
    text, message = BROKEN[case]
    profile = tmp_path / "broken.toml"
    profile.write_text(text)
    with pytest.raises(ProfileError) as refused:
        Settings.resolve(target_url=None, profile_path=str(profile), strict=False)
    assert message in str(refused.value)


@pytest.mark.parametrize("case", ["a typo in base_url", "a boolean as a string"])
def test_a_broken_profile_stops_the_run_with_exit_4(case: str, tmp_path: Path) -> None:
    profile = tmp_path / "broken.toml"
    profile.write_text(BROKEN[case][0])
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "suites", "--target", str(profile), "-q",
         "--output", str(tmp_path / "out")],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert run.returncode == 4, run.stdout[-2000:] + run.stderr[-2000:]
    assert BROKEN[case][1] in run.stderr
    assert "Traceback" not in run.stderr


def test_a_named_target_is_never_replaced_by_the_embedded_sandbox(tmp_path: Path) -> None:
    profile = tmp_path / "staging.toml"
    profile.write_text('[target]\nbase_url = "https://staging.example.com"\n')
    settings = Settings.resolve(target_url=None, profile_path=str(profile), strict=False)
    assert not settings.embedded and settings.target_url == "https://staging.example.com"
    # An embedded profile with a URL named on the command line is a contradiction, not a
    # quiet choice of one of them.
    with pytest.raises(ProfileError, match="names a target"):
        Settings.resolve(target_url="http://127.0.0.1:9",
                         profile_path=str(ROOT / "profiles" / "sandbox.toml"), strict=False)
    # A named target that does not answer stops the run (exit 3): it never goes green.
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "suites", "-q", "--target-url", "http://127.0.0.1:9",
         "-k", "412", "--output", str(tmp_path / "out")],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert run.returncode == 3, run.stdout[-2000:]
    assert "127.0.0.1:9" in run.stdout + run.stderr
    assert " passed" not in run.stdout


def test_text_tables_cover_every_page_in_every_language() -> None:
    english = load_texts("en")
    for language in languages():
        table = load_texts(language)
        assert set(table) == set(english)
        for page, entries in table.items():
            assert set(entries) == set(english[page]), (language, page)
    assert load_texts("sv")["summary"]["confirm"] == "Godkänn"
    assert load_texts("en", {"summary": {"confirm": "Approve"}})["summary"]["confirm"] == "Approve"


@pytest.mark.slow
def test_missing_capabilities_skip_with_their_reason(tmp_path: Path) -> None:
    profile = tmp_path / "limited.toml"
    profile.write_text(
        "[target]\nembedded = true\n"
        '[onboarding]\nstyle = "redirect"\n'
        "[capabilities]\nclock_simulation = false\nactivation_simulation = false\n"
    )
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "suites", "-p", "no:cacheprovider", "-rs",
         "--target", str(profile), "--requirement", "TRIGGER-3,AFTER-5",
         "--output", str(tmp_path / "out")],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:]
    assert " passed" not in run.stdout.splitlines()[-1]  # nothing could run: all skipped
    assert "onboarding.style = redirect" in run.stdout
    assert "capabilities.activation_simulation = false" in run.stdout
    assert "no clock simulation (profile: clock_simulation = false)" in run.stdout
