"""Launch metadata for the Allure results folder (environment.properties, categories.json,
executor.json), written by the pytest plugin at session end and by reports.build."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

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


_NAMED = r"(MUST|SHOULD) [A-Z]+-\d+ violated"
_UNREACHABLE = r"Target unreachable|target .* not reachable|ConnectError"
_NOT_PREPARED = r"Target could not be prepared"
# Allure files a result under every category that matches: the last one takes only what no
# other explains (a failure that names no requirement is a defect of the suite).
CATEGORIES: list[dict[str, Any]] = [
    {"name": "MUST violated", "matchedStatuses": ["failed", "broken"],
     "messageRegex": r"(?s).*\bMUST [A-Z]+-\d+ violated.*"},
    {"name": "SHOULD violated (strict)", "matchedStatuses": ["failed", "broken"],
     "messageRegex": r"(?s).*\bSHOULD [A-Z]+-\d+ violated.*"},
    {"name": "SHOULD warning", "matchedStatuses": ["skipped"],
     "messageRegex": r"(?s).*SHOULD warning.*"},
    {"name": "Target unreachable", "matchedStatuses": ["broken", "failed"],
     "messageRegex": rf"(?s).*({_UNREACHABLE}).*"},
    {"name": "Target not prepared", "matchedStatuses": ["broken", "failed"],
     "messageRegex": rf"(?s).*{_NOT_PREPARED}.*"},
    {"name": "Suite error", "matchedStatuses": ["broken", "failed"],
     "messageRegex": rf"(?s)(?!.*({_NAMED}|{_UNREACHABLE}|{_NOT_PREPARED})).*"},
]


def write_categories(results_dir: Path) -> None:
    """Write categories.json (the report's Categories tab)."""
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / "categories.json").write_text(json.dumps(CATEGORIES, indent=2), encoding="utf-8")
