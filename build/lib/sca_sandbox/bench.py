"""Throughput of the consent hot path: ``python -m sca_sandbox.bench [--clients 20 --seconds 10]``.

Starts a sandbox with a fresh database, then N concurrent clients (each its own login
session and connection pool) repeat trigger (the 412 of a card activation) + initiate
pairs for the given time, as fast as they can or paced to ``--rate`` pairs/s in total
(in a closed loop the latency is just clients / throughput). Prints pairs/s, p50/p99 of
a pair, errors, and how many of the consents created can be read back afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from .process import run_sandbox
from .testing import SandboxClient


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    consent_ids: list[str] = field(default_factory=list)
    errors: int = 0


async def _worker(
    client: SandboxClient,
    card_id: str,
    tally: Tally,
    *,
    deadline: float,
    interval: float,
    offset: float,
) -> None:
    trigger = f"/v3/cards/{card_id}/activate"
    body = {"return_url": "https://client.example/back"}
    next_start = time.perf_counter() + offset  # clients spread over one interval, not in step
    while time.perf_counter() < deadline:
        if interval:
            # Paced (open loop per client): start on schedule, never to catch up in a burst.
            await asyncio.sleep(max(0.0, next_start - time.perf_counter()))
            next_start = max(next_start + interval, time.perf_counter())
        started = time.perf_counter()
        try:
            answer = await client.post(trigger)
            if answer.status_code != 412:
                tally.errors += 1
                continue
            consent_id = answer.json()["consent"]["id"]
            method = await client.post(f"/v3/consents/{consent_id}", json=body)
            if method.status_code != 200:
                tally.errors += 1
                continue
        except httpx.HTTPError:
            tally.errors += 1
            continue
        tally.latencies.append(time.perf_counter() - started)
        tally.consent_ids.append(consent_id)


async def _readable(client: SandboxClient, ids: Sequence[str], concurrency: int) -> int:
    gate = asyncio.Semaphore(concurrency)

    async def read(consent_id: str) -> bool:
        async with gate:
            return (await client.get(f"/v3/consents/{consent_id}")).status_code == 200

    return sum(await asyncio.gather(*(read(i) for i in ids)))


def _cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU time of a process (Linux /proc), for the server's cost per pair."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def run(
    url: str,
    api_key: str,
    clients: int,
    seconds: float,
    *,
    rate: float = 0.0,
    server_pid: int | None = None,
) -> int:
    """Closed loop (each client as fast as it can) or, with ``rate``, paced to that many pairs/s."""
    async with SandboxClient.connect(url, api_key) as setup:
        person = await setup.individual()
        account = await setup.account(person["id"])
        card = await setup.card(person["id"], account["id"])
        sessions = [SandboxClient.connect(url, api_key) for _ in range(clients)]
        opened = [await s.__aenter__() for s in sessions]
        tally = Tally()
        cpu_before = _cpu_seconds(server_pid)
        started = time.perf_counter()
        deadline = started + seconds
        try:
            interval = clients / rate if rate else 0.0
            await asyncio.gather(
                *(
                    _worker(
                        c,
                        card["id"],
                        tally,
                        deadline=deadline,
                        interval=interval,
                        offset=i * interval / clients,
                    )
                    for i, c in enumerate(opened)
                )
            )
        finally:
            elapsed = time.perf_counter() - started
            cpu_after = _cpu_seconds(server_pid)
            for s in sessions:
                await s.__aexit__(None, None, None)
        readable = await _readable(setup, tally.consent_ids, concurrency=clients)

    pairs = len(tally.latencies)
    load = f"paced at {rate:g} pairs/s" if rate else "closed loop"
    print(f"clients: {clients} ({load}), duration: {elapsed:.1f} s, pairs: {pairs}")
    if pairs:
        print(f"pairs/s: {pairs / elapsed:.1f}")
        print(
            f"pair latency p50: {statistics.median(tally.latencies) * 1000:.1f} ms, "
            f"p99: {_percentile(tally.latencies, 0.99) * 1000:.1f} ms"
        )
    if pairs and cpu_before is not None and cpu_after is not None:
        print(
            f"server CPU per pair: {(cpu_after - cpu_before) / pairs * 1000:.2f} ms "
            f"({(cpu_after - cpu_before) / elapsed * 100:.0f}% of one core)"
        )
    print(f"errors: {tally.errors}")
    print(f"consents readable afterwards: {readable}/{len(tally.consent_ids)}")
    return 0 if tally.errors == 0 and readable == len(tally.consent_ids) and pairs else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sca_sandbox.bench", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="offered load in pairs/s across all clients (default: as fast as possible)",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= 500 or not 0 < args.seconds <= 600 or args.rate < 0:
        parser.error("--clients must be 1..500, --seconds 0..600 and --rate positive")
    # 127.0.0.1, not localhost: no name resolution or IPv6 attempt per new connection.
    with (
        tempfile.TemporaryDirectory(prefix="sca-bench-") as folder,
        run_sandbox(Path(folder) / "bench.db", public_host="127.0.0.1") as sandbox,
    ):
        pid = sandbox.process.pid
        return asyncio.run(
            run(
                sandbox.url,
                sandbox.api_keys[0],
                args.clients,
                args.seconds,
                rate=args.rate,
                server_pid=pid,
            )
        )


if __name__ == "__main__":
    sys.exit(main())
