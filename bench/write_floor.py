"""The write floor: `planSession` and `assignExpert` by hand, the same transaction as dxlink's.

A bare Starlette app (part of the benchmark, never of the product) for bench/writes.py. Each
route takes the body bench/writes.py sends dxlink (it reads `variables.input`, as a REST
endpoint would read its JSON) with the same bearer token, verifies the token (HS256, the
service's secret, issuer and audience), and runs the mutation as a careful engineer writes it
with asyncpg, checking what service/dispatch/sessions.py and assignments.py check, in the same
order, with the same locks:

- one transaction on a connection of the API's runtime login (DATABASE_URL), which assumes
  `dxlink_api` and publishes the principal (`dxlink.role`, `dxlink.expert_id`, ...,
  `dxlink.subject`, a request id) and `dxlink.operation` transaction-locally in one statement,
  as dxlink's first statement does: the same row-level security reads and write policies
  (`dxlink_can_write`, the column guard), and the audit trigger writes its record;
- the row the rule needs read as the principal (NOT_FOUND when hidden), the policy's check
  (FORBIDDEN), then the programme's shared advisory lock and the expert's (the same keys,
  programme first), then everything the rules count in one statement after the locks: the
  assignment again, the programme's rules, an overlapping session, sessions before, sessions
  in the month (planSession); the programme and the expert's open assignments (assignExpert);
- the same INSERT (and for assignExpert the request's UPDATE to MATCHED, version advanced),
  answered from RETURNING: the same payload as dxlink's, user errors included.

Fewer round trips than dxlink (5 or 6 statements and COMMIT, against dxlink's 14-16 with the
savepoint and the read-back) is what makes it a floor. Pool: BENCH_WRITE_POOL_SIZE connections
(bench/writes.py passes dxlink's pool size plus overflow). Run: uvicorn bench.write_floor:app.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import orjson
from jose import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.writes import global_id, key_of  # noqa: E402
from service.dispatch.repository import first_month_over  # noqa: E402  (plain Python)

JST = ZoneInfo("Asia/Tokyo")
EXPERT_LOCK, PROGRAMME_LOCK = 73_064_401, 73_064_402
POOL_SIZE = int(os.environ.get("BENCH_WRITE_POOL_SIZE", "15"))

PRINCIPAL = """
SELECT set_config('role', 'dxlink_api', true), set_config('dxlink.role', $1, true),
  set_config('dxlink.municipality_id', '', true), set_config('dxlink.expert_id', $2, true),
  set_config('dxlink.region_id', '', true), set_config('dxlink.subject', $3, true),
  set_config('dxlink.request_id', $4, true), set_config('dxlink.operation', $5, true)
"""
ASSIGNMENT = (
    "SELECT id, expert_id, municipality_id, programme_id FROM dispatch_assignment WHERE id = $1"
)
LOCK_BOTH = (
    "SELECT pg_advisory_xact_lock_shared($1, $2), pg_advisory_xact_lock($3, $4)"  # in this order
)
LOCK_EXPERT = "SELECT pg_advisory_xact_lock($1, $2)"
# After the locks: the assignment as it is now and what the rules count.
PLAN_STATE = """
SELECT a.status, a.starts_on, a.ends_on,
  p.id IS NOT NULL AS has_programme, p.sessions_per_month_max, p.first_session_on_site,
  (SELECT ROW(v.starts_at, v.ends_at) FROM dispatch_visit v
   JOIN dispatch_assignment o ON o.id = v.assignment_id
   WHERE o.expert_id = a.expert_id AND v.status <> 'CANCELLED'
     AND v.starts_at < $3 AND v.ends_at > $2 LIMIT 1) AS clash,
  (SELECT count(*) FROM dispatch_visit v WHERE v.assignment_id = a.id
     AND v.status <> 'CANCELLED' AND v.starts_at < $2) AS before,
  (SELECT count(*) FROM dispatch_visit v WHERE v.assignment_id = a.id
     AND v.status <> 'CANCELLED'
     AND date_trunc('month', timezone('Asia/Tokyo', v.starts_at))
       = date_trunc('month', timezone('Asia/Tokyo', $2::timestamptz))) AS in_month
FROM dispatch_assignment a LEFT JOIN dispatch_programme p ON p.id = a.programme_id
WHERE a.id = $1
"""
INSERT_VISIT = """
INSERT INTO dispatch_visit (assignment_id, starts_at, ends_at, mode, status, place, theme)
VALUES ($1, $2, $3, $4, 'PLANNED', $5, $6)
RETURNING id, starts_at, ends_at, mode, status, theme
"""
REQUEST_AND_EXPERT = """
SELECT r.id AS request_id, r.programme_id, r.municipality_id, r.theme, r.status,
  e.id AS expert_id, e.name, e.themes, e.monthly_capacity
FROM (SELECT * FROM dispatch_request WHERE id = $1) r
FULL JOIN (SELECT * FROM expert WHERE id = $2) e ON true
"""
PROGRAMME_AND_BOOKINGS = """
SELECT p.id, p.starts_on, p.ends_on, p.sessions_per_month_target,
  timezone('Asia/Tokyo', now())::date AS today,
  ARRAY(SELECT ROW(a.starts_on, a.ends_on, coalesce(q.sessions_per_month_target, 4))
        FROM dispatch_assignment a LEFT JOIN dispatch_programme q ON q.id = a.programme_id
        WHERE a.expert_id = $2 AND a.status IN ('PLANNED', 'ACTIVE')
          AND a.starts_on <= $4 AND a.ends_on >= $3) AS bookings
FROM dispatch_programme p WHERE p.id = $1
"""
INSERT_ASSIGNMENT = """
INSERT INTO dispatch_assignment (request_id, programme_id, expert_id, municipality_id, theme,
  starts_on, ends_on, status)
VALUES ($1, $2, $3, $4, $5, $6, $7, 'ACTIVE')
RETURNING id, theme, starts_on, ends_on, status
"""
MATCH_REQUEST = """
UPDATE dispatch_request SET status = 'MATCHED', version = version + 1, updated_at = now()
WHERE id = $1 RETURNING id
"""

state: dict[str, Any] = {}


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    from auth.tokens import dev_secret
    from service.settings import Settings

    settings = Settings()
    state["jwt"] = (dev_secret(settings), settings.jwt_issuer, settings.jwt_audience)
    state["pool"] = await asyncpg.create_pool(
        os.environ["DATABASE_URL"],
        min_size=POOL_SIZE,
        max_size=POOL_SIZE,
        server_settings={
            "random_page_cost": os.environ.get("DXLINK_DB_RANDOM_PAGE_COST", "1.1"),
            "timezone": "UTC",
            "idle_in_transaction_session_timeout": "60000",
        },
    )
    yield
    await state["pool"].close()


class Refused(Exception):
    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self.errors = errors


def _error(field: list[str], code: str, message: str) -> dict[str, Any]:
    return {"field": field, "code": code, "message": message}


def _claims(request: Request) -> dict[str, Any] | None:
    header = request.headers.get("authorization", "")
    secret, issuer, audience = state["jwt"]
    try:
        return dict(
            jwt.decode(header.removeprefix("Bearer "), secret, algorithms=["HS256"],
                       audience=audience, issuer=issuer)
        )  # fmt: skip
    except Exception:
        return None


def _answer(mutation: str, key: str, value: Any, errors: list[dict[str, Any]]) -> Response:
    body = {"data": {mutation: {key: value, "userErrors": errors}}}
    return Response(orjson.dumps(body), media_type="application/json")


async def _begin(connection: asyncpg.Connection, claims: dict[str, Any], operation: str) -> None:
    await connection.fetchrow(
        PRINCIPAL, claims["role"], str(claims.get("expert", "")), claims["sub"],
        uuid.uuid4().hex, operation,
    )  # fmt: skip


def _db_refusal(exc: asyncpg.PostgresError) -> Refused | None:
    if isinstance(exc, asyncpg.InsufficientPrivilegeError):
        return Refused([_error(["input"], "FORBIDDEN", "the principal may not do this")])
    if getattr(exc, "constraint_name", None) == "uq_dispatch_assignment_open_request":
        message = "an active assignment already serves the request"
        return Refused([_error(["input", "requestId"], "REQUEST_ALREADY_ASSIGNED", message)])
    return None


async def plan(request: Request) -> Response:
    claims = _claims(request)
    if claims is None:
        return Response(b'{"errors":[{"message":"unauthenticated"}]}', status_code=401)
    given = orjson.loads(await request.body())["variables"]["input"]
    starts_at = datetime.fromisoformat(given["startsAt"])
    ends_at = datetime.fromisoformat(given["endsAt"])
    mode, place, theme = given["mode"], given.get("place"), given.get("theme")
    try:
        async with state["pool"].acquire() as connection, connection.transaction():
            try:
                row = await _plan(connection, claims, key_of(given["assignmentId"]),
                                  starts_at, ends_at, mode, place, theme)  # fmt: skip
            except asyncpg.PostgresError as exc:
                refusal = _db_refusal(exc)
                if refusal is None:
                    raise
                raise refusal from None
    except Refused as refused:
        return _answer("planSession", "session", None, refused.errors)
    session = {
        "id": global_id("DispatchVisit", row["id"]),
        "startsAt": row["starts_at"].isoformat(),
        "endsAt": row["ends_at"].isoformat(),
        "mode": row["mode"],
        "status": row["status"],
        "theme": row["theme"],
    }
    return _answer("planSession", "session", session, [])


async def _plan(
    connection: asyncpg.Connection,
    claims: dict[str, Any],
    assignment_id: int,
    starts_at: datetime,
    ends_at: datetime,
    mode: str,
    place: str | None,
    theme: str | None,
) -> asyncpg.Record:
    await _begin(connection, claims, "planSession")
    field = ["input", "assignmentId"]
    assignment = await connection.fetchrow(ASSIGNMENT, assignment_id)
    if assignment is None:
        raise Refused([_error(field, "NOT_FOUND", "no such assignment")])
    role = claims["role"]
    if not (
        role in ("prefecture_admin", "dispatch_coordinator")
        or (role == "expert" and str(assignment["expert_id"]) == str(claims.get("expert")))
    ):
        raise Refused([_error(field, "FORBIDDEN", f"{role} may not do this")])
    if assignment["programme_id"] is None:
        await connection.fetchrow(LOCK_EXPERT, EXPERT_LOCK, assignment["expert_id"])
    else:
        await connection.fetchrow(
            LOCK_BOTH, PROGRAMME_LOCK, assignment["programme_id"], EXPERT_LOCK,
            assignment["expert_id"],
        )  # fmt: skip
    now = await connection.fetchrow(PLAN_STATE, assignment_id, starts_at, ends_at)
    if now["status"] == "ENDED":
        raise Refused([_error(field, "ASSIGNMENT_ENDED", "the assignment has ended")])
    errors = []
    if ends_at <= starts_at:
        errors.append(_error(["input", "endsAt"], "INVALID_PERIOD", "ends before it starts"))
    elif ends_at - starts_at > timedelta(hours=12):
        errors.append(_error(["input", "endsAt"], "INVALID", "a session lasts at most 12 hours"))
    if mode == "ON_SITE" and not (place or "").strip():
        errors.append(_error(["input", "place"], "REQUIRED", "an on-site session needs a place"))
    for name, value in (("place", place), ("theme", theme)):
        if value is not None and len(value) > 200:
            errors.append(_error(["input", name], "TOO_LONG", "at most 200 characters"))
    if errors:
        raise Refused(errors)
    day = starts_at.astimezone(JST).date()
    if not now["starts_on"] <= day <= now["ends_on"]:
        message = f"the assignment runs {now['starts_on']} - {now['ends_on']}"
        raise Refused([_error(["input", "startsAt"], "OUTSIDE_ASSIGNMENT", message)])
    if now["clash"] is not None:
        clash_starts, clash_ends = now["clash"]
        errors.append(
            _error(
                ["input", "startsAt"],
                "OVERLAPPING_SESSION",
                "the expert has a session from "
                f"{clash_starts.astimezone(JST):%Y-%m-%d %H:%M} to "
                f"{clash_ends.astimezone(JST):%H:%M} (JST)",
            )
        )
    on_site_first = not now["has_programme"] or now["first_session_on_site"]
    if on_site_first and mode != "ON_SITE" and now["before"] == 0:
        errors.append(
            _error(["input", "mode"], "FIRST_SESSION_NOT_ON_SITE",
                   "the first session of an assignment is on site")
        )  # fmt: skip
    maximum = now["sessions_per_month_max"] if now["has_programme"] else 6
    if now["in_month"] >= maximum:
        errors.append(
            _error(["input", "startsAt"], "MONTHLY_MAXIMUM",
                   f"{day:%Y-%m} holds {maximum} sessions already (the programme's maximum)")
        )  # fmt: skip
    if errors:
        raise Refused(errors)
    return await connection.fetchrow(
        INSERT_VISIT, assignment_id, starts_at, ends_at, mode,
        (place or "").strip() or None, (theme or "").strip() or None,
    )  # fmt: skip


async def assign(request: Request) -> Response:
    claims = _claims(request)
    if claims is None:
        return Response(b'{"errors":[{"message":"unauthenticated"}]}', status_code=401)
    given = orjson.loads(await request.body())["variables"]["input"]
    starts_on = date.fromisoformat(given["startsOn"]) if given.get("startsOn") else None
    ends_on = date.fromisoformat(given["endsOn"]) if given.get("endsOn") else None
    try:
        async with state["pool"].acquire() as connection, connection.transaction():
            try:
                row = await _assign(connection, claims, key_of(given["requestId"]),
                                    key_of(given["expertId"]), starts_on, ends_on)  # fmt: skip
            except asyncpg.PostgresError as exc:
                refusal = _db_refusal(exc)
                if refusal is None:
                    raise
                raise refusal from None
    except Refused as refused:
        return _answer("assignExpert", "assignment", None, refused.errors)
    assignment = {
        "id": global_id("DispatchAssignment", row["id"]),
        "theme": row["theme"],
        "startsOn": row["starts_on"].isoformat(),
        "endsOn": row["ends_on"].isoformat(),
        "status": row["status"],
    }
    return _answer("assignExpert", "assignment", assignment, [])


async def _assign(
    connection: asyncpg.Connection,
    claims: dict[str, Any],
    request_id: int,
    expert_id: int,
    starts_on: date | None,
    ends_on: date | None,
) -> asyncpg.Record:
    await _begin(connection, claims, "assignExpert")
    found = await connection.fetchrow(REQUEST_AND_EXPERT, request_id, expert_id)
    errors = []
    if found is None or found["request_id"] is None:
        errors.append(_error(["input", "requestId"], "NOT_FOUND", "no such request"))
    if found is None or found["expert_id"] is None:
        errors.append(_error(["input", "expertId"], "NOT_FOUND", "no such expert"))
    if errors:
        raise Refused(errors)
    role = claims["role"]
    if role not in ("prefecture_admin", "dispatch_coordinator"):
        raise Refused([_error(["input"], "FORBIDDEN", f"{role} may not do this")])
    if found["status"] != "OPEN":
        message = f"the request is {found['status']}"
        raise Refused([_error(["input", "requestId"], "REQUEST_NOT_OPEN", message)])
    # Programme first, then the expert (dxlink reads the programme between the two; nothing
    # it reads depends on the expert's lock).
    await connection.fetchrow(
        LOCK_BOTH, PROGRAMME_LOCK, found["programme_id"], EXPERT_LOCK, expert_id
    )
    programme = await connection.fetchrow(
        PROGRAMME_AND_BOOKINGS, found["programme_id"], expert_id,
        starts_on or date.min, ends_on or date.max,
    )  # fmt: skip
    starts_on = starts_on or max(programme["starts_on"], programme["today"])
    ends_on = ends_on or programme["ends_on"]
    if ends_on < starts_on:
        errors.append(_error(["input", "endsOn"], "INVALID_PERIOD", "ends before it starts"))
    elif starts_on < programme["starts_on"] or ends_on > programme["ends_on"]:
        errors.append(
            _error(["input", "startsOn" if starts_on < programme["starts_on"] else "endsOn"],
                   "OUTSIDE_PROGRAMME",
                   f"the programme runs {programme['starts_on']} - {programme['ends_on']}")
        )  # fmt: skip
    if found["theme"] not in (found["themes"] or []):
        errors.append(
            _error(["input", "expertId"], "THEME_NOT_COVERED",
                   f"{found['name']} does not cover {found['theme']}")
        )  # fmt: skip
    target = programme["sessions_per_month_target"]
    if ends_on >= starts_on:
        bookings = [(max(s, starts_on), min(e, ends_on), n) for s, e, n in programme["bookings"]]
        over = first_month_over([*bookings, (starts_on, ends_on, target)],
                                found["monthly_capacity"])  # fmt: skip
        if over is not None:
            month, booked = over
            errors.append(
                _error(["input", "expertId"], "CAPACITY_EXCEEDED",
                       f"{month:%Y-%m}: {booked - target} of {found['monthly_capacity']} "
                       f"sessions are booked already; this assignment needs {target}")
            )  # fmt: skip
    if errors:
        raise Refused(errors)
    row = await connection.fetchrow(
        INSERT_ASSIGNMENT, request_id, found["programme_id"], expert_id,
        found["municipality_id"], found["theme"], starts_on, ends_on,
    )  # fmt: skip
    if await connection.fetchval(MATCH_REQUEST, request_id) is None:
        raise Refused([_error(["input", "id"], "FORBIDDEN", "the principal may not do this")])
    return row


async def ok(request: Request) -> Response:
    """A constant answer: the load generator's ceiling (bench/writes.py --calibrate)."""
    return Response(b'{"data":{"ok":true}}', media_type="application/json")


app = Starlette(
    routes=[
        Route("/plan", plan, methods=["POST"]),
        Route("/assign", assign, methods=["POST"]),
        Route("/ok", ok, methods=["GET", "POST"]),
    ],
    lifespan=lifespan,
)
