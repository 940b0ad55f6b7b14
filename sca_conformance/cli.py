"""sca-conformance: the conformance suite, its verdict and its HTML report, from anywhere.

    sca-conformance run [--target PROFILE] [--target-url URL] [--output DIR]
                        [--allure PATH] [--no-report] [-- PYTEST ARGS ...]
    sca-conformance report RESULTS... [--output DIR] [--allure PATH]
    sca-conformance list requirements|faults|templates|texts
    sca-conformance init --from TEMPLATE [PATH]
    sca-conformance setup [--no-browser]
    sca-conformance doctor [--target PROFILE] [--target-url URL] [--no-browser]
    sca-conformance --version | --help | COMMAND --help

`run` runs the suites shipped in the package (sca_conformance.suites; default target: the
embedded sandbox) and writes everything under one folder (default ./sca-report):
allure-results/, coverage-matrix.md and .json, html/ and single/ (the report), history/
(its trend, carried to the next run into the same folder), test-results/ (scrubbed traces
of failed tests) and .pytest_cache/ (for --lf). Nothing else in the folder it runs from
changes. pytest's own arguments go after `--`: `-k`, `-m`, `--lf`, `-n 2`,
`--requirement PAGE-7`, `--sca-strict` ... `--target` and `--target-url` together test the
URL with the profile's settings (one profile, another environment).

A run writes its results into a folder of its own and puts it in place of allure-results/
only once it has a verdict: help and `--collect-only` (`--co`, `--fixtures`, `--markers`,
`--help` ...) run no suite, build no report and leave every earlier result as it is. A
results folder that sca-conformance did not write (it has no .sca-conformance-results) is
never deleted: the run refuses to start (exit 4) until it is removed or --output changes.

`report` builds the report from existing Allure results folders (a run's, or the nightly's
shards: their results and their verdicts merged) into --output, from the installed package.

Exit status: the verdict's (0 CONFORMANT, 1 NON-CONFORMANT, 10 INCOMPLETE, 11 TARGET
UNUSABLE), pytest's own (2 interrupted, 3 internal error, 4 usage error, 5 no tests), 4 for
a usage error of this command (an unknown command or option: never a run), and 12 when the
report could not be built.

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
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from sca_conformance import __version__
from sca_conformance.cli_args import Parser, UsageError, parse_args
from sca_conformance.cli_prepare import init, list_command, setup
from sca_conformance.cli_prepare import templates as templates  # noqa: PLC0414
from sca_conformance.suggest import did_you_mean

DEFAULT_OUTPUT = Path("sca-report")
EXIT_USAGE = 4  # pytest's own code for a usage error
EXIT_REPORT_FAILED = 12  # the report could not be built (verdicts: 0, 1, 10, 11; pytest: 2-5)
NO_VERDICT = (2, 3, 4, 5)  # pytest's interrupted, internal error, usage error, no tests
# pytest's arguments that run no test: with one of them, a run only shows what pytest says.
INFORMATIONAL = frozenset({
    "-h", "--help", "--version", "-V", "--co", "--collect-only", "--collectonly", "--fixtures",
    "--funcargs", "--fixtures-per-test", "--markers", "--setup-plan",
})
# Written into every results folder a run or `report` makes: only such a folder is replaced.
MARKER = ".sca-conformance-results"


def _split(argv: list[str]) -> tuple[list[str], list[str]]:
    """Our arguments, and pytest's: everything after the first `--`."""
    if "--" in argv:
        at = argv.index("--")
        return argv[:at], argv[at + 1:]
    return argv, []


# run ------------------------------------------------------------------------------------


def _run_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="sca-conformance run",
        description="Run the SCA consent conformance suite against a target (default: the "
        "embedded sandbox) and build its report; pytest's arguments go after --.",
        allow_abbrev=False,
    )
    parser.add_argument("--target", metavar="PROFILE", type=Path,
                        help="the target's profile, a TOML file (sca-conformance init --from "
                        "TEMPLATE writes one)")
    parser.add_argument("--target-url", metavar="URL",
                        help="base URL of a running target (with --target: that profile's "
                        "settings for this URL)")
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


def informational(passed: Sequence[str]) -> bool:
    """Whether pytest's arguments ask it to show something instead of running tests."""
    return any(arg.split("=", 1)[0] in INFORMATIONAL for arg in passed)


def pytest_command(suites: Path, args: argparse.Namespace, passed: list[str],
                   results: Path | None = None) -> list[str]:
    """The suite's pytest; `results`: its Allure results folder (None: a run that shows
    something and writes nothing of its own)."""
    suites = suites.resolve()
    output: Path = args.output.resolve()
    command = [
        sys.executable, "-m", "pytest", str(suites),
        # The suites' own settings and root: a pytest.ini or conftest.py of the folder it
        # runs from is not the suite's (nor changed by it).
        "-c", str(suites / "suite.ini"), "--rootdir", str(suites),
        # pytest-playwright, should the environment have it, stays out of this run.
        "-p", "no:playwright", "-p", "no:playwright-asyncio",
        "-o", f"cache_dir={output / '.pytest_cache'}",
    ]
    if results is not None:
        command += [f"--alluredir={results.resolve()}", f"--coverage-matrix={output}",
                    f"--output={output / 'test-results'}"]
    if args.target is not None:
        command += ["--target", str(args.target.resolve())]
    if args.target_url:
        command += ["--target-url", args.target_url]
    return [*command, *passed]


def fresh_results(final: Path) -> Path:
    """A new, empty results folder beside `final`, marked as this command's."""
    final.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=f"{final.name}.", dir=final.parent))
    (fresh / MARKER).write_text(f"written by sca-conformance {__version__}; its next run or "
                                "report replaces this folder\n", encoding="utf-8")
    return fresh


def replaceable(final: Path) -> bool:
    """Whether a results folder may be replaced: absent, empty, or written by sca-conformance."""
    return not final.exists() or (final.is_dir() and (
        (final / MARKER).is_file() or not any(final.iterdir())))


def _check_replaceable(final: Path, command: str) -> None:
    if not replaceable(final):
        raise UsageError(f"sca-conformance {command}: {final} was not written by sca-conformance "
                         f"(it has no {MARKER}), and a run deletes nothing it did not write: "
                         "remove it, or choose another --output")


def put_in_place(fresh: Path, final: Path) -> Path:
    """`fresh` renamed to `final`, which it replaces if sca-conformance wrote it (or it is
    empty); a folder of anyone else stays, and the results keep their own name."""
    if final.exists():
        if not replaceable(final):
            print(f"sca-conformance: {final} was not written by sca-conformance: left as it "
                  f"is; this run's results are in {fresh}", file=sys.stderr)
            return fresh
        shutil.rmtree(final)
    fresh.rename(final)
    return final


def run(argv: list[str]) -> int:
    """Run the suites against a target and build the report (exit: the verdict's)."""
    ours, passed = _split(argv)
    args = parse_args(_run_parser(), ours, "; pytest's own arguments go after --: "
                  "sca-conformance run -- -k NAME")
    if args.target is not None and not args.target.is_file():
        raise UsageError(f"sca-conformance run: no profile at {args.target}")
    from sca_conformance.activation import suites_folder

    suites = args.suites or suites_folder()
    if suites is None or not (suites / "suite.ini").is_file():
        raise UsageError(f"sca-conformance run: no suites at {suites}")
    if informational(passed):
        return subprocess.run(pytest_command(suites, args, passed), check=False).returncode
    output: Path = args.output
    final = args.results or output / "allure-results"
    _check_replaceable(final, "run")
    output.mkdir(parents=True, exist_ok=True)
    fresh = fresh_results(final)
    status = subprocess.run(pytest_command(suites, args, passed, fresh), check=False).returncode
    # A usage error or an interrupted run has no verdict to report and replaces nothing;
    # every verdict has one, TARGET UNUSABLE too (so that no earlier report stands for it).
    if status in NO_VERDICT:
        shutil.rmtree(fresh)
        return status
    results = put_in_place(fresh, final)
    if args.no_report:
        return status
    built = _build(results, args.report or output / "html",
                   args.single_file_report or output / "single",
                   args.history or output / "history", args.allure)
    return status if built else EXIT_REPORT_FAILED


def _build(results: Path, html: Path, single: Path | None, history: Path,
           allure: str | None) -> bool:
    from sca_conformance.publish.builder import BuildError, build

    try:
        reports = build(results, html, single, history, allure=allure)
    except BuildError as error:
        print(f"sca-conformance: the report could not be built: {error}", file=sys.stderr)
        return False
    for report in reports:
        print(f"report: {report.resolve()}")
    return True


# report ---------------------------------------------------------------------------------


def _has_results(folder: Path) -> bool:
    return folder.is_dir() and any(
        p.name.endswith(("-result.json", "-container.json")) or p.name == "coverage-matrix.json"
        for p in folder.iterdir())


def report(argv: list[str]) -> int:
    """Build the report from existing Allure results folders (several: merged)."""
    parser = Parser(
        prog="sca-conformance report",
        description="Build the HTML report from Allure results folders: one run's, or several "
        "(the shards of one run: their results and verdicts merged). Exit: the verdict's, or "
        f"{EXIT_REPORT_FAILED} when the report could not be built.",
        allow_abbrev=False,
    )
    parser.add_argument("results", nargs="+", type=Path, metavar="RESULTS",
                        help="an Allure results folder (--alluredir of a run)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, metavar="DIR",
                        help="where allure-results/ (merged), html/, single/, history/ and the "
                        "coverage matrix go (default: ./sca-report)")
    parser.add_argument("--allure", metavar="PATH", help="the Allure 2 generator")
    parser.add_argument("--no-single-file", action="store_true",
                        help="the report as a folder only (html/), no single/index.html")
    args = parse_args(parser, argv)
    folders: list[Path] = args.results
    for folder in folders:
        if not _has_results(folder):
            raise UsageError(f"sca-conformance report: no Allure results in {folder} (a "
                             "folder of *-result.json files, a run's --alluredir)")
    output: Path = args.output
    final = output / "allure-results"
    _check_replaceable(final, "report")
    output.mkdir(parents=True, exist_ok=True)
    fresh = fresh_results(final)
    for folder in folders:
        for path in folder.iterdir():
            if path.is_file() and path.name != MARKER:
                shutil.copy2(path, fresh / path.name)
    status = 0
    summaries = [folder / "coverage-matrix.json" for folder in folders
                 if (folder / "coverage-matrix.json").is_file()]
    if summaries:
        # The nightly's merge of the shards' verdicts (python -m sca_conformance.publish.merge).
        from sca_conformance.publish.merge import main as merge_verdicts

        status = merge_verdicts([*map(str, summaries), "--results", str(fresh),
                                 "--json", str(output / "coverage-matrix.json"),
                                 "--markdown", str(output / "coverage-matrix.md")])
    results = put_in_place(fresh, final)
    built = _build(results, output / "html", None if args.no_single_file else output / "single",
                   output / "history", args.allure)
    return status if built else EXIT_REPORT_FAILED


def doctor(argv: list[str]) -> int:
    """Checks a target's set-up (key, TLS, proxy, login, paths, browser) and prints the plan."""
    from sca_conformance.doctor import main as run_doctor

    try:
        return run_doctor(argv)
    except SystemExit as done:  # argparse has said what is wrong with the arguments
        if done.code == 2:
            return EXIT_USAGE
        raise


# The commands: one line each (name -> function; its docstring's first line is its help).
COMMANDS: dict[str, Callable[[list[str]], int]] = {
    "run": run,
    "report": report,
    "list": list_command,
    "init": init,
    "setup": setup,
    "doctor": doctor,
}


def usage() -> str:
    commands = "\n".join(f"  {name:<8} {(command.__doc__ or '').strip().splitlines()[0]}"
                         for name, command in COMMANDS.items())
    return (f"usage: sca-conformance [--version] [--help] COMMAND [ARGS]\n\ncommands:\n{commands}"
            "\n\n`sca-conformance COMMAND --help` for each; `sca-conformance --help`: all of it.")


def _dispatch(args: list[str]) -> int:
    if not args:
        print(usage(), file=sys.stderr)
        return EXIT_USAGE
    first, rest = args[0], args[1:]
    if first in ("-h", "--help"):
        print(__doc__)
        return 0
    if first in ("-V", "--version"):
        print(f"sca-conformance {__version__}")
        return 0
    if first in COMMANDS:
        return COMMANDS[first](rest)
    if first.startswith("-"):
        option = first.split("=", 1)[0]
        if option in _run_parser()._option_string_actions:
            raise UsageError(f"sca-conformance: unknown option {first}; did you mean "
                             f"`sca-conformance run {' '.join(args)}`?")
        raise UsageError(f"sca-conformance: unknown option {first}"
                         f"{did_you_mean(option, ['--help', '--version'])}")
    raise UsageError(f"sca-conformance: unknown command {first!r}{did_you_mean(first, COMMANDS)}")


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _dispatch(list(sys.argv[1:] if argv is None else argv))
    except UsageError as error:
        print(f"{error} (sca-conformance --help)", file=sys.stderr)
        return EXIT_USAGE
    except SystemExit as done:  # argparse's --help of a command
        return done.code if isinstance(done.code, int) else 0
    except BrokenPipeError:  # `sca-conformance list requirements | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
