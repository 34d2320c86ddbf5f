"""Transitions between two tier snapshots: every municipality counted, small pairs withheld for
viewers outside the prefecture's staff, on both executors."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from auth.principal import Role
from auth.tokens import mint_token
from service.settings import Settings
from tests import factories as f
from tests.conftest import GraphQL, data_of, error_of

TRANSITIONS = """
query($from: String!, $to: String!) {
  tierTransitions(from: $from, to: $to) { from { level name } to { level name } count }
}
"""


async def assign(connection: AsyncConnection, levels: list[int], on: date) -> None:
    """Municipalities in code order get ``levels`` at the snapshot ``on``."""
    codes = [
        r.code
        for r in await connection.execute(text("SELECT code FROM municipality ORDER BY code"))
    ]
    for code, level in zip(codes, levels, strict=False):
        await f.create_tier_assignment(
            connection,
            municipality_id=await f.municipality_id(connection, code),
            snapshot_on=on,
            level=level,
            computed_level=level,
            overridden=False,
            reason=None,
        )


def pairs(body: dict[str, Any]) -> dict[tuple[int, int], int | None]:
    return {(t["from"]["level"], t["to"]["level"]): t["count"] for t in body["tierTransitions"]}


async def test_every_pair_counted_exactly_for_the_prefecture(
    gql: GraphQL, connection: AsyncConnection, settings: Settings
) -> None:
    # 2023-11 as published (共創 2, 協働 10, 支援 12, 関与 6), then 2024-11 (6, 22, 2, 0).
    await assign(connection, [4] * 2 + [3] * 10 + [2] * 12 + [1] * 6, date(2023, 11, 30))
    await assign(connection, [4] * 6 + [3] * 22 + [2] * 2, date(2024, 11, 30))
    admin = mint_token(settings, role=Role.prefecture_admin, subject="a")
    body = data_of(await gql(TRANSITIONS, {"from": "2023-11", "to": "2024-11"}, token=admin))
    assert [(t["from"]["level"], t["to"]["level"]) for t in body["tierTransitions"]] == [
        (a, b) for a in (1, 2, 3, 4) for b in (1, 2, 3, 4)
    ]
    assert body["tierTransitions"][0]["from"]["name"] == "関与"
    counted = pairs(body)
    assert {k: n for k, n in counted.items() if n} == {
        (4, 4): 2,
        (3, 4): 4,
        (3, 3): 6,
        (2, 3): 12,
        (1, 3): 4,
        (1, 2): 2,
    }
    assert sum(n for n in counted.values() if n is not None) == 30


async def test_small_pairs_withhold_every_count_but_not_for_staff(
    gql: GraphQL, connection: AsyncConnection, settings: Settings
) -> None:
    await assign(connection, [3] * 29 + [2], date(2023, 11, 15))
    await assign(connection, [3] * 29 + [4], date(2024, 11, 30))
    variables = {"from": "2023-11", "to": "2024-11"}
    public = pairs(data_of(await gql(TRANSITIONS, variables)))
    assert len(public) == 16
    assert set(public.values()) == {None}
    municipal = mint_token(
        settings, role=Role.municipal_staff, subject="m", scope={"municipality": "302015"}
    )
    assert set(pairs(data_of(await gql(TRANSITIONS, variables, token=municipal))).values()) == {
        None
    }
    coordinator = mint_token(settings, role=Role.dispatch_coordinator, subject="c")
    exact = pairs(data_of(await gql(TRANSITIONS, variables, token=coordinator)))
    assert exact[(3, 3)] == 29
    assert exact[(2, 4)] == 1


async def test_large_pairs_are_public(gql: GraphQL, connection: AsyncConnection) -> None:
    await assign(connection, [2] * 15 + [3] * 15, date(2023, 11, 30))
    await assign(connection, [3] * 30, date(2024, 11, 30))
    body = pairs(data_of(await gql(TRANSITIONS, {"from": "2023-11", "to": "2024-11"})))
    assert {k: n for k, n in body.items() if n} == {(2, 3): 15, (3, 3): 15}
    assert None not in body.values()


async def test_a_month_names_its_latest_snapshot_and_others_are_not_counted(
    gql: GraphQL, connection: AsyncConnection, settings: Settings
) -> None:
    await assign(connection, [1] * 30, date(2024, 11, 1))
    await assign(connection, [2] * 30, date(2024, 11, 30))  # the latest of November
    await assign(connection, [4] * 30, date(2024, 12, 1))  # December: another snapshot
    await assign(connection, [3] * 10, date(2025, 4, 30))  # only 10 municipalities
    admin = mint_token(settings, role=Role.prefecture_admin, subject="a")
    body = pairs(data_of(await gql(TRANSITIONS, {"from": "2024-11", "to": "2025-04"}, token=admin)))
    assert {k: n for k, n in body.items() if n} == {(2, 3): 10}
    nothing = pairs(data_of(await gql(TRANSITIONS, {"from": "2020-01", "to": "2024-11"})))
    assert set(nothing.values()) == {0}


async def test_a_month_must_be_a_month(gql: GraphQL) -> None:
    error = error_of(await gql(TRANSITIONS, {"from": "2024-13", "to": "2024-11"}))
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["argument"] == "from"


DISTRIBUTION = """
query($month: String) {
  tierDistribution(snapshot: $month) { snapshotOn suppressed tier { level } count }
}
"""


async def test_a_distribution_named_by_its_month(
    gql: GraphQL, connection: AsyncConnection, settings: Settings
) -> None:
    await assign(connection, [4] * 2 + [3] * 10 + [2] * 12 + [1] * 6, date(2023, 11, 30))
    await assign(connection, [1] * 30, date(2024, 11, 1))
    await assign(connection, [4] * 6 + [3] * 22 + [2] * 2, date(2024, 11, 30))
    await assign(connection, [3] * 30, date(2025, 4, 30))
    admin = mint_token(settings, role=Role.prefecture_admin, subject="a")
    body = data_of(await gql(DISTRIBUTION, {"month": "2024-11"}, token=admin))["tierDistribution"]
    assert {c["snapshotOn"] for c in body} == {"2024-11-30"}  # the latest within the month
    assert {c["tier"]["level"]: c["count"] for c in body} == {1: 0, 2: 2, 3: 22, 4: 6}
    exact = data_of(await gql(DISTRIBUTION, {"month": "2023-11"}, token=admin))
    counted = {c["tier"]["level"]: c["count"] for c in exact["tierDistribution"]}
    assert counted == {1: 6, 2: 12, 3: 10, 4: 2}
    # 共創 holds 2: withheld for the public, as a distribution counted from records is.
    public = data_of(await gql(DISTRIBUTION, {"month": "2023-11"}))["tierDistribution"]
    assert [c["tier"]["level"] for c in public] == [1, 2, 3, 4]
    assert {c["snapshotOn"] for c in public} == {"2023-11-30"}
    assert {c["suppressed"] for c in public} == {True}
    assert {c["count"] for c in public} == {None}
    none = data_of(await gql(DISTRIBUTION, {"month": "2020-01"}))["tierDistribution"]
    assert {c["snapshotOn"] for c in none} == {None}
    assert {c["count"] for c in none} == {0}


async def test_snapshot_and_snapshot_on_are_not_both_given(gql: GraphQL) -> None:
    both = '{ tierDistribution(snapshot: "2024-11", snapshotOn: "2024-11-30") { count } }'
    assert error_of(await gql(both))["extensions"]["argument"] == "snapshot"
    bad = error_of(await gql(DISTRIBUTION, {"month": "November"}))
    assert bad["extensions"]["argument"] == "snapshot"
