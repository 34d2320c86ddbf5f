"""Deterministic national-scale synthetic data for the benchmark (never for production).

    .venv/bin/python bench/generate.py DATABASE_URL [--datasets 100000] [--seed 1]

On a database that `dxlink migrate` and `dxlink seed` prepared (Wakayama's real reference data),
adds the other 46 prefectures with the real number of municipalities each (1,741 in all), five
regional offices per prefecture, a tier for every municipality, datasets with one or two
distributions (a tenth of them joint between two municipalities), experts and assignments;
then the dispatch programme of fiscal year 2026 with the assignments' sessions
(`_dispatch`, also alone with --dispatch-only on a database generated before it); then each
municipality's tier history (`_tier_history`: a 2023-11 snapshot before the 2024-11 one, and
a tenth of the 2024-11 tiers overridden by the prefecture with a reason; also alone with
--tier-history-only on a database generated before it); then a rubric and one submitted
2024-04 response per municipality (`_assessments`, also alone with --assessments-only); then
five DX goals and 60 working groups of Wakayama's municipalities with their members, goals and
outputs (`_working_groups`, issue 13's WG board; also alone with --working-groups-only).
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
# Catalog entries beside the standard datasets' names, and sentences of their descriptions.
CATALOG_TITLES = [
    "避難所一覧", "人口統計", "観光入込客数", "予算書", "決算書", "ごみ収集カレンダー",
    "消防団詰所一覧", "バス停留所一覧", "保育所入所状況", "図書館蔵書数", "児童館一覧",
    "気象観測データ", "河川水位観測所", "道路工事情報", "ハザードマップ", "指定避難所一覧",
    "文化財の写真", "選挙結果", "議会会議録", "統計書", "空き家バンク物件一覧", "農産物直売所一覧",
    "Wi-Fiスポット一覧", "EV充電スタンド一覧", "市営住宅一覧", "医療機関の診療時間",
    "子育て支援制度", "公園一覧", "トイレマップ", "イベントカレンダー",
]  # fmt: skip
CATALOG_NOTES = [
    "毎月更新します。", "年度ごとに公開しています。", "Updated every quarter.",
    "位置情報を含みます。", "CSVとExcelで提供します。", "Open data of the municipality.",
]  # fmt: skip
CATALOG_THEMES = ["GOVE", "SOCI", "HEAL", "EDUC", "ENVI", "TRAN", "JUST", "ECON", "REGI"]
FORMATS = [("CSV", "text/csv"), ("XLSX", "application/vnd.ms-excel"), ("JSON", "application/json")]


def code(prefecture: int, serial: int) -> str:
    first_five = f"{prefecture:02d}{serial:03d}"
    return first_five + str(check_digit(first_five))


async def generate(
    url: str,
    datasets: int,
    seed: int,
    *,
    dispatch_only: bool = False,
    tier_history_only: bool = False,
    assessments_only: bool = False,
    working_groups_only: bool = False,
) -> None:
    rng = random.Random(seed)
    started = time.perf_counter()
    connection = await asyncpg.connect(url)
    try:
        async with connection.transaction():
            if not (dispatch_only or tier_history_only or assessments_only or working_groups_only):
                await _generate(connection, rng, datasets)
            # Generators of their own: the rows above are the same with or without these steps.
            if not (tier_history_only or assessments_only or working_groups_only):
                await _dispatch(connection, random.Random(seed + 1))
            if not (assessments_only or working_groups_only):
                await _tier_history(connection, random.Random(seed + 2))
            if not working_groups_only:
                await _assessments(connection, seed)
            await _working_groups(connection, random.Random(seed + 3))
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
    # Titles, descriptions, themes and licenses from a generator of their own, so that the
    # other rows are the same as before catalogs were searched (bench/shapes.py).
    words = random.Random(20261201)
    standards = dict(await connection.fetch("SELECT name, id FROM standard_dataset"))
    names = [*standards, *CATALOG_TITLES]
    records = []
    for i in range(datasets):
        name = words.choice(names)
        records.append(
            (f"synthetic-{i:06d}", f"合成{i:06d} {name}",
             f"{name}の合成データです。{words.choice(CATALOG_NOTES)}",
             ["合成", name[:4]], "PUBLISHED" if i % 10 else "DRAFT",
             words.choice(["CC-BY-4.0", "CC-BY-4.0", "PDL-1.0", "CC0-1.0"]),
             words.sample(CATALOG_THEMES, words.choice([1, 1, 2])), standards.get(name),
             date(2020, 1, 1) + timedelta(days=rng.randrange(2400)), True, now, now)
        )  # fmt: skip
    await connection.copy_records_to_table(
        "dataset",
        records=records,
        columns=["identifier", "title", "description", "keywords", "status", "license",
                 "themes", "standard_dataset_id", "modified_on", "synthetic", "created_at",
                 "updated_at"],
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


# The fiscal year 2026 programme (April to March), with the rules of the real one.
PROGRAMME = (2026, date(2026, 4, 1), date(2027, 3, 31), 4, 6)
# Session days of each month and the first hour (JST) of an expert's n-th assignment's slot.
SESSION_DAYS = (5, 12, 19)
JST_OFFSET = timedelta(hours=9)


async def _dispatch(connection: asyncpg.Connection, rng: random.Random) -> None:
    """The programme the generated assignments follow, and their sessions: three a month (the
    programme's maximum is six), each expert's sessions in slots of their own so that none
    overlap, the first of each assignment on site; held with a report before 2026-11-23,
    planned after, one in twenty cancelled."""
    if await connection.fetchval("SELECT count(*) FROM dispatch_programme"):
        raise SystemExit("this database already holds a dispatch programme")
    now = datetime.now(UTC)
    year, starts_on, ends_on, target, maximum = PROGRAMME
    programme_id = await connection.fetchval(
        "INSERT INTO dispatch_programme (fiscal_year, name, starts_on, ends_on, themes, "
        "sessions_per_month_target, sessions_per_month_max) "
        "VALUES ($1, '合成デジタル専門人材派遣', $2, $3, $4, $5, $6) RETURNING id",
        year, starts_on, ends_on, THEMES, target, maximum,
    )  # fmt: skip
    await connection.execute("UPDATE dispatch_assignment SET programme_id = $1", programme_id)
    assignments = await connection.fetch(
        "SELECT id, expert_id, theme, starts_on, ends_on FROM dispatch_assignment "
        "ORDER BY expert_id, id"
    )
    today = date(2026, 11, 23)
    sessions = []
    rank: dict[int, int] = {}
    for a in assignments:
        # The expert's n-th assignment: its own two hours of the day (four a day), its own
        # days after the fourth; no two sessions of one expert overlap.
        n = rank[a["expert_id"]] = rank.get(a["expert_id"], -1) + 1
        hour, shift = 9 + 2 * (n % 4), n // 4
        month = a["starts_on"].replace(day=1)
        first = True
        while month <= a["ends_on"]:
            for day in SESSION_DAYS:
                on = month.replace(day=day + shift)
                if not a["starts_on"] <= on <= a["ends_on"]:
                    continue
                starts_at = datetime(on.year, on.month, on.day, hour, tzinfo=UTC) - JST_OFFSET
                mode = "ON_SITE" if first or rng.random() < 0.4 else "ONLINE"
                place = f"合成庁舎{a['id']:03d}" if mode == "ON_SITE" else None
                if on >= today:
                    status, report, hours = "PLANNED", None, None
                elif rng.random() < 0.05 and not first:
                    status, report, hours = "CANCELLED", None, None
                else:
                    status, report, hours = "HELD", f"合成報告 {a['theme']} {on}", 2.0
                first = False
                sessions.append(
                    (a["id"], starts_at, starts_at + timedelta(hours=2), mode, status, place,
                     a["theme"], report, hours, starts_at + timedelta(hours=3) if report else None,
                     "合成: 日程調整" if status == "CANCELLED" else None, now, now)
                )  # fmt: skip
            month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    await connection.copy_records_to_table(
        "dispatch_visit",
        records=sessions,
        columns=["assignment_id", "starts_at", "ends_at", "mode", "status", "place", "theme",
                 "report", "hours", "reported_at", "cancelled_reason", "created_at",
                 "updated_at"],
    )  # fmt: skip
    print(f"a dispatch programme, {len(sessions)} sessions of {len(assignments)} assignments")


# The tier history (issue 12's dashboard: `tierHistory` as the prefecture reads it): a snapshot of
# November 2023 before the generated one of November 2024, and overrides of the 2024 tier.
EARLIER_SNAPSHOT = date(2023, 11, 30)
LATER_SNAPSHOT = date(2024, 11, 30)
OVERRIDE_REASONS = [
    "合成: 再確認の結果、推進体制を評価",
    "合成: 計画策定済みのため引き上げ",
    "合成: 回答内容を実施状況に合わせて補正",
]


async def _tier_history(connection: asyncpg.Connection, rng: random.Random) -> None:
    """Every municipality's 2023-11 tier (one level lower than its 2024-11 one, or the same, at
    random), and one in ten of the 2024-11 tiers overridden: the computed tier one level away
    from the final one, with a reason (every municipality whose code's serial ends in 1, so
    that the dashboard shape's municipality, 132012, has one)."""
    if await connection.fetchval(
        "SELECT count(*) FROM tier_assignment WHERE snapshot_on = $1", EARLIER_SNAPSHOT
    ):
        raise SystemExit("this database already holds a tier history")
    now = datetime.now(UTC)
    later = await connection.fetch(
        "SELECT t.id, t.municipality_id, t.level, m.code FROM tier_assignment t "
        "JOIN municipality m ON m.id = t.municipality_id WHERE t.snapshot_on = $1 ORDER BY t.id",
        LATER_SNAPSHOT,
    )
    earlier = [
        (r["municipality_id"], EARLIER_SNAPSHOT, round(rng.uniform(15, 90), 2), level, level,
         False, True, now)
        for r in later
        for level in [max(1, r["level"] - rng.choice([0, 1]))]
    ]  # fmt: skip
    await connection.copy_records_to_table(
        "tier_assignment",
        records=earlier,
        columns=["municipality_id", "snapshot_on", "score", "computed_level", "level",
                 "overridden", "synthetic", "created_at"],
    )  # fmt: skip
    overrides = [
        (r["id"], r["level"] - 1 if r["level"] > 1 else 2, rng.choice(OVERRIDE_REASONS))
        for r in later
        if int(r["code"][2:5]) % 10 == 1
    ]
    await connection.executemany(
        "UPDATE tier_assignment SET computed_level = $2, overridden = true, reason = $3, "
        "decided_by = '合成: 県DX推進課', synthetic = true WHERE id = $1",
        overrides,
    )
    print(f"a tier history: {len(earlier)} 2023-11 snapshots, {len(overrides)} overrides")


# The assessment (issue 12's dashboard: `latestScore` as the prefecture reads it): a rubric for
# the round's framework and one submitted response per municipality, all in SQL.
ASSESSMENT_ROUND = "2024-04"
RUBRIC_KEY = "bench-synthetic"


async def _assessments(connection: asyncpg.Connection, seed: int) -> None:
    """A synthetic rubric scoring the 2024-04 round (every option of the framework's choice
    questions worth its position's points, 0 to 3, each section weighted 1, 1.5 or 2 by its
    position, the tiers' minimums at 0, a quarter, half and three quarters of the maximum)
    and, for every municipality, one submitted response (between 2024-04-22 and 2024-05-07)
    answering every question that has options: one option of a single choice, about half of a
    multiple choice (at least one), picked by a hash of the seed, the response and the
    question, so every run gives the same answers. Free-text and number questions are left
    unanswered (they earn no points). Bulk INSERT ... SELECT: a few seconds."""
    if await connection.fetchval(
        "SELECT count(*) FROM assessment_rubric WHERE key = $1", RUBRIC_KEY
    ):
        raise SystemExit("this database already holds the benchmark's assessment")
    round_id, framework_id = await connection.fetchrow(
        "SELECT id, framework_id FROM assessment_round WHERE key = $1", ASSESSMENT_ROUND
    )
    rubric_id = await connection.fetchval(
        "INSERT INTO assessment_rubric (framework_id, version, key, title, synthetic) "
        "VALUES ($1, 'bench-1', $2, '合成: ベンチマーク用配点', true) RETURNING id",
        framework_id, RUBRIC_KEY,
    )  # fmt: skip
    await connection.execute(
        """
        INSERT INTO assessment_rubric_section (rubric_id, section_id, weight)
        SELECT $1, s.id, 1 + (s.position % 3) * 0.5 FROM assessment_section s
        WHERE s.framework_id = $2 AND EXISTS (
          SELECT FROM assessment_question q JOIN assessment_option o ON o.question_id = q.id
          WHERE q.section_id = s.id)
        """,
        rubric_id, framework_id,
    )  # fmt: skip
    await connection.execute(
        """
        INSERT INTO assessment_rubric_option (rubric_id, option_id, points)
        SELECT $1, o.id, (o.position - 1) % 4 FROM assessment_option o
        JOIN assessment_question q ON q.id = o.question_id WHERE q.framework_id = $2
        """,
        rubric_id, framework_id,
    )  # fmt: skip
    await connection.execute(
        "UPDATE assessment_round SET rubric_id = $1 WHERE id = $2", rubric_id, round_id
    )
    await connection.execute(
        """
        INSERT INTO assessment_response
          (round_id, municipality_id, status, version, submitted_at, synthetic)
        SELECT $1, m.id, 'SUBMITTED', 2,
               timestamptz '2024-04-22 09:00+09'
                 + make_interval(mins => abs(hashtext($2::text || ':' || m.id)) % (15 * 24 * 60)),
               true
        FROM municipality m
        WHERE NOT EXISTS (SELECT FROM assessment_response r
                          WHERE r.round_id = $1 AND r.municipality_id = m.id)
        """,
        round_id, str(seed),
    )  # fmt: skip
    await connection.execute(
        """
        INSERT INTO assessment_answer (response_id, question_id, synthetic)
        SELECT r.id, q.id, true FROM assessment_response r
        JOIN assessment_question q ON q.framework_id = $2
        WHERE r.round_id = $1 AND r.synthetic
          AND EXISTS (SELECT FROM assessment_option o WHERE o.question_id = q.id)
        """,
        round_id, framework_id,
    )  # fmt: skip
    # The n-th option of a question (by position) is picked by hash % count; a multiple choice
    # also takes every option whose own hash is even.
    await connection.execute(
        """
        INSERT INTO assessment_answer_option (answer_id, option_id, synthetic)
        SELECT a.id, o.id, true
        FROM assessment_answer a
        JOIN assessment_response r ON r.id = a.response_id
        JOIN assessment_question q ON q.id = a.question_id
        JOIN LATERAL (
          SELECT o.id, row_number() OVER (ORDER BY o.position, o.id) - 1 AS n,
                 count(*) OVER () AS options
          FROM assessment_option o WHERE o.question_id = q.id) o ON true
        WHERE r.round_id = $1 AND a.synthetic AND (
          o.n = abs(hashtext($2::text || ':' || a.id)) % o.options
          OR (q.kind = 'MULTIPLE'
              AND abs(hashtext($2::text || ':' || a.id || ':' || o.id)) % 2 = 0))
        """,
        round_id, str(seed),
    )  # fmt: skip
    maximum = await connection.fetchval(
        "SELECT max(max_total) FROM assessment_score WHERE round_id = $1", round_id
    )
    await connection.execute(
        "INSERT INTO assessment_rubric_threshold (rubric_id, level, minimum_total) "
        "SELECT $1, level, round($2::numeric * (level - 1) / 4, 2) FROM support_tier",
        rubric_id, maximum,
    )  # fmt: skip
    responses, chosen = await connection.fetchrow(
        "SELECT (SELECT count(*) FROM assessment_response WHERE round_id = $1 AND synthetic), "
        "(SELECT count(*) FROM assessment_answer_option WHERE synthetic)",
        round_id,
    )
    print(f"an assessment: {responses} submitted responses, {chosen} chosen options, "
          f"a rubric with a maximum of {maximum}")  # fmt: skip


# Issue 13's WG board: five DX goals and 60 working groups of Wakayama's 30 municipalities.
WG_GOALS = 5
WG_GROUPS = 60
WG_TOPICS = [
    "共同調達", "生成AI活用", "窓口DX", "オープンデータ", "情報システム標準化", "BPR",
    "防災DX", "観光DX", "子育てDX", "人材育成",
]  # fmt: skip
WG_ROLES = ["情報政策課長", "DX推進担当", "企画課主査", "総務課係長", None]
WG_OUTPUTS = ["中間報告", "仕様書案", "ガイドライン", "事例集", "最終報告書"]
# A municipality that is a member of several active groups: the staff principal of the board.
WG_STAFF_CODE = "302015"


async def _working_groups(connection: asyncpg.Connection, rng: random.Random) -> None:
    """Five synthetic DX goals and 60 working groups over Wakayama's municipalities: three in
    four ACTIVE (45; the rest PROPOSED or CLOSED), one in five led by the prefecture, the others
    by a member municipality; 3-10 memberships each (an active lead among them, one in eight of
    the others REQUESTED or LEFT, and 和歌山市 an active member of every third group), 1-3
    goals, 2-5 outputs (two in three published, with a URL and a date)."""
    if await connection.fetchval("SELECT count(*) FROM working_group WHERE synthetic"):
        raise SystemExit("this database already holds synthetic working groups")
    now = datetime.now(UTC)
    goals = await connection.fetch(
        "INSERT INTO dx_goal (code, title, description, position, synthetic) "
        "SELECT 'G' || n, '合成目標' || n, '合成: ベンチマーク用の目標', n, true "
        "FROM generate_series(1, $1) AS n RETURNING id",
        WG_GOALS,
    )
    goal_ids = [r["id"] for r in goals]
    towns = await connection.fetch(
        "SELECT m.id, m.code, m.region_id FROM municipality m "
        "JOIN prefecture p ON p.id = m.prefecture_id WHERE p.code LIKE '30%' ORDER BY m.code"
    )
    staff = next(r["id"] for r in towns if r["code"] == WG_STAFF_CODE)
    groups, links, memberships, outputs = 0, 0, 0, 0
    for n in range(1, WG_GROUPS + 1):
        status = "ACTIVE" if n % 4 else rng.choice(["PROPOSED", "CLOSED"])
        kind = "BUSINESS_CREATION" if n % 3 == 0 else "SELF_INITIATED"
        members = rng.sample(list(towns), rng.randint(3, 10))
        if n % 3 == 1 and all(m["id"] != staff for m in members):
            members[-1] = next(r for r in towns if r["id"] == staff)
        by_prefecture = n % 5 == 0
        lead = None if by_prefecture else members[0]
        started = date(2025, 4, 1) + timedelta(days=rng.randrange(300))
        group_id = await connection.fetchval(
            "INSERT INTO working_group (slug, name, kind, status, theme, purpose, "
            "lead_municipality_id, lead_prefecture, region_id, fiscal_year, started_on, "
            "closed_on, synthetic) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
            "true) RETURNING id",
            f"bench-wg-{n:03d}", f"合成WG{n:03d} {WG_TOPICS[n % len(WG_TOPICS)]}", kind, status,
            WG_TOPICS[n % len(WG_TOPICS)], "合成: ベンチマーク用のワーキンググループ",
            lead and lead["id"], by_prefecture, lead and lead["region_id"],
            2025 if started < date(2026, 4, 1) else 2026, started,
            started + timedelta(days=200) if status == "CLOSED" else None,
        )  # fmt: skip
        groups += 1
        for goal in sorted(rng.sample(goal_ids, rng.randint(1, 3))):
            await connection.execute(
                "INSERT INTO working_group_goal (working_group_id, goal_id, synthetic) "
                "VALUES ($1, $2, true)",
                group_id, goal,
            )  # fmt: skip
            links += 1
        await connection.copy_records_to_table(
            "working_group_membership",
            records=[
                (group_id, m["id"],
                 "ACTIVE" if i == 0 or m["id"] == staff or rng.random() >= 1 / 8
                 else rng.choice(["REQUESTED", "LEFT"]),
                 rng.choice(WG_ROLES), now, True)
                for i, m in enumerate(members)
            ],
            columns=["working_group_id", "municipality_id", "status", "contact_role",
                     "requested_at", "synthetic"],
        )  # fmt: skip
        memberships += len(members)
        for k in range(rng.randint(2, 5)):
            published = rng.random() < 2 / 3
            await connection.execute(
                "INSERT INTO working_group_output (working_group_id, kind, title, url, "
                "published, published_on, synthetic) VALUES ($1, $2, $3, $4, $5, $6, true)",
                group_id, rng.choice(["DOCUMENT", "DECISION", "PROCUREMENT_SPEC", "OTHER"]),
                f"合成{WG_OUTPUTS[k]} ({n:03d})",
                f"https://example.jp/bench-wg-{n:03d}/{k + 1}" if published else None,
                published, started + timedelta(days=30 * (k + 1)) if published else None,
            )  # fmt: skip
            outputs += 1
    print(f"working groups: {WG_GOALS} goals, {groups} groups, {links} goal links, "
          f"{memberships} memberships, {outputs} outputs")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("database_url")
    parser.add_argument("--datasets", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--dispatch-only",
        action="store_true",
        help="only the programme and the sessions, on a database generated without them",
    )
    parser.add_argument(
        "--tier-history-only",
        action="store_true",
        help="only the tier history, on a database generated without it",
    )
    parser.add_argument(
        "--assessments-only",
        action="store_true",
        help="only the rubric and the responses, on a database generated without them",
    )
    parser.add_argument(
        "--working-groups-only",
        action="store_true",
        help="only the DX goals and working groups, on a database generated without them",
    )
    args = parser.parse_args()
    asyncio.run(
        generate(
            args.database_url,
            args.datasets,
            args.seed,
            dispatch_only=args.dispatch_only,
            tier_history_only=args.tier_history_only,
            assessments_only=args.assessments_only,
            working_groups_only=args.working_groups_only,
        )
    )


if __name__ == "__main__":
    main()
