"""Catalog search latency (issue 11): `datasets(...)` with its facets under load, as the public.

    .venv/bin/python bench/search.py [--seconds 15] [--connections 8] [--only WORKLOAD ...]
                                     [--data-dir bench/.data]

On the benchmark's database (bench/run.py's `prepare`: 100,000 synthetic datasets with titles,
descriptions, themes and licenses, bench/generate.py) it starts `dxlink serve` and checks that
every request body of every workload is answered without errors by the compiled path (the
`X-Dxlink-Executor` header), printing each body's number of matches and its latency alone
(median of a few requests one at a time). Then, per workload, wrk sends the workload's bodies in
turn (a Lua script rotates through them) from --connections connections for --seconds, and the
script prints req/s, p50, p95 and p99 (from wrk's `done` hook) and the CPU the server's process
and PostgreSQL (all its processes) spent per request, as a Markdown table, against the goal:
p95 under 50 ms at 8 clients over 100,000 datasets.

The workloads, each a page of 20 with the total, the four facets and each dataset's
publishers, distributions and standard dataset (`SELECTION`):
- `terms`: a search for each of `TERMS` in turn;
- `filter`: the same terms, each with `theme: "GOVE"` and with `license: "CC-BY-4.0"`;
- `browse`: no search, filters alone (a municipality's datasets, a standard dataset's across
  the country), newest modified first.
Only loopback traffic; every wrk run is bounded by --seconds; the server stops when the script
ends, however it ends. Needs wrk (Debian package `wrk`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.run import cpu_seconds, free_port, postgres_cpu_seconds, prepare, server  # noqa: E402

__all__ = ["BROWSE", "FILTER", "SELECTION", "TERMS", "WORKLOADS", "Workload"]

SELECTION = (
    "totalCount facets { publishers { value label count } themes { value label count } "
    "formats { value count } licenses { value label count } } "
    "edges { node { id title description publishers { code name } "
    "distributions { accessUrl mediaType format } standardDataset { key name } } }"
)
# Japanese words a resident types (避難所 is in 指定緊急避難場所一覧 and 避難所一覧), a Latin
# abbreviation found as written (AED, Wi-Fi), katakana searched as hiragana (ハザード), and ごみ,
# which the titles write as ゴミ and ごみ.
TERMS = ["避難所", "AED", "公園一覧", "ハザード", "人口", "子育て", "Wi-Fi", "ごみ"]
SEARCH = "query($search: String!) { datasets(first: 20, search: $search) { " + SELECTION + " } }"
FILTER = (
    "query($search: String!, $theme: String, $license: String) { datasets(first: 20, "
    "search: $search, theme: $theme, license: $license) { " + SELECTION + " } }"
)
BROWSE = (
    "query($publisher: String, $standardDataset: String) { datasets(first: 20, "
    "publisher: $publisher, standardDataset: $standardDataset, orderBy: { field: MODIFIED }) "
    "{ " + SELECTION + " } }"
)
# 和歌山市, a municipality of the seeded data: bench/generate.py gives it 47 published datasets
# (the check below refuses a database where it has none). A-08: AED設置箇所一覧.
BROWSE_PUBLISHER = "302015"
BROWSE_STANDARD = "A-08"
GOAL_P95_MS = 50.0


@dataclass(frozen=True)
class Workload:
    key: str  # for --only
    label: str
    query: str
    variables: list[dict[str, Any]]  # the bodies wrk sends in turn

    def bodies(self) -> list[dict[str, Any]]:
        return [{"query": self.query, "variables": v} for v in self.variables]


WORKLOADS = [
    Workload("terms", "search terms", SEARCH, [{"search": term} for term in TERMS]),
    Workload(
        "filter",
        "search + filter",
        FILTER,
        [
            {"search": term, **extra}
            for term in TERMS
            for extra in ({"theme": "GOVE"}, {"license": "CC-BY-4.0"})
        ],
    ),
    Workload(
        "browse",
        "browse (filters only, newest first)",
        BROWSE,
        [{"publisher": BROWSE_PUBLISHER}, {"standardDataset": BROWSE_STANDARD}],
    ),
]

# wrk's Lua: the bodies in turn (one wrk thread, so one rotation shared by all connections),
# and in `done` the figures this script reads (latencies in microseconds).
LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local bodies = { %s }
local next_body = 0
request = function()
  next_body = next_body %% #bodies + 1
  return wrk.format(nil, nil, nil, bodies[next_body])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "bench-search requests=%%d duration_us=%%d status=%%d connect=%%d read=%%d write=%%d "
    .. "timeout=%%d p50=%%d p95=%%d p99=%%d\\n",
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


@dataclass
class Result:
    requests_per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    server_cpu_ms: float
    postgres_cpu_ms: float
    errors: str  # wrk's non-2xx answers and socket errors, if any


def _lua(bodies: list[dict[str, Any]]) -> str:
    texts = [json.dumps(body, ensure_ascii=False) for body in bodies]
    if any("]==]" in text for text in texts):
        raise ValueError("a body holds the Lua string's delimiter")
    return LUA % ", ".join(f"[==[{text}]==]" for text in texts)


def run_wrk(url: str, bodies: list[dict[str, Any]], seconds: int, connections: int) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False, encoding="utf-8") as script:
        script.write(_lua(bodies))
    try:
        return subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
             "-s", script.name, url],
            capture_output=True, text=True, check=True, timeout=seconds + 60,
            start_new_session=True,
        ).stdout  # fmt: skip
    finally:
        os.unlink(script.name)


def measure(
    workload: Workload, url: str, seconds: int, connections: int, pid: int, data_dir: Path
) -> Result:
    server_before, postgres_before = cpu_seconds(pid), postgres_cpu_seconds(data_dir)
    output = run_wrk(url, workload.bodies(), seconds, connections)
    server_cpu, postgres_cpu = cpu_seconds(pid), postgres_cpu_seconds(data_dir)
    found = re.search(r"bench-search (.*)", output)
    if found is None:
        raise SystemExit(f"wrk gave no figures for {workload.key}:\n{output}")
    figures = {k: int(v) for k, v in (item.split("=") for item in found.group(1).split())}
    requests = figures["requests"]
    if not requests:
        raise SystemExit(f"wrk completed no request for {workload.key}:\n{output}")
    errors = ", ".join(
        f"{name} {figures[name]}"
        for name in ("status", "connect", "read", "write", "timeout")
        if figures[name]
    )
    return Result(
        requests_per_second=requests / (figures["duration_us"] / 1e6),
        p50_ms=figures["p50"] / 1000,
        p95_ms=figures["p95"] / 1000,
        p99_ms=figures["p99"] / 1000,
        server_cpu_ms=(server_cpu - server_before) * 1000 / requests,
        postgres_cpu_ms=(postgres_cpu - postgres_before) * 1000 / requests,
        errors=errors,
    )


def _describe(variables: dict[str, Any]) -> str:
    return ", ".join(f"{name}: {json.dumps(value, ensure_ascii=False)}" for name, value in
                     variables.items())  # fmt: skip


def check(workloads: list[Workload], url: str, alone: int) -> bool:
    """Every body answered by the compiled path without errors, with its matches and its
    latency alone (median of ``alone`` requests one at a time, after one to warm up)."""
    ok = True
    print("| workload | request | matches | alone, median ms |")
    print("|---|---|---:|---:|")
    with httpx.Client(timeout=120) as client:
        for workload in workloads:
            for body in workload.bodies():
                answer = client.post(url, json=body)
                executor = answer.headers.get("x-dxlink-executor", "?")
                data = answer.json() if answer.status_code == 200 else {}
                matches = ((data.get("data") or {}).get("datasets") or {}).get("totalCount")
                problem = ""
                if answer.status_code != 200 or "errors" in data:
                    problem = f"answered {answer.status_code}: {answer.text[:300]}"
                elif executor != "compiled":
                    problem = f"answered by the {executor} executor, not the compiled path"
                elif workload.key == "browse" and not matches:
                    problem = "no datasets: pick a publisher that has some"
                if problem:
                    ok = False
                    print(f"| {workload.key} | {_describe(body['variables'])} | {problem} | |")
                    continue
                times = []
                for _ in range(alone):
                    started = time.perf_counter()
                    client.post(url, json=body).raise_for_status()
                    times.append((time.perf_counter() - started) * 1000)
                median = f"{statistics.median(times):.1f}" if times else "—"
                print(f"| {workload.key} | {_describe(body['variables'])} | {matches:,} | "
                      f"{median} |")  # fmt: skip
    return ok


def report(
    results: dict[str, Result], workloads: list[Workload], datasets: tuple[int, int], args: Any
) -> None:
    total, published = datasets
    print(f"\nwrk, 1 thread, {args.connections} connections, {args.seconds} s per workload, "
          f"the workload's bodies in turn; {total:,} datasets ({published:,} published, "
          "the public's)\n")  # fmt: skip
    print("| workload | req/s | p50 ms | p95 ms | p99 ms | server CPU/req ms "
          "| PostgreSQL CPU/req ms |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|")
    for workload in workloads:
        r = results[workload.key]
        label = workload.label + (f" (errors: {r.errors})" if r.errors else "")
        print(f"| {label} | {r.requests_per_second:.0f} | {r.p50_ms:.1f} | {r.p95_ms:.1f} | "
              f"{r.p99_ms:.1f} | {r.server_cpu_ms:.2f} | {r.postgres_cpu_ms:.2f} |")  # fmt: skip
    met = [w.key for w in workloads if results[w.key].p95_ms < GOAL_P95_MS]
    missed = [w.key for w in workloads if w.key not in met]
    print(f"\nGoal: p95 < {GOAL_P95_MS:.0f} ms at 8 clients over 100,000 datasets "
          f"(this run: {args.connections} clients, {total:,} datasets). "
          f"Met: {', '.join(met) or 'none'}; not met: {', '.join(missed) or 'none'}.")  # fmt: skip


def _dataset_counts(owner_url: str) -> tuple[int, int]:
    import asyncio

    import asyncpg

    async def count() -> tuple[int, int]:
        connection = await asyncpg.connect(owner_url)
        try:
            row = await connection.fetchrow(
                "SELECT count(*), count(*) FILTER (WHERE status = 'PUBLISHED') FROM dataset"
            )
        finally:
            await connection.close()
        return int(row[0]), int(row[1])

    return asyncio.run(count())


def selected(only: list[str] | None) -> list[Workload]:
    if not only:
        return WORKLOADS
    keys = [key for item in only for key in item.split(",") if key]
    known = {w.key for w in WORKLOADS}
    unknown = [key for key in keys if key not in known]
    if unknown:
        raise SystemExit(f"unknown workload {', '.join(unknown)}; the workloads: "
                         f"{', '.join(sorted(known))}")  # fmt: skip
    return [w for w in WORKLOADS if w.key in keys]


def run(args: argparse.Namespace) -> int:
    workloads = selected(args.only)
    data_dir = args.data_dir.resolve()
    owner_url = prepare(data_dir)
    datasets = _dataset_counts(owner_url)
    port = free_port()
    url = f"http://127.0.0.1:{port}/graphql"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        DXLINK_DATA_DIR=str(data_dir),
        DXLINK_LOG_LEVEL="WARNING",
        DXLINK_AUTO_SEED="false",
        # The executor header: the check reads which path answered.
        DXLINK_EXECUTOR_HEADER="true",
    )
    command = [sys.executable, "-m", "service.cli", "serve", "--port", str(port)]
    with server(command, env, f"http://127.0.0.1:{port}/readyz") as process:
        if not check(workloads, url, args.alone):
            print("\nnot timed: every request must be answered by the compiled path")
            return 1
        results = {}
        for workload in workloads:
            result = measure(workload, url, args.seconds, args.connections, process.pid, data_dir)
            results[workload.key] = result
            print(f"{workload.key:>7}: {result.requests_per_second:6.0f} req/s, p50 "
                  f"{result.p50_ms:.1f} ms, p95 {result.p95_ms:.1f} ms, p99 "
                  f"{result.p99_ms:.1f} ms, CPU per request: server "
                  f"{result.server_cpu_ms:.2f} ms, PostgreSQL {result.postgres_cpu_ms:.2f} ms"
                  + (f" (errors: {result.errors})" if result.errors else ""),
                  flush=True)  # fmt: skip
    report(results, workloads, datasets, args)
    return 1 if any(r.errors for r in results.values()) else 0


def main() -> None:
    from service import shutdown
    from service.embedded import detaching

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=15, help="per workload")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument(
        "--only",
        action="append",
        metavar="WORKLOAD",
        help=f"only these workloads (repeat or separate by commas): "
        f"{', '.join(w.key for w in WORKLOADS)}",
    )
    parser.add_argument(
        "--alone", type=int, default=5, help="requests one at a time per body in the check"
    )
    parser.add_argument("--data-dir", type=Path, default=ROOT / "bench" / ".data")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    # SIGTERM and SIGINT unwind the stack: the server stops in its `finally`, then the
    # embedded PostgreSQL (unless another process still uses it).
    with shutdown.termination_signals(), detaching():
        status = run(args)
    raise SystemExit(status)


if __name__ == "__main__":
    main()
