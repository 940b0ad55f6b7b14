"""sca-conformance: the conformance suite, then its HTML report (what `make conformance` does).

    sca-conformance [--suites suites] [--results reports/allure-results]
                    [--report reports/html] [--single-file-report reports/single]
                    [--history reports/history] [--no-report] [PYTEST ARGS ...]

Every other argument goes to pytest, e.g. `sca-conformance -n auto --target-url URL`.
The exit status is the verdict's (README: 0 CONFORMANT, 1 NON-CONFORMANT, 10 INCOMPLETE,
11 TARGET UNUSABLE) or pytest's own (2-5), or 1 when the report cannot be built.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path


def parse(argv: Sequence[str] | None) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(
        prog="sca-conformance",
        description="Run the SCA consent conformance suite and build its Allure report; "
        "other arguments go to pytest.",
        allow_abbrev=False,
    )
    parser.add_argument("--suites", type=Path, default=Path("suites"),
                        help="the folder of the conformance suites (default: suites)")
    parser.add_argument("--results", type=Path, default=Path("reports/allure-results"),
                        help="Allure results folder, emptied first")
    parser.add_argument("--report", type=Path, default=Path("reports/html"))
    parser.add_argument("--single-file-report", type=Path, default=Path("reports/single"))
    parser.add_argument("--history", type=Path, default=Path("reports/history"))
    parser.add_argument("--no-report", action="store_true", help="run the suite only")
    return parser.parse_known_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args, pytest_args = parse(argv)
    if not args.suites.is_dir():
        print(f"sca-conformance: no suites at {args.suites} (give --suites FOLDER)",
              file=sys.stderr)
        return 4
    shutil.rmtree(args.results, ignore_errors=True)
    command = [sys.executable, "-m", "pytest", str(args.suites),
               f"--alluredir={args.results}", *pytest_args]
    status = subprocess.run(command, check=False).returncode
    # A usage error or an interrupted run has no verdict to report; every verdict has one,
    # TARGET UNUSABLE too (the report says so, so that no earlier report stands for it).
    if args.no_report or status in (2, 3, 4, 5):
        return status
    try:
        from sca_conformance.report import BuildError, build
    except ImportError as error:
        print(f"sca-conformance: the report needs the [report] extra ({error}): "
              "pip install 'sca-conformance[report]'", file=sys.stderr)
        return status or 1
    try:
        reports = build(args.results, args.report, args.single_file_report, args.history)
    except BuildError as error:
        print(f"sca-conformance: report: {error}", file=sys.stderr)
        return status or 1
    for report in reports:
        print(f"report: {report.resolve()}")
    return status


if __name__ == "__main__":
    sys.exit(main())
