"""The floor: each benchmark query answered by hand, as a careful engineer writes it with asyncpg.

A bare Starlette app (part of the benchmark, never of the product), one route per query shape
of bench/shapes.py (and `/dataset/pick`, which names the dataset the page shape reads): a few
SQL statements through an asyncpg pool, the answer assembled in Python
and encoded with orjson, byte for byte the JSON dxlink gives for the same GraphQL query.

It reads what dxlink's requests read, under the same row-level security: it logs in as the
API's runtime login (DATABASE_URL, as bench/run.py builds it), assumes the API role once per
connection and keeps a principal's settings in the session, as dxlink's read pool does. There
is a pool per principal (BENCH_PRINCIPALS, JSON: each principal of bench/shapes.py PRINCIPALS
with its settings, taken by bench/run.py from service/database.py); each route reads from the
pool of its shape's principal: the public's for most, a dispatch coordinator's for the
calendar, the prefecture's staff (`prefecture_admin`) for the municipality dashboard. Each pool
has DXLINK_DB_READ_POOL_SIZE connections, like dxlink's compiled path, and the same planner cost
(DXLINK_DB_RANDOM_PAGE_COST). Run: uvicorn bench.floor:app.
"""

from __future__ import annotations

import base64
import json
import os
import unicodedata
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime
from typing import Any

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

PAGE = """
SELECT id, code, name, kana, population, region_id FROM municipality ORDER BY code LIMIT $1
"""
REGION_NAMES = "SELECT id, name FROM region WHERE id = ANY($1::int[])"
# Each municipality's newest ten published datasets, read from the index in order and stopped
# after ten (a window over all of a municipality's datasets costs 4x as much at N=20).
DATASETS = """
SELECT m.id AS municipality_id, d.identifier, d.title, d.modified_on
FROM unnest($1::int[]) AS m(id)
CROSS JOIN LATERAL (
  SELECT d.identifier, d.title, d.modified_on
  FROM dataset_publisher p JOIN dataset d ON d.id = p.dataset_id
  WHERE p.municipality_id = m.id AND d.status = 'PUBLISHED'
  ORDER BY p.dataset_modified_on DESC NULLS LAST, p.dataset_id
  LIMIT 10
) d
"""
# One municipality and its lists in one round trip: arrays of records, decoded by asyncpg.
ONE = """
SELECT m.code, m.name, m.kana, m.kind::text AS kind, m.population, m.region_id,
  r.name AS region_name, p.name AS prefecture_name,
  ARRAY(SELECT o.code FROM municipality o WHERE o.region_id = m.region_id ORDER BY o.code)
    AS region_codes,
  ARRAY(SELECT ROW(t.snapshot_on, s.name) FROM tier_assignment t
        JOIN support_tier s ON s.level = t.level
        WHERE t.municipality_id = m.id ORDER BY t.snapshot_on DESC, t.id) AS tiers,
  ARRAY(SELECT ROW(d.identifier, d.title) FROM dataset_publisher dp
        JOIN dataset d ON d.id = dp.dataset_id
        WHERE dp.municipality_id = m.id AND d.status = 'PUBLISHED'
        ORDER BY dp.dataset_modified_on DESC NULLS LAST, dp.dataset_id LIMIT 10) AS datasets,
  ARRAY(SELECT ROW(a.theme, a.starts_on) FROM dispatch_assignment a
        WHERE a.municipality_id = m.id ORDER BY a.starts_on, a.id) AS assignments
FROM municipality m
JOIN prefecture p ON p.id = m.prefecture_id
LEFT JOIN region r ON r.id = m.region_id
WHERE m.code = $1
"""
REGIONS = "SELECT id, name, short_name FROM region ORDER BY prefecture_id, position"
REGION_MUNICIPALITIES = """
SELECT region_id, code, name, kana, population FROM municipality
WHERE region_id IS NOT NULL ORDER BY code
"""
# dxlink's search: name, reading or romaji containing the term, or a code starting with it.
SEARCH = """
SELECT code, name, kana, population, count(*) OVER () AS total
FROM municipality
WHERE name ILIKE $1 OR kana ILIKE $1 OR romaji ILIKE $1 OR code LIKE $2
ORDER BY code LIMIT $3
"""
# dxlink's region filter: a regional office by its full or its short name.
IN_REGION = """
SELECT code, name, count(*) OVER () AS total
FROM municipality
WHERE region_id IN (SELECT id FROM region WHERE name = $1 OR short_name = $1)
ORDER BY code LIMIT $2
"""

# The dispatch calendar: the assignments running in a month (they start before the next month's
# first day and end on or after the month's), by start, with their municipality, expert and
# sessions. Two statements: the page, then all its sessions in time order.
CALENDAR = """
SELECT a.id, a.theme, a.starts_on, a.ends_on, a.status, m.code, m.name, e.name AS expert_name
FROM dispatch_assignment a
JOIN municipality m ON m.id = a.municipality_id
LEFT JOIN expert e ON e.id = a.expert_id
WHERE a.starts_on < $2 AND a.ends_on >= $1
ORDER BY a.starts_on, a.id LIMIT $3
"""
CALENDAR_SESSIONS = """
SELECT assignment_id, starts_at, ends_at, mode, status FROM dispatch_visit
WHERE assignment_id = ANY($1::int[]) ORDER BY starts_at, id
"""

# The dataset page (bench/shapes.py `dataset`): the dataset with its license and standard
# dataset, its municipal publishers by code and its distributions in order, in one statement
# (the lists as arrays of records, as ONE does). Row-level security decides what the public
# sees: an unpublished dataset is no row, and neither are its links and distributions.
DATASET = """
SELECT d.identifier, d.title, d.description, d.keywords, d.themes, d.license,
  l.name AS license_name, l.url AS license_url, d.issued_on, d.modified_on,
  d.update_frequency, d.version, s.key AS standard_key, s.name AS standard_name,
  ARRAY(SELECT ROW(m.code, m.name) FROM dataset_publisher p
        JOIN municipality m ON m.id = p.municipality_id
        WHERE p.dataset_id = d.id ORDER BY m.code) AS publishers,
  ARRAY(SELECT ROW(x.title, x.access_url, x.media_type, x.format, x.byte_size)
        FROM distribution x WHERE x.dataset_id = d.id ORDER BY x.position, x.id)
    AS distributions
FROM dataset d
LEFT JOIN license l ON l.key = d.license
LEFT JOIN standard_dataset s ON s.id = d.standard_dataset_id
WHERE d.id = $1
"""
# The dataset the page shape reads, chosen from the data as the public sees it: the first
# published synthetic dataset that conforms to a standard dataset and has two distributions.
DATASET_PICK = """
SELECT d.id FROM dataset d
WHERE d.synthetic AND d.status = 'PUBLISHED' AND d.standard_dataset_id IS NOT NULL
  AND (SELECT count(*) FROM distribution x WHERE x.dataset_id = d.id) = 2
ORDER BY d.id LIMIT 1
"""

# A pool per principal (`public`, `dispatch_coordinator`, `prefecture_admin`).
# The tier distribution (issue 12, bench/shapes.py `tiers`): the counts per tier of the latest
# snapshot within a month, from the definer functions dxlink calls (they count every
# municipality whatever the caller may read; the caller withholds small groups), joined to the
# tiers' names as the caller may read them.
TIERS = """
SELECT s.level, s.name, c.municipalities
FROM dxlink_tier_counts(dxlink_latest_tier_snapshot_in($1)) AS c
JOIN support_tier s ON s.level = c.level
ORDER BY c.level
"""
# KPI progress (issue 12, bench/shapes.py `kpi`): the definer function dxlink calls, a row per
# region and one (no region) for all municipalities, joined to the regions' names in their
# order (prefecture, position, id).
KPI = """
SELECT k.region_id, r.name, k.municipalities, k.assessed, k.in_target
FROM dxlink_kpi_by_region($1) AS k
LEFT JOIN region r ON r.id = k.region_id
ORDER BY r.prefecture_id, r.position, r.id
"""
# The municipality dashboard (issue 12, bench/shapes.py `dashboard`): the municipality, its
# tier history, newest first, and the score of its latest submitted response with the sections'
# scores, as far as the principal may read them, in one statement; the latest tier is the
# history's first entry (the same rows, the same order). The scores are the views dxlink reads
# (security_invoker: the responses' and the rubric's row rules apply), floats as float8.
DASHBOARD = """
SELECT m.code, m.name,
  ARRAY(SELECT ROW(t.snapshot_on, t.level, s.name, t.computed_level, t.overridden, t.reason)
        FROM tier_assignment t JOIN support_tier s ON s.level = t.level
        WHERE t.municipality_id = m.id ORDER BY t.snapshot_on DESC, t.id) AS tiers,
  latest.total::float8 AS score_total,
  CASE WHEN latest.response_id IS NOT NULL THEN
    ARRAY(SELECT ROW(ss.key, ss.score::float8) FROM assessment_section_score ss
          WHERE ss.response_id = latest.response_id ORDER BY ss.position) END AS score_sections
FROM municipality m
LEFT JOIN LATERAL (
  SELECT sc.response_id, sc.total FROM assessment_score sc WHERE sc.municipality_id = m.id
  ORDER BY sc.submitted_at DESC NULLS LAST, sc.response_id DESC LIMIT 1) latest ON true
WHERE m.code = $1
"""

# The WG board (issue 13, bench/shapes.py `wg-board`): a page of working groups of the given
# statuses by slug, each with its region, lead, active members counted, goals in the goals'
# order, active members in their municipalities' order and outputs newest first; and the
# municipalities per region (a null region among them) with those taking part in an ACTIVE
# group (an active member or its lead), the regions in their order. One statement, under the
# principal's row-level security, as dxlink reads them.
WG_BOARD = """
WITH part AS (
  SELECT g.lead_municipality_id AS municipality_id FROM working_group g
  WHERE g.status = 'ACTIVE' AND g.lead_municipality_id IS NOT NULL
  UNION
  SELECT x.municipality_id FROM working_group_membership x
  JOIN working_group g ON g.id = x.working_group_id
  WHERE g.status = 'ACTIVE' AND x.status = 'ACTIVE'),
per AS (
  SELECT m.region_id, count(*) AS municipalities,
    count(*) FILTER (WHERE EXISTS (SELECT 1 FROM part WHERE part.municipality_id = m.id))
      AS participating
  FROM municipality m GROUP BY m.region_id)
SELECT
  ARRAY(
    SELECT ROW(g.slug, g.name, g.kind, g.status, g.theme, r.name, lm.name, g.lead_prefecture,
      (SELECT count(*) FROM working_group_membership x
       WHERE x.working_group_id = g.id AND x.status = 'ACTIVE')::int,
      ARRAY(SELECT ROW(d.code, d.title) FROM working_group_goal l
            JOIN dx_goal d ON d.id = l.goal_id
            WHERE l.working_group_id = g.id ORDER BY d.position, d.code),
      ARRAY(SELECT ROW(m.code, m.name, x.contact_role) FROM working_group_membership x
            LEFT JOIN municipality m ON m.id = x.municipality_id
            WHERE x.working_group_id = g.id AND x.status = 'ACTIVE'
            ORDER BY x.municipality_id, x.id),
      ARRAY(SELECT ROW(o.title, o.url, o.published) FROM working_group_output o
            WHERE o.working_group_id = g.id
            ORDER BY o.published_on DESC NULLS LAST, o.id DESC))
    FROM working_group g
    LEFT JOIN region r ON r.id = g.region_id
    LEFT JOIN municipality lm ON lm.id = g.lead_municipality_id
    WHERE g.status = ANY($1::text[]) ORDER BY g.slug LIMIT $2) AS groups,
  ARRAY(
    SELECT ROW(r.name, p.municipalities, p.participating) FROM per p
    JOIN region r ON r.id = p.region_id
    ORDER BY r.prefecture_id, r.position, r.id) AS regions,
  (SELECT ROW(sum(p.municipalities)::int, sum(p.participating)::int) FROM per p) AS overall
"""

state: dict[str, asyncpg.Pool] = {}
# The pool dxlink's compiled path gets (DXLINK_DB_READ_POOL_SIZE, default 4).
POOL_SIZE = int(os.environ.get("DXLINK_DB_READ_POOL_SIZE", "4"))
# Below this many municipalities a non-empty group is withheld from everyone outside the
# prefecture's staff (dxlink's DXLINK_AGGREGATE_THRESHOLD, default 3).
THRESHOLD = int(os.environ.get("DXLINK_AGGREGATE_THRESHOLD", "3"))
# The roles that see exact counts (auth/principal.py `is_staff`).
STAFF = {"prefecture_admin", "dispatch_coordinator", "regional_office"}


def _as(settings: dict[str, str]) -> Any:
    async def init(connection: asyncpg.Connection) -> None:
        """Assume the API role and the principal for the whole session, and make sure
        row-level security holds for it (a floor that bypassed it would not be a floor)."""
        await connection.execute("SET ROLE dxlink_api")
        for name, value in settings.items():
            await connection.execute("SELECT set_config($1, $2, false)", name, value)
        privileged = await connection.fetchval(
            "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"
        )
        if privileged is not False:
            raise RuntimeError("the floor's role would bypass row-level security")

    return init


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    principals: dict[str, dict[str, str]] = json.loads(os.environ["BENCH_PRINCIPALS"])
    for name, settings in principals.items():
        state[name] = await asyncpg.create_pool(
            os.environ["DATABASE_URL"],
            min_size=POOL_SIZE,
            max_size=POOL_SIZE,
            init=_as(settings),
            # Nothing to reset between requests: the role and the settings stay with the session.
            reset=_keep_session,
            # The same planner cost and time zone as dxlink's connections.
            server_settings={
                "random_page_cost": os.environ.get("DXLINK_DB_RANDOM_PAGE_COST", "1.1"),
                "timezone": "UTC",
            },
        )
    try:
        yield
    finally:
        for name in principals:
            await state.pop(name).close()


async def _keep_session(connection: asyncpg.Connection) -> None:
    pass


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _json(body: dict[str, Any]) -> Response:
    return Response(orjson.dumps({"data": body}), media_type="application/json")


async def nested(request: Request) -> Response:
    n = int(request.query_params.get("n", "20"))
    async with state["public"].acquire() as connection:
        page = await connection.fetch(PAGE, n)
        ids = [row["id"] for row in page]
        regions = dict(
            await connection.fetch(REGION_NAMES, list({row["region_id"] for row in page}))
        )
        datasets: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for row in await connection.fetch(DATASETS, ids):
            datasets[row["municipality_id"]].append(
                {
                    "identifier": row["identifier"],
                    "title": row["title"],
                    "modifiedOn": _iso(row["modified_on"]),
                }
            )
    edges = [
        {
            "node": {
                "code": row["code"],
                "name": row["name"],
                "kana": row["kana"],
                "population": row["population"],
                "region": {"name": regions[row["region_id"]]}
                if row["region_id"] in regions
                else None,
                "datasets": datasets.get(row["id"], []),
            }
        }
        for row in page
    ]
    return _json({"municipalities": {"edges": edges}})


async def one(request: Request) -> Response:
    async with state["public"].acquire() as connection:
        row = await connection.fetchrow(ONE, request.query_params["code"])
    if row is None:
        return _json({"municipality": None})
    region = None
    if row["region_name"] is not None:
        region = {
            "name": row["region_name"],
            "municipalities": [{"code": code} for code in row["region_codes"]],
        }
    municipality = {
        "code": row["code"],
        "name": row["name"],
        "kana": row["kana"],
        "kind": row["kind"],
        "population": row["population"],
        "region": region,
        "prefecture": {"name": row["prefecture_name"]},
        "tierHistory": [
            {"snapshotOn": _iso(snapshot), "tier": {"name": tier}}
            for snapshot, tier in row["tiers"]
        ],
        "datasets": [
            {"identifier": identifier, "title": title} for identifier, title in row["datasets"]
        ],
        "dispatchAssignments": [
            {"theme": theme, "startsOn": _iso(starts)} for theme, starts in row["assignments"]
        ],
    }
    return _json({"municipality": municipality})


async def regions(request: Request) -> Response:
    async with state["public"].acquire() as connection:
        offices = await connection.fetch(REGIONS)
        members = await connection.fetch(REGION_MUNICIPALITIES)
    by_region: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in members:
        by_region[row["region_id"]].append(
            {
                "code": row["code"],
                "name": row["name"],
                "kana": row["kana"],
                "population": row["population"],
            }
        )
    body = [
        {
            "name": office["name"],
            "shortName": office["short_name"],
            "municipalities": by_region.get(office["id"], []),
        }
        for office in offices
    ]
    return _json({"regions": body})


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _normalise(text: str) -> str:
    """As dxlink normalises a search term: NFKC, katakana to hiragana."""
    folded = unicodedata.normalize("NFKC", text).strip()
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in folded)


async def search(request: Request) -> Response:
    term = _escape_like(_normalise(request.query_params["q"]))
    first = int(request.query_params.get("first", "20"))
    async with state["public"].acquire() as connection:
        rows = await connection.fetch(SEARCH, f"%{term}%", f"{term}%", first)
    edges = [
        {
            "node": {
                "code": row["code"],
                "name": row["name"],
                "kana": row["kana"],
                "population": row["population"],
            }
        }
        for row in rows
    ]
    total = rows[0]["total"] if rows else 0
    return _json({"municipalities": {"totalCount": total, "edges": edges}})


async def in_region(request: Request) -> Response:
    first = int(request.query_params.get("first", "20"))
    async with state["public"].acquire() as connection:
        rows = await connection.fetch(IN_REGION, request.query_params["name"], first)
    edges = [{"node": {"code": row["code"], "name": row["name"]}} for row in rows]
    total = rows[0]["total"] if rows else 0
    return _json({"municipalities": {"totalCount": total, "edges": edges}})


def _month(text: str) -> tuple[date, date]:
    year, month = (int(part) for part in text.split("-"))
    first = date(year, month, 1)
    return first, date(year + month // 12, month % 12 + 1, 1)


def _global_id(type_name: str, key: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{key}".encode()).decode().rstrip("=")


def _instant(value: datetime) -> str:
    return value.isoformat()


async def calendar(request: Request) -> Response:
    first_day, next_first = _month(request.query_params["month"])
    first = int(request.query_params.get("first", "50"))
    async with state["dispatch_coordinator"].acquire() as connection:
        page = await connection.fetch(CALENDAR, first_day, next_first, first)
        sessions: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for row in await connection.fetch(CALENDAR_SESSIONS, [row["id"] for row in page]):
            sessions[row["assignment_id"]].append(
                {
                    "startsAt": _instant(row["starts_at"]),
                    "endsAt": _instant(row["ends_at"]),
                    "mode": row["mode"],
                    "status": row["status"],
                }
            )
    edges = [
        {
            "node": {
                "id": _global_id("DispatchAssignment", row["id"]),
                "theme": row["theme"],
                "startsOn": _iso(row["starts_on"]),
                "endsOn": _iso(row["ends_on"]),
                "status": row["status"],
                "municipality": {"code": row["code"], "name": row["name"]},
                "expert": None if row["expert_name"] is None else {"name": row["expert_name"]},
                "sessions": sessions.get(row["id"], []),
            }
        }
        for row in page
    ]
    return _json({"assignments": {"edges": edges}})


def _row_id(global_id: str, type_name: str) -> int | None:
    """The key of a global id of that type (base64url of `Type:key`), else None."""
    try:
        decoded = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
        name, _, key = decoded.partition(":")
        return int(key) if name == type_name else None
    except ValueError:
        return None


async def dataset(request: Request) -> Response:
    key = _row_id(request.query_params["id"], "Dataset")
    if key is None:  # another type's id: no dataset, as dxlink answers
        return _json({"dataset": None})
    async with state["public"].acquire() as connection:
        row = await connection.fetchrow(DATASET, key)
    if row is None:  # none, or not the public's to read
        return _json({"dataset": None})
    license_info = None
    if row["license_name"] is not None:
        license_info = {"name": row["license_name"], "url": row["license_url"]}
    standard = None
    if row["standard_key"] is not None:
        standard = {"key": row["standard_key"], "name": row["standard_name"]}
    body = {
        "id": _global_id("Dataset", key),
        "identifier": row["identifier"],
        "title": row["title"],
        "description": row["description"],
        "keywords": row["keywords"],
        "themes": row["themes"],
        "license": row["license"],
        "licenseInfo": license_info,
        "issuedOn": _iso(row["issued_on"]),
        "modifiedOn": _iso(row["modified_on"]),
        "updateFrequency": row["update_frequency"],
        "version": row["version"],
        "publishers": [{"code": code, "name": name} for code, name in row["publishers"]],
        "standardDataset": standard,
        "distributions": [
            {"title": title, "accessUrl": url, "mediaType": media, "format": fmt, "byteSize": size}
            for title, url, media, fmt, size in row["distributions"]
        ],
    }
    return _json({"dataset": body})


async def dataset_pick(request: Request) -> Response:
    """The dataset the page shape reads (`DATASET_PICK`), as `{"id": ...}`."""
    async with state["public"].acquire() as connection:
        key = await connection.fetchval(DATASET_PICK)
    return Response(orjson.dumps({"id": key}), media_type="application/json")


def _principal(request: Request, default: str) -> str:
    """The principal a route reads as: its shape's, or another of the table (`?as=`)."""
    return request.query_params.get("as", default)


async def tiers(request: Request) -> Response:
    who = _principal(request, "public")
    first, _ = _month(request.query_params["snapshot"])
    async with state[who].acquire() as connection:
        rows = await connection.fetch(TIERS, first)
    withheld = who not in STAFF and any(0 < row["municipalities"] < THRESHOLD for row in rows)
    body = [
        {
            "tier": {"level": row["level"], "name": row["name"]},
            "count": None if withheld else row["municipalities"],
        }
        for row in rows
    ]
    return _json({"tierDistribution": body})


def _float(value: float | None) -> float | int | None:
    """A float8 as dxlink writes it (PostgreSQL's text: `12`, not `12.0`)."""
    if value is None:
        return None
    return int(value) if value.is_integer() else value


def _share(part: int, whole: int) -> float | int | None:
    """A share as dxlink writes a float8 (PostgreSQL's text: `1`, not `1.0`)."""
    if not whole:
        return None
    share = part / whole
    return int(share) if share.is_integer() else share


def _kpi_withheld(rows: list[asyncpg.Record]) -> bool:
    """dxlink's rule: withheld when, in some row of the group, the municipalities in or outside
    the KPI's tiers are fewer than the threshold but not none."""
    return any(
        0 < row["in_target"] < THRESHOLD or 0 < row["assessed"] - row["in_target"] < THRESHOLD
        for row in rows
    )


async def kpi(request: Request) -> Response:
    who = _principal(request, "prefecture_admin")
    first, _ = _month(request.query_params["snapshot"])
    async with state[who].acquire() as connection:
        rows = await connection.fetch(KPI, first)
    overall = [row for row in rows if row["region_id"] is None]
    regional = [row for row in rows if row["region_id"] is not None]
    exact = who in STAFF
    overall_hidden = not exact and _kpi_withheld(overall)
    regions_hidden = not exact and _kpi_withheld(regional)
    top = overall[0]
    body = {
        "inTarget": None if overall_hidden else top["in_target"],
        "share": None if overall_hidden else _share(top["in_target"], top["municipalities"]),
        "regions": [
            {
                "region": {"name": row["name"]},
                "share": None
                if regions_hidden
                else _share(row["in_target"], row["municipalities"]),
            }
            for row in regional
        ],
    }
    return _json({"kpiProgress": body})


def _snapshot(snapshot_on: date) -> str:
    return snapshot_on.strftime("%Y-%m")


async def dashboard(request: Request) -> Response:
    who = _principal(request, "prefecture_admin")
    async with state[who].acquire() as connection:
        row = await connection.fetchrow(DASHBOARD, request.query_params["code"])
    if row is None:
        return _json({"municipality": None})
    history = [
        {
            "snapshot": _snapshot(snapshot_on),
            "snapshotOn": snapshot_on.isoformat(),
            "tier": {"level": level, "name": name},
            "computedTier": None if computed is None else {"level": computed},
            "overridden": overridden,
            "reason": reason,
        }
        for snapshot_on, level, name, computed, overridden, reason in row["tiers"]
    ]
    latest = None
    if history:
        latest = {"snapshot": history[0]["snapshot"], "tier": history[0]["tier"]}
    municipality = {
        "code": row["code"],
        "name": row["name"],
        "tier": latest,
        "tierHistory": history,
        "latestScore": None
        if row["score_sections"] is None
        else {
            "total": _float(row["score_total"]),
            "sections": [
                {"key": key, "score": _float(score)} for key, score in row["score_sections"]
            ],
        },
    }
    return _json({"municipality": municipality})


# Whom a membership's contact role is withheld from (auth/policy.py: a column rule, not a row's).
CONTACT_HIDDEN = {"public"}


async def wg_board(request: Request) -> Response:
    who = _principal(request, "public")
    first = int(request.query_params.get("first", "20"))
    async with state[who].acquire() as connection:
        row = await connection.fetchrow(WG_BOARD, ["ACTIVE"], first)
    edges = [
        {
            "node": {
                "slug": slug,
                "name": name,
                "kind": kind,
                "status": status,
                "theme": theme,
                "region": None if region is None else {"name": region},
                "leadMunicipality": None if lead is None else {"name": lead},
                "ledByPrefecture": by_prefecture,
                "memberCount": member_count,
                "goals": [{"code": code, "title": title} for code, title in goals],
                "members": [
                    {
                        "municipality": None if code is None else {"code": code, "name": town},
                        "contactRole": None if who in CONTACT_HIDDEN else contact_role,
                    }
                    for code, town, contact_role in members
                ],
                "outputs": [
                    {"title": title, "url": url, "published": published}
                    for title, url, published in outputs
                ],
            }
        }
        for (slug, name, kind, status, theme, region, lead, by_prefecture, member_count, goals,
             members, outputs) in row["groups"]
    ]  # fmt: skip
    municipalities, participating = row["overall"]
    coverage = {
        "municipalities": municipalities,
        "participating": participating,
        "share": _share(participating, municipalities),
        "regions": [
            {"region": {"name": name}, "participating": part, "share": _share(part, whole)}
            for name, whole, part in row["regions"]
        ],
    }
    return _json({"workingGroups": {"edges": edges}, "participationCoverage": coverage})


app = Starlette(
    routes=[
        Route("/nested", nested),
        Route("/one", one),
        Route("/regions", regions),
        Route("/search", search),
        Route("/region", in_region),
        Route("/calendar", calendar),
        Route("/dataset", dataset),
        Route("/dataset/pick", dataset_pick),
        Route("/tiers", tiers),
        Route("/kpi", kpi),
        Route("/dashboard", dashboard),
        Route("/wg-board", wg_board),
    ],
    lifespan=lifespan,
)
