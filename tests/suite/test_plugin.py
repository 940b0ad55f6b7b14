"""The suite's pytest plugin, run for real in a separate pytest (pytester)."""

from __future__ import annotations

import pytest

from suite.plugin_run import INI, PLUGINS

CHECKS = """
import pytest
from sca_conformance import checks

@pytest.mark.requirement("TRIGGER-3")
def test_should_violation():
    checks.consent_id_is_uuid({"id": "42"})

@pytest.mark.requirement("TRIGGER-3")
def test_should_holds():
    checks.consent_id_is_uuid({"id": "3f0c6b1e-8d7a-4c55-9a51-2b8f0e6d9c41"})

@pytest.mark.requirement("TRIGGER-4")
def test_must_holds():
    checks.consent_is_pending({"status": "pending"})
"""



def test_a_should_violation_warns_by_default_and_the_run_passes(suite: pytest.Pytester) -> None:
    suite.makepyfile(CHECKS)
    result = suite.runpytest_subprocess(*PLUGINS, "-rx", "--sca-matrix",
                                        "--requirement", "TRIGGER-3,TRIGGER-4")
    result.assert_outcomes(passed=2, xfailed=1)
    result.stdout.fnmatch_lines([
        "*SHOULD warnings*",
        "TRIGGER-3: test_*::test_should_violation",
        "*requirement matrix*",
        "TRIGGER-3*SHOULD*warning*2 test(s)*",
        "TRIGGER-4*MUST*proved*1 test(s)",
        "requirements: *53 not selected*",
    ])
    assert result.stdout.lines[-1] == (
        "CONFORMANT: 1 of 1 selected MUST requirements proved; SHOULD warnings: TRIGGER-3.")
    assert result.ret == 0


def test_a_run_that_leaves_must_requirements_untested_is_incomplete(
    suite: pytest.Pytester,
) -> None:
    """Three tests for a contract of 55 requirements: not conformant, and it says which
    requirements it never tested; exit 10, not 0. Exploratory runs exit 0 all the same."""
    suite.makepyfile(CHECKS)
    result = suite.runpytest_subprocess(*PLUGINS)
    result.assert_outcomes(passed=2, xfailed=1)
    assert result.ret == 10
    assert result.stdout.lines[-1].startswith(
        "INCOMPLETE: 1 of 35 selected MUST requirements proved; untested (not proved, "
        "skipped or uncovered): AUTH-1, AUTH-2,")
    exploratory = suite.runpytest_subprocess(*PLUGINS, "--sca-exploratory")
    assert exploratory.ret == 0
    assert exploratory.stdout.lines[-1].endswith("(exploratory run: exit 0)")


def test_an_accepted_untested_requirement_needs_its_reason(suite: pytest.Pytester) -> None:
    suite.makepyfile("""
        import pytest

        @pytest.mark.requirement("TRIGGER-4")
        def test_cannot_here():
            pytest.skip("needs the target's clock simulation")
    """)
    profile = suite.makefile(".toml", accepting=(
        "[target]\nembedded = true\n"
        '[verdict]\naccept_untested = {"TRIGGER-4" = "staging has no clock simulation"}\n'))
    result = suite.runpytest_subprocess(*PLUGINS, "--target", str(profile), "--sca-matrix",
                                        "--requirement", "TRIGGER-4")
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["TRIGGER-4*MUST*accepted untested*staging has no clock*"])
    assert "accepted untested: TRIGGER-4" in result.stdout.lines[-1]
    refused = suite.runpytest_subprocess(*PLUGINS, "--requirement", "TRIGGER-4")
    assert refused.ret == 10
    broken = suite.makefile(".toml", broken=(
        "[target]\nembedded = true\n[verdict]\naccept_untested = {\"TRIGER-4\" = \"x\"}\n"))
    wrong = suite.runpytest_subprocess(*PLUGINS, "--target", str(broken))
    assert wrong.ret == pytest.ExitCode.USAGE_ERROR
    wrong.stderr.fnmatch_lines(["*'TRIGER-4' is not a requirement; did you mean 'TRIGGER-4'?*"])


def test_a_blocked_requirement_is_not_proved_and_says_by_what(suite: pytest.Pytester) -> None:
    """Only a failure that names a requirement violates it; the others of its test are
    "not proved (blocked by ...)", never "failed"."""
    suite.makepyfile("""
        import pytest
        from sca_conformance import checks

        @pytest.mark.requirement("PAGE-6", "AFTER-4")
        def test_decline():
            checks.consent_ended_unapproved("approved")
            checks.new_consent_after_end(None, "c1")
    """)
    result = suite.runpytest_subprocess(*PLUGINS, "--sca-matrix", "--requirement", "PAGE-6")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["PAGE-6*MUST*violated*",
                                 "AFTER-4*MUST*not proved*(blocked by PAGE-6)"])
    assert result.stdout.lines[-1].startswith(
        "NON-CONFORMANT: 0 of 2 selected MUST requirements proved; violated: PAGE-6;")


def test_strict_mode_makes_a_should_violation_fail(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite.makepyfile(CHECKS)
    result = suite.runpytest_subprocess(*PLUGINS, "--sca-strict")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*SHOULD TRIGGER-3 violated: consent.id: expected a UUID*"])
    monkeypatch.setenv("SCA_STRICT", "true")
    result = suite.runpytest_subprocess(*PLUGINS)
    result.assert_outcomes(passed=2, failed=1)
    monkeypatch.delenv("SCA_STRICT")
    suite.makeini(INI + "sca_strict = true\n")
    result = suite.runpytest_subprocess(*PLUGINS)
    result.assert_outcomes(passed=2, failed=1)


def test_strict_mode_names_every_should_violation_of_a_test(suite: pytest.Pytester) -> None:
    """Soft checks run on after a SHOULD violation; in strict mode the test fails with the
    first, and the verdict and the matrix name all of them, not whichever came first."""
    suite.makepyfile("""
import pytest
from sca_conformance import checks

def fails(requirement_id):
    with checks.proving(requirement_id):
        raise AssertionError("not so")

@pytest.mark.requirement("TRIGGER-3", "AUTH-4")
def test_two_should_violations(should):
    should(fails, "TRIGGER-3")
    should(fails, "AUTH-4")
""")
    result = suite.runpytest_subprocess(*PLUGINS, "--sca-strict", "--sca-matrix",
                                        "--requirement", "TRIGGER-3")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["AUTH-4*SHOULD*violated*1 test(s)*",
                                 "TRIGGER-3*SHOULD*violated*1 test(s)*"])


def test_pytests_own_strict_is_left_to_pytest(suite: pytest.Pytester) -> None:
    """--strict is pytest's ("all strictness options"); it does not make SHOULD fail."""
    suite.makepyfile(CHECKS)
    result = suite.runpytest_subprocess(*PLUGINS, "--strict")
    result.assert_outcomes(passed=2, xfailed=1)


def test_a_must_violation_fails_and_names_its_requirement(suite: pytest.Pytester) -> None:
    suite.makepyfile("""
        import pytest
        from sca_conformance import checks

        @pytest.mark.requirement("TRIGGER-4")
        def test_must_violation():
            checks.consent_is_pending({"status": "Pending"})
    """)
    result = suite.runpytest_subprocess(*PLUGINS, "--sca-matrix")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*MUST TRIGGER-4 violated*", "TRIGGER-4*MUST*violated*"])
    assert result.ret == 1


def test_an_unknown_requirement_id_is_a_usage_error(suite: pytest.Pytester) -> None:
    suite.makepyfile("""
        import pytest

        @pytest.mark.requirement("TRIGGER-99")
        def test_x():
            pass
    """)
    result = suite.runpytest_subprocess(*PLUGINS)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*TRIGGER-99 is not a requirement*"])


USES_TARGET = """
async def test_needs_target(api):
    pass

async def test_needs_target_too(api):
    pass
"""


@pytest.mark.parametrize("option", ["--target-url", "SCA_TARGET_URL", "--target-url -n 2"])
def test_an_unreachable_target_stops_the_session_with_one_sentence(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, option: str
) -> None:
    suite.makepyfile(USES_TARGET)
    if option == "SCA_TARGET_URL":
        monkeypatch.setenv("SCA_TARGET_URL", "http://127.0.0.1:9")
        result = suite.runpytest_subprocess(*PLUGINS)
    else:
        extra = option.split()[1:]
        result = suite.runpytest_subprocess(*PLUGINS, *extra, "--target-url", "http://127.0.0.1:9")
    assert result.ret == 11  # TARGET UNUSABLE: not one of pytest's own codes
    output = result.stdout.str() + result.stderr.str()
    assert output.count("Target unreachable: http://127.0.0.1:9") == 1, output
    assert "Traceback" not in output and "_pytest.outcomes.Exit" not in output
    assert result.stdout.lines[-1].startswith("TARGET UNUSABLE: Target unreachable")


def test_a_broken_profile_is_a_usage_error(suite: pytest.Pytester) -> None:
    suite.makepyfile(USES_TARGET)
    profile = suite.makefile(".toml", profile='[capabilities]\nteleport = true\n')
    result = suite.runpytest_subprocess(*PLUGINS, "--target", str(profile))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "teleport" in result.stderr.str()  # the key it does not know, named
    assert "Traceback" not in result.stderr.str()


def test_the_options_are_in_one_group_with_environment_and_ini_defaults(
    suite: pytest.Pytester,
) -> None:
    result = suite.runpytest_subprocess(*PLUGINS, "--help")
    result.stdout.fnmatch_lines([
        "SCA consent conformance:",
        "*--target-url=TARGET_URL",
        "*base URL of a running target (env SCA_TARGET_URL, ini*",
        "*sca_target_url)*",
        "*--target=TARGET*target profile*(env SCA_TARGET, ini*",
        "*sca_target)*",
        "*--sca-strict*SHOULD violations fail*",
        "*--browser-ws-endpoint=*",
    ])
    # The browser options are pytest-playwright-asyncio's, in its own group.
    result.stdout.fnmatch_lines(["Playwright:", "*--headed*", "*--browser-channel*"])
    result.stdout.fnmatch_lines(["*sca_target_url (string):*", "*sca_target (string):*"])
    assert result.stdout.str().count("--headed") == 1


INI_URL = "https://ini.example.test"


@pytest.mark.parametrize(
    ("option", "env", "expected"),
    [
        ("https://option.example.test", "https://env.example.test",
         "https://option.example.test"),
        (None, "https://env.example.test", "https://env.example.test"),
        (None, None, INI_URL),
    ],
    ids=["option-first", "then-environment", "then-ini"],
)
def test_the_target_url_comes_from_option_then_environment_then_ini(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
    option: str | None, env: str | None, expected: str,
) -> None:
    suite.makeini(INI + f"sca_target_url = {INI_URL}\n")
    suite.makepyfile("def test_x():\n    pass\n")
    if env:
        monkeypatch.setenv("SCA_TARGET_URL", env)
    else:
        monkeypatch.delenv("SCA_TARGET_URL", raising=False)
    args = ["--target-url", option] if option else []
    result = suite.runpytest_subprocess(*PLUGINS, "--collect-only", *args)
    result.stdout.fnmatch_lines([f"sca target: {expected} (profile *"])


def test_an_ini_profile_is_read_relative_to_the_ini_file(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SCA_TARGET", raising=False)
    monkeypatch.delenv("SCA_TARGET_URL", raising=False)
    (suite.path / "profiles").mkdir()
    (suite.path / "profiles" / "staging.toml").write_text(
        '[target]\nname = "staging"\nbase_url = "https://staging.example.test"\n'
    )
    suite.makeini(INI + "sca_target = profiles/staging.toml\n")
    # Run from a subfolder: the profile's path is the ini file's, not the working folder's.
    (suite.path / "elsewhere").mkdir()
    monkeypatch.chdir(suite.path / "elsewhere")
    result = suite.runpytest_subprocess(*PLUGINS, "--collect-only")
    result.stdout.fnmatch_lines(["sca target: https://staging.example.test (profile staging)*"])


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--tracing", "on"], "*--tracing on: pytest-playwright's tracing is not masked*"),
        (["--video", "retain-on-failure"], "*--video retain-on-failure*not masked*"),
        (["--screenshot", "only-on-failure"], "*--screenshot only-on-failure*not masked*"),
        (["--browser", "firefox"], "*--browser firefox: the suite drives Chromium only*"),
    ],
    ids=["tracing", "video", "screenshot", "firefox"],
)
def test_unmasked_artifacts_and_other_browsers_are_refused(
    suite: pytest.Pytester, args: list[str], says: str
) -> None:
    suite.makepyfile("def test_x():\n    pass\n")
    result = suite.runpytest_subprocess(*PLUGINS, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([says])


def test_the_header_names_the_target(suite: pytest.Pytester) -> None:
    suite.makepyfile("def test_x():\n    pass\n")
    result = suite.runpytest_subprocess(*PLUGINS, "--target-url", "https://api.example.test")
    result.stdout.fnmatch_lines(["sca target: https://api.example.test (profile *)*"])


def test_a_secret_in_a_traceback_is_masked_and_the_failure_message_kept(
    suite: pytest.Pytester,
) -> None:
    suite.makepyfile("""
        import pytest
        from sca_conformance import checks

        @pytest.mark.requirement("PAGE-14")
        def test_leaky(secrets):
            pan = "4111 1111 1111 1111"
            secrets.add(pan)
            checks.no_card_secrets({"number": pan}, pan, "123")
    """)
    result = suite.runpytest_subprocess(*PLUGINS, "--junitxml=junit.xml", "-n", "2")
    result.assert_outcomes(failed=1)
    assert "4111 1111 1111 1111" not in result.stdout.str()
    junit = (suite.path / "junit.xml").read_text()
    assert "4111 1111 1111 1111" not in junit
    assert (
        'message="sca_conformance.failures.RequirementViolation: MUST PAGE-14 violated'
        in junit
    )


def test_a_secret_in_a_should_warning_is_masked(suite: pytest.Pytester) -> None:
    suite.makepyfile("""
        import pytest
        from sca_conformance import checks

        @pytest.mark.requirement("PAGE-5")
        def test_leaky_warning(secrets):
            secrets.add("sk_live_0123456789")
            with checks.proving("PAGE-5"):
                raise AssertionError("landed with key sk_live_0123456789")
    """)
    result = suite.runpytest_subprocess(*PLUGINS, "-rx", "-n", "2")
    result.assert_outcomes(xfailed=1)
    result.stdout.fnmatch_lines(["*SHOULD warning [[]PAGE-5[]]*landed with key «redacted»*"])
    assert "sk_live_0123456789" not in result.stdout.str()


def test_a_k_run_shows_the_requirements_outside_it_as_not_selected(
    suite: pytest.Pytester,
) -> None:
    suite.makepyfile(CHECKS)
    result = suite.runpytest_subprocess(*PLUGINS, "-k", "must_holds", "-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["TRIGGER-3*SHOULD*not selected*0 test(s)",
                                 "TRIGGER-4*MUST*proved*1 test(s)",
                                 "requirements: 54 not selected, 1 proved"])
    assert result.ret == 0
    everything = suite.runpytest_subprocess(*PLUGINS, "--sca-matrix")
    everything.stdout.fnmatch_lines(["TRIGGER-1*MUST*uncovered*"])
    assert "not selected" not in everything.stdout.str()


def test_the_terminal_shows_one_matrix_line_unless_asked(suite: pytest.Pytester) -> None:
    suite.makepyfile(CHECKS)
    result = suite.runpytest_subprocess(*PLUGINS, "-k", "must_holds")
    assert "requirement matrix" not in result.stdout.str()
    result.stdout.fnmatch_lines(["requirements: 54 not selected, 1 proved"])


@pytest.mark.parametrize(("given", "says"), [
    ("page-7", None), ("PAGE-77", "did you mean PAGE-7"), ("AUTH-9", "no such requirement"),
])
def test_requirement_ids_ignore_case_and_suggest(
    suite: pytest.Pytester, given: str, says: str | None
) -> None:
    suite.makepyfile("import pytest\n\n@pytest.mark.requirement('PAGE-7')\n"
                     "def test_x():\n    pass\n")
    result = suite.runpytest_subprocess(*PLUGINS, "--requirement", given)
    if says is None:
        result.assert_outcomes(passed=1)
    else:
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        assert says in result.stderr.str()


def test_an_unknown_sandbox_fault_is_a_usage_error_listing_the_faults(
    suite: pytest.Pytester,
) -> None:
    suite.makepyfile("def test_x():\n    pass\n")
    result = suite.runpytest_subprocess(*PLUGINS, "--sandbox-fault", "decline-buton-missing")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*no such fault; did you mean 'decline-button-missing'?*"])
    assert "Traceback" not in result.stderr.str()
    named = suite.runpytest_subprocess(*PLUGINS, "--sandbox-fault", "framing-allowed",
                                       "--target-url", "https://api.example.test")
    assert named.ret == pytest.ExitCode.USAGE_ERROR
    named.stderr.fnmatch_lines(["*faults are the embedded sandbox's*"])


def test_base_url_names_the_target(suite: pytest.Pytester) -> None:
    """pytest-base-url's users name the target with --base-url: it is the target."""
    suite.makepyfile("def test_x():\n    pass\n")
    result = suite.runpytest_subprocess(*PLUGINS, "--collect-only",
                                        "--base-url", "https://api.example.test")
    result.stdout.fnmatch_lines(["sca target: https://api.example.test (profile *"])
    both = suite.runpytest_subprocess(*PLUGINS, "--base-url", "https://a.example.test",
                                      "--target-url", "https://b.example.test")
    assert both.ret == pytest.ExitCode.USAGE_ERROR


def test_collect_only_prints_the_requirement_matrix_without_running(
    suite: pytest.Pytester,
) -> None:
    suite.makepyfile(CHECKS)
    result = suite.runpytest_subprocess(*PLUGINS, "--collect-only", "-q")
    result.stdout.fnmatch_lines(["*requirement -> tests (collected, nothing run)*",
                                 "AUTH-1*MUST*not selected*",
                                 "TRIGGER-3*SHOULD*2 test(s)", "TRIGGER-4*MUST*1 test(s)"])
    assert " passed" not in result.stdout.str()


def test_failures_are_told_apart_violation_not_prepared_suite_error(
    suite: pytest.Pytester,
) -> None:
    suite.makepyfile("""
        import pytest
        from sca_conformance import checks

        @pytest.mark.requirement("TRIGGER-4")
        def test_violation():
            checks.consent_is_pending({"status": "Pending"})

        @pytest.mark.requirement("TRIGGER-4")
        def test_not_prepared():
            with checks.preparing("POST /v3/simulations/clock"):
                raise KeyError("advance_seconds")

        @pytest.mark.requirement("TRIGGER-4")
        def test_suite_bug():
            {}["consent"]
    """)
    result = suite.runpytest_subprocess(*PLUGINS)
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines([
        "*verdicts of the failures*",
        "*1 requirement violated (named in the message)",
        "*1 target could not be prepared (a call the test needed)",
        "*1 SUITE ERRORS: unattributed, a defect of the suite",
        "*suite error: test_failures_are_told_apart*::test_suite_bug: KeyError*",
    ])
    result.stdout.fnmatch_lines(["*Target could not be prepared: POST /v3/simulations/clock*"])
