"""The suite run the ways CI and users run it: in parallel, on a remote browser server,
and against a sandbox started by hand behind another origin."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from sca_conformance.config import DEV_API_KEYS
from sca_sandbox.process import run_sandbox, stop_group

pytestmark = [pytest.mark.slow, pytest.mark.browser]
ROOT = Path(__file__).resolve().parents[2]
SAMPLE = "TRIGGER-1,PAGE-3,PAGE-6,PAGE-15"  # API checks, passcode and passkey flows, enrolment


def run_suite(
    output: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The suite from the checkout, its artifacts (--output, which pytest-playwright empties
    first) and its cache kept out of the checkout's."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "suites", "-p", "no:cacheprovider", "-q",
         f"--output={output}", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
        # A target named by URL is sent only the keys named for it: here the sandbox's own.
        env={"SCA_API_KEY": DEV_API_KEYS[0], "SCA_API_KEY_2": DEV_API_KEYS[1],
             **(env if env is not None else os.environ)},
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_two_workers_run_the_suite_and_merge_one_report(tmp_path: Path) -> None:
    results = tmp_path / "allure-results"
    run = run_suite(tmp_path / "out", "-n", "2", "--requirement", SAMPLE, f"--alluredir={results}")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "bringing up nodes" in run.stdout  # xdist really ran
    written = [json.loads(p.read_text()) for p in results.glob("*-result.json")]
    tests = [r["historyId"] for r in written]
    passed = int(run.stdout.rsplit(" passed", 1)[0].split()[-1])
    assert len(tests) == len(set(tests)) == passed  # one result per test, none lost, none added
    # The workers' verdicts, merged on the controller: one matrix of every test.
    summary = json.loads((results / "coverage-matrix.json").read_text())
    assert summary["verdict"] == "CONFORMANT" and len(summary["tests"]) == passed
    assert (results / "requirements.html").exists()
    assert (results / "environment.properties").read_text().startswith("Verdict=CONFORMANT")


@pytest.fixture
def browser_server() -> Iterator[str]:
    """`playwright run-server` (Python starting Node, which starts the browsers) in a process
    group of its own, stopped as a whole: terminating the Python process alone leaves Node."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "playwright", "run-server", "--host", "127.0.0.1",
         "--port", str(port), "--unsafe"],
        stdout=subprocess.PIPE, text=True, process_group=0,
    )
    assert server.stdout is not None
    try:
        assert "Listening on" in server.stdout.readline()
        yield f"ws://127.0.0.1:{port}/"
    finally:
        stop_group(server)
        server.stdout.close()


def test_browser_tests_run_on_a_remote_playwright_browser_server(
    browser_server: str, tmp_path: Path
) -> None:
    run = run_suite(
        tmp_path / "out",
        "-v", "--requirement", "PAGE-3,PAGE-13", "--browser-ws-endpoint", browser_server
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert f"sca browser: remote {browser_server}" in run.stdout
    assert " passed" in run.stdout and "failed" not in run.stdout


class ReverseProxy:
    """A plain HTTP reverse proxy: the sandbox's public origin is not where it listens."""

    def __init__(self, port: int, upstream_port: int) -> None:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                upstream = HTTPConnection("127.0.0.1", upstream_port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                upstream.request(self.command, self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                content = answer.read()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)
                upstream.close()

            do_GET = do_POST = forward

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_the_whole_suite_passes_against_a_sandbox_behind_another_origin(
    tmp_path: Path,
) -> None:
    proxy_port = free_port()
    public_url = f"http://localhost:{proxy_port}"
    with run_sandbox(tmp_path / "by-hand.db", public_url=public_url) as sandbox:
        upstream_port = int(sandbox.url.rsplit(":", 1)[1])
        proxy = ReverseProxy(proxy_port, upstream_port)
        try:
            assert proxy.port != upstream_port
            run = run_suite(
                tmp_path / "out", "-n", "2", "--target-url", f"http://localhost:{proxy.port}"
            )
        finally:
            proxy.close()
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "requirements: 55 proved" in run.stdout
    assert run.stdout.strip().splitlines()[-1].startswith("CONFORMANT: 35 of 35")
