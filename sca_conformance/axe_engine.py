"""axe-core, the rule engine of A11Y-1, from its own npm package: pinned in the lock shipped
in this package (``sca_conformance/tools/``) and installed with the report generator into the
user's cache by `sca-conformance setup`, so that A11Y-1 follows the engine's releases (a
Dependabot update of the lock) instead of a copy bundled by a wrapper.

$SCA_AXE_JS names another ``axe.min.js`` (an offline mirror, a newer engine to try).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from playwright.async_api import Page

from sca_conformance.publish.allure_tool import TOOLS, tools_folder

PACKAGE = "axe-core"


class EngineMissing(Exception):
    """axe-core is not installed where the suite looks for it; the message says how to get it,
    in one sentence."""


def axe_version() -> str:
    """The exact axe-core version this package ships the lock of."""
    manifest = json.loads((TOOLS / "package.json").read_text(encoding="utf-8"))
    return str(manifest["dependencies"][PACKAGE])


def installed_axe(cache_folder: Path | None = None) -> Path:
    """Where `sca-conformance setup` puts axe.min.js (whether or not it is there yet): beside
    the report generator, from the same `npm ci`."""
    return tools_folder(cache_folder) / "node_modules" / PACKAGE / "axe.min.js"


def find_axe(environ: Mapping[str, str] = os.environ) -> Path:
    """$SCA_AXE_JS, else the copy `sca-conformance setup` installed."""
    given = environ.get("SCA_AXE_JS")
    if given:
        if not Path(given).is_file():
            raise EngineMissing(f"SCA_AXE_JS names {given}, which is not a file: point it at an "
                                "axe.min.js or unset it.")
        return Path(given)
    installed = installed_axe()
    if not installed.is_file():
        raise EngineMissing(
            f"axe-core {axe_version()}, the rule engine of A11Y-1, is not installed: run "
            "`sca-conformance setup` (in a checkout: `make setup`), set SCA_AXE_JS to an "
            "axe.min.js, or deselect the tests of A11Y-1.")
    return installed


@cache
def _script(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def engine_version(path: Path) -> str:
    """The version axe.min.js declares in its first line (`/*! axe v4.14.1`)."""
    first = _script(path).split("\n", 1)[0]
    return first.removeprefix("/*! axe v").strip()


async def run_axe(page: Page, options: Mapping[str, Any]) -> dict[str, Any]:
    """axe.run on the page as it is now, with `options`; axe-core's own result object."""
    await page.evaluate(_script(find_axe()))
    result: dict[str, Any] = await page.evaluate("(options) => axe.run(document, options)",
                                                 dict(options))
    return result
