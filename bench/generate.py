"""Deterministic national-scale synthetic data for the benchmark (never for production).

    .venv/bin/python bench/generate.py DATABASE_URL [--datasets 100000] [--seed 1]

On a database that `dxlink migrate` and `dxlink seed` prepared (Wakayama's real reference data),
adds the other 46 prefectures with the real number of municipalities each (1,741 in all), five
regional offices per prefecture, a tier for every municipality, datasets with one or two
distributions (a tenth of them joint between two municipalities), experts and assignments.
Every synthetic name starts with 合成 so it can never be mistaken for real data. Loads with
COPY; about half a minute on the 2-core benchmark machine.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from datetime import UTC, date, datetime, timedelta

import asyncpg

from service.geography.codes import check_digit

# Municipalities per prefecture (01 北海道 ... 47 沖縄県), 1,741 in all.
COUNTS = [
    179, 40, 33, 35, 25, 35, 59, 44, 25, 35, 63, 54, 62, 33, 30, 15, 19, 17, 27, 77, 42, 35, 54,
    29, 19, 26, 43, 41, 39, 30, 19, 19, 27, 23, 19, 24, 17, 20, 34, 60, 20, 21, 45, 18, 26, 43, 41,
]  # fmt: skip
WAKAYAMA = 30
KINDS = ["CITY", "TOWN", "TOWN", "VILLAGE"]
THEMES = ["DX推進計画", "生成AI", "情報システム標準化", "オープンデータ", "BPR"]
FORMATS = [("CSV", "text/csv"), ("XLSX", "application/vnd.ms-excel"), ("JSON", "application/json")]


def code(prefecture: int, serial: int) -> str:
    first_five = f"{prefecture:02d}{serial:03d}"
    return first_five + str(check_digit(first_five))


async def generate(url: str, datasets: int, seed: int) -> None:
    rng = random.Random(seed)
    started = time.perf_counter()
    connection = await asyncpg.connect(url)
    try:
        async with connection.transaction():
            await _generate(connection, rng, datasets)
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    print(f"generated in {time.perf_counter() - started:.1f} s")


async def _generate(connection: asyncpg.Connection, rng: random.Random, datasets: int) -> None:
    if await connection.fetchval("SELECT count(*) FROM prefecture") > 1:
        raise SystemExit("this database already holds synthetic data")
    now = datetime.now(UTC)
    prefectures = [
        (p, code(p, 0), f"合成県{p:02d}", f"ごうせいけん{p:02d}", f"Gosei-ken{p:02d}", now, now)
        for p in range(1, 48)
        if p != WAKAYAMA
    ]
    await connection.copy_records_to_table(
        "prefecture",
        records=[r[1:] for r in prefectures],
        columns=["code", "name", "kana", "romaji", "created_at", "updated_at"],
    )
    prefecture_ids = dict(await connection.fetch("SELECT code, id FROM prefecture"))
    regions = []
    for p, pcode, *_ in prefectures:
        for r in range(1, 6):
            regions.append(
                (prefecture_ids[pcode], f"合成{p:02d}-{r}振興局", f"合成{p:02d}-{r}",
                 f"ごうせい{r}", f"Gosei-{r}", r, now, now)
            )  # fmt: skip
    await connection.copy_records_to_table(
        "region",
        records=regions,
        columns=["prefecture_id", "name", "short_name", "kana", "romaji", "position",
                 "created_at", "updated_at"],
    )  # fmt: skip
    region_ids: dict[int, list[int]] = {}
    for row in await connection.fetch("SELECT id, prefecture_id FROM region ORDER BY id"):
        region_ids.setdefault(row["prefecture_id"], []).append(row["id"])
    municipalities = []
    for (p, pcode, *_), count in ((x, COUNTS[x[0] - 1]) for x in prefectures):
        pid = prefecture_ids[pcode]
        for serial in range(1, count + 1):
            kind = rng.choice(KINDS)
            municipalities.append(
                (code(p, 200 + serial), pid, rng.choice(region_ids[pid]),
                 f"合成{p:02d}{kind[0]}{serial:03d}", f"ごうせい{serial:03d}",
                 f"Gosei-{p:02d}-{serial:03d}", kind, rng.randint(800, 900_000), 2020, now, now)
            )  # fmt: skip
    await connection.copy_records_to_table(
        "municipality",
        records=municipalities,
        columns=["code", "prefecture_id", "region_id", "name", "kana", "romaji", "kind",
                 "population", "population_year", "created_at", "updated_at"],
    )  # fmt: skip
    municipality_ids = [r["id"] for r in await connection.fetch("SELECT id FROM municipality")]
    snapshot = date(2024, 11, 30)
    await connection.copy_records_to_table(
        "tier_assignment",
        records=[
            (m, snapshot, round(rng.uniform(20, 95), 2), level, level, False, now)
            for m in municipality_ids
            for level in [rng.choice([1, 2, 3, 3, 4])]
        ],
        columns=["municipality_id", "snapshot_on", "score", "computed_level", "level",
                 "overridden", "created_at"],
    )  # fmt: skip
    await connection.copy_records_to_table(
        "dataset",
        records=[
            (f"synthetic-{i:06d}", f"合成データセット{i:06d}", ["合成"],
             "PUBLISHED" if i % 10 else "DRAFT", "PDL-1.0",
             date(2020, 1, 1) + timedelta(days=rng.randrange(2400)), now, now)
            for i in range(datasets)
        ],
        columns=["identifier", "title", "keywords", "status", "license", "modified_on",
                 "created_at", "updated_at"],
    )  # fmt: skip
    dataset_ids = [r["id"] for r in await connection.fetch("SELECT id FROM dataset ORDER BY id")]
    publishers = []
    for i, dataset_id in enumerate(dataset_ids):
        owners = {rng.choice(municipality_ids)}
        if i % 10 == 3:
            owners.add(rng.choice(municipality_ids))
        publishers += [(dataset_id, m) for m in owners]
    await connection.copy_records_to_table(
        "dataset_publisher", records=publishers, columns=["dataset_id", "municipality_id"]
    )
    distributions = []
    for dataset_id in dataset_ids:
        for position in range(rng.choice([1, 1, 2])):
            fmt, media = rng.choice(FORMATS)
            distributions.append(
                (dataset_id, fmt, f"https://example.invalid/{dataset_id}/{position}",
                 media, fmt, rng.randint(1_000, 5_000_000), position, now)
            )  # fmt: skip
    await connection.copy_records_to_table(
        "distribution",
        records=distributions,
        columns=["dataset_id", "title", "access_url", "media_type", "format", "byte_size",
                 "position", "created_at"],
    )  # fmt: skip
    await connection.copy_records_to_table(
        "expert",
        records=[(f"合成専門家{i:03d}", rng.sample(THEMES, 2), 4, now, now) for i in range(200)],
        columns=["name", "themes", "monthly_capacity", "created_at", "updated_at"],
    )
    expert_ids = [r["id"] for r in await connection.fetch("SELECT id FROM expert")]
    today = date(2026, 11, 23)
    await connection.copy_records_to_table(
        "dispatch_assignment",
        records=[
            (rng.choice(expert_ids), m, rng.choice(THEMES), today - timedelta(days=150),
             today + timedelta(days=90), "ACTIVE", now, now)
            for m in rng.sample(municipality_ids, 500)
        ],
        columns=["expert_id", "municipality_id", "theme", "starts_on", "ends_on", "status",
                 "created_at", "updated_at"],
    )  # fmt: skip
    total = await connection.fetchval("SELECT count(*) FROM municipality")
    print(
        f"{len(prefectures) + 1} prefectures, {total} municipalities, {len(dataset_ids)} datasets"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("database_url")
    parser.add_argument("--datasets", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    asyncio.run(generate(args.database_url, args.datasets, args.seed))


if __name__ == "__main__":
    main()
