"""KPI progress (every municipality in 協働 or 共創), prefecture-wide and per region: counted over
every municipality, withheld for viewers outside the prefecture's staff where a group is small,
on both executors (the `gql` fixture compares them)."""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from auth.principal import Role
from auth.tokens import mint_token
from service.settings import Settings
from tests.conftest import GraphQL, data_of, error_of
from tests.tiers.test_transitions import assign

KPI = """
query($month: String) {
  kpiProgress(snapshot: $month) {
    snapshot municipalities assessed inTarget share suppressed
    regions { region { name } municipalities assessed inTarget share suppressed }
  }
}
"""

# 2023-11 as published (共創 2, 協働 10, 支援 12, 関与 6) and 2024-11 (6, 22, 2, 0), in code order.
NOV_2023 = [4] * 2 + [3] * 10 + [2] * 12 + [1] * 6
NOV_2024 = [4] * 6 + [3] * 22 + [2] * 2


async def _regions(connection: AsyncConnection) -> list[tuple[str, str]]:
    """(municipality code, region name), in code order."""
    rows = await connection.execute(
        text(
            "SELECT m.code, r.name FROM municipality m JOIN region r ON r.id = m.region_id "
            "ORDER BY m.code"
        )
    )
    return [(r.code, r.name) for r in rows]


def _admin(settings: Settings) -> str:
    return mint_token(settings, role=Role.prefecture_admin, subject="a")


async def test_the_prefecture_sees_the_share_in_target_per_region(
    gql: GraphQL, connection: AsyncConnection, settings: Settings
) -> None:
    await assign(connection, NOV_2023, date(2023, 11, 30))
    await assign(connection, NOV_2024, date(2024, 11, 30))
    regions = await _regions(connection)
    body = data_of(await gql(KPI, {"month": "2024-11"}, token=_admin(settings)))["kpiProgress"]
    assert body["snapshot"] == "2024-11"
    assert body["municipalities"] == len(regions) == 30
    assert (body["assessed"], body["inTarget"], body["suppressed"]) == (30, 28, False)
    assert body["share"] == 28 / 30
    in_region = Counter(name for _, name in regions)
    in_target = Counter(
        name for (_, name), level in zip(regions, NOV_2024, strict=True) if level >= 3
    )
    shown = {r["region"]["name"]: r for r in body["regions"]}
    assert set(shown) == set(in_region)
    for name, row in shown.items():
        assert row["municipalities"] == in_region[name]
        assert row["inTarget"] == in_target[name]
        assert row["share"] == in_target[name] / in_region[name]
        assert row["suppressed"] is False
    listed = data_of(await gql("{ regions { name } }"))["regions"]
    assert [r["region"]["name"] for r in body["regions"]] == [r["name"] for r in listed]
    # A year earlier: 12 of 30 in 協働 or 共創.
    before = data_of(await gql(KPI, {"month": "2023-11"}, token=_admin(settings)))["kpiProgress"]
    assert (before["inTarget"], before["share"]) == (12, 12 / 30)


async def test_the_latest_month_by_default_and_unassessed_municipalities_count_against(
    gql: GraphQL, connection: AsyncConnection, settings: Settings
) -> None:
    await assign(connection, NOV_2023, date(2023, 11, 30))
    await assign(connection, [3] * 10, date(2025, 4, 15))  # only ten re-assessed
    body = data_of(await gql(KPI, {}, token=_admin(settings)))["kpiProgress"]
    assert body["snapshot"] == "2025-04"
    assert (body["municipalities"], body["assessed"], body["inTarget"]) == (30, 10, 10)
    assert body["share"] == 10 / 30


async def test_without_snapshots_nothing_is_in_target(gql: GraphQL, settings: Settings) -> None:
    body = data_of(await gql(KPI, {}, token=_admin(settings)))["kpiProgress"]
    assert body["snapshot"] is None
    assert (body["municipalities"], body["assessed"], body["inTarget"]) == (30, 0, 0)
    empty = data_of(await gql(KPI, {"month": "2020-01"}))["kpiProgress"]
    assert (empty["snapshot"], empty["assessed"], empty["share"]) == ("2020-01", 0, 0)


async def test_small_groups_are_withheld_outside_the_prefecture_s_staff(
    gql: GraphQL, connection: AsyncConnection, settings: Settings
) -> None:
    await assign(connection, NOV_2024, date(2024, 11, 30))
    # Two municipalities outside the KPI's tiers: fewer than the threshold of 3.
    public = data_of(await gql(KPI, {"month": "2024-11"}))["kpiProgress"]
    assert public["suppressed"] is True
    assert (public["assessed"], public["inTarget"], public["share"]) == (None, None, None)
    assert public["municipalities"] == 30  # how many municipalities there are is no secret
    assert {r["suppressed"] for r in public["regions"]} == {True}
    assert {r["inTarget"] for r in public["regions"]} == {None}
    coordinator = mint_token(settings, role=Role.dispatch_coordinator, subject="c")
    staff = data_of(await gql(KPI, {"month": "2024-11"}, token=coordinator))["kpiProgress"]
    assert (staff["inTarget"], staff["suppressed"]) == (28, False)


async def test_a_region_s_small_group_withholds_every_region_but_not_the_total(
    gql: GraphQL, connection: AsyncConnection
) -> None:
    # Everyone in target: prefecture-wide a single group of 30; per region, some region holds
    # fewer than three municipalities, all in target.
    await assign(connection, [3] * 30, date(2025, 11, 30))
    regions = await _regions(connection)
    assert min(Counter(name for _, name in regions).values()) < 3
    body = data_of(await gql(KPI, {"month": "2025-11"}))["kpiProgress"]
    assert (body["inTarget"], body["share"], body["suppressed"]) == (30, 1, False)
    assert {r["suppressed"] for r in body["regions"]} == {True}
    assert {r["share"] for r in body["regions"]} == {None}


async def test_a_month_that_is_not_one(gql: GraphQL) -> None:
    error = error_of(await gql(KPI, {"month": "2024-13"}))
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["argument"] == "snapshot"
