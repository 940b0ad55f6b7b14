"""How a failure names a requirement: the failure types (a requirement violated, the target
not prepared), the blocks and decorators that raise them (`proving`, `preparing`, `proves`),
soft checks, and the wording of every message with the patterns that read it back.

The bottom of the package beside the registry (`requirements`), which is all it imports:
whatever judges, reports or reads a verdict imports it from here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import pytest
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from sca_conformance.requirements import Level, requirement

P = ParamSpec("P")
R = TypeVar("R")

# The grammar of a failure message ---------------------------------------------------

NOT_PREPARED = "Target could not be prepared"
# A violation's message starts with it (after the exception's type, where one is shown).
VIOLATION = re.compile(
    r"^(?:[A-Za-z_][\w.]*: )?(?P<level>MUST|SHOULD) (?P<id>[A-Z0-9]+-\d+) violated:")
WARNING = re.compile(r"SHOULD warning \[(?P<ids>[A-Z0-9]+-\d+(?:,\s*[A-Z0-9]+-\d+)*)\]")
# A warning's message starts with it (after the exception's type, where one is shown).
WARNING_START = re.compile(r"^(?:[A-Za-z_][\w.]*: )?SHOULD warning \[")
WARNING_MARK = "SHOULD warning ["  # what a warning's message holds, found anywhere in a text
ANY_ID = r"[A-Z0-9]+-\d+"


def violation_message(level: str, requirement_id: str, detail: str) -> str:
    return f"{level} {requirement_id} violated: {detail}"


def warning_message(requirement_ids: Iterable[str], detail: str) -> str:
    return f"SHOULD warning [{','.join(sorted(set(requirement_ids)))}] {detail}"


def not_prepared_message(call: str, detail: str) -> str:
    return f"{NOT_PREPARED}: {call}: {detail}"


def violated_regex(requirement_id: str = ANY_ID) -> str:
    """A pattern (text, for readers that take a regex: Allure's categories) of a message
    naming `requirement_id` (any ID by default) violated."""
    return rf"\b(MUST|SHOULD) {requirement_id} violated\b"


def warned_regex(requirement_id: str) -> str:
    """A pattern (text) of a warning naming `requirement_id` among its IDs."""
    return rf"SHOULD warning \[([^\]]*,)?{requirement_id}(,[^\]]*)?\]"


# What a failure says about the target -----------------------------------------------


class Mismatch(AssertionError):
    """A condition that does not hold: what was looked at, expected and actual."""

    def __init__(self, what: str, expected: Any, actual: Any) -> None:
        super().__init__(f"{what}: expected {expected}, got {actual!r}")
        self.what = what
        self.expected = expected
        self.actual = actual


class RequirementViolation(AssertionError):
    """A check failed; carries the requirement it proves and that requirement's level."""

    def __init__(self, requirement_id: str, cause: AssertionError) -> None:
        self.requirement = requirement(requirement_id)
        self.cause = cause
        # Playwright's messages continue with "Actual value: ..." and a call log: keep the
        # former, which says what the target did, and drop the log.
        lines = str(cause).strip().split("\nCall log:")[0].strip().splitlines()
        detail = "; ".join(line.strip() for line in lines if line.strip())[:500]
        detail = detail or type(cause).__name__
        super().__init__(violation_message(self.requirement.level, requirement_id, detail))

    @property
    def level(self) -> Level:
        return self.requirement.level


class TargetNotPrepared(Exception):
    """Something a test needs but does not prove (test data, a simulation) could not be
    had from the target: the test cannot give a verdict. Names the call that failed."""

    def __init__(self, call: str, detail: str) -> None:
        super().__init__(not_prepared_message(call, detail))
        self.call = call


VERDICTS = (RequirementViolation, TargetNotPrepared)
"""What a failure says about the target: a requirement violated, the target not prepared."""


def hides_in_verdicts(excinfo: pytest.ExceptionInfo[BaseException] | None) -> bool:
    """The suite modules' `__tracebackhide__`: a verdict on the target shows the test's own
    lines, not the suite's frames; anything else raised inside the suite is a defect of the
    suite and shows them."""
    return excinfo is not None and excinfo.errisinstance(VERDICTS)


__tracebackhide__ = hides_in_verdicts


# Raising them -----------------------------------------------------------------------


def proves(requirement_id: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Marks a check as proving one requirement: its mismatches become violations of it."""
    requirement(requirement_id)  # fails at import for an ID the contract does not have

    def decorate(check: Callable[P, R]) -> Callable[P, R]:
        @wraps(check)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            with proving(requirement_id):
                return check(*args, **kwargs)

        run.requirement = requirement_id  # type: ignore[attr-defined]
        return run

    return decorate


@contextmanager
def preparing(call: str) -> Iterator[None]:
    """Any failure inside the block (a refused call, a body without the expected key)
    means the target could not be prepared for the test, naming `call`."""
    try:
        yield
    except TargetNotPrepared:
        raise
    except (AssertionError, KeyError, TypeError, ValueError) as error:
        detail = f"{type(error).__name__} {error}" if isinstance(error, KeyError) else str(error)
        raise TargetNotPrepared(call, detail[:300]) from error


@contextmanager
def proving(requirement_id: str) -> Iterator[None]:
    """Any assertion failing inside the block is a violation of `requirement_id`, and so is
    a page element the requirement needs that never appears (a Playwright timeout)."""
    try:
        yield
    except RequirementViolation:
        raise
    except AssertionError as failure:
        raise RequirementViolation(requirement_id, failure) from failure
    except PlaywrightTimeoutError as timeout:
        missing = AssertionError(f"the page never got there: {timeout.message}")
        raise RequirementViolation(requirement_id, missing) from timeout
    except PlaywrightError as error:  # e.g. "Cannot navigate to invalid URL": the target's
        failed = AssertionError(f"the browser could not do it: {error.message.splitlines()[0]}")
        raise RequirementViolation(requirement_id, failed) from error


SOFT = pytest.StashKey[list[RequirementViolation]]()


class SoftChecks:
    """Runs SHOULD checks inside a longer flow without stopping it; the verdict comes at
    the end of the test. A MUST violation still stops the test at once."""

    def __init__(self, item: pytest.Item) -> None:
        self.violations = item.stash.setdefault(SOFT, [])

    def __call__(self, check: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return check(*args, **kwargs)
        except RequirementViolation as violation:
            if violation.level == "MUST":
                raise
            self.violations.append(violation)
            return None
