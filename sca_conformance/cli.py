"""sca-conformance: the conformance suite, its verdict and its HTML report, from anywhere.

    sca-conformance run [--target PROFILE | --target-url URL] [--output DIR]
                        [--allure PATH] [--no-report] [-- PYTEST ARGS ...]
    sca-conformance setup [--no-browser]

`run` runs the suites shipped in the package (sca_conformance.suites; default target: the
embedded sandbox) and writes everything under one folder (default ./sca-report):
allure-results/, coverage-matrix.md and .json, html/ and single/ (the report), history/
(its trend, carried to the next run into the same folder), test-results/ (scrubbed traces
of failed tests) and .pytest_cache/ (for --lf). Nothing else in the folder it runs from
changes. Arguments after `--` (and any it does not know) go to pytest: `-k`, `-m`, `--lf`,
`-n 2`, `--requirement PAGE-7`, `--sca-strict` ...

The exit status is the verdict's (README: 0 CONFORMANT, 1 NON-CONFORMANT, 10 INCOMPLETE,
11 TARGET UNUSABLE) or pytest's own (2-5), or 1 when the report cannot be built.

`setup` installs, once, what the report and the browser need outside Python: the Allure 2
generator at the version the package pins (into the user's cache, never into
site-packages), and a Chromium where none is found; it says in one sentence what is missing
(Java, npm) that it cannot install.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from sca_conformance.activation import suites_folder

DEFAULT_OUTPUT = Path("sca-report")
COMMANDS = ("run", "setup")


def _run_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sca-conformance run",
        description="Run the SCA consent conformance suite against a target (default: the "
        "embedded sandbox) and build its report; arguments after -- go to pytest.",
        allow_abbrev=False,
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--target", metavar="PROFILE", type=Path,
                       help="the target's profile, a TOML file (see the README's profiles)")
    where.add_argument("--target-url", metavar="URL",
                       help="base URL of a running target (its profile: the default)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, metavar="DIR",
                        help="folder of everything the run writes (default: ./sca-report)")
    parser.add_argument("--allure", metavar="PATH",
                        help="the Allure 2 generator (else $SCA_ALLURE, allure on PATH, or "
                        "the one `sca-conformance setup` installed)")
    parser.add_argument("--no-report", action="store_true",
                        help="run the suite and write its verdict, no HTML report")
    parser.add_argument("--suites", type=Path, default=None, help=argparse.SUPPRESS)
    # Where the folders under --output are not wanted (CI's fixed layout); rarely needed.
    parser.add_argument("--results", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--report", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--single-file-report", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--history", type=Path, help=argparse.SUPPRESS)
    return parser


def _split(argv: list[str]) -> tuple[list[str], list[str]]:
    """Our arguments, and pytest's: everything after the first `--`."""
    if "--" in argv:
        at = argv.index("--")
        return argv[:at], argv[at + 1:]
    return argv, []


def pytest_command(suites: Path, args: argparse.Namespace, passed: list[str]) -> list[str]:
    suites = suites.resolve()
    output: Path = args.output.resolve()
    results = (args.results or output / "allure-results").resolve()
    command = [
        sys.executable, "-m", "pytest", str(suites),
        # The suites' own settings and root: a pytest.ini or conftest.py of the folder it
        # runs from is not the suite's (nor changed by it).
        "-c", str(suites / "suite.ini"), "--rootdir", str(suites),
        # pytest-playwright, should the environment have it, stays out of this run.
        "-p", "no:playwright", "-p", "no:playwright-asyncio",
        "-o", f"cache_dir={output / '.pytest_cache'}",
        f"--alluredir={results}",
        f"--coverage-matrix={output}",
        f"--output={output / 'test-results'}",
    ]
    if args.target is not None:
        command += ["--target", str(args.target.resolve())]
    if args.target_url:
        command += ["--target-url", args.target_url]
    return [*command, *passed]


def run(argv: list[str]) -> int:
    ours, passed = _split(argv)
    args, unknown = _run_parser().parse_known_args(ours)
    passed = [*unknown, *passed]
    if args.target is not None and not args.target.is_file():
        print(f"sca-conformance: no profile at {args.target}", file=sys.stderr)
        return 4
    suites = args.suites or suites_folder()
    if suites is None or not (suites / "suite.ini").is_file():
        print(f"sca-conformance: no suites at {suites}", file=sys.stderr)
        return 4
    output: Path = args.output
    results = args.results or output / "allure-results"
    output.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(results, ignore_errors=True)
    status = subprocess.run(pytest_command(suites, args, passed), check=False).returncode
    # A usage error or an interrupted run has no verdict to report; every verdict has one,
    # TARGET UNUSABLE too (the report says so, so that no earlier report stands for it).
    if args.no_report or status in (2, 3, 4, 5):
        return status
    from sca_conformance.publish.builder import BuildError, build

    try:
        reports = build(
            results,
            args.report or output / "html",
            args.single_file_report or output / "single",
            args.history or output / "history",
            allure=args.allure,
        )
    except BuildError as error:
        print(f"sca-conformance: report: {error}", file=sys.stderr)
        return status or 1
    for report in reports:
        print(f"report: {report.resolve()}")
    return status


def setup(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="sca-conformance setup",
        description="Install the Allure 2 report generator (pinned, into the user's cache) "
        "and, where none is found, a Chromium.",
    )
    parser.add_argument("--no-browser", action="store_true", help="leave the browser alone")
    args = parser.parse_args(argv)
    from sca_conformance.publish.allure_tool import ToolMissing, install_allure, java_problem

    problems: list[str] = []
    try:
        print(f"setup: Allure 2 generator at {install_allure()}")
    except ToolMissing as missing:
        problems.append(str(missing))
    if problem := java_problem():
        problems.append(problem)
    if not args.no_browser and (problem := _browser()):
        problems.append(problem)
    for problem in problems:
        print(f"sca-conformance setup: {problem}", file=sys.stderr)
    return 1 if problems else 0


def _browser() -> str | None:
    """A Chromium for Playwright: the machine's, else Debian's (as root), else Playwright's
    own download. None when one is there."""
    from sca_conformance.chromium import chromium_executable

    if chromium_executable() or os.environ.get("SCA_PLAYWRIGHT_CHROMIUM"):
        return None
    if shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        print("setup: installing Debian's chromium and chromium-headless-shell", file=sys.stderr)
        subprocess.run(["apt-get", "update", "-qq"], check=False)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium", "chromium-headless-shell"],
                       check=False, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        if chromium_executable():
            return None
    done = subprocess.run([sys.executable, "-m", "playwright", "install", "chromium"], check=False)
    if done.returncode == 0:
        print("setup: Playwright's Chromium installed; run with SCA_PLAYWRIGHT_CHROMIUM=1",
              file=sys.stderr)
        return None
    return ("no Chromium found and none could be installed: install chromium (Debian: apt-get "
            "install chromium) or set SCA_BROWSER_PATH to a Chromium binary")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    if args and args[0] == "setup":
        return setup(args[1:])
    if args and args[0] == "run":
        return run(args[1:])
    return run(args)  # `sca-conformance [options]` is `sca-conformance run [options]`


if __name__ == "__main__":
    sys.exit(main())
