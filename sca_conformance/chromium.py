"""How the suite launches or connects to Chromium on this kind of machine."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
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
    """SCA_BROWSER_PATH, else Debian's Chromium; None means Playwright's own download
    (also when SCA_PLAYWRIGHT_CHROMIUM=1: CI on GitHub's runners installs and caches it).

    Headless runs prefer the old headless shell (Debian's chromium-headless-shell, what
    Playwright itself uses headless): the full browser in new-headless mode costs about
    half again as much CPU per test, which on a small CI machine is the suite's bound.
    """
    explicit = os.environ.get("SCA_BROWSER_PATH")
    if explicit:
        return explicit
    if os.environ.get("SCA_PLAYWRIGHT_CHROMIUM", "").lower() in ("1", "true", "yes", "on"):
        return None
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


def launch_args(
    plugin_args: Mapping[str, Any], *, headed: bool = False
) -> dict[str, Any]:
    """pytest-playwright-asyncio's launch options (``--headed``, ``--browser-channel``,
    ``--slowmo``, a parametrized ``browser_type_launch_args``) over this machine's:
    its Chromium and the flags above. ``headed`` is the suite's own default (SCA_HEADED)."""
    headless = bool(plugin_args.get("headless", not headed))
    options = launch_options(headless=headless)
    if plugin_args.get("channel") or plugin_args.get("executable_path"):
        options.pop("executable_path", None)  # the channel (or the caller) names the browser
    return {
        **options,
        **plugin_args,
        "headless": headless,
        "args": [*options["args"], *plugin_args.get("args", [])],
    }


def server_launch_options(options: Mapping[str, Any]) -> str:
    """The ``x-playwright-launch-options`` header for a Playwright browser server: the
    launch options as JSON with the protocol's camelCase names (``executablePath``,
    ``slowMo``), which is what the server reads (it honours them only with ``--unsafe``)."""
    return json.dumps({_camel(name): value for name, value in options.items()})


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)
