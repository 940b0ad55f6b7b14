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


def chromium_executable() -> str | None:
    """Debian's Chromium (or SCA_BROWSER_PATH); None means Playwright's own download."""
    explicit = os.environ.get("SCA_BROWSER_PATH")
    if explicit:
        return explicit
    return shutil.which("chromium") or shutil.which("chromium-browser")


def launch_options(headless: bool = True) -> dict[str, Any]:
    args = list(CHROMIUM_ARGS)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")
    options: dict[str, Any] = {"headless": headless, "args": args}
    executable = chromium_executable()
    if executable:
        options["executable_path"] = executable
    return options
