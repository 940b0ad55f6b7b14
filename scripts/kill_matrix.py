"""The kill matrix: the suite proves itself against every named sandbox fault.

For each fault the sandbox can inject (`python -m sca_sandbox --list-faults`, read at run
time), run the tests that prove the fault's requirement against a sandbox started with
that fault, and judge four things:

- killed: the run fails (a SHOULD fault: the `--sca-strict` run fails, while the default
  run passes with a `SHOULD warning [<ID>] ...` xfail);
- requirement named: a failing test's message names the fault's requirement
  (`MUST <ID> violated: ...`; a SHOULD fault: the default run's warning names it and a
  strict failure says `SHOULD <ID> violated: ...`);
- unattributed failures: the failed, errored or xfailed tests of the fault's runs that
  name no requirement - read from the suite's own verdict model
  (sca_conformance.verdict, which the probe records per test) - plus one for a run that
  ended abnormally (an exit code other than a verdict's 0, 1, 10 or pytest's 2: a stopped
  target, a usage error, a timeout). These are suite errors; there must be none;
- a wait that ran into its timeout: the test of the fault's runs furthest over its own
  time in the clean run must be less than `--excess-bound` seconds over it (default 3,
  the control wait). A broken target must get its verdict about as fast as a correct one.

A fault is KILLED only when all four hold. The wall-time ratio (the run's wall time over
what the clean run took for the same tests) is printed too, as information: a short run
is mostly start-up, and on two shared cores its ratio measures the machine's load.

How a test's own time is made fair. A fault's run executes only the tests of its
requirement, and by default ends at its first catch. The probe plugin
(scripts/kill_matrix_probe.py) records every test phase's duration and every set-up of a
session-, package- or module-scoped fixture; a test's own time is its phases less the
wider fixtures it happened to set up (the first browser test launches the browser) and
less the teardown that also tears the session down, so it is compared with the same
test's own time in the clean run. A test found slow is measured once more, with nothing
else running in the pool: a clean run of the same selection, then the fault's run again;
the lower excess counts (both are in the JSON report, under "remeasured").

The clean sandbox (no fault) runs the whole suite once and must pass without warnings.
`--target FILE` runs everything against a target profile (the suite's `--target`), e.g.
the embedded sandbox's second dialect: `--target profiles/sandbox-nordic.toml --sample`.

    python -m scripts.kill_matrix [--jobs 2] [--fault NAME ...] [--sample] [--target FILE]
                                  [--excess-bound 3] [--widen] [--out reports/kill-matrix]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sca_conformance.config import Timeouts
from sca_conformance.requirements import requirement
from sca_conformance.verdict import EXIT_CODES, Kind, RunVerdict, TestVerdict, parse_message

ROOT = Path(__file__).resolve().parent.parent
SUITES = ROOT / "suites"
RUN_TIMEOUT = 600  # seconds; one run is normally well under a minute
EXCESS_BOUND = Timeouts().control_seconds
"""A fault is slow when a test of its run takes this much longer than in the clean run (the
control wait, 3 s): one of its waits ran into a timeout. The wall ratio is printed, but it
measures the machine as much as the suite (start-up, load), so it does not judge."""
STRICT_OPTION = "--sca-strict"  # the suite's strict mode: SHOULD violations fail
# Installed pytest plugins the suite does not use; not loading them saves a second a run.
UNUSED_PLUGINS = ("hypothesispytest", "schemathesis", "xdist", "xdist.looponfail",
                  "pytest-split", "anyio", "random_order", "randomly")
SECTIONS = ("AUTH", "TRIGGER", "INIT", "PAGE", "AFTER", "ERR", "A11Y", "RACE")
# Faults a suite notices only by waiting, unless it ends its waits as soon as a page shows
# an end state or the browser leaves the hosted pages (issue 10); `make bench` times them.
SLOW_FAILURES = ("landing-on-other-port", "landing-path-dropped", "decline-button-missing",
                 "redirect-url-relative")
_FAULT_LINE = re.compile(
    r"^(?P<name>[a-z0-9][a-z0-9-]*)\s+(?P<id>[A-Z][A-Z0-9]*-\d+)\s+(?P<text>.*)$")
# CONFORMANT, NON-CONFORMANT, stopped at the first catch, INCOMPLETE (a verdict, not a crash)
_NORMAL_EXITS = (0, 1, 2, EXIT_CODES[RunVerdict.INCOMPLETE])


@dataclass(frozen=True)
class Fault:
    name: str
    requirement: str
    description: str

    @property
    def level(self) -> str:
        return requirement(self.requirement).level

    @property
    def section(self) -> str:
        return self.requirement.split("-", 1)[0]


@dataclass
class Outcome:
    """One test's result in one run, with the message it failed or warned with, and its
    own time: its phases less the wider fixtures it set up and the session's teardown."""

    nodeid: str
    outcome: str  # passed, failed, error, xfailed, skipped
    message: str = ""
    seconds: float = 0.0
    verdict: TestVerdict | None = None  # the suite's own (sca_conformance.verdict)

    def says(self) -> tuple[Kind, tuple[str, ...], str]:
        """What the suite's verdict model says of this test: its kind, the requirements
        its failure or warning names, and the level of a violation."""
        if self.verdict is not None:
            return self.verdict.kind, self.verdict.named, self.verdict.level
        kind, named = parse_message(self.message)  # a line written without a verdict
        if kind is Kind.WARNED:
            return kind, named, "SHOULD"
        return kind, named, requirement(named[0]).level if named else ""


@dataclass
class Run:
    args: list[str]
    exit_code: int
    seconds: float
    outcomes: list[Outcome] = field(default_factory=list)
    output_tail: str = ""
    fixtures: dict[str, float] = field(default_factory=dict)  # wider fixtures' set-up times

    def with_outcome(self, *names: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.outcome in names]

    @property
    def fixed_seconds(self) -> float:
        """Wall time that is no test's own time and no wider fixture's set-up."""
        own = sum(o.seconds for o in self.outcomes) + sum(self.fixtures.values())
        return max(self.seconds - own, 0.0)

    def fails(self) -> bool:
        """The run ended normally, failing tests."""
        return self.exit_code in (1, 2) and bool(self.with_outcome("failed", "error"))

    @property
    def abnormal(self) -> bool:
        return self.exit_code not in _NORMAL_EXITS

    def unattributed(self) -> list[Outcome]:
        """Failing tests that name no requirement (the verdict model's suite errors and
        tests the target could not be prepared for)."""
        return [o for o in self.with_outcome("failed", "error", "xfailed")
                if o.says()[0] not in (Kind.VIOLATED, Kind.WARNED)]

    def suite_errors(self) -> int:
        return len(self.unattributed()) + (1 if self.abnormal else 0)


@dataclass
class Verdict:
    fault: str
    requirement: str
    level: str
    description: str
    killed: bool  # the verdict: KILLED (every condition below holds)
    caught_by: list[str]
    reason: str
    runs: dict[str, Run]
    widened: bool = False  # caught only by the whole suite, not by its requirement's tests
    detected: bool = False  # "killed": the run fails (a SHOULD fault: the strict run)
    named: bool = False  # a failure (a SHOULD fault: and a warning) names the requirement
    unattributed: int = 0  # failures naming no requirement, over the fault's runs
    ratio: float | None = None  # wall time over the clean run's, same tests (worst run)
    references: dict[str, float] = field(default_factory=dict)  # per mode: clean seconds
    slowest: str = "default"  # the mode (default, strict) whose ratio is the worst
    ratios: list[float] = field(default_factory=list)  # every measurement; `ratio` the least
    remeasured: dict[str, Run] = field(default_factory=dict)  # "again", "beside": 2nd ratio
    # The test that took longest over its clean time (a wait running into its timeout).
    excess: tuple[str, float] | None = None
    excesses: list[float] = field(default_factory=list)  # every measurement; the least counts


def list_faults(python: str = sys.executable) -> list[Fault]:
    listing = subprocess.run(
        [python, "-m", "sca_sandbox", "--list-faults"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )
    faults = []
    for line in listing.stdout.splitlines():
        match = _FAULT_LINE.match(line.strip())
        if match:
            faults.append(Fault(match["name"], match["id"], match["text"].strip()))
    if not faults:
        raise RuntimeError(f"no faults listed by the sandbox:\n{listing.stdout}{listing.stderr}")
    return faults


def sample(faults: Sequence[Fault]) -> list[Fault]:
    """A few faults covering every contract section: per section, the first listed MUST
    fault and the first listed SHOULD fault (in listing order)."""
    chosen: list[Fault] = []
    for section in SECTIONS:
        for level in ("MUST", "SHOULD"):
            first = next((f for f in faults if f.section == section and f.level == level), None)
            if first is not None:
                chosen.append(first)
    return [f for f in faults if f in chosen]


_WORST = {"failed": 4, "error": 3, "xfailed": 2, "skipped": 1, "passed": 0}


def read_probe(path: Path) -> tuple[list[Outcome], dict[str, float]]:
    """The probe's lines: one outcome per test (the worst of its phases wins, its time is
    the sum of its phases less what is not its own), and the wider fixtures' set-up."""
    if not path.exists():
        return [], {}
    tests: dict[str, Outcome] = {}
    fixtures: dict[str, float] = {}
    pending = 0.0  # wider fixtures set up since the last phase: paid by the next phase
    for line in path.read_text(encoding="utf-8").splitlines():
        seen = json.loads(line)
        if "fixture" in seen:
            seconds = float(seen["seconds"])
            fixtures[seen["fixture"]] = fixtures.get(seen["fixture"], 0.0) + seconds
            pending += seconds
            continue
        own = 0.0 if seen.get("last") else max(float(seen.get("seconds", 0.0)) - pending, 0.0)
        pending = 0.0
        now = Outcome(seen["nodeid"], seen["outcome"], seen["message"],
                      verdict=TestVerdict.from_json(seen["verdict"]) if seen.get("verdict")
                      else None)
        before = tests.get(now.nodeid)
        if before is None or _WORST[now.outcome] > _WORST[before.outcome]:
            now.seconds = own + (before.seconds if before else 0.0)
            tests[now.nodeid] = now
        else:
            before.seconds += own
    for outcome in tests.values():
        outcome.seconds = round(outcome.seconds, 4)
    return list(tests.values()), fixtures


def parse_probe(path: Path) -> list[Outcome]:
    return read_probe(path)[0]


def run_suite(
    faults: Sequence[str] = (),
    requirements: Sequence[str] = (),
    *,
    strict: bool = False,
    stop_on: str = "",
    target: Path | None = None,
    python: str = sys.executable,
) -> Run:
    """One pytest run of the suite in a scratch folder (its traces and reports stay there).

    `stop_on` ("MUST PAGE-3") ends the run at the first failure naming that violation."""
    args = [str(SUITES), "-p", "no:cacheprovider", "-q", "-p", "scripts.kill_matrix_probe"]
    for plugin in UNUSED_PLUGINS:
        args += ["-p", f"no:{plugin}"]
    if target is not None:
        args += ["--target", str(target.resolve())]
    for name in faults:
        args += ["--sandbox-fault", name]
    if requirements:
        args += ["--requirement", ",".join(requirements)]
    if strict:
        args.append(STRICT_OPTION)
    env = {k: v for k, v in os.environ.items()
           if k not in ("SCA_STRICT", "SCA_SANDBOX_FAULTS", "PYTEST_ADDOPTS", "SCA_TARGET_URL",
                        "SCA_TARGET")}
    env["KILL_MATRIX_STOP_ON"] = stop_on
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory(prefix="kill-matrix-") as folder:
        probe = Path(folder) / "outcomes.jsonl"
        env["KILL_MATRIX_PROBE_OUT"] = str(probe)
        started = time.monotonic()
        try:
            done = subprocess.run(
                [python, "-m", "pytest", *args],
                cwd=folder, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT,
                check=False,
            )
            code, output = done.returncode, done.stdout + done.stderr
        except subprocess.TimeoutExpired as timeout:
            partial = timeout.stdout or b""
            text = partial.decode(errors="replace") if isinstance(partial, bytes) else partial
            code, output = -1, f"timed out after {RUN_TIMEOUT}s\n{text}"
        seconds = round(time.monotonic() - started, 2)
        outcomes, fixtures = read_probe(probe)
        return Run(args=args, exit_code=code, seconds=seconds, outcomes=outcomes,
                   output_tail=str(output)[-3000:], fixtures=fixtures)


def names_violation(outcome: Outcome, requirement_id: str, level: str) -> bool:
    kind, named, named_level = outcome.says()
    return kind is Kind.VIOLATED and requirement_id in named and named_level == level


def warns(outcome: Outcome, requirement_id: str) -> bool:
    kind, named, _ = outcome.says()
    return kind is Kind.WARNED and requirement_id in named


def reference_seconds(run: Run, clean: Run | None) -> float | None:
    """What the clean run took for what `run` did (see the module's docstring)."""
    if clean is None or not clean.outcomes or not run.outcomes:
        return None
    own = {o.nodeid: o.seconds for o in clean.outcomes}
    tests = sum(own.get(o.nodeid, o.seconds) for o in run.outcomes)
    fixtures = sum(clean.fixtures.get(key, seconds) for key, seconds in run.fixtures.items())
    return clean.fixed_seconds + fixtures + tests


def excess(runs: Iterable[Run], clean: Run | None) -> tuple[str, float] | None:
    """The test whose own time exceeds its clean own time most, and by how many seconds."""
    if clean is None:
        return None
    own = {o.nodeid: o.seconds for o in clean.outcomes}
    over = [(o.nodeid, o.seconds - own[o.nodeid]) for run in runs for o in run.outcomes
            if o.nodeid in own]
    return max(over, key=lambda item: item[1]) if over else None


def judge(fault: Fault, default: Run, strict: Run | None, clean: Run | None = None, *,
          excess_bound: float = EXCESS_BOUND, again: float | None = None) -> Verdict:
    """The verdict on one fault; `again` is a second measurement of its slowest test's time
    over its clean time (the lower of the two counts)."""
    rid, level = fault.requirement, fault.level
    runs = {"default": default} | ({"strict": strict} if strict else {})
    references = {mode: ref for mode, run in runs.items()
                  if (ref := reference_seconds(run, clean)) is not None and ref > 0}
    per_mode = {mode: runs[mode].seconds / ref for mode, ref in references.items()}
    slowest = max(per_mode, key=per_mode.__getitem__) if per_mode else "default"
    measured = [round(per_mode[slowest], 2)] if per_mode else []
    ratio = measured[0] if measured else None
    over = excess(runs.values(), clean)
    overs = [round(over[1], 2)] if over is not None else []
    if overs and again is not None:
        overs.append(round(again, 2))
    slow_by = min(overs) if overs else None
    unattributed = sum(run.suite_errors() for run in runs.values())
    problems: list[str] = []

    if not default.outcomes:
        problems.append(f"no test ran (exit {default.exit_code})")
    if level == "MUST":
        caught = [o.nodeid for o in default.with_outcome("failed", "error")
                  if names_violation(o, rid, "MUST")]
        detected, named = default.fails(), bool(caught)
        if default.outcomes and not detected:
            problems.append("the default run passes")
        elif default.outcomes and not named:
            problems.append(f"no failure names MUST {rid}")
    else:
        assert strict is not None
        warned = [o.nodeid for o in default.with_outcome("xfailed") if warns(o, rid)]
        strict_caught = [o.nodeid for o in strict.with_outcome("failed", "error")
                         if names_violation(o, rid, "SHOULD")]
        caught = warned + strict_caught
        detected, named = strict.fails(), bool(warned and strict_caught)
        failing = default.with_outcome("failed", "error")
        if default.outcomes and (default.exit_code != 0 or failing):
            problems.append(f"default run exit {default.exit_code} ({len(failing)} failing"
                            f"{': ' + failing[0].message[:120] if failing else ''})")
        if default.outcomes and not warned:
            problems.append(f"no SHOULD warning [{rid}] by default")
        if not strict.outcomes:
            problems.append(f"no test ran in strict mode (exit {strict.exit_code})")
        elif not detected:
            problems.append("the strict run passes")
        elif not strict_caught:
            problems.append(f"no strict failure names SHOULD {rid}")
    if unattributed:
        problems.append(f"{unattributed} unattributed: {_first_suite_error(runs)}")
    if over is not None and slow_by is not None and slow_by >= excess_bound:
        how = (f"measured twice: +{overs[0]:.1f} s, then +{overs[1]:.1f} s" if again is not None
               else f"+{slow_by:.1f} s")
        problems.append(f"{over[0].split('::')[-1]} ran over its clean time ({how}): a wait ran "
                        f"into its timeout (bound {excess_bound:g} s)")
    killed = not problems and detected and named
    reason = "; ".join(problems) if problems else (
        "fails naming the requirement" if level == "MUST"
        else "warns by default, fails in strict mode naming the requirement")
    return Verdict(fault.name, rid, level, fault.description, killed, sorted(set(caught)),
                   reason, runs, detected=detected, named=named, unattributed=unattributed,
                   ratio=ratio, references={m: round(r, 2) for m, r in references.items()},
                   slowest=slowest, ratios=measured, excess=over, excesses=overs)


def _first_suite_error(runs: dict[str, Run]) -> str:
    for mode, run in runs.items():
        for outcome in run.unattributed():
            return f"{mode} run, {outcome.nodeid.split('::')[-1]}: {outcome.message[:160]}"
        if run.abnormal:
            return f"{mode} run ended with exit {run.exit_code}: {run.output_tail[-160:]!r}"
    return ""


@dataclass
class Matrix:
    clean: Run | None
    verdicts: list[Verdict]
    seconds: float
    jobs: int
    excess_bound: float = EXCESS_BOUND
    target: str = ""  # the profile the runs used; empty: the suite's default target

    @property
    def clean_passed(self) -> bool:
        if self.clean is None:
            return True
        return (self.clean.exit_code == 0 and bool(self.clean.outcomes)
                and not self.clean.with_outcome("failed", "error", "xfailed"))

    @property
    def survivors(self) -> list[Verdict]:
        return [v for v in self.verdicts if not v.killed]

    @property
    def ok(self) -> bool:
        return self.clean_passed and not self.survivors

    def clean_problems(self) -> list[str]:
        if self.clean is None:
            return []
        problems = [f"{o.outcome}: {o.nodeid}: {o.message[:200]}"
                    for o in self.clean.with_outcome("failed", "error", "xfailed")]
        if not problems and not self.clean_passed:
            problems.append(f"exit {self.clean.exit_code}: {self.clean.output_tail[-500:]}")
        return problems

    def worst_ratio(self) -> Verdict | None:
        rated = [v for v in self.verdicts if v.ratio is not None]
        return max(rated, key=lambda v: v.ratio or 0.0) if rated else None

    def totals(self) -> str:
        killed = len(self.verdicts) - len(self.survivors)
        counts = {
            "not killed": sum(not v.detected for v in self.verdicts),
            "requirement not named": sum(v.detected and not v.named for v in self.verdicts),
            "with unattributed failures": sum(v.unattributed > 0 for v in self.verdicts),
            f"a wait running into its timeout (+{self.excess_bound:g} s)": sum(
                min(v.excesses or [0.0]) >= self.excess_bound for v in self.verdicts),
        }
        why = ", ".join(f"{n} {what}" for what, n in counts.items() if n)
        if self.clean is None:
            clean = "clean sandbox not run (ratios unknown)"
        else:
            clean = (f"clean sandbox {'passed' if self.clean_passed else 'FAILED'} "
                     f"({len(self.clean.outcomes)} tests, {self.clean.seconds:.0f}s)")
        worst = self.worst_ratio()
        worst_text = f"; worst ratio {worst.ratio:.2f} ({worst.fault})" if worst else ""
        on = f" on {self.target}" if self.target else ""
        return (f"{len(self.verdicts)} faults{on}: {killed} KILLED, {len(self.survivors)} "
                f"survived{f' ({why})' if why else ''}; {clean}{worst_text}; "
                f"wall time {self.seconds:.0f}s with {self.jobs} job(s)")

    def _row(self, v: Verdict) -> tuple[str, ...]:
        return (v.fault, v.requirement, v.level, _yes(v.detected), _yes(v.named),
                str(v.unattributed), f"{sum(r.seconds for r in v.runs.values()):.1f}",
                "/".join(map(_ratio, v.ratios)) or "n/a",
                "/".join(f"{e:+.1f}" for e in v.excesses) or "n/a", _result(v))

    HEADER = ("fault", "requirement", "level", "killed", "named", "unattributed", "seconds",
              "ratio", "slowest test", "verdict")

    def table(self) -> list[str]:
        rows = [self.HEADER, *(self._row(v) for v in self.verdicts)]
        widths = [max(len(r[i]) for r in rows) for i in range(len(self.HEADER))]
        notes = ["caught by / reason"] + [
            _short(v.caught_by) if v.killed else v.reason for v in self.verdicts]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + "  " + note
                 for r, note in zip(rows, notes, strict=True)]
        lines.insert(1, "-" * min(140, max(len(line) for line in lines)))
        lines.append(self.totals())
        for problem in self.clean_problems():
            lines.append(f"clean sandbox: {problem}")
        return lines

    def markdown(self) -> str:
        lines = ["# Kill matrix", "", self.totals(), "",
                 "killed: the run fails; named: a failure names the fault's requirement; "
                 "unattributed: failures naming no requirement (suite errors); slowest test: "
                 "seconds the test furthest over its clean time took more (a/b: measured "
                 "twice, the lower counts); KILLED needs all four "
                 f"(slowest test < +{self.excess_bound:g} s, the control wait: no wait ran into "
                 "its timeout). Ratio: wall time over the clean run's for the same tests "
                 "(information: it measures start-up and load as much as the suite).", "",
                 "| Fault | Requirement | Level | Killed | Named | Unattributed | Seconds "
                 "| Ratio | Slowest test | Verdict | Caught by / reason |",
                 "|---|---|---|---|---|---|---|---|---|---|---|"]
        for v in self.verdicts:
            caught = "<br>".join(f"`{t}`" for t in v.caught_by) if v.killed else v.reason
            fault, rid, level, *rest, verdict = self._row(v)
            cells = [f"`{fault}`", rid, level, *rest,
                     verdict if v.killed else f"**{verdict}**", caught.replace("|", "\\|")]
            lines.append("| " + " | ".join(cells) + " |")
        if self.clean_problems():
            lines += ["", "## Clean sandbox problems", ""]
            lines += [f"- {p}" for p in self.clean_problems()]
        return "\n".join(lines) + "\n"

    def as_json(self) -> dict[str, Any]:
        def run(r: Run, keep_output: bool) -> dict[str, Any]:
            data = asdict(r)
            data["outcomes"] = [asdict(o) for o in r.outcomes if o.outcome != "passed"]
            data["tests"] = len(r.outcomes)
            data["unattributed"] = r.suite_errors()
            if not keep_output:
                data.pop("output_tail")
            return data

        def clean() -> dict[str, Any] | None:
            if self.clean is None:
                return None
            data = {"passed": self.clean_passed, **run(self.clean, not self.clean_passed)}
            # every test's own time: the reference the faults' ratios are measured against
            data["own_seconds"] = {o.nodeid: o.seconds for o in self.clean.outcomes}
            data["fixed_seconds"] = round(self.clean.fixed_seconds, 2)
            return data

        worst = self.worst_ratio()
        return {
            "seconds": self.seconds,
            "jobs": self.jobs,
            "target": self.target or None,
            "excess_bound": self.excess_bound,
            "clean": clean(),
            "faults": [
                {"fault": v.fault, "requirement": v.requirement, "level": v.level,
                 "description": v.description, "killed": v.killed, "detected": v.detected,
                 "named": v.named, "unattributed": v.unattributed, "ratio": v.ratio,
                 "ratios": v.ratios,
                 "slowest_test": None if v.excess is None else {
                     "test": v.excess[0], "seconds_over_clean": round(v.excess[1], 2)},
                 "seconds_over_clean": v.excesses,
                 "reference_seconds": v.references, "caught_by": v.caught_by,
                 "reason": v.reason, "widened": v.widened,
                 "runs": {mode: run(r, not v.killed) for mode, r in v.runs.items()},
                 "remeasured": {mode: run(r, False) for mode, r in v.remeasured.items()}}
                for v in self.verdicts
            ],
            "killed": len(self.verdicts) - len(self.survivors),
            "survived": [v.fault for v in self.survivors],
            "worst_ratio": None if worst is None else {"fault": worst.fault,
                                                       "ratio": worst.ratio},
        }


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _ratio(ratio: float | None) -> str:
    return "n/a" if ratio is None else f"{ratio:.2f}"


def _result(verdict: Verdict) -> str:
    if not verdict.killed:
        return "SURVIVED"
    return "KILLED (widened)" if verdict.widened else "KILLED"


def _short(tests: list[str], keep: int = 1) -> str:
    names = [t.split("::", 1)[-1] for t in tests]
    more = f" (+{len(names) - keep})" if len(names) > keep else ""
    return ", ".join(names[:keep]) + more


def build_matrix(
    faults: Sequence[Fault] | None = None,
    jobs: int = 2,
    *,
    clean: bool = True,
    thorough: bool = False,
    widen: bool = False,
    target: Path | None = None,
    excess_bound: float = EXCESS_BOUND,
    durations_from: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> Matrix:
    """Runs the clean suite and every fault on a pool of `jobs` concurrent pytest runs.

    Unless `thorough`, a run stops at its first catch: "caught by" then names that test.
    With `widen`, a fault that survives its requirement's tests runs against the whole
    suite; a catch there is marked as widened (a requirement marker is missing).
    `target`: a profile for every run (the suite's --target)."""
    started = time.monotonic()
    chosen = list(faults) if faults is not None else list_faults()
    say = progress or (lambda _line: None)
    # (fault, mode) -> run arguments. A MUST fault's run, and a SHOULD fault's strict run,
    # may end at the first catch; a SHOULD fault's default run must run its whole
    # selection to show that it passes.
    planned: dict[tuple[str, str], dict[str, Any]] = {}
    if clean:
        planned[("", "clean")] = {"target": target}
    for f in chosen:
        planned[(f.name, "default")] = {
            "faults": [f.name], "requirements": [f.requirement], "target": target,
            "stop_on": "" if thorough or f.level == "SHOULD" else f"MUST {f.requirement}",
        }
        if f.level == "SHOULD":
            planned[(f.name, "strict")] = {
                "faults": [f.name], "requirements": [f.requirement], "strict": True,
                "target": target, "stop_on": "" if thorough else f"SHOULD {f.requirement}",
            }
    # Longest first (as the last matrix measured them), so the pool does not end on one
    # long run while the other job slots idle.
    last = previous_seconds(durations_from)
    order = sorted(planned, key=lambda key: -last.get(key, 1000.0 if key[1] == "clean" else 30.0))
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        submitted = {key: pool.submit(run_suite, **planned[key]) for key in order}
        clean_run = submitted[("", "clean")].result() if clean else None
        if clean_run is not None:
            say(f"clean sandbox: exit {clean_run.exit_code}, "
                f"{len(clean_run.outcomes)} tests, {clean_run.seconds:.0f}s")
        verdicts = []
        for fault in chosen:
            strict_key = (fault.name, "strict")
            strict = submitted[strict_key].result() if strict_key in submitted else None
            verdict = judge(fault, submitted[(fault.name, "default")].result(), strict,
                            clean_run, excess_bound=excess_bound)
            say(f"{_result(verdict):<8} {fault.name} ({fault.requirement}, "
                f"{sum(r.seconds for r in verdict.runs.values()):.0f}s, "
                f"ratio {_ratio(verdict.ratio)}, slowest test "
                f"{'/'.join(f'{e:+.1f}' for e in verdict.excesses) or 'n/a'} s, "
                f"{verdict.unattributed} unattributed)")
            verdicts.append(verdict)
        # Only once every first measurement is in: each second one runs alone.
        suspects = [(fault, v) for fault, v in zip(chosen, verdicts, strict=True)
                    if v.excesses and v.excesses[0] >= excess_bound]
        if suspects:
            say(f"measuring {len(suspects)} slow test(s) (+{excess_bound:g} s or more) again, "
                "each after a clean run of the same tests, one run at a time")
        for fault, verdict in suspects:
            args = planned[(fault.name, verdict.slowest)]
            beside = run_suite(requirements=args["requirements"],
                               strict=args.get("strict", False), target=target)
            rerun = run_suite(**args)
            second = excess([rerun], beside)
            index = verdicts.index(verdict)
            verdicts[index] = judge(fault, verdict.runs["default"], verdict.runs.get("strict"),
                                    clean_run, excess_bound=excess_bound,
                                    again=second[1] if second else None)
            verdicts[index].remeasured = {"again": rerun, "beside": beside}
            say(f"{_result(verdicts[index]):<8} {fault.name}: slowest test measured again "
                f"{'n/a' if second is None else f'{second[1]:+.1f}'} s")
        if widen:
            verdicts = [widened(v, pool, say, target=target, clean=clean_run,
                                excess_bound=excess_bound)
                        if not v.killed else v for v in verdicts]
    return Matrix(clean_run, verdicts, round(time.monotonic() - started, 1), jobs,
                  excess_bound, _shown(target) if target else "")


def _shown(path: Path) -> str:
    resolved = path.resolve()
    return str(resolved.relative_to(ROOT)) if resolved.is_relative_to(ROOT) else str(path)


def widened(survivor: Verdict, pool: ThreadPoolExecutor, say: Callable[[str], None], *,
            target: Path | None = None, clean: Run | None = None,
            excess_bound: float = EXCESS_BOUND) -> Verdict:
    fault = Fault(survivor.fault, survivor.requirement, survivor.description)
    stop = "" if fault.level == "SHOULD" else f"MUST {fault.requirement}"
    default = pool.submit(run_suite, [fault.name], stop_on=stop, target=target)
    strict = (pool.submit(run_suite, [fault.name], strict=True, target=target,
                          stop_on=f"SHOULD {fault.requirement}")
              if fault.level == "SHOULD" else None)
    verdict = judge(fault, default.result(), strict.result() if strict else None, clean,
                    excess_bound=excess_bound)
    if not verdict.killed:
        verdict.reason = f"{survivor.reason}; whole suite: {verdict.reason}"
        return verdict
    verdict.widened = True
    verdict.reason = f"caught only by the whole suite: {verdict.reason}"
    say(f"KILLED (whole suite) {fault.name} ({fault.requirement})")
    return verdict


def previous_seconds(report: Path | None) -> dict[tuple[str, str], float]:
    """Each run's duration in an earlier kill-matrix JSON report (empty if none)."""
    if report is None or not report.exists():
        return {}
    try:
        data = json.loads(report.read_text(encoding="utf-8"))
        seconds = {("", "clean"): float(data["clean"]["seconds"])} if data.get("clean") else {}
        for fault in data["faults"]:
            for mode, run in fault["runs"].items():
                seconds[(fault["fault"], mode)] = float(run["seconds"])
    except (ValueError, KeyError, TypeError):
        return {}
    return seconds


def write_reports(matrix: Matrix, out: Path) -> tuple[Path, Path]:
    out.parent.mkdir(parents=True, exist_ok=True)
    md, js = out.with_suffix(".md"), out.with_suffix(".json")
    md.write_text(matrix.markdown(), encoding="utf-8")
    js.write_text(json.dumps(matrix.as_json(), indent=2), encoding="utf-8")
    return md, js


def choose(faults: Sequence[Fault], names: Iterable[str], with_sample: bool) -> list[Fault]:
    """The faults to run: the named ones plus the sample; all of them if neither."""
    wanted = set(names) | ({f.name for f in sample(faults)} if with_sample else set())
    return [f for f in faults if f.name in wanted] if wanted else list(faults)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.kill_matrix", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=2, help="concurrent pytest runs (default 2)")
    parser.add_argument("--fault", action="append", default=[], metavar="NAME",
                        help="only this fault (repeatable); default: every listed fault")
    parser.add_argument("--sample", action="store_true",
                        help="only a sample covering every contract section: per section the "
                        "first MUST and the first SHOULD fault (with --fault: those too)")
    parser.add_argument("--target", "--profile", type=Path, metavar="FILE", dest="target",
                        help="a target profile for every run (the suite's --target), e.g. "
                        "profiles/sandbox-nordic.toml: the embedded sandbox's nordic dialect")
    parser.add_argument("--excess-bound", type=float, default=EXCESS_BOUND, metavar="S",
                        help="no test of a fault's run may take S seconds or more over its "
                        f"clean time: a wait ran into its timeout (default {EXCESS_BOUND:g}, "
                        "the control wait)")
    parser.add_argument("--no-clean", action="store_true",
                        help="skip the clean-sandbox run of the whole suite (then no ratios)")
    parser.add_argument("--thorough", action="store_true",
                        help="run each fault's whole selection, to list every test that "
                        "catches it (slower); by default a run ends at its first catch")
    parser.add_argument("--widen", action="store_true",
                        help="run a fault that survives its requirement's tests against the "
                        "whole suite too (a catch there means a requirement marker is missing)")
    parser.add_argument("--out", type=Path, default=None,
                        help="report path without suffix; .md and .json are written (default "
                        "reports/kill-matrix, or reports/kill-matrix-<profile> with --target)")
    options = parser.parse_args(argv)
    if options.target is not None and not options.target.is_file():
        parser.error(f"no such profile: {options.target}")
    out = options.out or ROOT / "reports" / (
        f"kill-matrix-{options.target.stem}" if options.target else "kill-matrix")
    faults = list_faults()
    unknown = [n for n in options.fault if n not in {f.name for f in faults}]
    if unknown:
        parser.error(f"unknown fault(s): {', '.join(unknown)}")
    faults = choose(faults, options.fault, options.sample)
    on = f" on {options.target}" if options.target else ""
    print(f"kill matrix{on}: {len(faults)} fault(s), {options.jobs} job(s)", flush=True)
    matrix = build_matrix(faults, options.jobs, clean=not options.no_clean,
                          thorough=options.thorough, widen=options.widen,
                          target=options.target, excess_bound=options.excess_bound,
                          durations_from=out.with_suffix(".json"),
                          progress=lambda line: print(line, flush=True))
    print()
    print("\n".join(matrix.table()))
    md, js = write_reports(matrix, out)
    print(f"written: {md}, {js}")
    return 0 if matrix.ok else 1


if __name__ == "__main__":
    sys.exit(main())
