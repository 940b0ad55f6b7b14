"""The fuzz part of the suite (ERR-1..3 fuzzed against the target): opt-in, bounded.

Its options (group "SCA consent conformance"), each with an environment default, and the
gate: a test marked `fuzz` is skipped, saying how to enable it, unless `--fuzz` (or
`SCA_FUZZ=1`) is given. A skipped fuzz test proves nothing: the coverage matrix counts only
tests that ran. schemathesis and hypothesis (the `[fuzz]` extra) are imported only in a run
that fuzzes, and such a run without them is a usage error.
"""

from __future__ import annotations

import importlib.util
import os
import random
from dataclasses import replace

import pytest

from sca_conformance.config import SETTINGS
from sca_conformance.fuzzing import DEFAULT_OPENAPI, FuzzSettings
from sca_conformance.publish.allure_tool import cache_base

FUZZ = pytest.StashKey[FuzzSettings]()
_TRUE = ("1", "true", "yes", "on")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sca", "SCA consent conformance")
    group.addoption(
        "--fuzz", action="store_true", default=None,
        help="run the fuzz part: generated and malformed input for every operation of the "
        "target's OpenAPI document, else of the contract's requests (env SCA_FUZZ=1)",
    )
    group.addoption(
        "--fuzz-examples", type=int, default=None, metavar="N",
        help="generated requests per operation and mode, and per contract request "
        "(env SCA_FUZZ_EXAMPLES; default 10)",
    )
    group.addoption(
        "--fuzz-seconds", type=float, default=None, metavar="S",
        help="time budget of each fuzz test: it sends nothing more once S seconds are spent "
        "(env SCA_FUZZ_SECONDS; default 20)",
    )
    group.addoption(
        "--fuzz-seed", type=int, default=None, metavar="N",
        help="seed of the generation, to repeat a run (env SCA_FUZZ_SEED; default: a new one, "
        "shown in the header and in every fuzz failure)",
    )
    group.addoption(
        "--fuzz-openapi", default=None, metavar="LOCATION",
        help="the target's OpenAPI document: a path on the target (/openapi.json, the "
        "default), an http(s) URL, a local JSON file, or 'none' for the contract's "
        "requests only (env SCA_FUZZ_OPENAPI)",
    )


def _number(config: pytest.Config, option: str, env: str, default: float) -> float:
    value = config.getoption(option)
    if value is None:
        raw = os.environ.get(env, "").strip()
        try:
            value = float(raw) if raw else default
        except ValueError:
            raise pytest.UsageError(f"{env}={raw!r}: not a number") from None
    if value <= 0:
        raise pytest.UsageError(f"{option} {value:g}: must be more than 0")
    return float(value)


def settings_of(config: pytest.Config) -> FuzzSettings:
    enabled = config.getoption("--fuzz")
    if enabled is None:
        enabled = os.environ.get("SCA_FUZZ", "").strip().lower() in _TRUE
    seed = config.getoption("--fuzz-seed")
    if seed is None:
        raw = os.environ.get("SCA_FUZZ_SEED", "").strip()
        try:
            seed = int(raw) if raw else random.SystemRandom().randrange(10**6)
        except ValueError:
            raise pytest.UsageError(f"SCA_FUZZ_SEED={raw!r}: not a whole number") from None
    return FuzzSettings(
        enabled=bool(enabled),
        examples=int(_number(config, "--fuzz-examples", "SCA_FUZZ_EXAMPLES", 10)),
        seconds=_number(config, "--fuzz-seconds", "SCA_FUZZ_SECONDS", 20.0),
        seed=seed,
        openapi=(config.getoption("--fuzz-openapi")
                 or os.environ.get("SCA_FUZZ_OPENAPI", "").strip()
                 or (config.stash[SETTINGS].profile.target.openapi if SETTINGS in config.stash
                     else "")
                 or DEFAULT_OPENAPI),
    )


def pytest_configure(config: pytest.Config) -> None:
    settings = settings_of(config)
    if hasattr(config, "workerinput"):  # xdist: the controller's seed, for one campaign
        seed = config.workerinput.get("sca_fuzz_seed")
        if seed is not None:
            settings = replace(settings, seed=int(seed))
    config.stash[FUZZ] = settings
    if settings.enabled:
        missing = [name for name in ("hypothesis", "schemathesis")
                   if importlib.util.find_spec(name) is None]
        if missing:
            raise pytest.UsageError(
                f"--fuzz needs {' and '.join(missing)}: pip install 'sca-conformance[fuzz]'")
        if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
            # Hypothesis keeps caches in ./.hypothesis even without a database: the suite
            # writes nothing where it runs, so they go to the user's cache.
            from hypothesis.configuration import set_hypothesis_home_dir

            set_hypothesis_home_dir(cache_base() / "hypothesis")


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook, on the controller
def pytest_configure_node(node: object) -> None:
    """Every worker fuzzes with the controller's seed."""
    config = getattr(node, "config", None)
    workerinput = getattr(node, "workerinput", None)
    if config is not None and workerinput is not None and FUZZ in config.stash:
        workerinput["sca_fuzz_seed"] = config.stash[FUZZ].seed


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.stash[FUZZ].enabled:
        return
    skip = pytest.mark.skip(reason="the fuzz part is opt-in: run with --fuzz (or SCA_FUZZ=1)")
    for item in items:
        if item.get_closest_marker("fuzz"):
            item.add_marker(skip)


def pytest_report_header(config: pytest.Config) -> list[str]:
    settings = config.stash[FUZZ]
    if not settings.enabled:
        return []
    return [f"sca fuzz: {settings.describe()}"]


@pytest.fixture(scope="session")
def fuzz_settings(pytestconfig: pytest.Config) -> FuzzSettings:
    """How much the fuzz part generates, for how long, from which seed and document."""
    return pytestconfig.stash[FUZZ]
