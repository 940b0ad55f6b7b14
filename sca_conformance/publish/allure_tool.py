"""The Allure 2 report generator (npm ``allure-commandline``, run on Java): where it is, and
installing it into the user's cache from the package.json and package-lock.json shipped in
this package (``sca_conformance/tools/``), never into site-packages.

python -m sca_conformance.publish.allure_tool install  # npm ci into the cache (`setup`)
python -m sca_conformance.publish.allure_tool where    # the command that builds the report
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

TOOLS = Path(__file__).resolve().parent.parent / "tools"
PACKAGE = "allure-commandline"
_NPM_TIMEOUT = 600.0


class ToolMissing(Exception):
    """The generator (or what installs or runs it) is not there; the message says how to
    get it, in one sentence."""


def allure_version() -> str:
    """The exact allure-commandline version this package ships the lock of."""
    manifest = json.loads((TOOLS / "package.json").read_text(encoding="utf-8"))
    return str(manifest["dependencies"][PACKAGE])


def cache_base(environ: Mapping[str, str] = os.environ) -> Path:
    """$SCA_CACHE_DIR, else $XDG_CACHE_HOME/sca-conformance, else ~/.cache/sca-conformance."""
    if environ.get("SCA_CACHE_DIR"):
        return Path(environ["SCA_CACHE_DIR"])
    xdg = environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "sca-conformance"


def tools_folder(cache: Path | None = None) -> Path:
    """Where `install_allure` runs `npm ci` of the shipped lock: a folder per lock, so that two
    versions of the package (two checkouts, an upgrade) never install over each other."""
    base = cache if cache is not None else cache_base()
    digest = hashlib.sha256((TOOLS / "package-lock.json").read_bytes()).hexdigest()
    return base / f"npm-tools-{digest[:12]}"


def cached_allure(cache: Path | None = None) -> Path:
    """Where `install_allure` puts the generator (whether or not it is there yet)."""
    return tools_folder(cache) / "node_modules" / ".bin" / "allure"


def find_allure(explicit: str | None = None) -> list[str]:
    """The command that runs the generator: `explicit` (a command-line option), else
    $SCA_ALLURE, else `allure` on PATH, else the one `install_allure` put in the cache."""
    given = (("given explicitly", explicit), ("in SCA_ALLURE", os.environ.get("SCA_ALLURE")))
    for source, chosen in given:
        if chosen:
            found = shutil.which(chosen)  # a path as it is, a bare name on PATH
            if found is None:
                raise ToolMissing(
                    f"The Allure 2 report generator {source}, {chosen}, is not an executable "
                    "file."
                )
            return [found]
    on_path = shutil.which("allure")
    if on_path:
        return [on_path]
    cached = cached_allure()
    if os.access(cached, os.X_OK):
        return [str(cached)]
    raise ToolMissing(
        "The Allure 2 report generator is missing: run `sca-conformance setup` to install it "
        f"into {tools_folder()}, set SCA_ALLURE to an `allure` executable, or put "
        "`allure` on PATH."
    )


def install_allure(cache: Path | None = None) -> Path:
    """`npm ci` of the shipped package.json and lock into `cache` (default `cache_base()`),
    in a folder of the generator's version; nothing to do when that lock is installed."""
    allure = cached_allure(cache)
    folder = tools_folder(cache)
    lock = (TOOLS / "package-lock.json").read_bytes()
    done_marker = folder / ".installed-lock.sha256"
    digest = hashlib.sha256(lock).hexdigest()
    if (
        os.access(allure, os.X_OK)
        and done_marker.is_file()
        and done_marker.read_text(encoding="utf-8").strip() == digest
    ):
        return allure
    npm = shutil.which("npm")
    if npm is None:
        raise ToolMissing(
            "Installing the Allure 2 report generator needs npm, which is not on PATH: install "
            "Node.js with npm (Debian: apt-get install nodejs npm), or set SCA_ALLURE to an "
            "`allure` executable."
        )
    folder.mkdir(parents=True, exist_ok=True)
    done_marker.unlink(missing_ok=True)  # written last: an interrupted install is not done
    shutil.copyfile(TOOLS / "package.json", folder / "package.json")
    (folder / "package-lock.json").write_bytes(lock)
    done = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=_NPM_TIMEOUT,
        check=False,
    )
    if done.returncode != 0 or not os.access(allure, os.X_OK):
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise ToolMissing(
            f"`npm ci` could not install {PACKAGE} {allure_version()} into {folder} "
            f"(exit {done.returncode}): {detail[-1] if detail else 'no output'}"
        )
    done_marker.write_text(digest + "\n", encoding="utf-8")
    return allure


def java_problem() -> str | None:
    """One sentence when the generator could not start Java (its launcher takes
    $JAVA_HOME/bin/java when JAVA_HOME is set, else `java` on PATH), else None."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        if os.access(Path(java_home) / "bin" / "java", os.X_OK):
            return None
        return (
            f"The Allure 2 report generator runs on Java, and JAVA_HOME ({java_home}) has no "
            "bin/java: point JAVA_HOME at a Java runtime, or unset it to use `java` on PATH."
        )
    if shutil.which("java"):
        return None
    return (
        "The Allure 2 report generator runs on Java, and there is no `java` on PATH or in "
        "JAVA_HOME: install a Java runtime (Debian: apt-get install default-jre-headless)."
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args not in (["install"], ["where"]):
        print("usage: python -m sca_conformance.publish.allure_tool install|where", file=sys.stderr)
        return 2
    try:
        if args == ["install"]:
            print(install_allure())
        else:
            print(" ".join(find_allure()))
    except ToolMissing as error:
        print(f"sca_conformance.publish.allure_tool: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
