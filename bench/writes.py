"""The write benchmark: `planSession` and `assignExpert` from concurrent clients, dxlink against
a raw-asyncpg floor that runs the same transaction (bench/write_floor.py).

    .venv/bin/python bench/writes.py [--seconds 10] [--clients 8,32] [--rounds 2]
                                     [--only plan,assign] [--conflicts 0.1] [--calibrate]
                                     [--data-dir bench/.data]

On the benchmark database of bench/run.py (built on the first run), it starts `dxlink serve`
and the floor, then for each round, number of clients, mutation and server in turn:

1. creates the run's own rows as the owner, named by a run marker: for `planSession` one expert
   per client with 60 assignments (December 2026 to March 2027, each with a session held in
   November, so that a session online passes the "first session on site" rule), for
   `assignExpert` a programme per client with an open request for every municipality and theme
   (8,705) and experts enough to take them (three assignments each within their capacity);
2. runs the clients for --seconds: each one connection, one request at a time, every request a
   write that should succeed (`planSession`: a slot of its own expert's calendar that no other
   write takes, at most six sessions per assignment and month; `assignExpert`: a request of its
   own); with --conflicts P a share P of them repeats the client's previous write instead, which
   must be refused (`OVERLAPPING_SESSION`, `REQUEST_NOT_OPEN`) and write nothing;
3. checks that every acknowledged write is in the database exactly once and nothing else is:
   the rows carrying the run's marker are exactly the acknowledged ids, with one audit record
   each (and one per request matched), none for a refusal;
4. deletes the run's rows (the audit records stay).

`planSession` runs as the expert (one token per client, as `dxlink token --role expert
--expert ID` mints it), `assignExpert` as a dispatch coordinator. The load generator is a
minimal HTTP/1.1 client on asyncio streams in this process; it reports its own CPU time per
run (a core's share), and --calibrate measures its ceiling against a constant route first.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import random
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from statistics import mean
from typing import Any

import asyncpg
import orjson

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.generate import THEMES  # noqa: E402
from bench.run import cpu_seconds, free_port, postgres_cpu_seconds, prepare, server  # noqa: E402

PLAN = (
    "mutation($input: PlanSessionInput!) { planSession(input: $input) { "
    "session { id startsAt endsAt mode status theme } userErrors { field code message } } }"
)
ASSIGN = (
    "mutation($input: AssignExpertInput!) { assignExpert(input: $input) { "
    "assignment { id theme startsOn endsOn status } userErrors { field code message } } }"
)
MUTATIONS = ("plan", "assign")
PY_SPY = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
SERVERS = ("dxlink", "floor")

# planSession: each client's expert has 60 assignments; sessions of one hour, twelve a day
# (08:00-20:00 JST), days 1-28 of December 2026 to March 2027; each assignment takes six a
# month (the programme's maximum), so no two writes of a run take the same slot.
PLAN_ASSIGNMENTS = 60
PLAN_MONTHS = (date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 1), date(2027, 3, 1))
HOURS = range(8, 20)
DAYS = range(1, 29)
JST = timedelta(hours=9)
ASSIGNMENT_PERIOD = (date(2026, 11, 1), date(2027, 3, 31))
# assignExpert: capacity for three assignments of the programme's target (4 a month).
TARGET, CAPACITY = 4, 12


def global_id(type_name: str, key: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{key}".encode()).decode().rstrip("=")


def key_of(value: str) -> int:
    return int(base64.urlsafe_b64decode(value + "==").decode().partition(":")[2])


# --- the run's rows ------------------------------------------------------------------------


@dataclass
class Client:
    token: str
    bodies: list[bytes]  # every write it may send, in order (each one should succeed)


@dataclass
class Setup:
    marker: str
    clients: list[Client]
    started: datetime = field(default_factory=lambda: datetime.now(UTC))


async def _programme_id(connection: asyncpg.Connection) -> int:
    return int(
        await connection.fetchval("SELECT id FROM dispatch_programme WHERE fiscal_year = 2026")
    )


async def _municipalities(connection: asyncpg.Connection) -> list[int]:
    return [r[0] for r in await connection.fetch("SELECT id FROM municipality ORDER BY id")]


async def setup_plan(
    connection: asyncpg.Connection, marker: str, clients: int, mint: Callable[..., str]
) -> Setup:
    programme = await _programme_id(connection)
    municipalities = await _municipalities(connection)
    now = datetime.now(UTC)
    await connection.copy_records_to_table(
        "expert",
        records=[(f"{marker}-{c:02d}", THEMES, 4, now, now) for c in range(clients)],
        columns=["name", "themes", "monthly_capacity", "created_at", "updated_at"],
    )
    experts = [
        r[0]
        for r in await connection.fetch(
            "SELECT id FROM expert WHERE name LIKE $1 ORDER BY name", f"{marker}-%"
        )
    ]
    starts_on, ends_on = ASSIGNMENT_PERIOD
    await connection.copy_records_to_table(
        "dispatch_assignment",
        records=[
            (programme, e, municipalities[(c * PLAN_ASSIGNMENTS + i) % len(municipalities)],
             THEMES[i % len(THEMES)], starts_on, ends_on, "ACTIVE", now, now)
            for c, e in enumerate(experts)
            for i in range(PLAN_ASSIGNMENTS)
        ],
        columns=["programme_id", "expert_id", "municipality_id", "theme", "starts_on", "ends_on",
                 "status", "created_at", "updated_at"],
    )  # fmt: skip
    assignments: dict[int, list[int]] = {}
    for row in await connection.fetch(
        "SELECT id, expert_id FROM dispatch_assignment WHERE expert_id = ANY($1::int[]) "
        "ORDER BY id",
        experts,
    ):
        assignments.setdefault(row["expert_id"], []).append(row["id"])
    # The first session of each, held on site in November, 07:00 JST (no bench slot).
    held = []
    for a in (a for ids in assignments.values() for a in ids):
        starts = datetime(2026, 11, 2 + a % 20, 7, tzinfo=UTC) - JST
        held.append((a, starts, starts + timedelta(minutes=50), "ON_SITE", "HELD", "合成庁舎",
                     "合成報告", 1.0, starts + timedelta(hours=2), now, now))  # fmt: skip
    await connection.copy_records_to_table(
        "dispatch_visit",
        records=held,
        columns=["assignment_id", "starts_at", "ends_at", "mode", "status", "place", "report",
                 "hours", "reported_at", "created_at", "updated_at"],
    )  # fmt: skip
    out = []
    for c, expert in enumerate(experts):
        bodies = []
        ids = assignments[expert]
        for month in PLAN_MONTHS:
            slots = [(day, hour) for day in DAYS for hour in HOURS]
            for s, (day, hour) in enumerate(slots):  # 336 a month: 56 assignments, six each
                assignment = ids[s // 6]
                starts = datetime(month.year, month.month, day, hour, tzinfo=UTC) - JST
                online = s % 2 == 1
                variables = {
                    "assignmentId": global_id("DispatchAssignment", assignment),
                    "startsAt": starts.isoformat(),
                    "endsAt": (starts + timedelta(hours=1)).isoformat(),
                    "mode": "ONLINE" if online else "ON_SITE",
                    "place": None if online else "合成庁舎 会議室",
                    "theme": marker,
                }
                bodies.append(orjson.dumps({"query": PLAN, "variables": {"input": variables}}))
        token = mint(role="expert", subject=f"{marker}-{c:02d}", scope={"expert": str(expert)})
        out.append(Client(token, bodies))
    return Setup(marker, out)


async def setup_assign(
    connection: asyncpg.Connection,
    marker: str,
    clients: int,
    mint: Callable[..., str],
    budget: int = 20_000,
) -> Setup:
    municipalities = [
        r[0] for r in await connection.fetch("SELECT id FROM municipality ORDER BY id")
    ]
    now = datetime.now(UTC)
    # A programme per client (fiscal years no real programme has): every municipality may
    # file one request per theme and programme.
    await connection.copy_records_to_table(
        "dispatch_programme",
        records=[(9000 + c, marker, date(2026, 4, 1), date(2027, 3, 31), THEMES, TARGET, 6, now)
                 for c in range(clients)],
        columns=["fiscal_year", "name", "starts_on", "ends_on", "themes",
                 "sessions_per_month_target", "sessions_per_month_max", "updated_at"],
    )  # fmt: skip
    programmes = [
        r[0]
        for r in await connection.fetch(
            "SELECT id FROM dispatch_programme WHERE name = $1 ORDER BY fiscal_year", marker
        )
    ]
    # Requests enough for `budget` writes of the run in all (each client its share), at most
    # one per municipality and theme of its programme.
    per_client = min(len(municipalities) * len(THEMES), -(-budget // clients))
    combinations = [(m, t) for t in THEMES for m in municipalities][:per_client]
    await connection.copy_records_to_table(
        "dispatch_request",
        records=[(p, m, t, marker, "OPEN", now, now)
                 for p in programmes for m, t in combinations],
        columns=["programme_id", "municipality_id", "theme", "goals", "status", "created_at",
                 "updated_at"],
    )  # fmt: skip
    experts_each = -(-per_client // (CAPACITY // TARGET))
    await connection.copy_records_to_table(
        "expert",
        records=[(f"{marker}-{c:02d}-{e:04d}", THEMES, CAPACITY, now, now)
                 for c in range(clients) for e in range(experts_each)],
        columns=["name", "themes", "monthly_capacity", "created_at", "updated_at"],
    )  # fmt: skip
    experts = [
        r[0]
        for r in await connection.fetch(
            "SELECT id FROM expert WHERE name LIKE $1 ORDER BY name", f"{marker}-%"
        )
    ]
    requests: dict[int, list[int]] = {}
    for row in await connection.fetch(
        "SELECT id, programme_id FROM dispatch_request WHERE goals = $1 ORDER BY id", marker
    ):
        requests.setdefault(row["programme_id"], []).append(row["id"])
    token = mint(role="dispatch_coordinator", subject=f"{marker}-coordinator", scope={})
    out = []
    for c, programme in enumerate(programmes):
        own = experts[c * experts_each : (c + 1) * experts_each]
        bodies = [
            orjson.dumps(
                {
                    "query": ASSIGN,
                    "variables": {
                        "input": {
                            "requestId": global_id("DispatchRequest", r),
                            "expertId": global_id("Expert", own[i // (CAPACITY // TARGET)]),
                            "startsOn": "2026-12-01",
                            "endsOn": "2027-03-31",
                        }
                    },
                }
            )
            for i, r in enumerate(requests[programme])
        ]
        out.append(Client(token, bodies))
    return Setup(marker, out)


@dataclass
class Verdict:
    rows: int
    duplicates: int
    missing: int  # acknowledged but not in the database
    unacknowledged: int  # in the database but never acknowledged
    audit_bad: int  # rows whose audit records are not exactly one insert (and one update)

    @property
    def ok(self) -> bool:
        return not (self.duplicates or self.missing or self.unacknowledged or self.audit_bad)


async def verify(
    connection: asyncpg.Connection, mutation: str, setup: Setup, acknowledged: list[int]
) -> Verdict:
    acked = set(acknowledged)
    duplicates = len(acknowledged) - len(acked)
    if mutation == "plan":
        rows = {r[0] for r in await connection.fetch(
            "SELECT id FROM dispatch_visit WHERE theme = $1", setup.marker)}  # fmt: skip
        audits = await connection.fetch(
            "SELECT entity_key::int AS id, count(*) FILTER (WHERE action = 'insert') AS inserts, "
            "count(*) AS n, count(DISTINCT request_id) AS requests FROM audit_log "
            "WHERE occurred_at >= $1 AND entity = 'dispatch_visit' AND after ->> 'theme' = $2 "
            "GROUP BY 1",
            setup.started, setup.marker,
        )  # fmt: skip
        bad = sum(1 for a in audits if (a["inserts"], a["n"], a["requests"]) != (1, 1, 1))
        bad += len(rows ^ {a["id"] for a in audits})
    else:
        rows = {r[0] for r in await connection.fetch(
            "SELECT a.id FROM dispatch_assignment a JOIN dispatch_request r ON r.id = a.request_id "
            "WHERE r.goals = $1", setup.marker)}  # fmt: skip
        inserts = await connection.fetch(
            "SELECT entity_key::int AS id, count(*) AS n FROM audit_log "
            "WHERE occurred_at >= $1 AND entity = 'dispatch_assignment' "
            "AND (after ->> 'request_id')::int IN "
            "(SELECT id FROM dispatch_request WHERE goals = $2) GROUP BY 1",
            setup.started, setup.marker,
        )  # fmt: skip
        matched = await connection.fetch(
            "SELECT entity_key::int AS id, count(*) AS n FROM audit_log "
            "WHERE occurred_at >= $1 AND entity = 'dispatch_request' AND after ->> 'goals' = $2 "
            "GROUP BY 1",
            setup.started, setup.marker,
        )  # fmt: skip
        status = await connection.fetchval(
            "SELECT count(*) FROM dispatch_request WHERE goals = $1 AND status = 'MATCHED'",
            setup.marker,
        )
        bad = sum(1 for a in inserts if a["n"] != 1) + len(rows ^ {a["id"] for a in inserts})
        bad += sum(1 for a in matched if a["n"] != 1) + abs(len(matched) - len(rows))
        bad += abs(status - len(rows))
    return Verdict(len(rows), duplicates, len(acked - rows), len(rows - acked), bad)


async def cleanup(connection: asyncpg.Connection, mutation: str, marker: str) -> None:
    """The run's rows go (as the owner, without a principal: no audit records of it)."""
    async with connection.transaction():
        if mutation == "plan":
            await connection.execute(
                "DELETE FROM dispatch_assignment WHERE expert_id IN "
                "(SELECT id FROM expert WHERE name LIKE $1)",
                f"{marker}-%",
            )  # their sessions go with them (ON DELETE CASCADE)
        else:
            await connection.execute(
                "DELETE FROM dispatch_visit WHERE assignment_id IN (SELECT a.id FROM "
                "dispatch_assignment a JOIN dispatch_request r ON r.id = a.request_id "
                "WHERE r.goals = $1)",
                marker,
            )
            await connection.execute(
                "DELETE FROM dispatch_assignment WHERE request_id IN "
                "(SELECT id FROM dispatch_request WHERE goals = $1)",
                marker,
            )
            await connection.execute("DELETE FROM dispatch_request WHERE goals = $1", marker)
            await connection.execute("DELETE FROM dispatch_programme WHERE name = $1", marker)
        await connection.execute("DELETE FROM expert WHERE name LIKE $1", f"{marker}-%")


# --- the load generator --------------------------------------------------------------------


class HttpConnection:
    """One keep-alive HTTP/1.1 connection, one request at a time (the servers are uvicorn's:
    every response has a Content-Length)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes, headers: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(
            b"POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n%s\r\n"
            % (path.encode(), self.host.encode(), len(body), headers)
            + body
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)  # seconds, of every write
    acknowledged: list[int] = field(default_factory=list)  # ids of the objects written
    refused: int = 0  # user errors (the conflicts sent on purpose)
    unexpected: list[str] = field(default_factory=list)  # anything else
    exhausted: int = 0  # clients that ran out of writes before the end
    elapsed: float = 0.0
    cpu: float = 0.0  # this process's CPU seconds during the run


async def drive(
    url: tuple[str, int, str], clients: list[Client], seconds: float, conflicts: float, key: str
) -> Outcome:
    """Each client sends its writes one after another until --seconds have passed."""
    host, port, path = url
    outcome = Outcome()
    deadline = 0.0

    async def client(number: int, c: Client) -> None:
        connection = HttpConnection(host, port)
        headers = b"Authorization: Bearer %s\r\n" % c.token.encode()
        rng = random.Random(number)
        previous: bytes | None = None
        bodies = iter(c.bodies)
        try:
            while time.perf_counter() < deadline:
                conflict = previous is not None and rng.random() < conflicts
                body = previous if conflict else next(bodies, None)
                if body is None:
                    outcome.exhausted += 1
                    return
                started = time.perf_counter()
                status, answer = await connection.post(path, body, headers)
                outcome.latencies.append(time.perf_counter() - started)
                payload = orjson.loads(answer) if status == 200 else None
                result = (payload or {}).get("data") and payload["data"].get(key)
                written = result and result.get("session" if key == "planSession" else "assignment")
                if written and not result["userErrors"] and not conflict:
                    outcome.acknowledged.append(key_of(written["id"]))
                    previous = body
                elif conflict and result and result["userErrors"] and not written:
                    outcome.refused += 1
                else:
                    outcome.unexpected.append(f"{status} {answer[:300]!r}")
        finally:
            connection.close()

    cpu = time.process_time()
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(client(i, c) for i, c in enumerate(clients)))
    outcome.elapsed = time.perf_counter() - started
    outcome.cpu = time.process_time() - cpu
    return outcome


async def calibrate(url: tuple[str, int, str], clients: int, seconds: float) -> tuple[float, float]:
    """The generator against the floor's constant route: requests/s and its CPU share."""
    host, port, path = url
    count = 0
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal count
        connection = HttpConnection(host, port)
        try:
            while time.perf_counter() < deadline:
                await connection.post(path, b'{"query":"{ ok }"}', b"")
                count += 1
        finally:
            connection.close()

    cpu, started = time.process_time(), time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    return count / elapsed, (time.process_time() - cpu) / elapsed


# --- the run -------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


@dataclass
class Figure:
    writes_per_second: float
    p50_ms: float
    p99_ms: float
    refused: int
    generator_cpu: float  # share of one core
    verdict: Verdict
    server_cpu_ms: float = 0.0  # the server process's CPU per acknowledged write
    postgres_cpu_ms: float = 0.0  # PostgreSQL's CPU per acknowledged write


def answers_agree(dx: bytes, floor: bytes) -> str | None:
    """The payloads are the same but for the new object's id (None), else how they differ."""

    def masked(body: bytes) -> Any:
        data = orjson.loads(body)
        for payload in (data.get("data") or {}).values():
            for value in (payload or {}).values():
                if isinstance(value, dict) and "id" in value:
                    value["id"] = "<id>"
        return data

    if masked(dx) == masked(floor):
        return None
    return f"dxlink {dx[:300]!r}\nfloor  {floor[:300]!r}"


async def check_servers(
    owner: str, urls: dict[str, tuple[str, int, str]], mint: Callable[..., str]
) -> list[str]:
    """Before timing: one write and its repetition on each server give the same payloads (the
    ids aside), refusal included."""
    problems = []
    connection = await asyncpg.connect(owner)
    try:
        for mutation, setup_fn, key in (
            ("plan", setup_plan, "planSession"),
            ("assign", setup_assign, "assignExpert"),
        ):
            answers: dict[str, list[bytes]] = {}
            for who in SERVERS:
                marker = f"bench-check-{mutation}-{who}-{uuid.uuid4().hex[:8]}"
                setup = await setup_fn(connection, marker, 1, mint)
                client = setup.clients[0]
                body = client.bodies[0]
                http = HttpConnection(*urls[who][:2])
                headers = b"Authorization: Bearer %s\r\n" % client.token.encode()
                try:
                    answers[who] = [
                        (await http.post(urls[who][2] + "/" + mutation if who == "floor"
                                         else urls[who][2], body, headers))[1]
                        for _ in range(2)
                    ]  # fmt: skip
                finally:
                    http.close()
                await cleanup(connection, mutation, marker)
                # The run's marker (the session's theme) is each server's own.
                answers[who] = [a.replace(marker.encode(), b"<marker>") for a in answers[who]]
            for first, again in zip(answers["dxlink"], answers["floor"], strict=True):
                if (difference := answers_agree(first, again)) is not None:
                    problems.append(f"{key}: the answers differ:\n{difference}")
            if b'"userErrors":[]' not in answers["dxlink"][0]:
                problems.append(f"{key}: the first write was refused: {answers['dxlink'][0]!r}")
    finally:
        await connection.close()
    return problems


def run(args: argparse.Namespace) -> int:
    from auth.principal import Role
    from auth.tokens import mint_token
    from service.database import RuntimeLogin, libpq_url
    from service.settings import Settings

    data_dir = args.data_dir.resolve()
    owner = prepare(data_dir)
    settings = Settings(data_dir=data_dir)
    runtime_url = libpq_url(RuntimeLogin.from_settings(settings).url(owner))

    def mint(*, role: str, subject: str, scope: dict[str, str]) -> str:
        return mint_token(settings, role=Role(role), subject=subject, ttl_seconds=3600, scope=scope)

    ports = {who: free_port() for who in SERVERS}
    urls = {
        "dxlink": ("127.0.0.1", ports["dxlink"], "/graphql"),
        "floor": ("127.0.0.1", ports["floor"], ""),
    }
    base = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    dx_env = {**base, "DXLINK_DATA_DIR": str(data_dir), "DXLINK_LOG_LEVEL": "WARNING",
              "DXLINK_AUTO_SEED": "false"}  # fmt: skip
    floor_env = {
        **base,
        "DATABASE_URL": runtime_url,
        "DXLINK_DATA_DIR": str(data_dir),
        # The same number of connections as dxlink's write engine may open.
        "BENCH_WRITE_POOL_SIZE": str(settings.db_pool_size + settings.db_max_overflow),
        "DXLINK_DB_RANDOM_PAGE_COST": str(settings.db_random_page_cost),
    }
    mutations = [m for item in args.only or MUTATIONS for m in item.split(",") if m]
    clients_counts = [int(n) for n in args.clients.split(",")]
    results: dict[tuple[str, int, str], list[Figure]] = {}
    failed = False
    with ExitStack() as servers:
        dxlink = servers.enter_context(
            server([sys.executable, "-m", "service.cli", "serve", "--port", str(ports["dxlink"])],
                   dx_env, f"http://127.0.0.1:{ports['dxlink']}/readyz")
        )  # fmt: skip
        floor = servers.enter_context(
            server([sys.executable, "-m", "uvicorn", "bench.write_floor:app",
                    "--port", str(ports["floor"]), "--log-level", "warning", "--no-access-log"],
                   floor_env, f"http://127.0.0.1:{ports['floor']}/ok")
        )  # fmt: skip
        problems = asyncio.run(check_servers(owner, urls, mint))
        for problem in problems:
            print(problem)
        if problems:
            return 1
        print("checked: dxlink and the floor answer the same payloads (ids aside), refusals too")
        if args.calibrate:
            for n in clients_counts:
                rate, cpu = asyncio.run(
                    calibrate(("127.0.0.1", ports["floor"], "/ok"), n, min(args.seconds, 5))
                )
                print(f"calibration, {n} clients against the floor's constant route: "
                      f"{rate:.0f} req/s, generator CPU {cpu:.0%} of a core")  # fmt: skip
        for round_ in range(1, args.rounds + 1):
            for n in clients_counts:
                for mutation in mutations:
                    for who in SERVERS:
                        profiler = None
                        if args.profile and who == "dxlink" and round_ == 1:
                            # py-spy samples dxlink's process (its threads too) during the run.
                            profiler = subprocess.Popen(
                                [PY_SPY, "record", "--pid", str(dxlink.pid), "--rate", "500",
                                 "--duration", str(int(args.seconds)), "--format", "raw",
                                 "--threads", "--output", f"{args.profile}-{mutation}-{n}.txt"],
                                stdout=subprocess.DEVNULL,
                            )  # fmt: skip
                        pid = dxlink.pid if who == "dxlink" else floor.pid
                        figure = asyncio.run(
                            one_run(owner, urls[who], who, mutation, n, args, mint, round_,
                                    (pid, data_dir))
                        )  # fmt: skip
                        if profiler is not None:
                            profiler.wait(timeout=60)
                        results.setdefault((mutation, n, who), []).append(figure)
                        failed |= not figure.verdict.ok
    report(results, mutations, clients_counts)
    return 1 if failed else 0


async def one_run(
    owner: str,
    url: tuple[str, int, str],
    who: str,
    mutation: str,
    clients: int,
    args: argparse.Namespace,
    mint: Callable[..., str],
    round_: int,
    processes: tuple[int, Path],
) -> Figure:
    marker = f"bench-{mutation}-{who}-{clients}-{round_}-{uuid.uuid4().hex[:8]}"
    connection = await asyncpg.connect(owner)
    try:
        setup_fn = setup_plan if mutation == "plan" else setup_assign
        setup = await setup_fn(connection, marker, clients, mint)
        await connection.execute("ANALYZE dispatch_visit, dispatch_assignment, dispatch_request")
        key = "planSession" if mutation == "plan" else "assignExpert"
        path = url[2] + ("/" + mutation if who == "floor" else "")
        load = Path("/proc/loadavg").read_text().split()[0]
        server_cpu, pg_cpu = cpu_seconds(processes[0]), postgres_cpu_seconds(processes[1])
        outcome = await drive(
            (url[0], url[1], path), setup.clients, args.seconds, args.conflicts, key
        )
        server_cpu = cpu_seconds(processes[0]) - server_cpu
        pg_cpu = postgres_cpu_seconds(processes[1]) - pg_cpu
        verdict = await verify(connection, mutation, setup, outcome.acknowledged)
        await cleanup(connection, mutation, marker)
    finally:
        await connection.close()
    figure = Figure(
        len(outcome.acknowledged) / outcome.elapsed,
        percentile(outcome.latencies, 0.50),
        percentile(outcome.latencies, 0.99),
        outcome.refused,
        outcome.cpu / outcome.elapsed,
        verdict,
        server_cpu * 1000 / max(1, len(outcome.latencies)),
        pg_cpu * 1000 / max(1, len(outcome.latencies)),
    )
    print(
        f"round {round_}: {key:>12} {clients:>2} clients {who:>6}: "
        f"{figure.writes_per_second:6.0f} writes/s, p50 {figure.p50_ms:.1f} ms, "
        f"p99 {figure.p99_ms:.1f} ms, {len(outcome.acknowledged)} acknowledged, "
        f"{outcome.refused} refused; in the database: {verdict.rows} "
        f"(missing {verdict.missing}, unacknowledged {verdict.unacknowledged}, duplicate acks "
        f"{verdict.duplicates}, audit mismatches {verdict.audit_bad}); generator CPU "
        f"{figure.generator_cpu:.0%}; CPU per write: server {figure.server_cpu_ms:.1f} ms, "
        f"PostgreSQL {figure.postgres_cpu_ms:.1f} ms; load {load} at start"
        + (f"; {outcome.exhausted} clients ran out of writes" if outcome.exhausted else "")
        + (f"; UNEXPECTED {len(outcome.unexpected)}: {outcome.unexpected[0]}"
           if outcome.unexpected else ""),
        flush=True,
    )  # fmt: skip
    if outcome.unexpected:
        figure.verdict.missing += len(outcome.unexpected)  # fails the run
    return figure


def report(
    results: dict[tuple[str, int, str], list[Figure]], mutations: list[str], counts: list[int]
) -> None:
    print("\n| mutation | clients | dxlink writes/s | floor writes/s | ratio | "
          "dxlink p50 / p99 ms | floor p50 / p99 ms | CPU ms per write, server + PostgreSQL: "
          "dxlink / floor | every write once |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for mutation in mutations:
        for n in counts:
            dx, fl = results.get((mutation, n, "dxlink")), results.get((mutation, n, "floor"))
            if not (dx and fl):
                continue
            d, f = mean(x.writes_per_second for x in dx), mean(x.writes_per_second for x in fl)
            once = all(x.verdict.ok for x in dx + fl)
            print(
                f"| {'planSession' if mutation == 'plan' else 'assignExpert'} | {n} | {d:.0f} | "
                f"{f:.0f} | {d / f:.2f}x | {mean(x.p50_ms for x in dx):.1f} / "
                f"{mean(x.p99_ms for x in dx):.1f} | {mean(x.p50_ms for x in fl):.1f} / "
                f"{mean(x.p99_ms for x in fl):.1f} | "
                f"{mean(x.server_cpu_ms for x in dx):.1f} + "
                f"{mean(x.postgres_cpu_ms for x in dx):.1f}"
                f" / {mean(x.server_cpu_ms for x in fl):.1f} + "
                f"{mean(x.postgres_cpu_ms for x in fl):.1f} | {'yes' if once else 'NO'} |"
            )
    print("\nEach figure is the mean of the rounds; every round:\n")
    for (mutation, n, who), figures in results.items():
        cells = ", ".join(
            f"{x.writes_per_second:.0f}/s p99 {x.p99_ms:.0f} ms cpu {x.generator_cpu:.0%}"
            for x in figures
        )
        print(f"- {mutation} {n} {who}: {cells}")


def main() -> None:
    from service import shutdown
    from service.embedded import detaching

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", default="8,32", help="client counts, comma-separated")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", action="append", metavar="MUTATION", help="plan, assign")
    parser.add_argument(
        "--conflicts", type=float, default=0.0,
        help="share of writes that repeat the previous one (refused)",
    )  # fmt: skip
    parser.add_argument(
        "--calibrate", action="store_true",
        help="first measure the load generator against a constant route",
    )  # fmt: skip
    parser.add_argument(
        "--profile",
        metavar="PREFIX",
        help="py-spy records dxlink during each first-round run (PREFIX-<mutation>-<n>.txt, "
        "collapsed stacks); needs py-spy on PATH",
    )
    parser.add_argument("--data-dir", type=Path, default=ROOT / "bench" / ".data")
    args = parser.parse_args()
    with shutdown.termination_signals(), detaching():
        status = run(args)
    raise SystemExit(status)


if __name__ == "__main__":
    main()
