"""The suite's settings: its option group (each option with its environment variable and ini
key, pytest-base-url's order), Playwright's usual options (the suite's own, or pytest-playwright's
when that plugin is installed: it is then kept out of the SCA run), the settings resolved once
at configure time, and the header saying which target a run tests."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from typing import Any, Literal

import pytest
from playwright.async_api import async_playwright

from sca_conformance.config import SETTINGS, ProfileError, Settings
from sca_conformance.suggest import suggestion

# pytest-playwright (sync) and pytest-playwright-asyncio, should a team have either installed:
# their entry points would run their own Playwright beside the suite's. In an SCA run they are
# kept out, and their options (the same names) are what the suite reads.
PLAYWRIGHT_PLUGINS = {
    "playwright": "pytest_playwright.pytest_playwright",
    "playwright-asyncio": "pytest_playwright_asyncio.pytest_playwright",
}
# Playwright's own artifacts are not masked: a video or a screenshot would show passcodes
# and card numbers, its trace has screenshots. The suite keeps a scrubbed trace and a masked
# screenshot of every failed test itself. (Options of pytest-playwright, when it is loaded.)
UNMASKED = {"--tracing": "off", "--video": "off", "--screenshot": "off"}


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in ("1", "true", "yes", "on")


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    _playwright_options(parser, pluginmanager)
    group = parser.getgroup("sca", "SCA consent conformance")
    group.addoption(
        "--target-url",
        default=None,
        help="base URL of a running target (env SCA_TARGET_URL, ini sca_target_url); "
        "none: the embedded sandbox",
    )
    group.addoption(
        "--target",
        default=None,
        help="target profile, a TOML file (env SCA_TARGET, ini sca_target); see profiles/",
    )
    group.addoption(
        "--sca-strict",
        action="store_true",
        default=False,
        help="SHOULD violations fail the run instead of warning (env SCA_STRICT=true, "
        "ini sca_strict)",
    )
    group.addoption(
        "--browser-ws-endpoint",
        default=os.environ.get("SCA_BROWSER_WS", ""),
        help="connect to a Playwright browser server instead of launching (env SCA_BROWSER_WS)",
    )
    group.addoption(
        "--requirement",
        action="append",
        default=[],
        metavar="ID",
        help="run only the tests that prove this requirement (repeatable, or comma-separated: "
        "--requirement TRIGGER-4,PAGE-7)",
    )
    group.addoption(
        "--sandbox-fault",
        action="append",
        default=[f for f in os.environ.get("SCA_SANDBOX_FAULTS", "").split(",") if f],
        help="start the embedded sandbox with this named fault (repeatable; env "
        "SCA_SANDBOX_FAULTS=a,b); used to prove the suite catches it",
    )
    parser.addini("sca_target_url", "base URL of a running target (after --target-url and "
                  "SCA_TARGET_URL)", default="")
    parser.addini("sca_target", "target profile, a TOML file, relative to the ini file "
                  "(after --target and SCA_TARGET)", default="")
    strict_help = "SHOULD violations fail the run (as --sca-strict)"
    flag: Literal["bool"] = "bool"  # a plain "bool" reads to mypy as a type form
    parser.addini("sca_strict", strict_help, type=flag, default=False)


def _playwright_options(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    """Playwright's usual options, in its group: the suite's own, or, when pytest-playwright
    (either flavour) was loaded first, that plugin's (the same names), with the plugin itself
    taken out of this run. One that would load later is blocked."""
    loaded = False
    for name, module in PLAYWRIGHT_PLUGINS.items():
        plugin = pluginmanager.get_plugin(name) or pluginmanager.get_plugin(module)
        if plugin is not None:
            pluginmanager.unregister(plugin)
            loaded = True
        pluginmanager.set_blocked(name)
        pluginmanager.set_blocked(module)
    if loaded:
        # Its options stay; its --base-url comes from its own load_initial_conftests hook.
        _PLAYWRIGHT_OPTIONS_FROM_PLUGIN.append(True)
        return
    group = parser.getgroup("playwright", "Playwright")
    group.addoption("--browser", action="append", default=[],
                    choices=["chromium", "firefox", "webkit"],
                    help="browser engine (the suite drives Chromium only)")
    group.addoption("--headed", action="store_true", default=False,
                    help="run the browser headed (env SCA_HEADED)")
    group.addoption("--browser-channel", default=None,
                    help="browser channel (chrome, msedge ...) instead of this machine's Chromium")
    group.addoption("--slowmo", default=0, type=int, help="slow every browser action (ms)")
    group.addoption("--device", default=None,
                    help="a phone (or any device of Playwright's descriptors: \"Pixel 7\", "
                    "\"iPhone 15\") in Chromium, with touch (env SCA_DEVICE); none: desktop")
    group.addoption("--output", default="test-results",
                    help="folder of the scrubbed traces of failed tests (default test-results)")
    # pytest-playwright's artifact options, offered so that a reader used to them is told why
    # the suite keeps its own (masked) evidence instead (_check_browser_options).
    for option, choices in (("--tracing", ["on", "off", "retain-on-failure"]),
                            ("--video", ["on", "off", "retain-on-failure"]),
                            ("--screenshot", ["on", "off", "only-on-failure"])):
        group.addoption(option, default="off", choices=choices,
                        help="refused (not masked): the suite keeps a scrubbed trace and a "
                        "masked screenshot of every failed test itself")
    if _entry_points_loaded(pluginmanager):
        _add_base_url(parser, pluginmanager)
    # else: pytest_load_initial_conftests below, once every plugin is registered


_PLAYWRIGHT_OPTIONS_FROM_PLUGIN: list[bool] = []


def _entry_points_loaded(pluginmanager: pytest.PytestPluginManager) -> bool:
    """Whether the plugins' entry points are registered yet: not when the suite's plugin came
    with `-p` (loaded first), yes when a conftest.py named it."""
    return bool(os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")) or pluginmanager.has_plugin(
        "asyncio")  # pytest-asyncio, the suite's own dependency, loads by its entry point


def _add_base_url(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    """Playwright's --base-url names the target too: offered unless pytest-base-url does."""
    if pluginmanager.has_plugin("base_url") or _PLAYWRIGHT_OPTIONS_FROM_PLUGIN:
        return
    with suppress(ValueError):  # another plugin has it
        parser.getgroup("playwright", "Playwright").addoption(
            "--base-url", metavar="url", default=os.environ.get("PYTEST_BASE_URL"),
            help="the target's base URL (as --target-url)")


@pytest.hookimpl(hookwrapper=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser) -> Any:
    yield
    if not _entry_points_loaded(early_config.pluginmanager):
        return
    _add_base_url(parser, early_config.pluginmanager)


def _setting(config: pytest.Config, option: str, env: str, ini: str) -> str | None:
    """Option, else environment variable, else ini key (pytest-base-url's order)."""
    value = config.getoption(option) or os.environ.get(env) or None
    if value:
        return str(value)
    from_ini = str(config.getini(ini) or "").strip()
    if not from_ini:
        return None
    if ini == "sca_target" and config.inipath is not None:
        return str(config.inipath.parent / from_ini)  # a path in the ini: relative to it
    return from_ini


def _check_browser_options(config: pytest.Config) -> None:
    for option, allowed in UNMASKED.items():
        value = config.getoption(option, allowed)
        if value != allowed:
            raise pytest.UsageError(
                f"{option} {value}: pytest-playwright's {option.lstrip('-')} is not masked "
                "and would show the passcodes, PINs and card numbers the suite types and reads. "
                "The suite keeps a scrubbed trace (in --output) and a masked screenshot (in "
                "the report) of every failed test itself; leave the option off."
            )
    browsers = set(config.getoption("--browser") or ["chromium"])
    if browsers != {"chromium"}:
        raise pytest.UsageError(
            f"--browser {', '.join(sorted(browsers - {'chromium'}))}: the suite drives Chromium "
            "only (its passkeys are the Chrome DevTools Protocol's virtual authenticator)."
        )


def check_device(name: str) -> None:
    """A device the descriptors do not have stops the run before any test, naming close ones
    (Playwright's list, read in a thread of its own: no event loop is touched here)."""
    if not name:
        return

    async def names() -> list[str]:
        async with async_playwright() as playwright:
            return list(playwright.devices)

    with ThreadPoolExecutor(1) as pool:
        known = pool.submit(asyncio.run, names()).result()
    if name not in known:
        hint = suggestion(name, known, n=3, cutoff=0.6, suffix=" ")
        raise pytest.UsageError(f"--device {name}: Playwright has no such device; {hint}phones "
                                "are named as in Playwright's descriptors, e.g. 'Pixel 7', "
                                "'iPhone 15'")


def _target_url(config: pytest.Config) -> str | None:
    """--target-url, else Playwright's --base-url (pytest-base-url's users name the target
    so), else SCA_TARGET_URL, else the ini keys sca_target_url and base_url."""
    named = config.getoption("--target-url")
    base = config.getoption("base_url", None)
    if named and base and named.rstrip("/") != str(base).rstrip("/"):
        raise pytest.UsageError(f"--target-url {named} and --base-url {base} name two targets: "
                                "give one of them")
    found = _setting(config, "--target-url", "SCA_TARGET_URL", "sca_target_url")
    if named or not base:
        return found or _ini(config, "base_url")
    return str(base)


def _ini(config: pytest.Config, name: str) -> str | None:
    try:
        return str(config.getini(name) or "").strip() or None
    except ValueError:  # no such ini key (pytest-playwright's base_url not registered)
        return None


def _check_faults(config: pytest.Config, settings: Settings) -> None:
    faults = config.getoption("--sandbox-fault")
    if not faults:
        return
    if not settings.embedded:
        raise pytest.UsageError(f"--sandbox-fault {', '.join(faults)}: faults are the embedded "
                                f"sandbox's, and the target is {settings.target_url}")
    try:
        from sca_sandbox.faults import FAULTS
    except ImportError:
        return  # no sandbox installed: the embedded target cannot start anyway, and says so
    for fault in faults:
        if fault not in FAULTS:
            hint = suggestion(fault, FAULTS, suffix=" ")
            raise pytest.UsageError(f"--sandbox-fault {fault}: no such fault; {hint}the faults "
                                    f"are: {', '.join(sorted(FAULTS))}")


# The suite's tests and fixtures share one event loop. Where no ini says so (the installed
# suites run with `pytest --pyargs sca_conformance.suites` from a team's folder), the plugin
# says it before pytest-asyncio reads it; an ini's own value stands.
LOOP_SCOPES = ("asyncio_default_fixture_loop_scope", "asyncio_default_test_loop_scope")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    if not config.getini(LOOP_SCOPES[0]):  # no ini configures pytest-asyncio
        for name in LOOP_SCOPES:
            config.getini(name)  # fills pytest's cache of ini values, which is then set
            config._inicache[name] = "session"
    _check_browser_options(config)
    try:
        config.stash[SETTINGS] = Settings.resolve(
            target_url=_target_url(config),
            profile_path=_setting(config, "--target", "SCA_TARGET", "sca_target"),
            # SHOULD violations fail the run instead of warning.
            strict=bool(
                config.getoption("--sca-strict")
                or _env_flag("SCA_STRICT")
                or config.getini("sca_strict")
            ),
            headed=bool(config.getoption("--headed")) or _env_flag("SCA_HEADED"),
            browser_ws_endpoint=config.getoption("--browser-ws-endpoint"),
            device=config.getoption("--device") or os.environ.get("SCA_DEVICE"),
        )
    except ProfileError as error:
        raise pytest.UsageError(str(error)) from None
    _check_faults(config, config.stash[SETTINGS])
    if not hasattr(config, "workerinput"):
        check_device(config.stash[SETTINGS].device)


def pytest_report_header(config: pytest.Config) -> list[str]:
    settings = config.stash[SETTINGS]
    target = settings.target_url or (
        f"embedded sandbox, {settings.profile.sandbox_dialect} dialect (started for the session)"
    )
    faults = config.getoption("--sandbox-fault")
    lines = [
        f"sca target: {target} (profile {settings.profile.name}), "
        f"{'strict' if settings.strict else 'SHOULD violations warn'}"
    ]
    if faults:
        lines.append(f"sca sandbox faults: {', '.join(faults)}")
    if settings.browser_ws_endpoint:
        lines.append(f"sca browser: remote {settings.browser_ws_endpoint}")
    if settings.device:
        lines.append(f"sca device: {settings.device} (Chromium with its viewport, touch, agent)")
    lines += [f"sca network: {line}" for line in settings.network.describe()]
    return lines


