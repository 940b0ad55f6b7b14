"""Build the Allure 2 HTML report (folder and single file), carry history, and prove it is
self-contained.

python -m sca_conformance.publish.builder [--results reports/allure-results] [--out reports/html]
                        [--single-file-out reports/single] [--history reports/history]
                        [--allure PATH]

In the package so that ``sca-conformance`` builds it from an installed
wheel too. The generator is Allure 2
(npm ``allure-commandline``, Java), found by ``sca_conformance.publish.allure_tool.find_allure``:
``--allure``, else ``$SCA_ALLURE``, else ``allure`` on ``PATH``, else the user's cache
(``sca-conformance setup``).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import html
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import markdown  # type: ignore[import-untyped, unused-ignore]  # no stubs installed

from sca_conformance.publish import allure_meta as meta
from sca_conformance.publish.allure_tool import (
    ToolMissing,
    cached_allure,
    find_allure,
    java_problem,
)
from sca_conformance.requirements import CONTRACT


def _located() -> Path:
    try:
        return Path(find_allure()[0])
    except ToolMissing:
        return cached_allure()


# Where the generator was at import (else where `sca-conformance setup` puts it), for callers
# that show it; generate() looks it up each time.
ALLURE = _located()
REPORT_NAME = "SCA consent conformance"

TEXT_SUFFIXES = {".html", ".htm", ".js", ".mjs", ".css", ".svg", ".json", ".txt", ".csv", ".xml"}

# Absolute (or protocol-relative) URL; loopback is the machine opening the report, not a
# third party.
_URL = r"""(?P<url>(?:https?:)?//(?P<host>[^/\s"'`<>)\\]+)[^\s"'`<>)]*)"""
_Q = r"""["'`]?"""
_LOADS: list[tuple[str, re.Pattern[str]]] = [
    ("script src", re.compile(rf"<script\b[^>]*?\bsrc\s*=\s*{_Q}{_URL}", re.IGNORECASE)),
    ("link href", re.compile(rf"<link\b[^>]*?\bhref\s*=\s*{_Q}{_URL}", re.IGNORECASE)),
    (
        "embedded resource",
        re.compile(
            rf"<(?:img|iframe|frame|embed|source|audio|video|track|object|input)\b[^>]*?"
            rf"\b(?:src|data|poster|srcset)\s*=\s*{_Q}{_URL}",
            re.IGNORECASE,
        ),
    ),
    ("css url()", re.compile(rf"\burl\(\s*{_Q}{_URL}", re.IGNORECASE)),
    ("css @import", re.compile(rf"@import\s+(?:url\(\s*)?{_Q}{_URL}", re.IGNORECASE)),
    ("fetch", re.compile(rf"\bfetch\(\s*{_Q}{_URL}")),
    ("beacon", re.compile(rf"\bsendBeacon\(\s*{_Q}{_URL}")),
    ("xhr", re.compile(rf"\.open\(\s*[\"'`][A-Za-z]+[\"'`]\s*,\s*{_Q}{_URL}")),
    ("script import", re.compile(rf"\b(?:importScripts|import)\(\s*{_Q}{_URL}")),
    ("socket", re.compile(rf"\bnew\s+(?:WebSocket|EventSource|Image)\(\s*{_Q}{_URL}")),
    ("wss", re.compile(r"""(?P<url>wss?://(?P<host>[^/\s"'`<>)\\]+)[^\s"'`<>)]*)""")),
]
_LOOPBACK = re.compile(
    r"^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\]|0\.0\.0\.0)(?::\d+)?$", re.IGNORECASE
)

_TRACKERS = re.compile(
    r"""googletagmanager\.com|google-analytics\.com|googleadservices\.com|doubleclick\.net
    |\bgtag\(|fonts\.googleapis\.com|fonts\.gstatic\.com|ajax\.googleapis\.com
    |cdnjs\.cloudflare\.com|cdn\.jsdelivr\.net|unpkg\.com|code\.jquery\.com|bootstrapcdn\.com
    |use\.fontawesome\.com|kit\.fontawesome\.com|static\.cloudflareinsights\.com|sentry-cdn\.com
    |cdn\.segment\.com|plausible\.io|hotjar\.com|clarity\.ms|connect\.facebook\.net|mc\.yandex
    |https?://[\w.-]*\bcdn[\w-]*\.[a-z]""",
    re.IGNORECASE | re.VERBOSE,
)
# Allure 2 shows this attachment type in an iframe from https://trace.playwright.dev.
_TRACE_VIEWER = re.compile(r'"type"\s*:\s*"application/vnd\.allure\.playwright-trace"')

_DATA_URI = re.compile(
    r"data:(?P<mime>[\w.+-]+/[\w.+-]+)(?:\s*;\s*[\w-]+=[\w.-]+)*\s*;\s*base64,(?P<b64>[A-Za-z0-9+/=]+)"
)
_SINGLE_FILE_DATA = re.compile(
    r"""\bd\(\s*'(?P<name>[^']+)'\s*,\s*'(?P<b64>[A-Za-z0-9+/=]*)'\s*\)"""
)
_TEXT_MIMES = re.compile(
    r"^(?:text/|application/(?:javascript|json|xml|xhtml)|image/svg)", re.IGNORECASE
)


def _b64_text(data: str) -> str | None:
    try:
        return base64.b64decode(data, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None


def _embedded(label: str, text: str, depth: int = 0) -> Iterator[tuple[str, str]]:
    """The text itself, then what single-file reports hide in base64 (scripts, data files)."""
    yield label, text
    if depth >= 3:
        return
    for match in _DATA_URI.finditer(text):
        if _TEXT_MIMES.match(match["mime"]) and (decoded := _b64_text(match["b64"])) is not None:
            yield from _embedded(f"{label}#data:{match['mime']}", decoded, depth + 1)
    for match in _SINGLE_FILE_DATA.finditer(text):
        if (decoded := _b64_text(match["b64"])) is not None:
            yield from _embedded(f"{label}#{match['name']}", decoded, depth + 1)


def _excerpt(text: str, start: int, end: int) -> str:
    snippet = text[start : min(end, start + 120)]
    return " ".join(snippet.split())


def _findings(label: str, text: str) -> Iterator[str]:
    for kind, pattern in _LOADS:
        for match in pattern.finditer(text):
            if not _LOOPBACK.match(match["host"]):
                yield f"{label}: {kind}: {_excerpt(text, match.start(), match.end())}"
    for match in _TRACKERS.finditer(text):
        excerpt = _excerpt(text, max(0, match.start() - 40), match.end() + 40)
        yield f"{label}: third-party host: {excerpt}"
    if "/data/" in f"/{label.replace('#', '/')}" or label.endswith(".json"):
        for match in _TRACE_VIEWER.finditer(text):
            yield (
                f"{label}: playwright-trace attachment (Allure opens it in https://trace.playwright.dev;"
                f" attach traces as application/zip): {match.group(0)}"
            )


def third_party_references(folder: Path) -> list[str]:
    """Every place in a generated report that would load from or send to a third party."""
    found: list[str] = []
    paths = [folder] if folder.is_file() else sorted(p for p in folder.rglob("*") if p.is_file())
    for path in paths:
        if path.suffix.lower() not in TEXT_SUFFIXES:
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        label = path.name if path == folder else path.relative_to(folder).as_posix()
        for inner_label, inner_text in _embedded(label, text):
            found.extend(_findings(inner_label, inner_text))
    return list(dict.fromkeys(found))


class BuildError(Exception):
    pass


def _has_results(results: Path) -> bool:
    return results.is_dir() and any(
        p.name.endswith(("-result.json", "-container.json")) for p in results.iterdir()
    )


def restore_history(history: Path, results: Path) -> int:
    saved = sorted(history.glob("*.json")) if history.is_dir() else []
    if saved:
        target = results / "history"
        target.mkdir(parents=True, exist_ok=True)
        for path in saved:
            shutil.copy2(path, target / path.name)
    return len(saved)


def save_history(report: Path, history: Path) -> None:
    generated = report / "history"
    if not generated.is_dir():
        return
    history.mkdir(parents=True, exist_ok=True)
    for stale in history.glob("*.json"):
        stale.unlink()
    for path in generated.glob("*.json"):
        shutil.copy2(path, history / path.name)


def generate(
    results: Path, out: Path, *, single_file: bool = False, allure: str | None = None
) -> None:
    """`allure`: the generator given explicitly (else find_allure's other places)."""
    try:
        allure_command = find_allure(allure)
    except ToolMissing as missing:
        raise BuildError(str(missing)) from None
    if problem := java_problem():
        raise BuildError(problem)
    command = [*allure_command, "generate", *(["--single-file"] if single_file else []),
               "--clean", "--name", REPORT_NAME, "-o", str(out), str(results)]
    env = {**os.environ, "ALLURE_NO_ANALYTICS": "true"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0 or not (out / "index.html").is_file():
        raise BuildError(
            f"allure generate failed (exit {done.returncode}):\n{done.stdout}{done.stderr}".rstrip()
        )


def write_contract(folder: Path) -> None:
    """The contract beside the report, each requirement's row anchored by its ID, so the
    report's requirement links open that row (offline, no third party)."""
    body = markdown.markdown(CONTRACT.read_text(encoding="utf-8"), extensions=["tables"])
    body = re.sub(r"<tr>\s*<td>([A-Z][A-Z0-9]*-\d+)</td>", r'<tr id="\1"><td>\1</td>', body)
    (folder / "contract.html").write_text(
        "<!doctype html><meta charset=utf-8><title>The SCA consent contract</title>"
        "<style>body{font:15px/1.5 sans-serif;max-width:70em;margin:2em auto;padding:0 1em}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;"
        "vertical-align:top}tr:target{background:#fff3b0}</style>" + body,
        encoding="utf-8",
    )


def show_verdict(results: Path, folder: Path) -> None:
    """The run's requirement matrix beside the report (requirements.html, written by the
    plugin into the results), and the verdict as a line at the top of every page of it."""
    matrix = results / "requirements.html"
    summary = results / "coverage-matrix.json"
    if not matrix.is_file() or not summary.is_file():
        return
    shutil.copyfile(matrix, folder / "requirements.html")
    sentence = html.escape(str(json.loads(summary.read_text(encoding="utf-8"))["sentence"]))
    banner = ("<div id='sca-verdict' style='font:600 14px sans-serif;padding:6px 12px;"
              "background:#fff8c5;border-bottom:1px solid #d4a72c'>" + sentence +
              " · <a href='requirements.html'>requirement matrix</a> · "
              "<a href='contract.html'>contract</a></div>")
    index = folder / "index.html"
    page = index.read_text(encoding="utf-8")
    if "id='sca-verdict'" not in page:
        index.write_text(page.replace("<body>", "<body>" + banner, 1), encoding="utf-8")


def _has_verdict(results: Path) -> bool:
    return (results / "coverage-matrix.json").is_file()


def build(
    results: Path, out: Path, single_out: Path | None, history: Path, *, allure: str | None = None
) -> list[Path]:
    if not _has_results(results) and not _has_verdict(results):
        raise BuildError(
            f"no test results in {results}: run the suite with --alluredir {results} first"
        )
    if not (results / "categories.json").exists():
        meta.write_categories(results)
    # In CI the report job knows the published URL, which the shards did not.
    meta.write_executor(results)
    restore_history(history, results)
    generate(results, out, allure=allure)
    write_contract(out)
    show_verdict(results, out)
    reports = [out / "index.html"]
    if single_out is not None:
        generate(results, single_out, single_file=True, allure=allure)
        write_contract(single_out)
        show_verdict(results, single_out)
        reports.append(single_out / "index.html")
    save_history(out, history)
    offending = [
        ref
        for folder in dict.fromkeys(r.parent for r in reports)
        for ref in third_party_references(folder)
    ]
    if offending:
        raise BuildError(
            "the report refers to third parties (it must be viewable offline and send nothing):\n  "
            + "\n  ".join(offending)
        )
    return reports


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sca_conformance.publish.builder", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--results", type=Path, default=Path("reports/allure-results"))
    parser.add_argument("--out", type=Path, default=Path("reports/html"))
    parser.add_argument("--single-file-out", type=Path, default=Path("reports/single"))
    parser.add_argument("--no-single-file", action="store_true", help="skip the single-file report")
    parser.add_argument("--history", type=Path, default=Path("reports/history"))
    parser.add_argument(
        "--allure", metavar="PATH", help="the Allure 2 generator (else $SCA_ALLURE, PATH, cache)"
    )
    args = parser.parse_args(argv)
    try:
        reports = build(
            args.results,
            args.out,
            None if args.no_single_file else args.single_file_out,
            args.history,
            allure=args.allure,
        )
    except BuildError as error:
        print(f"sca_conformance.publish.builder: {error}", file=sys.stderr)
        return 1
    for report in reports:
        print(f"report: {report.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
