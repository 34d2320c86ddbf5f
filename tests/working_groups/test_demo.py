"""The demo's working groups (`dxlink seed --demo`, seeds/demo_working_groups.py) on a scratch
database: the goals, producers and groups of both kinds are there with their members, advisers,
meetings and outputs, every row flagged synthetic; a second run changes nothing; removing the
demo removes them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from seeds.demo_working_groups import GOALS, GROUPS, PRODUCERS, TABLES
from service.cli import main as cli_main
from service.models import Base
from service.settings import Settings, get_settings
from tests.database import scratch_database


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def dxlink(url: str, settings: Settings, data_dir: Path, *argv: str) -> int:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", url)
        patch.setenv("DXLINK_DATA_DIR", str(data_dir))
        assert settings.db_runtime_password is not None
        patch.setenv("DXLINK_DB_RUNTIME_PASSWORD", settings.db_runtime_password.get_secret_value())
        get_settings.cache_clear()
        root = logging.getLogger()
        handlers, level = root.handlers[:], root.level
        try:
            return cli_main(list(argv))
        finally:
            get_settings.cache_clear()
            root.handlers[:] = handlers
            root.setLevel(level)


async def _rows(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(_libpq(url))
    try:
        async with connection.transaction():
            await connection.execute("SELECT set_config('dxlink.maintenance', 'on', true)")
            return await connection.fetch(sql, *args)
    finally:
        await connection.close()


async def _counts(url: str, condition: str = "true") -> dict[str, int]:
    return {
        t.name: (await _rows(url, f"SELECT count(*) FROM {t.name} WHERE {condition}"))[0][0]
        for t in TABLES
    }


async def _all_counts(url: str) -> dict[str, int]:
    return {
        table: (await _rows(url, f"SELECT count(*) FROM {table}"))[0][0]
        for table in Base.metadata.tables
    }


@pytest.fixture(scope="module")
async def demo_url(pg_server: str) -> AsyncIterator[str]:
    async with scratch_database(pg_server, "wgdemo") as url:
        yield url


@pytest.fixture(scope="module")
def seeded(demo_url: str, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("wg-demo-data")
    assert dxlink(demo_url, settings, data_dir, "seed", "--demo") == 0
    return data_dir


def _expected() -> dict[str, int]:
    """What the plan holds, table by table (advisers: every named expert is in the demo)."""
    return {
        "dx_goal": len(GOALS),
        "dx_goal_indicator": sum(len(years) for g in GOALS for _, _, years in g[3]),
        "producer": len(PRODUCERS),
        "working_group": len(GROUPS),
        "working_group_goal": sum(len(g.goals) for g in GROUPS),
        "working_group_membership": sum(len(g.members) + len(g.requested) for g in GROUPS),
        "working_group_adviser": sum(len(g.producers) + len(g.experts) for g in GROUPS),
        "working_group_meeting": sum(len(g.meetings) for g in GROUPS),
        "working_group_attendance": sum(
            len(set(g.members) - set(m.absent)) for g in GROUPS for m in g.meetings
        ),
        "working_group_output": sum(len(g.outputs) for g in GROUPS),
    }


async def test_the_demo_holds_the_working_groups_all_synthetic(seeded: Path, demo_url: str) -> None:
    counts = await _counts(demo_url)
    assert counts == _expected()
    assert await _counts(demo_url, "synthetic") == counts
    assert all(counts.values())


async def test_the_demo_shows_both_kinds_every_status_and_the_producers(
    seeded: Path, demo_url: str
) -> None:
    groups = await _rows(
        demo_url,
        "SELECT g.kind, g.status, g.lead_prefecture, m.code AS lead, r.name AS region "
        "FROM working_group g LEFT JOIN municipality m ON m.id = g.lead_municipality_id "
        "LEFT JOIN region r ON r.id = g.region_id ORDER BY g.id",
    )
    assert {g["kind"] for g in groups} == {"BUSINESS_CREATION", "SELF_INITIATED"}
    assert sorted(g["status"] for g in groups) == ["ACTIVE", "ACTIVE", "CLOSED", "PROPOSED"]
    assert any(
        g["lead_prefecture"] and g["region"] is None and g["status"] == "ACTIVE" for g in groups
    )
    assert any(g["region"] == "西牟婁振興局" and g["kind"] == "SELF_INITIATED" for g in groups)
    producers = await _rows(demo_url, "SELECT kind, count(*) AS n FROM producer GROUP BY kind")
    assert {p["kind"]: p["n"] for p in producers} == {"GENERAL": 1, "SPECIALIST": 3}
    # Members are Wakayama's municipalities (the reference data's codes), one request pending.
    members = await _rows(
        demo_url,
        "SELECT ms.status, ms.contact_role, p.code AS prefecture FROM working_group_membership ms "
        "JOIN municipality m ON m.id = ms.municipality_id "
        "JOIN prefecture p ON p.id = m.prefecture_id",
    )
    assert {m["prefecture"] for m in members} == {"300004"}
    assert [m["status"] for m in members].count("REQUESTED") == 1
    assert all(m["contact_role"] for m in members)
    modes = await _rows(demo_url, "SELECT DISTINCT mode FROM working_group_meeting")
    assert {m["mode"] for m in modes} == {"ON_SITE", "ONLINE", "HYBRID"}
    outputs = await _rows(
        demo_url, "SELECT kind, published, url FROM working_group_output ORDER BY id"
    )
    assert [(o["kind"], o["published"]) for o in outputs] == [
        ("PROCUREMENT_SPEC", True),
        ("DOCUMENT", False),
    ]
    assert outputs[0]["url"].startswith("https://example.org/")
    # Advisers are the demo's experts and its producers, all synthetic.
    advisers = await _rows(
        demo_url,
        "SELECT bool_and(coalesce(e.synthetic, p.synthetic)) AS synthetic, "
        "count(a.expert_id) AS experts, count(a.producer_id) AS producers "
        "FROM working_group_adviser a LEFT JOIN expert e ON e.id = a.expert_id "
        "LEFT JOIN producer p ON p.id = a.producer_id",
    )
    assert advisers[0]["synthetic"]
    assert advisers[0]["experts"]
    assert advisers[0]["producers"]


def test_seeding_twice_changes_nothing(seeded: Path, demo_url: str, settings: Settings) -> None:
    before = asyncio.run(_all_counts(demo_url))
    assert dxlink(demo_url, settings, seeded, "seed", "--demo") == 0
    assert asyncio.run(_all_counts(demo_url)) == before


def test_removing_the_demo_removes_its_working_groups(
    seeded: Path, demo_url: str, settings: Settings
) -> None:
    assert dxlink(demo_url, settings, seeded, "seed", "--demo", "--remove") == 0
    assert set(asyncio.run(_counts(demo_url)).values()) == {0}
    # And the demo comes back whole.
    assert dxlink(demo_url, settings, seeded, "seed", "--demo") == 0
    assert asyncio.run(_counts(demo_url, "synthetic")) == _expected()
