"""How the suite launches or connects to Chromium on this kind of machine."""

from __future__ import annotations

import os
import shutil
from typing import Any

# Without these, Chromium's background connections are refused by a closed network.
CHROMIUM_ARGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
]


def chromium_executable(headless: bool = True) -> str | None:
    """SCA_BROWSER_PATH, else Debian's Chromium; None means Playwright's own download.

    Headless runs prefer the old headless shell (Debian's chromium-headless-shell, what
    Playwright itself uses headless): the full browser in new-headless mode costs about
    half again as much CPU per test, which on a small CI machine is the suite's bound.
    """
    explicit = os.environ.get("SCA_BROWSER_PATH")
    if explicit:
        return explicit
    shell = shutil.which("chromium-headless-shell") if headless else None
    return shell or shutil.which("chromium") or shutil.which("chromium-browser")


def launch_options(headless: bool = True) -> dict[str, Any]:
    args = list(CHROMIUM_ARGS)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")
    options: dict[str, Any] = {"headless": headless, "args": args}
    executable = chromium_executable(headless)
    if executable:
        options["executable_path"] = executable
    return options
