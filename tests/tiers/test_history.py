"""A municipality's tier history with the names frontends rely on (`snapshot`, `computedTier`),
as every kind of principal, on both executors."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from auth.principal import Role
from auth.tokens import mint_token
from service.settings import Settings
from tests import conftest
from tests import factories as f
from tests.auth.world import OWN, PRINCIPAL_NAMES, World, build_world, token_claims
from tests.conftest import GraphQL, data_of

HISTORY = """
query($code: String!) {
  municipality(code: $code) {
    tierHistory { snapshot snapshotOn tier { level } computedTier { level } overridden reason
      score }
  }
}
"""

# The world gives 和歌山市 its 2024-11-30 tier (computed 支援, overridden to 協働 with a reason);
# the test adds a plain 2023-11 snapshot and one with no computed tier (set by hand).
OVERRIDDEN = {
    "snapshot": "2024-11",
    "snapshotOn": "2024-11-30",
    "tier": {"level": 3},
    "computedTier": {"level": 2},
    "overridden": True,
    "reason": "再確認で体制整備を確認",
    "score": 61.5,
}
MANUAL = {
    "snapshot": "2024-04",
    "snapshotOn": "2024-04-01",
    "tier": {"level": 2},
    "computedTier": None,
    "overridden": False,
    "reason": None,
    "score": None,
}
PLAIN = {
    "snapshot": "2023-11",
    "snapshotOn": "2023-11-30",
    "tier": {"level": 2},
    "computedTier": {"level": 2},
    "overridden": False,
    "reason": None,
    "score": 61.5,
}

# Who reads 和歌山市's tiers (the policy's rows), and who reads the override's reason.
READS = {
    "prefecture_admin": True,
    "dispatch_coordinator": True,
    "regional_office(海草)": True,
    "municipal_staff(302015)": True,
    "municipal_staff(304271)": False,
    "expert(A, assigned now)": True,
    "expert(B, assignment ended)": False,
    "public": False,
}
REASON_HIDDEN = {"regional_office(海草)"}
# The score is the rubric's total: not for the region's office, nor for experts.
SCORE_HIDDEN = {"regional_office(海草)", "expert(A, assigned now)"}


@pytest.fixture
async def world(connection: AsyncConnection) -> World:
    world = await build_world(connection)
    own = world.municipality[OWN]
    await f.create_tier_assignment(
        connection,
        municipality_id=own,
        snapshot_on=date(2023, 11, 30),
        level=2,
        computed_level=2,
        overridden=False,
        reason=None,
    )
    await f.create_tier_assignment(
        connection,
        municipality_id=own,
        snapshot_on=date(2024, 4, 1),
        level=2,
        computed_level=None,
        score=None,
        overridden=False,
        reason=None,
    )
    return world


@pytest.mark.parametrize("who", PRINCIPAL_NAMES)
async def test_tier_history_as_every_principal(
    gql: GraphQL, world: World, settings: Settings, who: str
) -> None:
    principal = world.principals[who]
    token = None
    if principal.subject is not None:
        token = mint_token(
            settings, role=principal.role, subject=principal.subject, scope=token_claims(principal)
        )
    before = len(conftest.executors_compared)
    body = data_of(await gql(HISTORY, {"code": OWN}, token=token))
    assert len(conftest.executors_compared) == before + 1, "tierHistory was not compiled"
    history = body["municipality"]["tierHistory"]
    if not READS[who]:
        assert history == []
        return
    expected = [OVERRIDDEN, MANUAL, PLAIN]  # newest first
    if who in REASON_HIDDEN:
        expected = [{**row, "reason": None} for row in expected]
    if who in SCORE_HIDDEN:
        expected = [{**row, "score": None} for row in expected]
    assert history == expected


async def test_snapshot_names_the_month_tier_distribution_takes(
    gql: GraphQL, world: World, settings: Settings
) -> None:
    admin = mint_token(settings, role=Role.prefecture_admin, subject="admin")
    history = data_of(await gql(HISTORY, {"code": OWN}, token=admin))["municipality"]["tierHistory"]
    for row in history:
        query = "query($s: String) { tierDistribution(snapshot: $s) { snapshotOn } }"
        body = data_of(await gql(query, {"s": row["snapshot"]}, token=admin))
        assert {c["snapshotOn"] for c in body["tierDistribution"]} == {row["snapshotOn"]}
