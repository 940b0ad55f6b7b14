"""The commands that prepare a run: `list` (requirements, faults, profile templates, text
keys), `init` (a profile from a template) and `setup` (the report generator and a
Chromium)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from sca_conformance.cli_args import Parser, UsageError, parse_args
from sca_conformance.suggest import did_you_mean


def _requirements() -> list[str]:
    from sca_conformance.requirements import registry

    return [f"{req.id:<11} {req.level:<6} {req.text}" for req in registry().values()]


def _faults() -> list[str]:
    from sca_sandbox.faults import FAULTS

    return [f"{fault.name:<36} {fault.requirement:<11} {fault.description}"
            for fault in FAULTS.values()]


def templates() -> dict[str, str]:
    """The profile templates shipped in the package: name -> its text."""
    from importlib import resources

    folder = resources.files("sca_conformance.profiles")
    return {entry.name.removesuffix(".toml"): entry.read_text(encoding="utf-8")
            for entry in sorted(folder.iterdir(), key=lambda e: e.name)
            if entry.name.endswith(".toml")}


def _templates() -> list[str]:
    lines = []
    for name, text in templates().items():
        first = next((line.lstrip("# ").strip() for line in text.splitlines()
                      if line.startswith("#") and line.strip("# ")), "")
        lines.append(f"{name:<20} {first}")
    return lines


def _texts() -> list[str]:
    from sca_conformance.texts import DEFAULT, languages

    lines = [f"# [texts] language = {' | '.join(languages())}; entries under [texts.PAGE]"]
    for page, entries in DEFAULT.items():
        lines += [f"{page}.{key} = {value!r}" for key, value in entries.items()]
    return lines


LISTS: dict[str, Callable[[], list[str]]] = {
    "requirements": _requirements, "faults": _faults, "templates": _templates, "texts": _texts,
}


def list_command(argv: list[str]) -> int:
    """List requirements, faults, profile templates or text keys."""
    parser = Parser(prog="sca-conformance list", allow_abbrev=False,
                     description="requirements: ID, level and text; faults: the embedded "
                     "sandbox's (--sandbox-fault NAME), with the requirement each breaks; "
                     "templates: the profiles `init --from` writes; texts: every key of "
                     "[texts.PAGE] with its English default.")
    parser.add_argument("subject", metavar="|".join(LISTS))
    args = parse_args(parser, argv)
    if args.subject not in LISTS:
        raise UsageError(f"sca-conformance list: nothing called {args.subject!r}"
                         f"{did_you_mean(args.subject, LISTS)}")
    for line in LISTS[args.subject]():
        print(line)
    return 0


def init(argv: list[str]) -> int:
    """Write a profile from a template shipped in the package."""
    parser = Parser(prog="sca-conformance init", allow_abbrev=False,
                     description="Write a target profile from a template (sca-conformance list "
                     "templates), to edit, then: sca-conformance run --target PATH.")
    parser.add_argument("--from", dest="template", required=True, metavar="TEMPLATE")
    parser.add_argument("path", nargs="?", type=Path,
                        help="where to write it (default: ./TEMPLATE.toml); never overwritten")
    args = parse_args(parser, argv)
    shipped = templates()
    name = str(args.template).removesuffix(".toml")
    if name not in shipped:
        raise UsageError(f"sca-conformance init: no template {name!r}"
                         f"{did_you_mean(name, shipped)}")
    path: Path = args.path or Path(f"{name}.toml")
    if path.exists():
        raise UsageError(f"sca-conformance init: {path} exists: name another path, or remove it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(shipped[name], encoding="utf-8")
    print(f"wrote {path} (template {name}): edit it, then sca-conformance run --target {path}")
    return 0


# setup ----------------------------------------------------------------------------------


def setup(argv: list[str]) -> int:
    """Install the Allure 2 report generator and, where none is found, a Chromium."""
    parser = Parser(
        prog="sca-conformance setup",
        description="Install the Allure 2 report generator (pinned, into the user's cache) "
        "and, where none is found, a Chromium.",
        allow_abbrev=False,
    )
    parser.add_argument("--no-browser", action="store_true", help="leave the browser alone")
    args = parse_args(parser, argv)
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
