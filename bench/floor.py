"""The floor: the benchmark's nested query answered by hand, as fast as plain Python gets.

A bare Starlette route (part of the benchmark, never of the product): three SQL statements
through an asyncpg pool, the answer assembled in Python and encoded with orjson. It returns the
same JSON as dxlink for

    query($n: Int!) { municipalities(first: $n) { edges { node {
      code name kana population region { name } datasets(first: 10) { identifier title modifiedOn }
    } } } }

as the public sees it (published datasets only). Run: uvicorn bench.floor:app (DATABASE_URL).
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
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
REGIONS = "SELECT id, name FROM region WHERE id = ANY($1::int[])"
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

state: dict[str, asyncpg.Pool] = {}
# The pool dxlink's compiled path gets (DXLINK_DB_READ_POOL_SIZE, default 4).
POOL_SIZE = int(os.environ.get("DXLINK_DB_READ_POOL_SIZE", "4"))


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    # The same planner setting as dxlink's connections (DXLINK_DB_RANDOM_PAGE_COST).
    state["pool"] = await asyncpg.create_pool(
        os.environ["DATABASE_URL"],
        min_size=POOL_SIZE,
        max_size=POOL_SIZE,
        server_settings={"random_page_cost": os.environ.get("DXLINK_DB_RANDOM_PAGE_COST", "1.1")},
    )
    yield
    await state["pool"].close()


async def nested(request: Request) -> Response:
    n = int(request.query_params.get("n", "20"))
    async with state["pool"].acquire() as connection:
        page = await connection.fetch(PAGE, n)
        ids = [row["id"] for row in page]
        regions = dict(await connection.fetch(REGIONS, list({row["region_id"] for row in page})))
        datasets: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for row in await connection.fetch(DATASETS, ids):
            modified = row["modified_on"]
            datasets[row["municipality_id"]].append(
                {
                    "identifier": row["identifier"],
                    "title": row["title"],
                    "modifiedOn": modified.isoformat() if modified else None,
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
    body = {"data": {"municipalities": {"edges": edges}}}
    return Response(orjson.dumps(body), media_type="application/json")


app = Starlette(routes=[Route("/nested", nested)], lifespan=lifespan)
