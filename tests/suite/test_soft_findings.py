"""SHOULD findings a test has recorded (the accessibility audit's) survive a later failure of
the same test: its verdict names them after the violation that stopped it."""

from __future__ import annotations

import pytest

from suite.plugin_run import PLUGINS


def test_findings_recorded_before_a_must_violation_reach_the_verdict(
    suite: pytest.Pytester,
) -> None:
    suite.makepyfile("""
import pytest
from sca_conformance import checks

def fails(requirement_id):
    with checks.proving(requirement_id):
        raise AssertionError("not so")

@pytest.mark.requirement("A11Y-4", "PAGE-3")
def test_audit_then_a_step_fails(should):
    should(fails, "A11Y-4")
    fails("PAGE-3")
""")
    result = suite.runpytest_subprocess(*PLUGINS, "--sca-matrix")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["PAGE-3*MUST*violated*1 test(s)*",
                                 "A11Y-4*SHOULD*violated*1 test(s)*",
                                 "NON-CONFORMANT*violated: PAGE-3, A11Y-4*"])
