"""The README is a front door, not a manual: short, every command it shows runs (or its
--help does), every link it gives leads somewhere."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
# What the README shows a user typing: its code blocks and every inline command.
SHOWN = [line.split("#", 1)[0].strip()
         for block in re.findall(r"```sh\n(.*?)```", README, re.S) for line in block.splitlines()]
SHOWN += [span.replace("\\|", "|") for span in re.findall(r"`((?:sca-conformance|make) [^`]+)`",
                                                          README)]
TOOL = [c for c in SHOWN if c.startswith("sca-conformance")]
MAKE = sorted({target for c in SHOWN if c.startswith("make ")
               for target in re.findall(r"\b([a-z][a-z-]+)\b", c.removeprefix("make "))})


def test_the_readme_is_short_and_leads_to_its_documentation() -> None:
    assert len(README.splitlines()) <= 150
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README):
        if not target.startswith("http"):
            assert (ROOT / target).exists(), f"README links to {target}, which is not there"
    assert "## Point it at your provider" in README
    section = README.split("## Point it at your provider", 1)[1].split("\n## ", 1)[0]
    assert len(section.strip().splitlines()) <= 30
    assert "docs/profiles.md" in section


def test_every_make_target_the_readme_shows_exists() -> None:
    assert {"conformance", "test", "check"} <= set(MAKE)
    for target in MAKE:
        done = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True,
                              check=False)
        assert done.returncode == 0, f"make {target}: {done.stderr}"


@pytest.mark.parametrize("command", sorted(set(TOOL)))
def test_every_sca_conformance_command_the_readme_shows_answers(
    command: str, tmp_path: Path,
) -> None:
    """Each command, by its --help (a run would take minutes): the words the README uses
    are the command's own. Nothing is written where it runs."""
    words = shlex.split(re.sub(r"\[[^\]]*\]|\.\.\.|[A-Z]+(?:\s|$)", " ", command))[1:]
    name = next((w for w in words if not w.startswith("-") and "|" not in w), "")
    if "|" in command and name in ("", "list"):
        name = "list"
    argv = [name, "--help"] if name else ["--help"]
    if "--version" in command and not name:
        argv = ["--version"]
    done = subprocess.run([sys.executable, "-m", "sca_conformance.cli", *argv], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"{command}: {done.stdout}{done.stderr}"
    for option in re.findall(r"(--[a-z][a-z-]+)", command):
        if option not in ("--help", "--version"):
            assert option in done.stdout, f"{command}: {option} is not in `{' '.join(argv)}`"
    assert not any(tmp_path.iterdir()), f"{command} wrote into the folder it ran in"
