"""The verdict model: what one test did, where each requirement stands, and what the run
as a whole may claim. Every writer and reader of verdicts uses this module: the failure
messages, worded in `failures`, are read back here (`parse_message`), and the terminal
summary, the coverage matrix, the Allure categories, the kill matrix and the job summary
all aggregate with `Matrix`.

A run claims only what was tested: a requirement is violated only when a failure names
it, proved only when every test of it that ran went through, and a run that left MUST
requirements untested is not conformant.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

from sca_conformance.failures import NOT_PREPARED, VIOLATION, WARNING, WARNING_START
from sca_conformance.requirements import Requirement, registry

# Reading a failure message back ------------------------------------------------------


def parse_message(message: str) -> tuple[str, tuple[str, ...]]:
    """What a message says, for readers that have only the text (an Allure result, an old
    probe line): ("violated" | "warned" | "not prepared" | "suite error", the IDs named)."""
    text = message.strip()
    warning = WARNING.search(text)
    if warning and WARNING_START.match(text):
        return Kind.WARNED, tuple(i.strip() for i in warning["ids"].split(","))
    violation = VIOLATION.match(text)
    if violation and violation["id"] in registry():
        return Kind.VIOLATED, (violation["id"],)
    if NOT_PREPARED in text.split("\n", 1)[0]:
        return Kind.NOT_PREPARED, ()
    return Kind.SUITE_ERROR, ()


# One test ---------------------------------------------------------------------------


class Kind(StrEnum):
    """How one test ended."""

    PASSED = "passed"  # ran to its end, every check held
    WARNED = "warned"  # SHOULD warnings (run to its end, or stopped at one)
    VIOLATED = "violated"  # a failure named a requirement
    NOT_PREPARED = "not prepared"  # the target could not give what the test needed
    SKIPPED = "skipped"  # not applicable to this target, with the reason
    SUITE_ERROR = "suite error"  # a failure naming nothing: a defect of the suite


@dataclass(frozen=True)
class TestVerdict:
    __test__: ClassVar[bool] = False  # a verdict of a test, not a test class to collect

    nodeid: str
    requirements: tuple[str, ...]  # what the test sets out to prove (its marks)
    kind: Kind
    named: tuple[str, ...] = ()  # the requirements its failure or its warnings name
    level: str = ""  # of the violation named: MUST, or SHOULD (a strict run's failure)
    completed: bool = True  # ran to its end: every requirement it carries was checked
    reason: str = ""  # the first line of its message (a skip's reason, a failure's)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> TestVerdict:
        data = json.loads(text)
        return cls(**{**data, "kind": Kind(data["kind"]),
                      "requirements": tuple(data["requirements"]), "named": tuple(data["named"])})

    @property
    def blocked_by(self) -> tuple[str, ...]:
        """The requirements whose violation stopped this test before the rest of it."""
        return () if self.completed else self.named


USER_PROPERTY = "sca_verdict"  # the key of a report's user property carrying its verdict


def of_report(report: Any) -> TestVerdict | None:
    for key, value in getattr(report, "user_properties", ()):
        if key == USER_PROPERTY:
            return TestVerdict.from_json(str(value))
    return None


# Every requirement ------------------------------------------------------------------


class Standing(StrEnum):
    """Where a requirement stands after a run."""

    VIOLATED = "violated"  # a failure names it (a SHOULD: only in a strict run)
    WARNING = "warning"  # a SHOULD that a warning names (not strict)
    NOT_PROVED = "not proved"  # its tests stopped at another requirement or the target
    PROVED = "proved"  # every test of it that ran went through
    SKIPPED = "skipped"  # every test of it was skipped, with the reason
    ACCEPTED = "accepted untested"  # not proved, and the profile accepts that, with a reason
    KNOWN = "known violation"  # violated (or warned), and the profile lists it as known
    STALE = "stale known violation"  # listed as known, yet proved: to remove from the profile
    NOT_SELECTED = "not selected"  # this run did not choose its tests
    UNCOVERED = "uncovered"  # no test of the suite proves it: a gap in the suite


@dataclass
class Row:
    requirement: Requirement
    standing: Standing
    reason: str = ""
    tests: dict[str, str] = field(default_factory=dict)  # nodeid -> what it did

    @property
    def id(self) -> str:
        return self.requirement.id

    @property
    def level(self) -> str:
        return self.requirement.level

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "level": self.level, "verdict": str(self.standing),
                "reason": self.reason, "tests": self.tests, "text": self.requirement.text}


class RunVerdict(StrEnum):
    CONFORMANT = "CONFORMANT"
    NON_CONFORMANT = "NON-CONFORMANT"
    INCOMPLETE = "INCOMPLETE"
    TARGET_UNUSABLE = "TARGET UNUSABLE"


EXIT_CODES = {RunVerdict.CONFORMANT: 0, RunVerdict.NON_CONFORMANT: 1,
              RunVerdict.INCOMPLETE: 10, RunVerdict.TARGET_UNUSABLE: 11}
"""Exit codes: pytest's own are 0-5 (2 interrupted, 3 internal error, 4 usage error, 5 no
tests); INCOMPLETE and TARGET UNUSABLE do not collide with them."""


def _describe(test: TestVerdict) -> str:
    if test.kind is Kind.VIOLATED:
        return f"violated {test.named[0]}" if test.named else "violated"
    if test.kind is Kind.WARNED:
        return f"warning {','.join(test.named)}"
    return str(test.kind)


class Matrix:
    """Every test verdict of a run, and what follows from them per requirement."""

    def __init__(self, *, selection: bool = False, strict: bool = False,
                 accepted: Mapping[str, str] | None = None,
                 known: Mapping[str, str] | None = None) -> None:
        self.tests: dict[str, TestVerdict] = {}
        self.selection = selection
        self.strict = strict
        self.accepted = dict(accepted or {})
        self.known = dict(known or {})  # requirement -> "TICKET-123: why" (known violations)
        self.unusable = ""  # why the target could not be tested at all

    def add(self, test: TestVerdict) -> None:
        """A test's verdict; of several (set-up, call, teardown) the one that says most."""
        known = self.tests.get(test.nodeid)
        if known is None or _weight(test) > _weight(known):
            self.tests[test.nodeid] = test

    def rows(self) -> list[Row]:
        return [self.row(req) for req in registry().values()]

    def row(self, req: Requirement) -> Row:
        mine = [t for t in self.tests.values() if req.id in t.requirements]
        naming = [t for t in self.tests.values() if req.id in t.named]
        tests = {t.nodeid: _describe(t) for t in (*mine, *naming)}
        violations = [t for t in naming if t.kind is Kind.VIOLATED]
        if violations:
            return self._knowing(Row(req, Standing.VIOLATED, violations[0].reason, tests))
        warnings = [t for t in naming if t.kind is Kind.WARNED]
        if warnings:
            return self._knowing(Row(req, Standing.WARNING, warnings[0].reason, tests))
        if not mine:
            standing = Standing.UNCOVERED if not self.selection else Standing.NOT_SELECTED
            return self._accepting(Row(req, standing, "", tests))
        unfinished = [t for t in mine if (t.kind not in (Kind.PASSED, Kind.SKIPPED)
                      and not t.completed) or t.kind in (Kind.NOT_PREPARED, Kind.SUITE_ERROR)]
        if unfinished:
            return self._accepting(Row(req, Standing.NOT_PROVED, _why_not(unfinished), tests))
        if all(t.kind is Kind.SKIPPED for t in mine):
            reasons = sorted({t.reason for t in mine})
            return self._accepting(Row(req, Standing.SKIPPED, "; ".join(reasons), tests))
        return self._knowing(Row(req, Standing.PROVED, "", tests))

    def _knowing(self, row: Row) -> Row:
        """A violation the profile lists as known, or a known one this run proved (stale)."""
        if row.id not in self.known:
            return row
        if row.standing in (Standing.VIOLATED, Standing.WARNING):
            return Row(row.requirement, Standing.KNOWN,
                       f"{self.known[row.id]} (was: {row.standing}: {row.reason})", row.tests)
        if row.standing is Standing.PROVED:
            return Row(row.requirement, Standing.STALE,
                       f"{self.known[row.id]} (proved in this run: remove it from the profile's "
                       "[verdict] known_violations)", row.tests)
        return row

    def ticket(self, requirement_id: str) -> str:
        """A known violation's ticket: what its reason says before the first colon."""
        return self.known[requirement_id].split(":", 1)[0].strip()

    def _accepting(self, row: Row) -> Row:
        if row.standing in (Standing.NOT_PROVED, Standing.SKIPPED) and row.id in self.accepted:
            return Row(row.requirement, Standing.ACCEPTED,
                       f"{self.accepted[row.id]} (was: {row.standing}: {row.reason})", row.tests)
        return row

    def verdict(self) -> RunVerdict:
        if self.unusable:
            return RunVerdict.TARGET_UNUSABLE
        rows = self.rows()
        if any(r.standing is Standing.VIOLATED and (r.level == "MUST" or self.strict)
               for r in rows):
            return RunVerdict.NON_CONFORMANT
        if any(r.standing is Standing.STALE for r in rows):  # the ratchet: remove it
            return RunVerdict.NON_CONFORMANT
        if self.untested(rows) or self.suite_errors():
            return RunVerdict.INCOMPLETE
        return RunVerdict.CONFORMANT

    def untested(self, rows: list[Row] | None = None) -> list[Row]:
        """The selected MUST requirements that this run did not prove (nor accept)."""
        return [r for r in rows or self.rows() if r.level == "MUST"
                and r.standing in (Standing.NOT_PROVED, Standing.SKIPPED, Standing.UNCOVERED)]

    def suite_errors(self) -> list[TestVerdict]:
        return [t for t in self.tests.values() if t.kind is Kind.SUITE_ERROR]

    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict()]

    def as_json(self) -> dict[str, Any]:
        """Everything the verdict follows from, so that the verdicts of several runs (the
        nightly's shards) can be merged into the one of the whole run (`merge`)."""
        return {"verdict": str(self.verdict()), "sentence": self.sentence(),
                "exit_code": self.exit_code(), "strict": self.strict,
                "selection": self.selection, "accepted": self.accepted,
                "known_violations": self.known,
                "unusable": self.unusable,
                "requirements": [row.as_dict() for row in self.rows()],
                "tests": [json.loads(test.to_json()) for test in self.tests.values()]}

    @classmethod
    def merge(cls, summaries: Iterable[Mapping[str, Any]], *, selection: bool = False) -> Matrix:
        """One verdict of the runs that together made up one run (shards): their tests,
        strict if any was, every accepted requirement and known violation, unusable if any
        found it so."""
        merged = cls(selection=selection)
        for summary in summaries:
            merged.strict = merged.strict or bool(summary.get("strict"))
            merged.accepted.update(summary.get("accepted") or {})
            merged.known.update(summary.get("known_violations") or {})
            merged.unusable = merged.unusable or str(summary.get("unusable") or "")
            for test in summary.get("tests") or []:
                merged.add(TestVerdict.from_json(json.dumps(test)))
        return merged

    def counts(self) -> dict[str, int]:
        counted: dict[str, int] = {}
        for row in self.rows():
            counted[str(row.standing)] = counted.get(str(row.standing), 0) + 1
        return counted

    def sentence(self) -> str:
        """The run's verdict in one sentence, with its counts."""
        verdict = self.verdict()
        if verdict is RunVerdict.TARGET_UNUSABLE:
            return f"{verdict}: {self.unusable}"
        rows = self.rows()
        must = [r for r in rows if r.level == "MUST"]
        chosen = [r for r in must if r.standing is not Standing.NOT_SELECTED]
        proved = sum(r.standing is Standing.PROVED for r in must)
        parts = [f"{proved} of {len(chosen)} selected MUST requirements proved"]
        stale = [r.id for r in rows if r.standing is Standing.STALE]
        if stale:
            parts.insert(0, f"stale known violation{'s' if len(stale) > 1 else ''}: "
                         f"{self._tickets(stale)} passed: remove "
                         f"{'them' if len(stale) > 1 else 'it'} from the profile")
        known = [r for r in rows if r.standing is Standing.KNOWN]
        # What would have counted against the verdict is said first, by level and count.
        counted = [r for r in known if r.level == "MUST" or self.strict]
        head = f"{verdict}"
        if counted:
            head += f" with {_known_count(counted)}: {self._tickets([r.id for r in counted])}"
        rest = [r.id for r in known if r not in counted]
        if rest:
            parts.append(f"known SHOULD warning{'s' if len(rest) > 1 else ''} (not counted): "
                         f"{self._tickets(rest)}")
        violated = [r.id for r in rows if r.standing is Standing.VIOLATED]
        if violated:
            parts.append(f"violated: {', '.join(violated)}")
        untested = [r.id for r in self.untested(rows)]
        if untested:
            parts.append(f"untested (not proved, skipped or uncovered): {', '.join(untested)}")
        accepted = [r.id for r in rows if r.standing is Standing.ACCEPTED]
        if accepted:
            parts.append(f"accepted untested: {', '.join(accepted)}")
        warned = [r.id for r in rows if r.standing is Standing.WARNING]
        if warned:
            parts.append(f"SHOULD warnings: {', '.join(warned)}")
        errors = self.suite_errors()
        if errors:
            parts.append(f"{len(errors)} suite error(s)")
        return f"{head}; " + "; ".join(parts) + "." if counted else (
            f"{head}: " + "; ".join(parts) + ".")

    def _tickets(self, requirement_ids: list[str]) -> str:
        return ", ".join(f"{i} ({self.ticket(i)})" for i in requirement_ids)


def _known_count(rows: list[Row]) -> str:
    """"1 known MUST violation", "2 known MUST violations and 1 known SHOULD violation"."""
    said = []
    for level in ("MUST", "SHOULD"):
        count = sum(r.level == level for r in rows)
        if count:
            said.append(f"{count} known {level} violation{'s' if count > 1 else ''}")
    return " and ".join(said)


def _weight(test: TestVerdict) -> int:
    order = (Kind.PASSED, Kind.SKIPPED, Kind.WARNED, Kind.NOT_PREPARED, Kind.SUITE_ERROR,
             Kind.VIOLATED)
    return order.index(test.kind)


def _why_not(tests: list[TestVerdict]) -> str:
    reasons = []
    for test in tests:
        if test.blocked_by:
            reasons.append(f"blocked by {', '.join(test.blocked_by)}")
        elif test.kind is Kind.NOT_PREPARED:
            reasons.append(f"target not prepared ({test.reason.removeprefix(NOT_PREPARED + ': ')})"
                           [:200])
        elif test.kind is Kind.SUITE_ERROR:
            reasons.append("a suite error")
    return "; ".join(sorted(set(reasons)))
