"""Which processes outlived a test run.

The run's processes carry a token in their environment (MARKER=token): every child,
grandchild and orphan inherits it (Popen without env= and run_sandbox copy the
environment; Playwright hands it to Node and the browser). After the run, whatever still
carries the token is a survivor. Linux (/proc).
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Collection
from contextlib import suppress
from pathlib import Path

MARKER = "SCA_PROCESS_WATCH"
PROC = Path("/proc")


def available() -> bool:
    return (PROC / "self" / "environ").is_file()


def carriers(token: str, exclude: Collection[int] = ()) -> dict[int, str]:
    """Live processes (not zombies) whose environment has MARKER=token: pid -> command."""
    needle = f"{MARKER}={token}".encode()
    found: dict[int, str] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) in exclude:
            continue
        try:
            if needle not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except (OSError, IndexError):
            continue  # gone meanwhile, or not ours to read
        if state not in ("Z", "X"):  # exited, only waiting to be reaped
            found[int(entry.name)] = command.decode(errors="replace").strip()[:200]
    return found


def survivors(token: str, exclude: Collection[int] = (), grace: float = 10.0) -> dict[int, str]:
    """The carriers still there after `grace` seconds (processes that are shutting down
    when the run ends get that long)."""
    deadline = time.monotonic() + grace
    while True:
        left = carriers(token, exclude)
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.2)


def kill(pids: Collection[int]) -> None:
    for pid in pids:
        with suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
