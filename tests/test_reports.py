"""The report layer: Allure 2 build with history, self-containment, launch metadata, leak scan."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path
from typing import Any

import pytest

from sca_conformance.publish import allure_meta as meta
from sca_conformance.publish.builder import ALLURE, third_party_references
from sca_conformance.publish.scan import Finding, find_secrets

REPO_ROOT = Path(__file__).resolve().parent.parent

TINY_SUITE = textwrap.dedent(
    """
    import pytest

    def test_passes():
        pass

    def test_must_fails():
        assert False, "MUST TRIGGER-1 violated: status: expected 412, got 200"

    def test_target_not_prepared():
        raise RuntimeError("Target could not be prepared: GET /v3/simulations/sms: answered 400")

    @pytest.mark.xfail(reason="SHOULD warning [PAGE-11] no Cache-Control header")
    def test_should_warns():
        assert False

    def test_target_down():
        raise ConnectionError("Target unreachable: http://127.0.0.1:9")

    def test_suite_bug():
        raise KeyError("fixture data")
    """
)
ENVIRONMENT = {"Target": "http://127.0.0.1:8000/?a=b", "Odd key: #1": "x\\y = ünï\nnext"}


@pytest.fixture(scope="module")
def allure_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real allure-pytest output, produced away from this repository's conftest and settings."""
    assert ALLURE.exists(), f"Allure 2 generator missing at {ALLURE}: run `make setup`"
    work = tmp_path_factory.mktemp("tiny-suite")
    (work / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (work / "test_tiny.py").write_text(TINY_SUITE, encoding="utf-8")
    results = work / "results"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "test_tiny.py",
            "--alluredir",
            str(results),
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            "-q",
        ],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr  # two tests fail by design
    meta.write_environment(results, ENVIRONMENT)
    meta.write_categories(results)
    meta.mark_warnings(results)
    return results


def _build(results: Path, root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "sca_conformance.publish.builder",
            "--results",
            str(results),
            "--out",
            str(root / "html"),
            "--single-file-out",
            str(root / "single"),
            "--history",
            str(root / "history"),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def test_build_makes_self_contained_reports_that_carry_history(
    allure_results: Path, tmp_path: Path
) -> None:
    first = _build(allure_results, tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    html, single = tmp_path / "html", tmp_path / "single"
    assert (html / "index.html").is_file()
    assert (single / "index.html").is_file()
    assert str((single / "index.html").resolve()) in first.stdout
    assert third_party_references(html) == []
    assert third_party_references(single) == []
    assert "googletagmanager" not in (html / "index.html").read_text(encoding="utf-8")

    environment = {
        item["name"]: item["values"] for item in _json(html / "widgets/environment.json")
    }
    assert environment == {name: [value] for name, value in ENVIRONMENT.items()}

    categories = {
        category["name"]: sorted(
            test["name"] for message in category["children"] for test in message["children"]
        )
        for category in _json(html / "data/categories.json")["children"]
    }
    named = {name.split(" (")[0].split(":")[0]: name for name in
             (category["name"] for category in meta.categories())}
    assert categories == {
        named["TRIGGER-1 violated"]: ["test_must_fails"],
        named["PAGE-11 warning"]: ["test_should_warns"],  # a warning, apart from skips
        named["Target could not be prepared"]: ["test_target_not_prepared"],
        named["Suite error"]: ["test_suite_bug", "test_target_down"],
    }
    assert named["TRIGGER-1 violated"].startswith("TRIGGER-1 violated (MUST): A protected")
    assert len(_json(tmp_path / "history/history-trend.json")) == 1

    second = _build(allure_results, tmp_path)
    assert second.returncode == 0, second.stdout + second.stderr
    assert len(_json(html / "widgets/history-trend.json")) == 2
    assert len(_json(tmp_path / "history/history-trend.json")) == 2


def test_build_refuses_missing_results(tmp_path: Path) -> None:
    done = _build(tmp_path / "nowhere", tmp_path)
    assert done.returncode == 1
    assert "no test results" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_executor_written_only_in_github_actions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("GITHUB_ACTIONS", "GITHUB_RUN_ID", "SCA_REPORT_URL"):
        monkeypatch.delenv(name, raising=False)
    meta.write_executor(tmp_path)
    assert not (tmp_path / "executor.json").exists()

    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/sca")
    monkeypatch.setenv("GITHUB_RUN_ID", "42")
    monkeypatch.setenv("GITHUB_RUN_NUMBER", "7")
    monkeypatch.setenv("GITHUB_WORKFLOW", "Nightly conformance")
    monkeypatch.setenv("SCA_REPORT_URL", "https://acme.github.io/sca/")
    meta.write_executor(tmp_path)
    executor = _json(tmp_path / "executor.json")
    assert executor["name"] == "GitHub Actions"
    assert executor["type"] == "github"
    assert executor["buildName"] == "Nightly conformance #7"
    assert executor["buildUrl"] == "https://github.com/acme/sca/actions/runs/42"
    assert executor["reportUrl"] == "https://acme.github.io/sca/"


CLEAN_PAGE = """<!DOCTYPE html><html><head>
<link rel="icon" href="assets/favicon.ico"><script src="assets/app.js"></script>
<style>.a{fill:url(#grad)} .b{background:url(data:image/png;base64,iVBORw0KGgo=)}</style>
</head><body><svg xmlns="http://www.w3.org/2000/svg"></svg>
<a href="https://github.com/allure-framework">Allure</a>
<script>fetch("data/suites.json"); fetch("http://127.0.0.1:8000/health")</script></body></html>
"""
_HIDDEN_JS = base64.b64encode(b'navigator.sendBeacon("https://collect.example.net/b", d)').decode()


@pytest.mark.parametrize(
    ("planted", "expected"),
    [
        (
            '<script async src="https://www.googletagmanager.com/gtag/js?id=G-X"></script>',
            "googletagmanager",
        ),
        (
            '<link rel="stylesheet" href="https://fonts.googleapis.com/css2?family=Inter">',
            "fonts.googleapis.com",
        ),
        ('<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/x@1/x.css">', "cdn.jsdelivr"),
        (
            "<style>@font-face{src:url('https://fonts.gstatic.com/s/inter.woff2')}</style>",
            "fonts.gstatic.com",
        ),
        ('<script src="//cdnjs.cloudflare.com/ajax/libs/x.js"></script>', "cdnjs"),
        ('<script>fetch("https://collect.example.net/e")</script>', "collect.example.net"),
        (
            f'<script src="data:text/javascript;base64,{_HIDDEN_JS}"></script>',
            "collect.example.net",
        ),
    ],
    ids=["gtag", "google-font", "cdn-css", "css-font-url", "protocol-relative", "fetch", "base64"],
)
def test_third_party_references_catch_planted_includes(
    tmp_path: Path, planted: str, expected: str
) -> None:
    (tmp_path / "index.html").write_text(CLEAN_PAGE.replace("</body>", planted + "</body>"))
    found = third_party_references(tmp_path)
    assert found, f"missed {planted}"
    assert all(ref.startswith("index.html") for ref in found)
    assert any(expected in ref for ref in found), found


def test_third_party_references_accept_relative_data_and_namespace_urls(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text(CLEAN_PAGE)
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets/app.js").write_text(
        'const ns="http://www.w3.org/2000/svg";const s=e.toStringTag;fetch(`data/${n}.json`)'
    )
    assert third_party_references(tmp_path) == []


def test_third_party_references_flag_playwright_trace_viewer(tmp_path: Path) -> None:
    (tmp_path / "data/test-cases").mkdir(parents=True)
    (tmp_path / "data/test-cases/abc.json").write_text(
        json.dumps({"attachments": [{"type": "application/vnd.allure.playwright-trace"}]})
    )
    assert any("trace.playwright.dev" in ref for ref in third_party_references(tmp_path))


API_KEY = "sk_test_4f9c2b7e1a"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjdXN0LTEiLCJzY29wZSI6ImNhcmQifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _kinds(findings: list[Finding]) -> dict[str, set[str]]:
    kinds: dict[str, set[str]] = {}
    for finding in findings:
        kinds.setdefault(finding.path, set()).add(finding.kind)
    return kinds


def test_scan_finds_literal_in_nested_trace_zip(tmp_path: Path) -> None:
    network = json.dumps({"request": {"headers": [{"name": "x-api-key", "value": API_KEY}]}})
    inner = _zip({"trace.network": network.encode()})
    (tmp_path / "trace.zip").write_bytes(_zip({"resources/inner.zip": inner, "a.txt": b"ok"}))
    findings = find_secrets(tmp_path, [API_KEY, "abc"])
    assert _kinds(findings) == {"trace.zip!resources/inner.zip!trace.network": {"literal secret"}}
    assert all(API_KEY not in str(finding) for finding in findings)


def test_scan_finds_json_escaped_and_base64_literals(tmp_path: Path) -> None:
    escaped = json.dumps({"k": API_KEY}).replace("_", "\\u005f")
    (tmp_path / "step.json").write_text(escaped)
    (tmp_path / "single.html").write_text(
        f"d('data/x.json','{base64.b64encode(json.dumps({'k': API_KEY}).encode()).decode()}')"
    )
    assert _kinds(find_secrets(tmp_path, [API_KEY])) == {
        "step.json": {"literal secret"},
        "single.html": {"literal secret"},
    }


def test_scan_finds_jwt_and_grouped_card_number(tmp_path: Path) -> None:
    (tmp_path / "log.txt").write_text(f"Authorization: Bearer {JWT}\n")
    (tmp_path / "page.html").write_text("<td>4111 1111 1111 1111</td>")
    (tmp_path / "body.json").write_text('{"pan": "5555-5555-5555-4444", "amex": "378282246310005"}')
    findings = find_secrets(tmp_path, [])
    assert _kinds(findings) == {
        "log.txt": {"JWT"},
        "page.html": {"card number"},
        "body.json": {"card number"},
    }
    shown = " ".join(str(finding) for finding in findings)
    for secret in (JWT, "4111 1111 1111 1111", "5555-5555-5555-4444", "378282246310005"):
        assert secret not in shown


def test_scan_ignores_uuids_timestamps_and_non_luhn_numbers(tmp_path: Path) -> None:
    (tmp_path / "result.json").write_text(
        json.dumps(
            {
                "uuid": "4111a111-1111-4111-8111-111111111111",
                "digits_uuid": "41111111-1111-1111-1111-111111111111",
                "historyId": "41111111111111110a8f2c9d3e4b5a6f",
                "at": "2024-11-24T06:21:00.4111111111111111Z",
                "start": 1732430460123,
                "nanos": 1732430460123456789,
                "not_luhn": "4111111111111112",
                "not_luhn_grouped": "4111 1111 1111 1112",
            }
        )
    )
    assert find_secrets(tmp_path, ["abc"]) == []


def test_scan_cli_exits_1_with_masked_findings(tmp_path: Path) -> None:
    (tmp_path / "attachment.txt").write_text(f"key={API_KEY}")
    done = subprocess.run(
        [sys.executable, "-m", "sca_conformance.publish.scan", str(tmp_path), "--literal", API_KEY],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "attachment.txt: literal secret" in done.stdout
    assert API_KEY not in done.stdout + done.stderr


def test_the_verdict_of_shards_merges_and_an_unusable_target_still_gets_a_report(
    tmp_path: Path,
) -> None:
    """The nightly: every shard's verdict merged into the run's; when no shard could test
    the target, the report is built all the same and says TARGET UNUSABLE, so that the
    previous night's green report is replaced, and the exit code is the verdict's."""
    from sca_conformance.verdict import Kind, Matrix, TestVerdict

    shards = []
    for index, (nodeid, kind, named) in enumerate([
        ("suites/a.py::test_pending", Kind.PASSED, ()),
        ("suites/b.py::test_decline", Kind.VIOLATED, ("PAGE-6",)),
    ]):
        part = Matrix(selection=True)
        part.add(TestVerdict(nodeid, ("TRIGGER-4", "PAGE-6")[index:index + 1], kind, named,
                             "MUST" if named else "", completed=not named))
        path = tmp_path / f"shard-{index}" / "coverage-matrix.json"
        path.parent.mkdir()
        path.write_text(json.dumps(part.as_json()), encoding="utf-8")
        shards.append(str(path))
    merged = subprocess.run(
        [sys.executable, "-m", "sca_conformance.publish.merge", *shards, "--markdown",
         str(tmp_path / "verdict.md")], capture_output=True, text=True, check=False)
    assert merged.returncode == 1, merged.stdout + merged.stderr
    assert merged.stdout.startswith("NON-CONFORMANT:") and "violated: PAGE-6" in merged.stdout
    assert "| PAGE-6 | MUST | violated |" in (tmp_path / "verdict.md").read_text()

    results = tmp_path / "results"
    unusable = subprocess.run(
        [sys.executable, "-m", "sca_conformance.publish.merge", str(tmp_path / "none/*.json"),
         "--results", str(results)], capture_output=True, text=True, check=False)
    assert unusable.returncode == 11 and unusable.stdout.startswith("TARGET UNUSABLE")
    built = _build(results, tmp_path)
    assert built.returncode == 0, built.stdout + built.stderr
    index = (tmp_path / "html" / "index.html").read_text(encoding="utf-8")
    assert "id='sca-verdict'" in index and "TARGET UNUSABLE" in index
    assert "TARGET UNUSABLE" in (tmp_path / "html" / "requirements.html").read_text()
