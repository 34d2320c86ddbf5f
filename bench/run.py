"""Load-test the running API on loopback and print a Markdown table of req/s and latencies.

    .venv/bin/python bench/run.py [--seconds 10] [--connections 16]

Starts `dxlink serve` on an embedded PostgreSQL in a temporary data directory (started twice, to
time a start on an existing database), then sends each query in QUERIES for a bounded time from
concurrent keep-alive connections. Only loopback traffic; stops by itself. The load generator
shares the machine's cores with the server, so absolute figures are conservative; compare runs
made on the same machine. The national-scale data set and the raw-SQL floor come with the
performance issue (docs/PERFORMANCE.md).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

NESTED = (
    "query($n: Int!) { municipalities(first: $n) { totalCount edges { node { id code name kana "
    "kind population region { name municipalities { code name } } } } } }"
)
ONE = (
    '{ municipality(code: "302015") { id code name kana romaji kind kindLabel population '
    "region { name shortName } prefecture { code name } } }"
)
FRAMEWORK = "{ assessmentFramework { version sections { key label questions { key kind text "
FRAMEWORK += "options { label } } } } }"

QUERIES = {
    "nested municipalities, N=5": (NESTED, {"n": 5}),
    "nested municipalities, N=20": (NESTED, {"n": 20}),
    "nested municipalities, N=30": (NESTED, {"n": 30}),
    "one municipality with region and prefecture": (ONE, {}),
    "assessment framework (66 questions, options)": (FRAMEWORK, {}),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(data_dir: Path, port: int) -> tuple[subprocess.Popen[bytes], float]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(DXLINK_DATA_DIR=str(data_dir), DXLINK_LOG_LEVEL="WARNING")
    began = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve", "--port", str(port)], env=env
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process, time.perf_counter() - began
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("the server did not become ready")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    process.wait(timeout=30)


async def load(url: str, body: dict, seconds: float, connections: int) -> tuple[int, list[float]]:
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=10) as client:
        response = await client.post("/graphql", json=body)
        if response.status_code != 200 or "errors" in response.json():
            raise SystemExit(f"the query failed: {response.text}")

        async def worker(until: float) -> None:
            while time.perf_counter() < until:
                began = time.perf_counter()
                response = await client.post("/graphql", json=body)
                response.raise_for_status()
                latencies.append(time.perf_counter() - began)

        warm_until = time.perf_counter() + min(2.0, seconds / 2)
        await asyncio.gather(*(worker(warm_until) for _ in range(connections)))
        latencies.clear()
        until = time.perf_counter() + seconds
        await asyncio.gather(*(worker(until) for _ in range(connections)))
    return len(latencies), latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="dxlink-bench-") as tmp:
        data_dir, port = Path(tmp) / "data", free_port()
        process, first_start = start(data_dir, port)
        stop(process)
        process, second_start = start(data_dir, port)
        try:
            print(f"start on a new data directory (initdb, migrate, seed): {first_start:.2f} s")
            print(f"start on an existing data directory: {second_start:.2f} s\n")
            print(f"{args.connections} connections, {args.seconds:g} s per query, loopback\n")
            print("| query | req/s | p50 ms | p99 ms |\n|---|---:|---:|---:|")
            for name, (query, variables) in QUERIES.items():
                count, latencies = asyncio.run(
                    load(
                        f"http://127.0.0.1:{port}",
                        {"query": query, "variables": variables},
                        args.seconds,
                        args.connections,
                    )
                )
                cuts = statistics.quantiles(latencies, n=100)
                print(
                    f"| {name} | {count / args.seconds:.0f} | {cuts[49] * 1000:.1f} "
                    f"| {cuts[98] * 1000:.1f} |"
                )
        finally:
            stop(process)


if __name__ == "__main__":
    main()
