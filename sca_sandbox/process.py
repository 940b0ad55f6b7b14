"""Run the sandbox as a real subprocess (tests, the suite, the benchmark).

Each call gets its own free port (``--port 0``; the port is read from the ready line) and
its own database, so pytest-xdist workers can run many sandboxes side by side.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from . import DEV_API_KEYS

_READY = re.compile(
    r"^sca-sandbox ready on (?P<scheme>https?)://(?P<host>\[[^\]]+\]|[^:/\s]+):(?P<port>\d+) "
)
_PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent)


@dataclass
class RunningSandbox:
    url: str
    db_path: Path
    api_keys: tuple[str, str]
    process: subprocess.Popen[str]


def _pump(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    """Read stdout to the end so that the child never blocks on a full pipe."""
    for line in stream:
        lines.put(line)
    lines.put(None)


def stop_group(process: subprocess.Popen[Any], grace: float = 10.0) -> None:
    """SIGTERM to the process group the process leads (started with ``process_group=0``),
    then SIGKILL to whatever of the group is left, so that no child outlives it."""
    if process.poll() is None:
        _signal_group(process, signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait(timeout=grace)
    _signal_group(process, signal.SIGKILL)  # children that outlived the leader


def _signal_group(process: subprocess.Popen[Any], sig: signal.Signals) -> None:
    with suppress(ProcessLookupError, PermissionError):
        if hasattr(os, "killpg"):
            os.killpg(process.pid, sig)
        else:  # no process groups (Windows): the process alone
            process.send_signal(sig)


@contextmanager
def run_sandbox(
    db_path: Path,
    *,
    faults: Sequence[str] = (),
    host: str = "127.0.0.1",
    public_host: str = "localhost",
    public_url: str | None = None,
    api_keys: Sequence[str] = (),
    token_ttl: int | None = None,
    consent_ttl: int | None = None,
    method_ttl: int | None = None,
    refresh_ttl: int | None = None,
    extra_args: Sequence[str] = (),
    timeout: float = 20.0,
    dialect: str = "default",
    tls: tuple[Path, Path] | None = None,
    return_url_allow: Sequence[str] = (),
    login_rate_limit: int = 0,
    request_rate_limit: int = 0,
) -> Iterator[RunningSandbox]:
    """Start ``python -m sca_sandbox`` on a free port; stop it (SIGTERM, then kill) on exit.

    ``url`` is ``http://{public_host}:{port}``; ``public_url`` defaults to it. Without
    ``api_keys`` the two development keys are active. ``dialect`` is passed as ``--dialect``;
    ``token_ttl``, ``consent_ttl``, ``method_ttl`` and ``refresh_ttl`` (seconds) as
    ``--token-ttl`` etc., None leaving the command line's default. ``tls`` (certificate
    chain, key) serves https (``url`` is then https); ``return_url_allow`` accepts only
    return_urls registered with these prefixes. ``login_rate_limit`` and
    ``request_rate_limit`` (0: none) are ``--login-rate-limit`` and ``--request-rate-limit``.
    """
    scheme = "https" if tls else "http"
    keys = tuple(api_keys) or DEV_API_KEYS
    if len(keys) < 2:
        raise ValueError("run_sandbox needs two API keys (two separate clients)")
    command = [
        sys.executable,
        "-m",
        "sca_sandbox",
        "--host",
        host,
        "--port",
        "0",
        "--db",
        str(db_path),
    ]
    for key in api_keys:
        command += ["--api-key", key]
    for fault in faults:
        command += ["--fault", fault]
    for option, seconds in (
        ("--token-ttl", token_ttl),
        ("--consent-ttl", consent_ttl),
        ("--method-ttl", method_ttl),
        ("--refresh-ttl", refresh_ttl),
    ):
        if seconds is not None:
            command += [option, str(seconds)]
    command += ["--dialect", dialect]
    if tls:
        command += ["--tls-cert", str(tls[0]), "--tls-key", str(tls[1])]
    for prefix in return_url_allow:
        command += ["--return-url-allow", prefix]
    for option, limit in (("--login-rate-limit", login_rate_limit),
                          ("--request-rate-limit", request_rate_limit)):
        if limit:
            command += [option, str(limit)]
    # The port is only known once the child has bound it: a public URL with port 0 is
    # completed by the sandbox with the real port.
    command += ["--public-url", public_url or f"{scheme}://{public_host}:0"]
    command += list(extra_args)

    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_PACKAGE_ROOT, env.get("PYTHONPATH")) if p)

    port, process, stderr = _launch(command, env, timeout)
    url = f"{scheme}://{public_host}:{port}"
    try:
        yield RunningSandbox(url=url, db_path=db_path, api_keys=(keys[0], keys[1]), process=process)
    finally:
        stop_group(process)
        stderr.close()


def _launch(
    command: list[str], env: dict[str, str], timeout: float
) -> tuple[int, subprocess.Popen[str], IO[bytes]]:
    stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process; closed by the caller
    # Its own process group (pgid = its pid), stopped as a whole by stop_group.
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.DEVNULL, text=True,
        env=env, process_group=0 if hasattr(os, "killpg") else None,
    )
    assert process.stdout is not None
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True).start()
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while True:
        remaining = deadline - time.monotonic()
        try:
            line = lines.get(timeout=max(remaining, 0.01)) if remaining > 0 else None
        except queue.Empty:
            line = None
        if line is not None:
            match = _READY.match(line)
            if match:
                return int(match["port"]), process, stderr
            seen.append(line)
            continue
        # The child ended, or time is up.
        stop_group(process, grace=2.0)
        stderr.seek(0)
        errors = stderr.read().decode("utf-8", "replace").strip()
        stderr.close()
        reason = (
            f"exited with code {process.returncode}"
            if remaining > 0
            else f"was not ready within {timeout:.0f}s"
        )
        stdout = "".join(seen).strip() or "(empty)"
        raise RuntimeError(
            f"the sandbox ({' '.join(command)}) {reason}.\nstdout: {stdout}"
            f"\nstderr: {errors or '(empty)'}"
        )
