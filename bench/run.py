"""The benchmark: dxlink against the raw-SQL floor and PostGraphile v5, on national-scale data.

    .venv/bin/python bench/run.py [--seconds 15] [--connections 32] [--only SHAPE ...]
                                  [--no-postgraphile] [--data-dir bench/.data]

First run: creates an embedded PostgreSQL in --data-dir, migrates, seeds and adds the synthetic
national data (bench/generate.py), and installs PostGraphile into bench/postgraphile/ (its
`install` script; needs node and npm). Then it starts `dxlink serve`, the floor
(bench/floor.py) and PostGraphile (bench/postgraphile/server.mjs), one process each, all three
on the same database under the same row-level security, each shape as its principal (the
public, or a role of bench/shapes.py PRINCIPALS such as a dispatch coordinator for the
calendar: a token for dxlink, the same settings for the others).
Before timing it checks, shape by shape (bench/shapes.py), that dxlink and the floor give the
same bytes and that PostGraphile gives the same data (a shape that reads a row chosen from the
data, the catalog's dataset page, first asks the floor which). Then wrk runs against each in two
interleaved rounds (every shape on dxlink, the floor, PostGraphile; then all of it again), and
it prints the issue's Markdown table (the mean of the two rounds) and each round's figures,
with the CPU each server's process and PostgreSQL spent per request.
Only loopback traffic; every wrk run is bounded by --seconds; every server it starts is stopped
when it ends, however it ends (SIGINT, SIGTERM included). Needs wrk (Debian package `wrk`).
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
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from statistics import mean
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.shapes import NESTED, ONE, PRINCIPAL_SCOPES, PRINCIPALS, SHAPES, Shape  # noqa: E402

__all__ = ["NESTED", "ONE", "free_port", "prepare", "stop", "wait_ready"]

POSTGRAPHILE = ROOT / "bench" / "postgraphile"
SERVERS = ("dxlink", "floor", "postgraphile")


@dataclass
class Result:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    socket_errors: str = ""  # wrk's count of connect/read/write errors and timeouts, if any
    # CPU per request, ms: the server's own process, and PostgreSQL's (all its processes).
    server_cpu_ms: float | None = None
    postgres_cpu_ms: float | None = None


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds(data_dir: Path) -> float:
    """CPU time of the embedded PostgreSQL so far: the postmaster, its live processes and
    those that have exited."""
    postmaster = int((data_dir / "pgdata" / "postmaster.pid").read_text().split()[0])
    # Its own time and its children's that have exited (a pool's overflow connections close).
    fields = Path(f"/proc/{postmaster}/stat").read_text().rpartition(")")[2].split()
    total = sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            if int(fields[1]) == postmaster:
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
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
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def server(
    command: list[str], env: dict[str, str], ready_url: str
) -> Iterator[subprocess.Popen[bytes]]:
    """A server in a subprocess of its own session (a Ctrl+C in the terminal reaches this
    process alone, which then stops the servers in order), stopped when the block ends."""
    process = subprocess.Popen(command, env=env, cwd=ROOT, start_new_session=True)
    try:
        wait_ready(ready_url, process)
        yield process
    finally:
        stop(process)


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
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False, encoding="utf-8") as script:
        if body is not None:
            script.write(
                'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                f"wrk.body = [==[{body}]==]\n"
            )
        for name, value in (headers or {}).items():
            script.write(f'wrk.headers["{name}"] = "{value}"\n')
    try:
        output = subprocess.run(
            # A 10 s timeout, not wrk's 2 s: the resolver path's tail is longer than 2 s.
            ["wrk", "-t1", f"-c{connections}", f"-d{int(seconds)}s", "--timeout", "10s",
             "--latency", "-s", script.name, url],
            capture_output=True, text=True, check=True, timeout=seconds + 60,
            start_new_session=True,
        ).stdout  # fmt: skip
    finally:
        os.unlink(script.name)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"50%\s+([\d.]+(?:us|ms|s|m))", output)
    p99 = re.search(r"99%\s+([\d.]+(?:us|ms|s|m))", output)
    errors = re.search(r"Socket errors: (.*)", output)
    if "Non-2xx" in output or not (rps and p50 and p99):
        raise SystemExit(f"wrk against {url} failed:\n{output}")
    return Result(
        float(rps.group(1)), _ms(p50.group(1)), _ms(p99.group(1)),
        errors.group(1) if errors else "",
    )  # fmt: skip


def prepare(data_dir: Path) -> str:
    """The benchmark database's owner URL; the first call builds it (~15 s)."""
    from service.embedded import start_embedded

    marker = data_dir / "generated"
    # A database generated before the dispatch programme and its sessions, or before the tier
    # history (issue 12), were: add them.
    dispatch = data_dir / "generated-dispatch"
    tier_history = data_dir / "generated-tier-history"
    # ... or before the assessment (a rubric and a submitted response per municipality).
    assessments = data_dir / "generated-assessments"
    # ... or before the working groups (issue 13's WG board).
    working_groups = data_dir / "generated-working-groups"
    env = {**os.environ, "DXLINK_DATA_DIR": str(data_dir), "DXLINK_LOG_LEVEL": "WARNING"}
    env.pop("DATABASE_URL", None)
    if not marker.exists():
        subprocess.run([sys.executable, "-m", "service.cli", "seed"], env=env, check=True)
    url = start_embedded(data_dir)
    generate = [sys.executable, str(ROOT / "bench" / "generate.py"), url]
    if not marker.exists():
        subprocess.run(generate, check=True)
        for done in (marker, dispatch, tier_history, assessments, working_groups):
            done.touch()
        return url
    if not dispatch.exists():
        subprocess.run([*generate, "--dispatch-only"], check=True)
        for done in (dispatch, tier_history, assessments, working_groups):
            done.touch()
    elif not tier_history.exists():
        subprocess.run([*generate, "--tier-history-only"], check=True)
        for done in (tier_history, assessments, working_groups):
            done.touch()
    elif not assessments.exists():
        subprocess.run([*generate, "--assessments-only"], check=True)
        assessments.touch()
        working_groups.touch()
    elif not working_groups.exists():
        subprocess.run([*generate, "--working-groups-only"], check=True)
        working_groups.touch()
    return url


def postgraphile_node() -> tuple[Path | None, str]:
    """PostGraphile's Node (v22, installed into bench/postgraphile/ with it), or why not."""
    node = POSTGRAPHILE / "node_modules" / ".bin" / "node"
    if node.exists() and (POSTGRAPHILE / "node_modules" / "postgraphile").is_dir():
        return node, ""
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        return None, f"{' and '.join(missing)} missing (PostGraphile is installed with npm)"
    print("installing PostGraphile into bench/postgraphile/ (bench/postgraphile/install)")
    done = subprocess.run([str(POSTGRAPHILE / "install")], check=False)
    if done.returncode != 0 or not node.exists():
        return None, "bench/postgraphile/install failed (is the npm registry reachable?)"
    return node, ""


@dataclass
class Check:
    ok: bool
    note: str = ""


def _post(url: str, body: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
    return httpx.post(url, json=body, headers=headers, timeout=120)


def _answer(response: httpx.Response) -> dict[str, Any] | None:
    """The JSON of a GraphQL answer with data and no errors, else None."""
    try:
        body = response.json()
    except ValueError:
        return None
    if response.status_code != 200 or not isinstance(body, dict) or "errors" in body:
        return None
    return body


# The bearer tokens of the principals a shape may read as (`Shape.principal`, bench/shapes.py
# PRINCIPALS), minted in `run`; the public has none.
TOKENS: dict[str, str] = {}


def dxlink_headers(shape: Shape) -> dict[str, str]:
    if shape.principal == "public":
        return shape.headers
    return {**shape.headers, "Authorization": f"Bearer {TOKENS[shape.principal]}"}


def postgraphile_headers(shape: Shape) -> dict[str, str]:
    """PostGraphile takes the principal's settings by a header (bench/postgraphile/server.mjs)."""
    return {} if shape.principal == "public" else {"X-Bench-Principal": shape.principal}


def completed(shape: Shape, floor_url: str) -> Shape:
    """The shape with the row it reads, for a shape that picks one from the data."""
    if shape.pick is None:
        return shape
    path, complete = shape.pick
    answer = httpx.get(floor_url + path, timeout=120)
    answer.raise_for_status()
    return complete(shape, answer.json())


def check(shape: Shape, urls: dict[str, str], with_postgraphile: bool) -> dict[str, Check]:
    """Same bytes from dxlink and the floor; the same data from PostGraphile."""
    checks: dict[str, Check] = {}
    answer = _post(urls["dxlink"], shape.dxlink, dxlink_headers(shape))
    executor = answer.headers.get("x-dxlink-executor", "resolvers")
    reference = httpx.get(urls["floor"] + shape.floor, timeout=120)
    dx = _answer(answer)
    if dx is None:
        checks["dxlink"] = Check(
            False, f"dxlink answered {answer.status_code}: {answer.text[:300]}"
        )
        return checks
    checks["dxlink"] = Check(True, executor)
    if answer.content != reference.content:
        pairs = zip(answer.content, reference.content, strict=False)
        at = next(
            (i for i, (a, b) in enumerate(pairs) if a != b),
            min(len(answer.content), len(reference.content)),
        )
        checks["floor"] = Check(
            False,
            f"dxlink and the floor disagree at byte {at}: "
            f"dxlink {answer.content[max(0, at - 60) : at + 60]!r}, "
            f"floor {reference.content[max(0, at - 60) : at + 60]!r}",
        )
    else:
        checks["floor"] = Check(True)
    if with_postgraphile and shape.postgraphile is not None:
        assert shape.postgraphile_data is not None
        theirs = _post(urls["postgraphile"], shape.postgraphile, postgraphile_headers(shape))
        pg = _answer(theirs)
        if pg is None:
            checks["postgraphile"] = Check(False, f"PostGraphile answered: {theirs.text[:300]}")
        elif shape.postgraphile_data(pg["data"]) != shape.dxlink_data(dx["data"]):
            checks["postgraphile"] = Check(False, "PostGraphile's data differs from dxlink's")
        else:
            checks["postgraphile"] = Check(True)
    return checks


def measure(
    shape: Shape,
    who: str,
    urls: dict[str, str],
    seconds: int,
    connections: int,
    pids: dict[str, int],
    data_dir: Path,
) -> Result:
    """One wrk run against one server, with the CPU it and PostgreSQL spent per request."""
    server_before, postgres_before = cpu_seconds(pids[who]), postgres_cpu_seconds(data_dir)
    result = _wrk_shape(shape, who, urls, seconds, connections)
    requests = result.requests_per_second * seconds
    if requests:
        result.server_cpu_ms = (cpu_seconds(pids[who]) - server_before) * 1000 / requests
        result.postgres_cpu_ms = (
            (postgres_cpu_seconds(data_dir) - postgres_before) * 1000 / requests
        )
    return result


def _wrk_shape(
    shape: Shape, who: str, urls: dict[str, str], seconds: int, connections: int
) -> Result:
    if who == "floor":
        return wrk(urls["floor"] + shape.floor, seconds, connections, None)
    if who == "dxlink":
        body = json.dumps(shape.dxlink, ensure_ascii=False)
        return wrk(urls["dxlink"], seconds, connections, body, dxlink_headers(shape))
    body = json.dumps(shape.postgraphile, ensure_ascii=False)
    return wrk(urls["postgraphile"], seconds, connections, body, postgraphile_headers(shape))


def _cpu(ms: float | None) -> str:
    return "—" if ms is None else f"{ms:.2f}"


def _rps(results: list[Result]) -> float:
    return mean(r.requests_per_second for r in results)


def report(
    shapes: list[Shape],
    results: dict[tuple[str, str], list[Result]],
    checks: dict[str, dict[str, Check]],
    postgraphile_reason: str,
) -> None:
    print("\n| query shape | dxlink req/s | raw-SQL floor | ratio | PostGraphile v5 | "
          "p99 dxlink / floor (ms) |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|")
    for shape in shapes:
        dx, floor = results.get((shape.key, "dxlink")), results.get((shape.key, "floor"))
        pg = results.get((shape.key, "postgraphile"))
        if not (dx and floor):
            reason = next(c.note for c in checks[shape.key].values() if not c.ok)
            print(f"| {shape.label} | not timed: {reason[:80]} | | | | |")
            continue
        if pg:
            pg_cell = f"{_rps(pg):.0f}"
        elif shape.postgraphile_note:
            pg_cell = shape.postgraphile_note
        elif not checks[shape.key].get("postgraphile", Check(True)).ok:
            pg_cell = "— (differs)"
        else:
            pg_cell = "—"
        executor = checks[shape.key]["dxlink"].note
        forced = shape.headers.get("X-Dxlink-Executor")
        label = shape.label if executor in ("compiled", forced) else f"{shape.label} [{executor}]"
        print(
            f"| {label} | {_rps(dx):.0f} | {_rps(floor):.0f} | {_rps(dx) / _rps(floor):.2f}x | "
            f"{pg_cell} | {mean(r.p99_ms for r in dx):.0f} / {mean(r.p99_ms for r in floor):.0f} |"
        )
    print("\nEach figure is the mean of the two rounds; [resolvers]: dxlink answered through "
          "the resolvers (its compiled path declined the query).")  # fmt: skip
    if postgraphile_reason:
        print(f"PostGraphile v5: — ({postgraphile_reason})")
    print("\nBoth rounds (req/s; p50 / p99 ms):\n")
    print("| query shape | round | dxlink | floor | ratio | PostGraphile | dxlink / PostGraphile "
          "| dxlink p50 / p99 | floor p50 / p99 | PostGraphile p50 / p99 "
          "| CPU ms/request, server: dxlink / floor | PostgreSQL: dxlink / floor |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for shape in shapes:
        dx, floor = results.get((shape.key, "dxlink")), results.get((shape.key, "floor"))
        pg = results.get((shape.key, "postgraphile"), [])
        if not (dx and floor):
            continue
        for i, (d, f) in enumerate(zip(dx, floor, strict=True)):
            p = pg[i] if i < len(pg) else None
            print(
                f"| {shape.key} | {i + 1} | {d.requests_per_second:.0f} | "
                f"{f.requests_per_second:.0f} | "
                f"{d.requests_per_second / f.requests_per_second:.2f}x | "
                + (f"{p.requests_per_second:.0f} | "
                   f"{d.requests_per_second / p.requests_per_second:.2f}x | " if p else "— | — | ")
                + f"{d.p50_ms:.1f} / {d.p99_ms:.1f} | {f.p50_ms:.1f} / {f.p99_ms:.1f} | "
                + (f"{p.p50_ms:.1f} / {p.p99_ms:.1f} |" if p else "— |")
                + f" {_cpu(d.server_cpu_ms)} / {_cpu(f.server_cpu_ms)} |"
                + f" {_cpu(d.postgres_cpu_ms)} / {_cpu(f.postgres_cpu_ms)} |"
            )  # fmt: skip


def selected(only: list[str] | None) -> list[Shape]:
    if not only:
        return SHAPES
    keys = [key for item in only for key in item.split(",") if key]
    known = {shape.key for shape in SHAPES}
    unknown = [key for key in keys if key not in known]
    if unknown:
        raise SystemExit(f"unknown shape {', '.join(unknown)}; the shapes: {', '.join(known)}")
    return [shape for shape in SHAPES if shape.key in keys]


def scope_ids(owner_url: str, scope: dict[str, str]) -> dict[str, Any]:
    """The ids a scope claim resolves to, as dxlink's authentication resolves them (only the
    municipality claim: bench/shapes.py PRINCIPAL_SCOPES)."""
    if not scope:
        return {}
    import asyncpg

    async def lookup() -> int:
        connection = await asyncpg.connect(owner_url)
        try:
            return await connection.fetchval(
                "SELECT id FROM municipality WHERE code = $1", scope["municipality"]
            )
        finally:
            await connection.close()

    import asyncio

    code = scope["municipality"]
    return {"municipality_id": asyncio.run(lookup()), "municipality_code": code}


def run(args: argparse.Namespace) -> int:
    from auth.principal import PUBLIC, Principal, Role
    from auth.tokens import mint_token
    from service.database import (
        API_ROLE,
        PRINCIPAL_SETTINGS,
        RuntimeLogin,
        libpq_url,
        principal_values,
    )
    from service.settings import Settings

    shapes = selected(args.only)
    data_dir = args.data_dir.resolve()
    owner_url = prepare(data_dir)
    settings = Settings(data_dir=data_dir)
    # The login dxlink's API connects as (created by `dxlink migrate`): the floor and PostGraphile
    # connect as it too, assume the API role and carry each principal's settings.
    runtime_url = libpq_url(RuntimeLogin.from_settings(settings).url(owner_url))
    # Every principal of bench/shapes.py PRINCIPALS: a token for dxlink (as `dxlink token --role
    # ROLE` mints it; none for the public), and the settings dxlink's read pool sets for that
    # token, which the floor's pool for that principal and PostGraphile's requests with its
    # `X-Bench-Principal` header hold.
    principal_settings: dict[str, dict[str, str]] = {}
    for name, subject in PRINCIPALS.items():
        scope = PRINCIPAL_SCOPES.get(name, {})
        principal = (
            PUBLIC
            if name == "public"
            else Principal(Role(name), subject=subject, **scope_ids(owner_url, scope))
        )
        principal_settings[name] = dict(
            zip(PRINCIPAL_SETTINGS, principal_values(principal, ""), strict=True)
        )
        if name != "public":
            TOKENS[name] = mint_token(
                settings, role=principal.role, subject=subject,
                ttl_seconds=settings.jwt_max_lifetime_seconds, scope=scope,
            )  # fmt: skip
    pool_size = str(settings.db_read_pool_size)
    node, postgraphile_reason = (None, "--no-postgraphile") if args.no_postgraphile else (
        postgraphile_node()
    )  # fmt: skip
    if postgraphile_reason:
        print(f"PostGraphile v5: not measured: {postgraphile_reason}")

    ports = {who: free_port() for who in SERVERS}
    urls = {
        "dxlink": f"http://127.0.0.1:{ports['dxlink']}/graphql",
        "floor": f"http://127.0.0.1:{ports['floor']}",
        "postgraphile": f"http://127.0.0.1:{ports['postgraphile']}/graphql",
    }
    base = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    dx_env = {
        **base,
        "DXLINK_DATA_DIR": str(data_dir),
        "DXLINK_LOG_LEVEL": "WARNING",
        "DXLINK_AUTO_SEED": "false",
        "DXLINK_EXECUTOR_HEADER": "true",
    }
    floor_env = {
        **base,
        "DATABASE_URL": runtime_url,
        "BENCH_PRINCIPALS": json.dumps(principal_settings),
        "DXLINK_DB_READ_POOL_SIZE": pool_size,
        "DXLINK_DB_RANDOM_PAGE_COST": str(settings.db_random_page_cost),
    }
    pg_env = {
        **base,
        "DATABASE_URL": runtime_url,
        "PORT": str(ports["postgraphile"]),
        "POOL_SIZE": pool_size,
        "PG_SETTINGS": json.dumps(
            {name: {"role": API_ROLE, **values} for name, values in principal_settings.items()}
        ),
        "PG_OPTIONS": f"-c random_page_cost={settings.db_random_page_cost} -c timezone=UTC",
        "GRAPHILE_ENV": "production",
    }
    with ExitStack() as servers:
        started = time.perf_counter()
        pids: dict[str, int] = {}
        pids["dxlink"] = servers.enter_context(
            server([sys.executable, "-m", "service.cli", "serve", "--port", str(ports["dxlink"])],
                   dx_env, f"http://127.0.0.1:{ports['dxlink']}/readyz")
        ).pid  # fmt: skip
        print(f"dxlink ready {time.perf_counter() - started:.2f} s after `dxlink serve` on the "
              "existing database")  # fmt: skip
        pids["floor"] = servers.enter_context(
            server([sys.executable, "-m", "uvicorn", "bench.floor:app",
                    "--port", str(ports["floor"]), "--log-level", "warning", "--no-access-log"],
                   floor_env, f"{urls['floor']}/nested?n=1")
        ).pid  # fmt: skip
        if node is not None:
            try:
                pids["postgraphile"] = servers.enter_context(
                    server([str(node), str(POSTGRAPHILE / "server.mjs")], pg_env,
                           urls["postgraphile"])
                ).pid  # fmt: skip
            except SystemExit as exc:
                node, postgraphile_reason = None, f"PostGraphile did not start ({exc})"
                print(f"PostGraphile v5: not measured: {postgraphile_reason}")
        with_postgraphile = node is not None

        shapes = [completed(shape, urls["floor"]) for shape in shapes]
        checks = {shape.key: check(shape, urls, with_postgraphile) for shape in shapes}
        for shape in shapes:
            for who, result in checks[shape.key].items():
                if not result.ok:
                    print(f"{shape.key}: {who}: {result.note}")
        timed = [s for s in shapes if checks[s.key]["dxlink"].ok and checks[s.key]["floor"].ok]
        print(f"\nwrk, 1 thread, {args.connections} connections, {args.seconds} s per run; two "
              "rounds, each shape against dxlink, the floor, PostGraphile in turn\n")  # fmt: skip
        results: dict[tuple[str, str], list[Result]] = {}
        for round_ in (1, 2):
            for shape in timed:
                whom = ["dxlink", "floor"]
                if checks[shape.key].get("postgraphile", Check(False)).ok:
                    whom.append("postgraphile")
                for who in whom:
                    result = measure(
                        shape, who, urls, args.seconds, args.connections, pids, data_dir
                    )
                    results.setdefault((shape.key, who), []).append(result)
                    print(f"round {round_}: {shape.key:>10} {who:>12}: "
                          f"{result.requests_per_second:7.0f} req/s, p50 {result.p50_ms:.1f} ms, "
                          f"p99 {result.p99_ms:.1f} ms, CPU per request: server "
                          f"{result.server_cpu_ms or 0:.2f} ms, PostgreSQL "
                          f"{result.postgres_cpu_ms or 0:.2f} ms"
                          + (f" (socket errors: {result.socket_errors})"
                             if result.socket_errors else ""), flush=True)  # fmt: skip
    report(shapes, results, checks, postgraphile_reason)
    failed = any(not c.ok for per_shape in checks.values() for c in per_shape.values())
    return 1 if failed else 0


def main() -> None:
    from service import shutdown
    from service.embedded import detaching

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--only",
        action="append",
        metavar="SHAPE",
        help=f"only these shapes (repeat or separate by commas): "
        f"{', '.join(s.key for s in SHAPES)}",
    )
    parser.add_argument("--no-postgraphile", action="store_true", help="skip PostGraphile")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "bench" / ".data")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    # SIGTERM and SIGINT unwind the stack: the servers stop in their `finally`, then the
    # embedded PostgreSQL (unless another process still uses it).
    with shutdown.termination_signals(), detaching():
        status = run(args)
    raise SystemExit(status)


if __name__ == "__main__":
    main()
