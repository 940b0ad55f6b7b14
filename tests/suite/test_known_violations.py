"""Known violations with a ratchet: a profile's `[verdict] known_violations` lists a
target's ticketed defects; their violation is listed as known and not counted against the
verdict (whose one sentence says so), and one that passes fails the run as stale until it
is removed from the profile."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sca_conformance.config import ProfileError, load_profile
from sca_conformance.verdict import Kind, Matrix, RunVerdict, Standing, TestVerdict

ROOT = Path(__file__).resolve().parents[2]
TICKET = {"PAGE-6": "TICKET-123: Decline is on the roadmap"}


def violated(nodeid: str, requirement_id: str) -> TestVerdict:
    return TestVerdict(nodeid, (requirement_id,), Kind.VIOLATED, (requirement_id,), "MUST",
                       False, f"MUST {requirement_id} violated: no Decline")


def passed(nodeid: str, requirement_id: str) -> TestVerdict:
    return TestVerdict(nodeid, (requirement_id,), Kind.PASSED)


def matrix(*tests: TestVerdict, known: dict[str, str] | None = None, **kwargs: Any) -> Matrix:
    made = Matrix(selection=True, known=TICKET if known is None else known, **kwargs)
    for test in tests:
        made.add(test)
    return made


def standing(made: Matrix, requirement_id: str) -> Standing:
    return next(row.standing for row in made.rows() if row.id == requirement_id)


def test_a_known_must_violation_is_listed_and_said_but_not_counted() -> None:
    made = matrix(violated("t::decline", "PAGE-6"), passed("t::approve", "PAGE-1"))
    assert standing(made, "PAGE-6") is Standing.KNOWN
    row = next(row for row in made.rows() if row.id == "PAGE-6")
    assert row.reason.startswith("TICKET-123: Decline is on the roadmap (was: violated: MUST")
    assert made.verdict() is RunVerdict.CONFORMANT and made.exit_code() == 0
    assert made.sentence().startswith(
        "CONFORMANT with 1 known MUST violation: PAGE-6 (TICKET-123); 1 of 2 selected MUST "
        "requirements proved"), made.sentence()


def test_the_same_violation_unlisted_fails_the_run() -> None:
    made = matrix(violated("t::decline", "PAGE-6"), known={})
    assert standing(made, "PAGE-6") is Standing.VIOLATED
    assert made.verdict() is RunVerdict.NON_CONFORMANT


def test_a_known_violation_that_passes_fails_the_run_as_stale() -> None:
    made = matrix(passed("t::decline", "PAGE-6"))
    assert standing(made, "PAGE-6") is Standing.STALE
    assert made.verdict() is RunVerdict.NON_CONFORMANT and made.exit_code() == 1
    assert made.sentence().startswith(
        "NON-CONFORMANT: stale known violation: PAGE-6 (TICKET-123) passed: remove it from the "
        "profile; "), made.sentence()


def test_a_known_violation_not_tested_is_neither_known_nor_stale() -> None:
    """Stale means proved in this run: a known violation whose tests did not run (or were
    blocked) stands as what it is, and an untested MUST keeps the run INCOMPLETE."""
    made = matrix(passed("t::approve", "PAGE-1"))
    assert standing(made, "PAGE-6") is Standing.NOT_SELECTED
    assert made.verdict() is RunVerdict.CONFORMANT
    blocked = matrix(TestVerdict("t::decline", ("PAGE-6", "PAGE-9"), Kind.VIOLATED, ("PAGE-9",),
                                 "MUST", False, "MUST PAGE-9 violated: x"), known={})
    blocked.known = dict(TICKET)
    assert standing(blocked, "PAGE-6") is Standing.NOT_PROVED


def test_a_known_should_warning_is_listed_apart_and_strict_runs_count_it() -> None:
    warned = TestVerdict("t::landing", ("PAGE-5",), Kind.WARNED, ("PAGE-5",), "SHOULD", True,
                         "SHOULD warning [PAGE-5] no status")
    known = {"PAGE-5": "TICKET-9: status later"}
    lenient = matrix(warned, known=known)
    assert standing(lenient, "PAGE-5") is Standing.KNOWN
    assert "known SHOULD warning (not counted): PAGE-5 (TICKET-9)" in lenient.sentence()
    strict = matrix(TestVerdict("t::landing", ("PAGE-5",), Kind.VIOLATED, ("PAGE-5",), "SHOULD",
                                False, "SHOULD PAGE-5 violated: no status"),
                    known=known, strict=True)
    assert strict.verdict() is RunVerdict.CONFORMANT
    assert strict.sentence().startswith("CONFORMANT with 1 known SHOULD violation: PAGE-5 "
                                        "(TICKET-9); "), strict.sentence()


def test_merged_shards_keep_their_known_violations() -> None:
    first = matrix(violated("t::decline", "PAGE-6")).as_json()
    second = matrix(passed("t::approve", "PAGE-1")).as_json()
    assert first["known_violations"] == TICKET
    merged = Matrix.merge([json.loads(json.dumps(first)), second], selection=True)
    assert merged.known == TICKET
    assert standing(merged, "PAGE-6") is Standing.KNOWN
    assert merged.verdict() is RunVerdict.CONFORMANT
    # Proved in one shard, violated in another: violated, and so still known, not stale.
    again = Matrix.merge([first, matrix(passed("t::decline-2", "PAGE-6")).as_json()],
                         selection=True)
    assert standing(again, "PAGE-6") is Standing.KNOWN


@pytest.mark.parametrize(("entry", "message"), [
    ('"PAGE-66" = "T-1: x"', "verdict.known_violations: 'PAGE-66' is not a requirement; "
                             "did you mean"),
    ('"PAGE-6" = " "', "verdict.known_violations.PAGE-6: give the reason"),
])
def test_the_profile_lists_requirements_with_their_ticket(tmp_path: Path, entry: str,
                                                          message: str) -> None:
    profile = tmp_path / "p.toml"
    profile.write_text(f"format = 2\n[target]\nembedded = true\n[verdict.known_violations]\n"
                       f"{entry}\n", encoding="utf-8")
    with pytest.raises(ProfileError, match=message):
        load_profile(profile)


# A real run: the embedded sandbox with a fault, and a profile that lists its requirement.

FAULT, REQUIREMENT = "init-without-auth", "INIT-9"


def run_suite(tmp_path: Path, *fault: str) -> tuple[int, dict[str, Any], str]:
    profile = tmp_path / "known.toml"
    profile.write_text(
        'format = 2\n[target]\nembedded = true\n[verdict.known_violations]\n'
        f'"{REQUIREMENT}" = "TICKET-123: initiation without a token is accepted"\n',
        encoding="utf-8")
    out = tmp_path / "verdict"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "suites", "-p", "no:cacheprovider", "-q",
         "--requirement", REQUIREMENT, "--target", str(profile), "--coverage-matrix", str(out),
         "--output", str(tmp_path / "results"), *fault],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )
    summary = json.loads((out / "coverage-matrix.json").read_text(encoding="utf-8"))
    return done.returncode, summary, done.stdout


@pytest.mark.slow
def test_a_real_known_violation_is_listed_and_passes_then_fails_once_fixed(
        tmp_path: Path) -> None:
    code, summary, stdout = run_suite(tmp_path, "--sandbox-fault", FAULT)
    last = stdout.strip().splitlines()[-1]
    assert code == 0, stdout[-3000:]
    assert last.startswith(f"CONFORMANT with 1 known MUST violation: {REQUIREMENT} "
                           "(TICKET-123); "), last
    assert f"{REQUIREMENT} (TICKET-123: initiation without a token" in stdout
    assert "violated, known: not counted" in stdout
    row = next(r for r in summary["requirements"] if r["id"] == REQUIREMENT)
    assert row["verdict"] == "known violation", row
    assert summary["known_violations"] == {
        REQUIREMENT: "TICKET-123: initiation without a token is accepted"}
    markdown = (tmp_path / "verdict" / "coverage-matrix.md").read_text(encoding="utf-8")
    assert f"| {REQUIREMENT} | MUST | known violation |" in markdown  # the job summary's

    code, summary, stdout = run_suite(tmp_path)  # the target fixed: the entry is stale
    last = stdout.strip().splitlines()[-1]
    assert code == 1, stdout[-3000:]
    assert last.startswith(f"NON-CONFORMANT: stale known violation: {REQUIREMENT} "
                           "(TICKET-123) passed: remove it from the profile"), last
    assert summary["verdict"] == "NON-CONFORMANT"
