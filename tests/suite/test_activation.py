"""The package's entry point is inert unless a run names the SCA suites."""

from __future__ import annotations

from pathlib import Path

import pytest

from sca_conformance.activation import asks_for_suites, suites_folder

SUITES = suites_folder()
assert SUITES is not None and (SUITES / "suite.ini").is_file()


@pytest.mark.parametrize(("args", "pyargs"), [
    (["--pyargs", "sca_conformance.suites"], True),
    (["sca_conformance.suites.test_approval::test_x", "-q"], True),
    ([str(SUITES)], False),
    ([str(SUITES / "test_approval.py") + "::test_x"], False),
    (["-k", "kyc", str(SUITES / "test_cards.py")], False),
])
def test_a_run_naming_the_suites_asks_for_them(args: list[str], pyargs: bool) -> None:
    assert asks_for_suites(args, pyargs, Path.cwd())


@pytest.mark.parametrize(("args", "pyargs"), [
    ([], False),
    (["tests"], False),
    (["-k", "sca_conformance.suites"], False),  # a -k expression, not a module
    (["sca_conformance.suites"], False),  # without --pyargs: a path that is not there
    (["--pyargs", "sca_conformance.suitesx"], True),
    (["--pyargs", "team.tests"], True),
])
def test_a_team_run_does_not(args: list[str], pyargs: bool, tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    assert not asks_for_suites(args, pyargs, tmp_path)


def test_a_run_of_a_teams_own_tests_shows_nothing_of_the_suite(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_own():\n    assert True\n")
    result = pytester.runpytest_subprocess("-v")
    result.assert_outcomes(passed=1)
    text = result.stdout.str()
    assert "sca target" not in text and "requirements:" not in text
    assert "CONFORMANT" not in text and "INCOMPLETE" not in text
    options = pytester.runpytest_subprocess("--help").stdout.str()
    assert "SCA consent conformance" not in options and "--target-url" not in options
