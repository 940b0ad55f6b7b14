"""The kill matrix: the suite proves itself against every named sandbox fault.

For each fault the sandbox can inject (`python -m sca_sandbox --list-faults`, read at run
time), run the tests that prove the fault's requirement against a sandbox started with
that fault, and decide whether the suite caught it:

- MUST fault: KILLED when the run fails and a failing test's message names the
  requirement (`MUST <ID> violated: ...`).
- SHOULD fault: KILLED when the default run passes with a `SHOULD warning [<ID>] ...`
  xfail, and a second run with `--strict` fails naming the requirement.

The clean sandbox (no fault) runs the whole suite once and must pass without warnings.

    python -m scripts.kill_matrix [--jobs 2] [--fault NAME ...] [--out reports/kill-matrix]
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

from sca_conformance.requirements import requirement

ROOT = Path(__file__).resolve().parent.parent
SUITES = ROOT / "suites"
RUN_TIMEOUT = 600  # seconds; one run is normally well under a minute
# Installed pytest plugins the suite does not use; not loading them saves a second a run.
UNUSED_PLUGINS = ("hypothesispytest", "schemathesis", "xdist", "xdist.looponfail",
                  "pytest-split", "anyio", "random_order")
_FAULT_LINE = re.compile(r"^(?P<name>[a-z0-9][a-z0-9-]*)\s+(?P<id>[A-Z]+-\d+)\s+(?P<text>.*)$")
_WARNING = re.compile(r"SHOULD warning \[(?P<ids>[^\]]*)\]")


@dataclass(frozen=True)
class Fault:
    name: str
    requirement: str
    description: str

    @property
    def level(self) -> str:
        return requirement(self.requirement).level


@dataclass
class Outcome:
    """One test's result in one run, with the message it failed or warned with."""

    nodeid: str
    outcome: str  # passed, failed, error, xfailed, skipped
    message: str = ""


@dataclass
class Run:
    args: list[str]
    exit_code: int
    seconds: float
    outcomes: list[Outcome] = field(default_factory=list)
    output_tail: str = ""

    def with_outcome(self, *names: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.outcome in names]


@dataclass
class Verdict:
    fault: str
    requirement: str
    level: str
    description: str
    killed: bool
    caught_by: list[str]
    reason: str
    runs: dict[str, Run]
    widened: bool = False  # caught only by the whole suite, not by its requirement's tests


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


_WORST = {"failed": 4, "error": 3, "xfailed": 2, "skipped": 1, "passed": 0}


def parse_probe(path: Path) -> list[Outcome]:
    """One outcome per test from the probe's lines (one per phase): the worst phase wins."""
    if not path.exists():
        return []
    tests: dict[str, Outcome] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        seen = json.loads(line)
        now = Outcome(seen["nodeid"], seen["outcome"], seen["message"])
        before = tests.get(now.nodeid)
        if before is None or _WORST[now.outcome] > _WORST[before.outcome]:
            tests[now.nodeid] = now
    return list(tests.values())


def run_suite(
    faults: Sequence[str] = (),
    requirements: Sequence[str] = (),
    strict: bool = False,
    stop_on: str = "",
    python: str = sys.executable,
) -> Run:
    """One pytest run of the suite in a scratch folder (its traces and reports stay there).

    `stop_on` ("MUST PAGE-3") ends the run at the first failure naming that violation."""
    args = [str(SUITES), "-p", "no:cacheprovider", "-q", "-p", "scripts.kill_matrix_probe"]
    for plugin in UNUSED_PLUGINS:
        args += ["-p", f"no:{plugin}"]
    for name in faults:
        args += ["--sandbox-fault", name]
    if requirements:
        args += ["--requirement", ",".join(requirements)]
    if strict:
        args.append("--strict")
    env = {k: v for k, v in os.environ.items()
           if k not in ("SCA_STRICT", "SCA_SANDBOX_FAULTS", "PYTEST_ADDOPTS", "SCA_TARGET_URL")}
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
        return Run(
            args=args, exit_code=code, seconds=round(time.monotonic() - started, 1),
            outcomes=parse_probe(probe), output_tail=str(output)[-3000:],
        )


def names_violation(message: str, requirement_id: str, level: str) -> bool:
    return re.search(rf"\b{level} {re.escape(requirement_id)} violated\b", message) is not None


def warns(message: str, requirement_id: str) -> bool:
    match = _WARNING.search(message)
    return match is not None and requirement_id in [i.strip() for i in match["ids"].split(",")]


def judge(fault: Fault, default: Run, strict: Run | None) -> Verdict:
    rid, level = fault.requirement, fault.level
    runs = {"default": default} | ({"strict": strict} if strict else {})

    def verdict(killed: bool, caught: Iterable[str], reason: str) -> Verdict:
        return Verdict(fault.name, rid, level, fault.description, killed, sorted(set(caught)),
                       reason, runs)

    if not default.outcomes:
        return verdict(False, [], f"no test ran (exit {default.exit_code})")
    if level == "MUST":
        caught = [o.nodeid for o in default.with_outcome("failed", "error")
                  if names_violation(o.message, rid, "MUST")]
        if default.exit_code != 0 and caught:
            return verdict(True, caught, "default run fails naming the requirement")
        return verdict(False, [], f"default run exit {default.exit_code}; "
                       f"no failure names MUST {rid}")
    warned = [o.nodeid for o in default.with_outcome("xfailed") if warns(o.message, rid)]
    failing = default.with_outcome("failed", "error")
    assert strict is not None
    strict_caught = [o.nodeid for o in strict.with_outcome("failed", "error")
                     if names_violation(o.message, rid, "SHOULD")]
    problems = []
    if default.exit_code != 0 or failing:
        problems.append(f"default run exit {default.exit_code} "
                        f"({len(failing)} failing: {failing[0].message[:120] if failing else ''})")
    if not warned:
        problems.append(f"no SHOULD warning [{rid}] by default")
    if strict.exit_code == 0 or not strict_caught:
        problems.append(f"strict run exit {strict.exit_code}; no failure names SHOULD {rid}")
    if problems:
        return verdict(False, warned + strict_caught, "; ".join(problems))
    return verdict(True, warned + strict_caught, "warns by default, fails in strict mode")


@dataclass
class Matrix:
    clean: Run | None
    verdicts: list[Verdict]
    seconds: float
    jobs: int

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

    def totals(self) -> str:
        killed = len(self.verdicts) - len(self.survivors)
        if self.clean is None:
            clean = "clean sandbox not run"
        else:
            clean = (f"clean sandbox {'passed' if self.clean_passed else 'FAILED'} "
                     f"({len(self.clean.outcomes)} tests)")
        return (f"{len(self.verdicts)} faults: {killed} killed, {len(self.survivors)} survived; "
                f"{clean}; wall time {self.seconds:.0f}s with {self.jobs} job(s)")

    def table(self) -> list[str]:
        rows = [("fault", "requirement", "level", "result", "caught by")]
        for v in self.verdicts:
            caught = _short(v.caught_by) if v.killed else v.reason
            rows.append((v.fault, v.requirement, v.level, _result(v), caught))
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r[:4], widths, strict=True)) + "  " + r[4]
                 for r in rows]
        lines.insert(1, "-" * min(120, max(len(line) for line in lines)))
        lines.append(self.totals())
        for problem in self.clean_problems():
            lines.append(f"clean sandbox: {problem}")
        return lines

    def markdown(self) -> str:
        lines = ["# Kill matrix", "", self.totals(), "",
                 "| Fault | Requirement | Level | Result | Caught by / reason |",
                 "|---|---|---|---|---|"]
        for v in self.verdicts:
            caught = "<br>".join(f"`{t}`" for t in v.caught_by) if v.killed else v.reason
            lines.append(f"| `{v.fault}` | {v.requirement} | {v.level} | "
                         f"{_result(v) if v.killed else '**SURVIVED**'} | {caught} |")
        if self.clean_problems():
            lines += ["", "## Clean sandbox problems", ""]
            lines += [f"- {p}" for p in self.clean_problems()]
        return "\n".join(lines) + "\n"

    def as_json(self) -> dict[str, Any]:
        def run(r: Run, keep_output: bool) -> dict[str, Any]:
            data = asdict(r)
            data["outcomes"] = [asdict(o) for o in r.outcomes if o.outcome != "passed"]
            data["tests"] = len(r.outcomes)
            if not keep_output:
                data.pop("output_tail")
            return data

        return {
            "seconds": self.seconds,
            "jobs": self.jobs,
            "clean": (None if self.clean is None
                      else {"passed": self.clean_passed, **run(self.clean, not self.clean_passed)}),
            "faults": [
                {"fault": v.fault, "requirement": v.requirement, "level": v.level,
                 "description": v.description, "killed": v.killed, "caught_by": v.caught_by,
                 "reason": v.reason, "widened": v.widened,
                 "runs": {mode: run(r, not v.killed) for mode, r in v.runs.items()}}
                for v in self.verdicts
            ],
            "killed": len(self.verdicts) - len(self.survivors),
            "survived": [v.fault for v in self.survivors],
        }


def _result(verdict: Verdict) -> str:
    if not verdict.killed:
        return "SURVIVED"
    return "killed (widened)" if verdict.widened else "killed"


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
    durations_from: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> Matrix:
    """Runs the clean suite and every fault on a pool of `jobs` concurrent pytest runs.

    Unless `thorough`, a run stops at its first catch: "caught by" then names that test.
    With `widen`, a fault that survives its requirement's tests runs against the whole
    suite; a catch there is marked as widened (a requirement marker is missing)."""
    started = time.monotonic()
    chosen = list(faults) if faults is not None else list_faults()
    say = progress or (lambda _line: None)
    # (fault, mode) -> run arguments. A MUST fault's run, and a SHOULD fault's strict run,
    # may end at the first catch; a SHOULD fault's default run must run its whole
    # selection to show that it passes.
    planned: dict[tuple[str, str], dict[str, Any]] = {}
    if clean:
        planned[("", "clean")] = {}
    for f in chosen:
        planned[(f.name, "default")] = {
            "faults": [f.name], "requirements": [f.requirement],
            "stop_on": "" if thorough or f.level == "SHOULD" else f"MUST {f.requirement}",
        }
        if f.level == "SHOULD":
            planned[(f.name, "strict")] = {
                "faults": [f.name], "requirements": [f.requirement], "strict": True,
                "stop_on": "" if thorough else f"SHOULD {f.requirement}",
            }
    # Longest first (as the last matrix measured them), so the pool does not end on one
    # long run while the other job slots idle.
    last = previous_seconds(durations_from)
    order = sorted(planned, key=lambda key: -last.get(key, 1000.0 if key[1] == "clean" else 30.0))
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        submitted = {key: pool.submit(run_suite, **planned[key]) for key in order}
        clean_run = submitted.get(("", "clean"))
        default_runs = {f.name: submitted[(f.name, "default")] for f in chosen}
        strict_runs = {f.name: submitted[(f.name, "strict")] for f in chosen
                       if (f.name, "strict") in submitted}
        verdicts = []
        for fault in chosen:
            strict = strict_runs[fault.name].result() if fault.name in strict_runs else None
            verdict = judge(fault, default_runs[fault.name].result(), strict)
            say(f"{'killed  ' if verdict.killed else 'SURVIVED'} {fault.name} "
                f"({fault.requirement}, {sum(r.seconds for r in verdict.runs.values()):.0f}s)")
            verdicts.append(verdict)
        if widen:
            verdicts = [widened(v, pool, say) if not v.killed else v for v in verdicts]
        clean_result = clean_run.result() if clean_run else None
        if clean_result is not None:
            say(f"clean sandbox: exit {clean_result.exit_code}, "
                f"{len(clean_result.outcomes)} tests, {clean_result.seconds:.0f}s")
    return Matrix(clean_result, verdicts, round(time.monotonic() - started, 1), jobs)


def widened(survivor: Verdict, pool: ThreadPoolExecutor,
            say: Callable[[str], None]) -> Verdict:
    fault = Fault(survivor.fault, survivor.requirement, survivor.description)
    stop = "" if fault.level == "SHOULD" else f"MUST {fault.requirement}"
    default = pool.submit(run_suite, [fault.name], stop_on=stop)
    strict = (pool.submit(run_suite, [fault.name], strict=True,
                          stop_on=f"SHOULD {fault.requirement}")
              if fault.level == "SHOULD" else None)
    verdict = judge(fault, default.result(), strict.result() if strict else None)
    if not verdict.killed:
        verdict.reason = f"{survivor.reason}; whole suite: {verdict.reason}"
        return verdict
    verdict.widened = True
    verdict.reason = f"caught only by the whole suite: {verdict.reason}"
    say(f"killed (whole suite) {fault.name} ({fault.requirement})")
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.kill_matrix", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=2, help="concurrent pytest runs (default 2)")
    parser.add_argument("--fault", action="append", default=[], metavar="NAME",
                        help="only this fault (repeatable); default: every listed fault")
    parser.add_argument("--no-clean", action="store_true",
                        help="skip the clean-sandbox run of the whole suite")
    parser.add_argument("--thorough", action="store_true",
                        help="run each fault's whole selection, to list every test that "
                        "catches it (slower); by default a run ends at its first catch")
    parser.add_argument("--widen", action="store_true",
                        help="run a fault that survives its requirement's tests against the "
                        "whole suite too (a catch there means a requirement marker is missing)")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "kill-matrix",
                        help="report path without suffix; .md and .json are written")
    options = parser.parse_args(argv)
    faults = list_faults()
    if options.fault:
        known = {f.name: f for f in faults}
        unknown = [n for n in options.fault if n not in known]
        if unknown:
            parser.error(f"unknown fault(s): {', '.join(unknown)}")
        faults = [known[n] for n in options.fault]
    print(f"kill matrix: {len(faults)} fault(s), {options.jobs} job(s)", flush=True)
    matrix = build_matrix(faults, options.jobs, clean=not options.no_clean,
                          thorough=options.thorough, widen=options.widen,
                          durations_from=options.out.with_suffix(".json"),
                          progress=lambda line: print(line, flush=True))
    print()
    print("\n".join(matrix.table()))
    md, js = write_reports(matrix, options.out)
    print(f"written: {md}, {js}")
    return 0 if matrix.ok else 1


if __name__ == "__main__":
    sys.exit(main())
