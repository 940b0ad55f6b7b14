"""Launch metadata for the Allure results folder (environment.properties, categories.json,
executor.json), written by the pytest plugin at session end and by `builder` and `merge`; and the
reader's view of each result, trimmed before allure-pytest writes it (`ReaderView`)."""

from __future__ import annotations

import inspect
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import allure_commons
import pytest

from sca_conformance.failures import NOT_PREPARED, WARNING_MARK, violated_regex, warned_regex
from sca_conformance.requirements import registry

if TYPE_CHECKING:
    from sca_conformance.client import Exchange

_PROPERTY_SPECIALS = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\f": "\\f"}


def _escape_property(text: str, *, key: bool) -> str:
    out: list[str] = []
    for index, char in enumerate(text):
        if char in _PROPERTY_SPECIALS:
            out.append(_PROPERTY_SPECIALS[char])
        elif char in "=:#!" or (char == " " and (key or index == 0)):
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) > 0x7E:
            # Java reads .properties as ISO-8859-1; \uXXXX survives any encoding.
            out.extend(f"\\u{unit:04x}" for unit in _utf16_units(char))
        else:
            out.append(char)
    return "".join(out)


def _utf16_units(char: str) -> list[int]:
    data = char.encode("utf-16-be")
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


def write_environment(results_dir: Path, properties: Mapping[str, str]) -> None:
    """Write environment.properties (the report's Environment widget)."""
    results_dir.mkdir(parents=True, exist_ok=True)
    lines = [
        f"{_escape_property(str(name), key=True)}={_escape_property(str(value), key=False)}"
        for name, value in properties.items()
    ]
    (results_dir / "environment.properties").write_text(
        "".join(line + "\n" for line in lines), encoding="ascii"
    )


def set_property(results_dir: Path, name: str, value: str) -> None:
    """Sets one line of environment.properties (first), keeping the others."""
    path = results_dir / "environment.properties"
    kept = [line for line in (path.read_text(encoding="ascii").splitlines() if path.exists()
                              else []) if not line.startswith(_escape_property(name, key=True)
                                                              + "=")]
    line = f"{_escape_property(name, key=True)}={_escape_property(value, key=False)}"
    path.write_text("".join(f"{entry}\n" for entry in [line, *kept]), encoding="ascii")


def ci_executor(environ: Mapping[str, str] | None = None) -> dict[str, Any] | None:
    """The executor.json content for the current CI run, or None outside CI."""
    env = os.environ if environ is None else environ
    if env.get("GITHUB_ACTIONS") != "true" or not env.get("GITHUB_RUN_ID"):
        return None
    server = env.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
    repository = env.get("GITHUB_REPOSITORY", "")
    run_id = env["GITHUB_RUN_ID"]
    run_number = env.get("GITHUB_RUN_NUMBER", "")
    attempt = env.get("GITHUB_RUN_ATTEMPT", "")
    workflow = env.get("GITHUB_WORKFLOW", "workflow")
    executor: dict[str, Any] = {
        "name": "GitHub Actions",
        "type": "github",
        "url": f"{server}/{repository}/actions" if repository else server,
        "buildName": f"{workflow} #{run_number}" if run_number else f"{workflow} {run_id}",
        "buildUrl": f"{server}/{repository}/actions/runs/{run_id}"
        + (f"/attempts/{attempt}" if attempt and attempt != "1" else ""),
    }
    if run_number.isdigit():
        executor["buildOrder"] = int(run_number)
    report_url = env.get("SCA_REPORT_URL", "").strip()
    if report_url:
        executor["reportUrl"] = report_url
        executor["reportName"] = "SCA consent conformance"
    return executor


def write_executor(results_dir: Path) -> None:
    """Write executor.json when running in GitHub Actions; do nothing elsewhere."""
    executor = ci_executor()
    if executor is None:
        return
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / "executor.json").write_text(json.dumps(executor, indent=2), encoding="utf-8")


def categories() -> list[dict[str, Any]]:
    """One category per kind of verdict and requirement, titled in words: a violated
    requirement, a SHOULD warning (a result of status "unknown": Allure has no warning),
    the target not prepared, skipped, and a suite error for what nothing else explains."""
    found: list[dict[str, Any]] = []
    for requirement_id, req in registry().items():
        text = req.text if len(req.text) <= 90 else req.text[:87].rsplit(" ", 1)[0] + " …"
        found.append({"name": f"{requirement_id} violated ({req.level}): {text}",
                      "matchedStatuses": ["failed", "broken"],
                      "messageRegex": rf"(?s).*{violated_regex(requirement_id)}.*"})
    for requirement_id, req in registry().items():
        if req.level == "SHOULD":
            found.append({"name": f"{requirement_id} warning (SHOULD, not failing the run)",
                          "matchedStatuses": ["unknown"],
                          "messageRegex": rf"(?s).*{warned_regex(requirement_id)}.*"})
    found += [
        {"name": "Target could not be prepared (no verdict: a call the test needed failed)",
         "matchedStatuses": ["failed", "broken"], "messageRegex": rf"(?s).*{NOT_PREPARED}.*"},
        {"name": "Not applicable to this target (skipped, with the reason)",
         "matchedStatuses": ["skipped"]},
        {"name": "Suite error (a failure naming no requirement: a defect of the suite)",
         "matchedStatuses": ["failed", "broken"],
         "messageRegex": rf"(?s)(?!.*({violated_regex()}|{NOT_PREPARED})).*"},
    ]
    return found


def mark_warnings(results_dir: Path) -> None:
    """A SHOULD warning is a warning, not a skip: its results get the status "unknown"
    (Allure has no warning status), apart from the skips of what a target cannot do."""
    for path in results_dir.glob("*-result.json"):
        try:
            result = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        message = str((result.get("statusDetails") or {}).get("message") or "")
        if result.get("status") == "skipped" and WARNING_MARK in message:
            result["status"] = "unknown"
            path.write_text(json.dumps(result), encoding="utf-8")


def write_categories(results_dir: Path) -> None:
    """Write categories.json (the report's Categories tab)."""
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / "categories.json").write_text(json.dumps(categories(), indent=2),
                                                 encoding="utf-8")


REPORTING: ContextVar[Exchange | None] = ContextVar("REPORTING", default=None)
"""The exchange whose report step is being written (`reporting_exchange`): the step takes
the exchange's start and stop, not the moments it is written."""


@contextmanager
def reporting_exchange(exchange: Exchange) -> Iterator[None]:
    token = REPORTING.set(exchange)
    try:
        yield
    finally:
        REPORTING.reset(token)


@dataclass(frozen=True)
class _Seen:
    fixtures: frozenset[str]  # the names in the test function's signature
    marks: frozenset[str]  # the names of its marks


class ReaderView:
    """What a reader of the report sees of a test, trimmed before allure-pytest's file logger
    writes it (allure-commons hooks, `tryfirst`):

    - Set up and Tear down list only the fixtures the test function names in its signature;
      the fixtures they use in turn (the suite's plumbing, pytest-asyncio's loop, Playwright's
      own) still run, unlisted, and so does pytest's bookkeeping finalizer (`::<lambda>`).
    - A mark is a tag only when it is one of `tags`: the suite's markers that say what the
      test is about; marks that steer the run are not. Tags given with `allure.tag` stay.
    - The step of an HTTP exchange (titled `Exchange.title`, written while the client's
      listener runs) lasts from the request sent to its answer read.
    """

    def __init__(self, config: pytest.Config, tags: Iterable[str]) -> None:
        self.config = config
        self.tags = frozenset(tags)
        self.seen: dict[str, _Seen] = {}  # by the uuid of the test's result
        self.exchanges: dict[str, tuple[Any, int]] = {}  # an open step, the stop it gets

    @classmethod
    def register(cls, config: pytest.Config, tags: Iterable[str]) -> None:
        view = cls(config, tags)
        config.pluginmanager.register(view, "sca-allure-view")
        allure_commons.plugin_manager.register(view)
        config.add_cleanup(lambda: allure_commons.plugin_manager.unregister(view))

    def _reporter(self) -> Any:
        listener = self.config.pluginmanager.get_plugin("allure_listener")
        return getattr(listener, "allure_logger", None)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        reporter = self._reporter()
        result = reporter.get_test(None) if reporter is not None else None
        function = getattr(item, "obj", None)
        if result is None or not callable(function):
            return
        self.seen[result.uuid] = _Seen(
            frozenset(inspect.signature(function).parameters),
            frozenset(mark.name for mark in item.iter_markers()),
        )

    @allure_commons.hookimpl(tryfirst=True)
    def report_container(self, container: Any) -> None:
        fixture = next((str(run.name).split("::")[0]
                        for run in (*container.befores, *container.afters)), None)
        container.children = [uuid for uuid in container.children
                              if uuid not in self.seen or fixture in self.seen[uuid].fixtures]
        if not container.children:
            container.befores, container.afters = [], []
        container.afters = [run for run in container.afters
                            if not str(run.name).endswith("::<lambda>")]

    @allure_commons.hookimpl(tryfirst=True)
    def report_result(self, result: Any) -> None:
        seen = self.seen.get(result.uuid)
        if seen is None:
            return
        kept: list[Any] = []
        for label in result.labels:
            if label.name == "tag" and (
                    (label.value in seen.marks and label.value not in self.tags)
                    or any(k.name == "tag" and k.value == label.value for k in kept)):
                continue
            kept.append(label)
        result.labels = kept

    @allure_commons.hookimpl(trylast=True)  # after allure-pytest's listener opened the step
    def start_step(self, uuid: str, title: str) -> None:
        exchange = REPORTING.get()
        reporter = self._reporter()
        if exchange is None or reporter is None or title != exchange.title:
            return
        step = reporter.get_item(uuid)
        if step is not None:
            step.start = round(exchange.started * 1000)
            self.exchanges[uuid] = (step, round(exchange.stopped * 1000))

    @allure_commons.hookimpl(trylast=True)  # after the listener stopped it, at its own time
    def stop_step(self, uuid: str) -> None:
        step, stop = self.exchanges.pop(uuid, (None, 0))
        if step is not None:
            step.stop = stop
