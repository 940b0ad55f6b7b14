"""Flakiness hunt: the whole suite against the clean embedded sandbox, N times, each in a
random order (pytest-random-order, one seed per run), and every test that did not pass
every time. `--load N` keeps N processes busy on the CPU through every run (a bounded
load generator that this script starts before each run and stops after it), the machine
a nightly shares: `--load 2 -m browser` is the browser tests with both cores of a 2-core
machine kept busy (`make flaky-load`).

    python -m scripts.flaky --runs 10 [--workers 2] [--seed N] [--bucket global]
                            [--load N] [-m MARKEXPR]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scripts.kill_matrix import ROOT, SUITES, Outcome, parse_probe

RUN_TIMEOUT = 900  # seconds for one whole-suite run


def _spin(seconds: float) -> None:
    """Keeps one core busy, for at most `seconds` (it stops by itself)."""
    deadline = time.monotonic() + seconds
    value = 0
    while time.monotonic() < deadline:
        value = (value * 31 + 7) % 1_000_003


class CpuLoad:
    """`processes` busy loops, started on entering and stopped on leaving; each also ends by
    itself after `limit` seconds, so nothing outlives a run that was killed."""

    def __init__(self, processes: int, limit: float = RUN_TIMEOUT) -> None:
        self.processes = processes
        self.limit = limit
        self.workers: list[multiprocessing.Process] = []

    def __enter__(self) -> CpuLoad:
        self.workers = [multiprocessing.Process(target=_spin, args=(self.limit,), daemon=True)
                        for _ in range(self.processes)]
        for worker in self.workers:
            worker.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        for worker in self.workers:
            worker.terminate()
        for worker in self.workers:
            worker.join(timeout=5)


@dataclass
class SuiteRun:
    seed: int
    exit_code: int
    seconds: float
    outcomes: list[Outcome] = field(default_factory=list)
    kept: str = ""  # the run's folder (traces, outcomes), kept when something did not pass


def run_once(seed: int, workers: int, bucket: str, load: int = 0, marks: str = "") -> SuiteRun:
    args = [sys.executable, "-m", "pytest", str(SUITES), "-p", "no:cacheprovider", "-q",
            "-p", "scripts.kill_matrix_probe",
            f"--random-order-bucket={bucket}", f"--random-order-seed={seed}"]
    if marks:
        args += ["-m", marks]
    if workers > 1:
        args += ["-n", str(workers)]
    env = {k: v for k, v in os.environ.items()
           if k not in ("SCA_STRICT", "SCA_SANDBOX_FAULTS", "PYTEST_ADDOPTS", "SCA_TARGET_URL")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    folder = Path(tempfile.mkdtemp(prefix="flaky-"))
    probe = folder / "outcomes.jsonl"
    env["KILL_MATRIX_PROBE_OUT"] = str(probe)
    started = time.monotonic()
    try:
        with CpuLoad(load):
            done = subprocess.run(args, cwd=folder, env=env, capture_output=True, text=True,
                                  timeout=RUN_TIMEOUT, check=False)
        code, output = done.returncode, done.stdout + done.stderr
    except subprocess.TimeoutExpired:
        code, output = -1, f"timed out after {RUN_TIMEOUT}s"
    (folder / "output.txt").write_text(output, encoding="utf-8")
    run = SuiteRun(seed, code, round(time.monotonic() - started, 1), parse_probe(probe))
    if code != 0 or any(o.outcome != "passed" for o in run.outcomes):
        run.kept = str(folder)
    else:
        shutil.rmtree(folder, ignore_errors=True)
    return run


@dataclass
class Findings:
    runs: list[SuiteRun]
    # nodeid -> outcome per run (None: the test was not in that run's report)
    outcomes: dict[str, list[str | None]]

    @property
    def unstable(self) -> dict[str, list[str | None]]:
        return {nodeid: seen for nodeid, seen in self.outcomes.items()
                if any(outcome != "passed" for outcome in seen)}

    @property
    def broken_runs(self) -> list[SuiteRun]:
        return [r for r in self.runs if r.exit_code != 0 or not r.outcomes]

    @property
    def ok(self) -> bool:
        return not self.unstable and not self.broken_runs


def collect(runs: list[SuiteRun]) -> Findings:
    seen: dict[str, list[str | None]] = defaultdict(lambda: [None] * len(runs))
    for index, run in enumerate(runs):
        for outcome in run.outcomes:
            seen[outcome.nodeid][index] = outcome.outcome
    return Findings(runs, dict(sorted(seen.items())))


def report_lines(findings: Findings) -> list[str]:
    runs = findings.runs
    lines = [f"{len(runs)} run(s), seeds: {', '.join(str(r.seed) for r in runs)}"]
    for index, run in enumerate(runs, 1):
        counts = Counter(o.outcome for o in run.outcomes)
        summary = ", ".join(f"{n} {name}" for name, n in sorted(counts.items()))
        kept = f"; kept {run.kept}" if run.kept else ""
        lines.append(f"  run {index}: seed {run.seed}, exit {run.exit_code}, "
                     f"{run.seconds:.0f}s: {summary or 'no report'}{kept}")
    unstable = findings.unstable
    if not unstable:
        lines.append(f"every one of {len(findings.outcomes)} tests passed in every run")
        return lines
    lines.append(f"{len(unstable)} test(s) did not pass every time:")
    messages = {(i, o.nodeid): o.message for i, r in enumerate(runs) for o in r.outcomes}
    for nodeid, seen in unstable.items():
        passed = sum(outcome == "passed" for outcome in seen)
        kind = "FLAKY" if passed else "ALWAYS FAILING"
        lines.append(f"  {kind} {nodeid}: passed {passed}/{len(seen)}")
        for index, outcome in enumerate(seen):
            if outcome != "passed":
                message = messages.get((index, nodeid), "")[:160].replace("\n", " ")
                lines.append(f"      seed {runs[index].seed}: {outcome or 'missing'} {message}")
    return lines


def as_json(findings: Findings) -> dict[str, Any]:
    return {
        "runs": [{"seed": r.seed, "exit_code": r.exit_code, "seconds": r.seconds,
                  "tests": len(r.outcomes), "kept": r.kept} for r in findings.runs],
        "unstable": findings.unstable,
        "tests": len(findings.outcomes),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.flaky", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2,
                        help="pytest-xdist workers per run (1: serial; default 2)")
    parser.add_argument("--seed", type=int, default=None,
                        help="first seed (the runs use seed, seed+1, ...); default: random")
    parser.add_argument("--bucket", default="global",
                        choices=["global", "package", "module", "class", "parent"],
                        help="what pytest-random-order shuffles within (default: global)")
    parser.add_argument("--load", type=int, default=0, metavar="N",
                        help="keep N processes busy on the CPU during every run (default 0)")
    parser.add_argument("-m", dest="marks", default="", metavar="MARKEXPR",
                        help="only the tests this marker expression selects, e.g. browser")
    parser.add_argument("--out", type=Path, default=None,
                        help="report path without suffix (default reports/flaky, or "
                        "reports/flaky-load with --load)")
    options = parser.parse_args(argv)
    first = options.seed if options.seed is not None else random.SystemRandom().randrange(10**6)
    seeds = [first + i for i in range(options.runs)]
    out = options.out or ROOT / "reports" / ("flaky-load" if options.load else "flaky")
    what = f"the tests marked {options.marks!r}" if options.marks else "the whole suite"
    load = f", {options.load} busy process(es) of CPU load" if options.load else ""
    print(f"flaky: {options.runs} run(s) of {what}, {options.workers} worker(s){load}, "
          f"random order ({options.bucket}); seeds {', '.join(map(str, seeds))}", flush=True)
    started = time.monotonic()
    runs = []
    for index, seed in enumerate(seeds, 1):
        run = run_once(seed, options.workers, options.bucket, options.load, options.marks)
        bad = sum(o.outcome != "passed" for o in run.outcomes)
        print(f"run {index}/{len(seeds)} seed {seed}: exit {run.exit_code}, "
              f"{len(run.outcomes)} tests, {bad} not passed, {run.seconds:.0f}s", flush=True)
        runs.append(run)
    findings = collect(runs)
    lines = report_lines(findings)
    lines.append(f"wall time {time.monotonic() - started:.0f}s")
    print("\n".join(lines))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(as_json(findings), indent=2))
    out.with_suffix(".md").write_text("\n".join(["# Flakiness", f"{what}{load}", "", *lines])
                                      + "\n")
    return 0 if findings.ok else 1


if __name__ == "__main__":
    sys.exit(main())
