"""classifyTiers (tiers from scores by the rubric's thresholds, an idempotent re-run that keeps
overrides) and overrideTier (final tier with a reason, the computed tier kept; stale, unknown
tier, empty reason, another role refused; audited), and the history they make."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from service.models import AuditRecord
from service.settings import Settings
from tests import factories as f
from tests.auth.test_policy_matrix import token_for
from tests.auth.world import FAR, NEIGHBOUR, OWN, World, build_world
from tests.conftest import GraphQL, data_of

WEIGHTS = {"step0": 2.0, "step1": 1.0}
POINTS = {
    ("0-1", "定義している"): 3.0,
    ("1-1", "策定済み"): 4.0,
    ("1-1", "策定する予定がある"): 2.0,
}
THRESHOLDS = {1: 0.0, 2: 4.0, 3: 6.0, 4: 10.0}
SECTION_OF = {"0-1": "step0", "1-1": "step1"}
ANSWERS = {
    OWN: {"0-1": "定義している", "1-1": "策定済み"},  # 2x3 + 4 = 10: 共創
    NEIGHBOUR: {"1-1": "策定する予定がある"},  # 2: 関与
    FAR: {"0-1": "定義している"},  # 6: 協働
}
SNAPSHOT = "2025-03-31"

ASSIGNMENT = (
    "id version snapshot snapshotOn score overridden reason decidedBy round { key } "
    "tier { level } computedTier { level } municipality { code }"
)
CLASSIFY = (
    "mutation($input: ClassifyTiersInput!) { classifyTiers(input: $input) { "
    f"assignments {{ {ASSIGNMENT} }} userErrors {{ field code message }} }} }}"
)
OVERRIDE = (
    "mutation($input: OverrideTierInput!) { overrideTier(input: $input) { "
    f"assignment {{ {ASSIGNMENT} }} userErrors {{ field code message }} }} }}"
)


def total(code: str) -> float:
    return sum(
        WEIGHTS[SECTION_OF[q]] * POINTS.get((q, label), 0.0) for q, label in ANSWERS[code].items()
    )


def level(score: float) -> int:
    return max(t for t, minimum in THRESHOLDS.items() if score >= minimum)


@pytest.fixture
async def world(connection: AsyncConnection) -> World:
    world = await build_world(connection)
    await f.create_rubric(connection, weights=WEIGHTS, points=POINTS, thresholds=THRESHOLDS)
    for code, answers in ANSWERS.items():
        response = await connection.scalar(
            text(
                "SELECT r.id FROM assessment_response r JOIN assessment_round d "
                "ON d.id = r.round_id WHERE d.key = '2024-04' AND r.municipality_id = :m"
            ),
            {"m": world.municipality[code]},
        )
        for question, label in answers.items():
            await f.create_choice_answer(
                connection, response_id=response, question_key=question, labels=[label]
            )
    return world


def admin(world: World, settings: Settings) -> str | None:
    return token_for(world.principals["prefecture_admin"], settings)


async def classify(gql: GraphQL, token: str | None, **values: Any) -> dict[str, Any]:
    variables = {"input": {"round": "2024-04", "snapshotOn": SNAPSHOT, **values}}
    return data_of(await gql(CLASSIFY, variables, token=token))["classifyTiers"]


async def override(gql: GraphQL, token: str | None, **values: Any) -> dict[str, Any]:
    return data_of(await gql(OVERRIDE, {"input": values}, token=token))["overrideTier"]


async def audits(connection: AsyncConnection) -> int:
    return int(await connection.scalar(select(func.count()).select_from(AuditRecord)))


async def test_classify_writes_a_tier_per_municipality_from_its_score(
    gql: GraphQL, world: World, settings: Settings
) -> None:
    payload = await classify(gql, admin(world, settings))
    assert payload["userErrors"] == []
    rows = {a["municipality"]["code"]: a for a in payload["assignments"]}
    assert set(rows) == set(ANSWERS)
    for code, row in rows.items():
        assert row["score"] == total(code)
        assert row["computedTier"] == {"level": level(total(code))}
        assert row["tier"] == row["computedTier"]
        assert (row["overridden"], row["reason"], row["version"]) == (False, None, 1)
        assert row["round"] == {"key": "2024-04"}
        assert (row["snapshot"], row["snapshotOn"]) == ("2025-03", SNAPSHOT)
    # By hand: 10 (共創), 2 (関与), 6 (協働, exactly its minimum).
    assert {c: r["tier"]["level"] for c, r in rows.items()} == {OWN: 4, NEIGHBOUR: 1, FAR: 3}


async def test_a_rerun_changes_nothing_and_keeps_overrides(
    gql: GraphQL, world: World, settings: Settings, connection: AsyncConnection
) -> None:
    token = admin(world, settings)
    first = await classify(gql, token)
    before = await audits(connection)
    again = await classify(gql, token)
    assert again == first  # same rows, same versions
    assert await audits(connection) == before  # nothing written
    own = next(a for a in first["assignments"] if a["municipality"]["code"] == OWN)
    changed = await override(
        gql, token, id=own["id"], tier=2, reason="体制が未整備", version=own["version"]
    )
    assert changed["userErrors"] == []
    # 和歌山市's answers change: its score and computed tier follow, its final tier stays.
    await connection.execute(
        text(
            "DELETE FROM assessment_answer a USING assessment_question q "
            "WHERE q.id = a.question_id AND q.key = '0-1' AND a.response_id IN "
            "(SELECT id FROM assessment_response WHERE municipality_id = :m)"
        ),
        {"m": world.municipality[OWN]},
    )
    rerun = await classify(gql, token)
    rows = {a["municipality"]["code"]: a for a in rerun["assignments"]}
    assert rows[OWN]["score"] == 4
    assert rows[OWN]["computedTier"] == {"level": 2}
    assert rows[OWN]["tier"] == {"level": 2}  # the override's
    assert (rows[OWN]["overridden"], rows[OWN]["reason"]) == (True, "体制が未整備")
    assert rows[OWN]["version"] == own["version"] + 2
    assert rows[FAR] == {a["municipality"]["code"]: a for a in first["assignments"]}[FAR]


async def test_a_rerun_moves_an_unoverridden_tier_with_its_score(
    gql: GraphQL, world: World, settings: Settings, connection: AsyncConnection
) -> None:
    token = admin(world, settings)
    await classify(gql, token)
    await connection.execute(
        text("UPDATE assessment_rubric_threshold SET minimum_total = 20 WHERE level = 4")
    )
    rows = {a["municipality"]["code"]: a for a in (await classify(gql, token))["assignments"]}
    assert rows[OWN]["tier"] == rows[OWN]["computedTier"] == {"level": 3}
    assert rows[OWN]["version"] == 2
    assert rows[FAR]["version"] == 1


async def test_classify_refuses_unknown_or_unscored_rounds_and_other_roles(
    gql: GraphQL, world: World, settings: Settings, connection: AsyncConnection
) -> None:
    token = admin(world, settings)
    unknown = await classify(gql, token, round="1999-04")
    assert [e["code"] for e in unknown["userErrors"]] == ["NOT_FOUND"]
    await f.create_open_round(connection)
    unscored = await classify(gql, token, round="2099-04")
    assert [(e["field"], e["code"]) for e in unscored["userErrors"]] == [
        (["input", "round"], "NO_RUBRIC")
    ]
    staff = token_for(world.principals["municipal_staff(302015)"], settings)
    refused = await classify(gql, staff)
    assert [e["code"] for e in refused["userErrors"]] == ["FORBIDDEN"]
    written = await connection.scalar(
        text("SELECT count(*) FROM tier_assignment WHERE snapshot_on = :d"),
        {"d": date.fromisoformat(SNAPSHOT)},
    )
    assert written == 0


@pytest.fixture
async def own_tier(gql: GraphQL, world: World, settings: Settings) -> dict[str, Any]:
    payload = await classify(gql, admin(world, settings))
    return next(a for a in payload["assignments"] if a["municipality"]["code"] == OWN)


async def test_override_sets_the_final_tier_keeps_the_computed_one_and_is_audited(
    gql: GraphQL,
    world: World,
    settings: Settings,
    connection: AsyncConnection,
    own_tier: dict[str, Any],
) -> None:
    before = await audits(connection)
    payload = await override(
        gql, admin(world, settings), id=own_tier["id"], tier=3, reason="  面談で確認  ",
        version=own_tier["version"],
    )  # fmt: skip
    assert payload["userErrors"] == []
    row = payload["assignment"]
    assert row["tier"] == {"level": 3}
    assert row["computedTier"] == own_tier["computedTier"] == {"level": 4}
    subject = world.principals["prefecture_admin"].subject
    assert (row["overridden"], row["reason"], row["decidedBy"]) == (True, "面談で確認", subject)
    assert row["version"] == own_tier["version"] + 1
    assert row["score"] == own_tier["score"]
    record = (
        await connection.execute(
            select(AuditRecord.action, AuditRecord.entity, AuditRecord.actor_role)
            .where(AuditRecord.id > 0)
            .order_by(AuditRecord.id.desc())
            .limit(1)
        )
    ).one()
    assert tuple(record) == ("update", "tier_assignment", "prefecture_admin")
    assert await audits(connection) == before + 1


@pytest.mark.parametrize(
    ("values", "field", "code"),
    [
        ({"version": 7}, ["input", "version"], "STALE"),
        ({"tier": 5}, ["input", "tier"], "INVALID"),
        ({"tier": 0}, ["input", "tier"], "INVALID"),
        ({"reason": "   "}, ["input", "reason"], "REQUIRED"),
        # Invisible: zero-width spaces and a BOM are no whitespace to str.strip().
        ({"reason": "\u200b\u3000\ufeff\u200b"}, ["input", "reason"], "REQUIRED"),
        ({"reason": "x" * 2001}, ["input", "reason"], "TOO_LONG"),
    ],
)
async def test_override_refusals_name_their_field(
    gql: GraphQL,
    world: World,
    settings: Settings,
    connection: AsyncConnection,
    own_tier: dict[str, Any],
    values: dict[str, Any],
    field: list[str],
    code: str,
) -> None:
    before = await audits(connection)
    given = {"id": own_tier["id"], "tier": 2, "reason": "理由", "version": 1, **values}
    payload = await override(gql, admin(world, settings), **given)
    assert payload["assignment"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(field, code)]
    if code == "INVALID":
        assert "1 関与" in payload["userErrors"][0]["message"]
    assert await audits(connection) == before
    history = data_of(
        await gql(
            'query { municipality(code: "302015") { tierHistory { snapshotOn overridden } } }',
            token=admin(world, settings),
        )
    )["municipality"]["tierHistory"]
    assert {"snapshotOn": SNAPSHOT, "overridden": False} in history


@pytest.mark.parametrize(
    ("who", "code"),
    [
        ("municipal_staff(302015)", "FORBIDDEN"),
        ("dispatch_coordinator", "FORBIDDEN"),
        ("expert(A, assigned now)", "FORBIDDEN"),
        ("municipal_staff(304271)", "NOT_FOUND"),  # cannot read 和歌山市's tier
        ("public", "NOT_FOUND"),
    ],
)
async def test_only_the_prefecture_overrides(
    gql: GraphQL,
    world: World,
    settings: Settings,
    connection: AsyncConnection,
    own_tier: dict[str, Any],
    who: str,
    code: str,
) -> None:
    before = await audits(connection)
    token = token_for(world.principals[who], settings)
    payload = await override(gql, token, id=own_tier["id"], tier=1, reason="理由", version=1)
    assert [e["code"] for e in payload["userErrors"]] == [code]
    assert await audits(connection) == before


async def test_history_lists_classified_snapshots_newest_first(
    gql: GraphQL, world: World, settings: Settings
) -> None:
    token = admin(world, settings)
    await classify(gql, token, snapshotOn="2024-05-31")
    await classify(gql, token)
    query = (
        'query { municipality(code: "302015") { tier { snapshot } tierHistory { snapshot '
        "round { key } tier { level } computedTier { level } overridden reason } } }"
    )
    found = data_of(await gql(query, token=token))["municipality"]
    # The world's own 2024-11-30 tier (set by hand, overridden) sits between the two.
    assert [(h["snapshot"], h["round"]) for h in found["tierHistory"]] == [
        ("2025-03", {"key": "2024-04"}),
        ("2024-11", None),
        ("2024-05", {"key": "2024-04"}),
    ]
    assert found["tier"] == {"snapshot": "2025-03"}
    assert found["tierHistory"][1]["overridden"] is True


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("prefecture_admin", True),
        ("municipal_staff(302015)", True),
        ("municipal_staff(304271)", False),
        ("expert(A, assigned now)", True),
        ("public", False),
    ],
)
async def test_who_sees_a_classified_tier(
    gql: GraphQL, world: World, settings: Settings, who: str, sees: bool
) -> None:
    await classify(gql, admin(world, settings))
    query = (
        'query { municipality(code: "302015") { tierHistory { snapshot round { key } '
        "computedTier { level } } } }"
    )
    token = token_for(world.principals[who], settings)
    history = data_of(await gql(query, token=token))["municipality"]["tierHistory"]
    classified = {"snapshot": "2025-03", "round": {"key": "2024-04"}, "computedTier": {"level": 4}}
    assert (classified in history) is sees


async def test_a_retried_override_writes_once(
    world: World,
    settings: Settings,
    client: httpx.AsyncClient,
    connection: AsyncConnection,
    own_tier: dict[str, Any],
) -> None:
    """Idempotency-Key works for overrideTier as for every mutation (service/idempotency.py)."""
    given = {"id": own_tier["id"], "tier": 2, "reason": "再送", "version": own_tier["version"]}
    body = orjson.dumps({"query": OVERRIDE, "variables": {"input": given}})
    headers = {
        "Authorization": f"Bearer {admin(world, settings)}",
        "Content-Type": "application/json",
        "Idempotency-Key": "override-0001",
    }
    first = await client.post("/graphql", content=body, headers=headers)
    await connection.execute(text("RESET ROLE"))
    again = await client.post("/graphql", content=body, headers=headers)
    await connection.execute(text("RESET ROLE"))
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert orjson.loads(first.content)["data"]["overrideTier"]["userErrors"] == []
    version = await connection.scalar(
        text("SELECT version FROM tier_assignment WHERE reason = '再送'")
    )
    assert version == own_tier["version"] + 1
