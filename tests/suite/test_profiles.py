"""Target profiles: strict (a typo is a usage error naming the key, never a silent
default), a named target is never replaced by the embedded sandbox, and what a target
cannot do is skipped with the reason, never failed."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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
    lifetimes = load_profile(ROOT / "profiles" / "sandbox-lifetimes.toml")
    assert lifetimes.lifetimes.consent_seconds == 1800
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
    "a typo in hosted": ('[target]\nbase_url = "https://x.example"\n'
                         "[hosted]\none_session = true\n",
                         "unknown key 'hosted.one_session'; did you mean "
                         "'one_session_per_consent'?"),
}


def test_a_target_that_runs_one_flow_per_consent_says_so(tmp_path: Path) -> None:
    """RACE-2 and RACE-3 then check that a second page is refused, not that it races."""
    profile = tmp_path / "locked.toml"
    profile.write_text('[target]\nbase_url = "https://x.example"\n'
                       "[hosted]\none_session_per_consent = true\n")
    assert load_profile(profile).hosted.one_session_per_consent
    assert not load_profile(ROOT / "profiles" / "sandbox.toml").hosted.one_session_per_consent


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
    settings = Settings.resolve(target_url=None, profile_path=str(profile), strict=False,
                                environ={"SCA_API_KEY": "sk-staging"})
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
        env={**os.environ, "SCA_API_KEY": "sk-not-the-sandbox"},
    )
    assert run.returncode == 11, run.stdout[-2000:]  # TARGET UNUSABLE
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
    assert "clock simulation (profile: capabilities.clock_simulation = false)" in run.stdout


def test_credentials_never_cross_targets(tmp_path: Path) -> None:
    """A named target whose key variable is unset is a usage error naming the variables,
    before anything reaches it: the sandbox's development keys go only to the sandbox."""
    arrived: list[str] = []

    class Listener(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            arrived.append(self.path)
            self.send_response(500)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Listener)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    profile = tmp_path / "staging.toml"
    profile.write_text(f'[target]\nbase_url = "http://127.0.0.1:{server.server_address[1]}"\n'
                       '[keys]\nprimary_env = "ACME_KEY_UNSET"\n'
                       'secondary_env = "ACME_KEY_2_UNSET"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCA_", "ACME_"))}
    try:
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "suites", "-q", "--target", str(profile),
             "--output", str(tmp_path / "out"), "-p", "no:cacheprovider"],
            cwd=ROOT, capture_output=True, text=True, timeout=120, check=False, env=env,
        )
    finally:
        server.shutdown()
        server.server_close()
    assert run.returncode == 4, run.stdout[-2000:] + run.stderr[-2000:]
    assert "ACME_KEY_UNSET is not set" in run.stderr and "ACME_KEY_2_UNSET" in run.stderr
    assert "Traceback" not in run.stderr
    assert arrived == []  # not a login, not a single request
    with pytest.raises(ProfileError, match="SCA_API_KEY is not set"):
        Settings.resolve(target_url="https://api.example.test", profile_path=None, strict=False,
                         environ={})
    second_unset = Settings.resolve(target_url="https://api.example.test", profile_path=None,
                                    strict=False, environ={"SCA_API_KEY": "sk-1"})
    assert second_unset.api_keys == ("sk-1", "")  # isolation checks skip, saying why


@pytest.mark.slow
def test_untested_must_requirements_make_the_run_incomplete_until_accepted(
    tmp_path: Path,
) -> None:
    """A target without a clock simulation cannot be shown to expire consents (AFTER-6): the
    run is INCOMPLETE (exit 10) and names it; accepted in the profile with a reason, the
    same run is CONFORMANT (exit 0)."""
    body = "[target]\nembedded = true\n[capabilities]\nclock_simulation = false\n"
    args = [sys.executable, "-m", "pytest", "suites", "-p", "no:cacheprovider", "-q",
            "--requirement", "AFTER-6,TRIGGER-4", "--output", str(tmp_path / "out")]
    limited = tmp_path / "limited.toml"
    limited.write_text(body)
    run = subprocess.run([*args, "--target", str(limited)], cwd=ROOT, capture_output=True,
                         text=True, timeout=300, check=False)
    assert run.returncode == 10, run.stdout[-3000:]
    last = run.stdout.strip().splitlines()[-1]
    assert last.startswith("INCOMPLETE: ") and "untested (not proved, skipped or uncovered)" in last
    assert "AFTER-6" in last  # the expiry test also carries PAGE-8 and AFTER-4
    accepted = tmp_path / "accepted.toml"
    accepted.write_text(body + '[verdict.accept_untested]\n"AFTER-6" = "no clock simulation"\n'
                        '"PAGE-8" = "its expiry half needs the clock"\n'
                        '"AFTER-4" = "its expiry half needs the clock"\n')
    run = subprocess.run([*args, "--target", str(accepted)], cwd=ROOT, capture_output=True,
                         text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout[-3000:]
    assert "accepted untested: PAGE-8, AFTER-4, AFTER-6" in run.stdout.strip().splitlines()[-1]


@pytest.mark.slow
def test_the_whole_suite_passes_with_other_lifetimes(tmp_path: Path) -> None:
    """Consents of 30 minutes, methods of 20, refresh tokens of 12 hours (the sandbox started
    with --consent-ttl, --method-ttl, --refresh-ttl): every jump of the clock comes from the
    target's own values, so a correct target with other lifetimes is CONFORMANT."""
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "suites", "-p", "no:cacheprovider", "-q", "-rs",
         "--target", str(ROOT / "profiles" / "sandbox-lifetimes.toml"),
         "--output", str(tmp_path / "out")],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )
    assert run.returncode == 0, run.stdout[-4000:]
    assert run.stdout.strip().splitlines()[-1].startswith("CONFORMANT: 35 of 35")
    # The only skip: a 180-day window cannot be seen within one 12-hour session.
    assert "refresh token, 43200 s) ends long before the 180-day window" in run.stdout
