"""The package's pytest11 entry point: inert unless a run asks for the SCA suites.

Installed beside a team's own tests, the package adds nothing to their runs: no options, no
fixtures, no header, no Playwright of its own (pytest-playwright keeps working). A run asks
for the suites when it names them, as `pytest --pyargs sca_conformance.suites ...` or a
path inside the installed suites (what `sca-conformance run` does; in a checkout,
`pytest suites`). Then the suite's plugin (sca_conformance.plugin) is loaded here, before
the command line is parsed, so its options (--target-url, --target, --requirement ...) are
known. `-p sca_conformance.plugin` loads it in any run; `-p no:sca_conformance` keeps even
this hook out.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import pytest

PLUGIN = "sca_conformance.plugin"
SUITES = "sca_conformance.suites"


def suites_folder() -> Path | None:
    """Where the suites are (site-packages, or a checkout's suites/), without importing them."""
    spec = importlib.util.find_spec(SUITES)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    return Path(locations[0]).resolve() if locations else None


def asks_for_suites(args: Sequence[str], pyargs: bool, invocation_dir: Path) -> bool:
    folder = suites_folder()
    for arg in args:
        if arg.startswith("-"):
            continue
        name = arg.split("::", 1)[0]
        if pyargs and (name == SUITES or name.startswith(f"{SUITES}.")):
            return True
        if folder is None:
            continue
        try:
            path = (invocation_dir / name).resolve()
        except (OSError, ValueError):
            continue
        if path.exists() and (path == folder or folder in path.parents):
            return True
    return False


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, args: list[str]) -> None:
    manager = early_config.pluginmanager
    if manager.has_plugin(PLUGIN) or manager.is_blocked(PLUGIN):
        return
    namespace = early_config.known_args_namespace
    if asks_for_suites(args, bool(getattr(namespace, "pyargs", False)),
                       Path(early_config.invocation_params.dir)):
        manager.import_plugin(PLUGIN)
