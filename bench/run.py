"""The benchmark: dxlink against the raw-SQL floor, on national-scale data, on loopback.

    .venv/bin/python bench/run.py [--seconds 15] [--connections 32] [--data-dir bench/.data]

First run: creates an embedded PostgreSQL in --data-dir, migrates, seeds and adds the synthetic
national data (bench/generate.py). Then it starts `dxlink serve` and the floor (bench/floor.py),
one uvicorn worker each, checks that both give the same answer, and runs wrk against them in
turn, query by query; it prints req/s, p50, p99 and the ratio to the floor as a Markdown table.
Only loopback traffic; every wrk run is bounded by --seconds; everything stops by itself.
Needs wrk (Debian package `wrk`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
NESTED = (
    "query($n: Int!) { municipalities(first: $n) { edges { node { code name kana population "
    "region { name } datasets(first: 10) { identifier title modifiedOn } } } } }"
)
ONE = (
    'query { municipality(code: "302015") { code name kana kind population '
    "region { name municipalities { code } } prefecture { name } "
    "tierHistory { snapshotOn tier { name } } datasets(first: 10) { identifier title } "
    "dispatchAssignments { theme startsOn } } }"
)


@dataclass
class Result:
    requests_per_second: float
    p50_ms: float
    p99_ms: float


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url}: the server exited")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"{url}: not ready")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def wrk(
    url: str,
    seconds: float,
    connections: int,
    body: str | None,
    headers: dict[str, str] | None = None,
) -> Result:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        if body is not None:
            script.write(
                'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                f"wrk.body = [==[{body}]==]\n"
            )
        for name, value in (headers or {}).items():
            script.write(f'wrk.headers["{name}"] = "{value}"\n')
    try:
        output = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{int(seconds)}s", "--latency", "-s", script.name,
             url],
            capture_output=True, text=True, check=True, timeout=seconds + 60,
        ).stdout  # fmt: skip
    finally:
        os.unlink(script.name)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"50%\s+([\d.]+(?:us|ms|s|m))", output)
    p99 = re.search(r"99%\s+([\d.]+(?:us|ms|s|m))", output)
    if "Non-2xx" in output or not (rps and p50 and p99):
        raise SystemExit(f"wrk against {url} failed:\n{output}")
    return Result(float(rps.group(1)), _ms(p50.group(1)), _ms(p99.group(1)))


def prepare(data_dir: Path) -> str:
    sys.path.insert(0, str(ROOT))
    from service.embedded import start_embedded

    marker = data_dir / "generated"
    env = {**os.environ, "DXLINK_DATA_DIR": str(data_dir), "DXLINK_LOG_LEVEL": "WARNING"}
    env.pop("DATABASE_URL", None)
    if not marker.exists():
        subprocess.run([sys.executable, "-m", "service.cli", "seed"], env=env, check=True)
    url = start_embedded(data_dir)
    if not marker.exists():
        subprocess.run([sys.executable, str(ROOT / "bench" / "generate.py"), url], check=True)
        marker.touch()
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "bench" / ".data")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    url = prepare(args.data_dir.resolve())
    dx_port, floor_port = free_port(), free_port()
    env = {
        **os.environ,
        "DXLINK_DATA_DIR": str(args.data_dir.resolve()),
        "DXLINK_LOG_LEVEL": "WARNING",
        "DXLINK_AUTO_SEED": "false",
        "DXLINK_EXECUTOR_HEADER": "true",
    }
    env.pop("DATABASE_URL", None)
    started = time.perf_counter()
    dxlink = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve", "--port", str(dx_port)], env=env, cwd=ROOT
    )
    floor = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench.floor:app", "--port", str(floor_port),
         "--log-level", "warning", "--no-access-log"],
        env={**os.environ, "DATABASE_URL": url}, cwd=ROOT,
    )  # fmt: skip
    try:
        wait_ready(f"http://127.0.0.1:{dx_port}/readyz", dxlink)
        ready = time.perf_counter() - started
        wait_ready(f"http://127.0.0.1:{floor_port}/nested?n=1", floor)
        graphql = f"http://127.0.0.1:{dx_port}/graphql"
        print(f"dxlink ready {ready:.2f} s after `dxlink serve` on the existing database\n")
        print(f"wrk, 1 thread, {args.connections} connections, {args.seconds:g} s per run\n")
        print(
            "| query | floor req/s | dxlink req/s | ratio | floor p50/p99 ms | dxlink p50/p99 ms |"
        )
        print("|---|---:|---:|---:|---:|---:|")
        for n in (5, 20, 100):
            body = json.dumps({"query": NESTED, "variables": {"n": n}})
            answer = httpx.post(graphql, content=body, headers={"content-type": "application/json"})
            reference = httpx.get(f"http://127.0.0.1:{floor_port}/nested?n={n}")
            if answer.content != reference.content:
                raise SystemExit(f"dxlink and the floor disagree at N={n}")
            if answer.headers.get("x-dxlink-executor") != "compiled":
                print(f"(N={n}: not served by the compiled path)")
            floor_result = wrk(f"http://127.0.0.1:{floor_port}/nested?n={n}", args.seconds,
                               args.connections, None)  # fmt: skip
            dx_result = wrk(graphql, args.seconds, args.connections, body)
            print(
                f"| nested, N={n} | {floor_result.requests_per_second:.0f} | "
                f"{dx_result.requests_per_second:.0f} | "
                f"{dx_result.requests_per_second / floor_result.requests_per_second:.2f}x | "
                f"{floor_result.p50_ms:.1f} / {floor_result.p99_ms:.1f} | "
                f"{dx_result.p50_ms:.1f} / {dx_result.p99_ms:.1f} |"
            )
        one = json.dumps({"query": ONE})
        result = wrk(graphql, args.seconds, args.connections, one)
        print(f"| one municipality with everything | — | {result.requests_per_second:.0f} | — | — "
              f"| {result.p50_ms:.1f} / {result.p99_ms:.1f} |")  # fmt: skip
        print("\nresolver path for reference (header X-Dxlink-Executor: resolvers), nested N=20:")
        forced = json.dumps({"query": NESTED, "variables": {"n": 20}})
        result = wrk(
            graphql, args.seconds, args.connections, forced, {"X-Dxlink-Executor": "resolvers"}
        )
        print(f"{result.requests_per_second:.0f} req/s, p50 {result.p50_ms:.1f} ms, "
              f"p99 {result.p99_ms:.1f} ms")  # fmt: skip
    finally:
        stop(dxlink)
        stop(floor)


if __name__ == "__main__":
    main()
