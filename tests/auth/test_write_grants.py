"""PostgreSQL's side of the write rules, without the service: grants, write policies, guard.

The API role holds exactly the write grants the policy's rules need, table by table; and a
statement outside the rules fails in PostgreSQL itself, whatever the service would have said.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from auth.policy import POLICY
from auth.principal import Principal, Role
from schema.mapping import REGISTRY
from service.database import API_ROLE, RequestSession
from tests.auth.test_row_level_security import request_session
from tests.auth.world import FAR, OWN, World, build_world

# Tables the API writes for itself rather than for an entity's rule.
SERVICE_TABLES = {"idempotency_key": {"INSERT", "UPDATE", "DELETE"}}


async def test_the_api_role_holds_exactly_the_write_grants_of_the_policy(
    connection: AsyncConnection,
) -> None:
    declared: dict[str, set[str]] = defaultdict(set, {k: set(v) for k, v in SERVICE_TABLES.items()})
    for entity, access in POLICY.items():
        for rule in access.writes.values():
            declared[REGISTRY[entity].table.name] |= {a.value.upper() for a in rule.actions}
        # A table written under the entity's rules (an answer's options) gets what they need:
        # its rows are inserted and deleted with the entity's, never updated.
        for table in access.also_writes:
            declared[table] |= {
                a.value.upper() for r in access.writes.values() for a in r.actions
            } - {"UPDATE"}
    rows = await connection.execute(
        text(
            "SELECT table_name, privilege_type FROM information_schema.role_table_grants "
            "WHERE grantee = :role AND privilege_type <> 'SELECT'"
        ),
        {"role": API_ROLE},
    )
    granted: dict[str, set[str]] = defaultdict(set)
    for table, privilege in rows:
        granted[table].add(privilege)
    assert dict(granted) == dict(declared)
    # Column-level grants would widen a table's grant behind this test's back.
    columns = await connection.scalar(
        text(
            "SELECT count(*) FROM information_schema.column_privileges "
            "WHERE grantee = :role AND privilege_type <> 'SELECT'"
            " AND (table_name, privilege_type) NOT IN ("
            "   SELECT table_name, privilege_type FROM information_schema.role_table_grants"
            "   WHERE grantee = :role)"
        ),
        {"role": API_ROLE},
    )
    assert columns == 0


@pytest.fixture
async def world(connection: AsyncConnection) -> World:
    return await build_world(connection)


async def as_principal(
    connection: AsyncConnection, principal: Principal, operation: str
) -> RequestSession:
    db = request_session(connection, principal)
    await db.scalar(text("SELECT set_config('dxlink.operation', :o, true)").bindparams(o=operation))
    return db


async def refused(db: RequestSession, statement: str, **params: Any) -> str:
    """Run ``statement`` as the API role; return PostgreSQL's refusal (the test fails if none)."""
    with pytest.raises(DBAPIError) as caught:
        async with db.savepoint():
            await db.all(text(statement).bindparams(**params))
    return str(caught.value.orig)


async def assignment_of(connection: AsyncConnection, world: World, code: str) -> int:
    return int(
        await connection.scalar(
            text("SELECT id FROM dispatch_assignment WHERE municipality_id = :m"),
            {"m": world.municipality[code]},
        )
    )


async def test_a_municipality_cannot_plan_a_session_even_naming_the_operation(
    connection: AsyncConnection, world: World
) -> None:
    assignment = await assignment_of(connection, world, OWN)
    staff = Principal(Role.municipal_staff, "s", municipality_id=world.municipality[OWN])
    db = await as_principal(connection, staff, "planSession")
    message = await refused(
        db,
        "INSERT INTO dispatch_visit (assignment_id, starts_at, ends_at, mode, status) "
        "VALUES (:a, now(), now() + interval '1 hour', 'ONLINE', 'PLANNED') RETURNING id",
        a=assignment,
    )
    assert "row-level security" in message
    await db.finish(commit=False)


async def test_an_expert_cannot_plan_for_another_experts_assignment(
    connection: AsyncConnection, world: World
) -> None:
    others = await assignment_of(connection, world, FAR)
    expert = Principal(Role.expert, "a", expert_id=world.experts["A"])
    db = await as_principal(connection, expert, "planSession")
    message = await refused(
        db,
        "INSERT INTO dispatch_visit (assignment_id, starts_at, ends_at, mode, status) "
        "VALUES (:a, now(), now() + interval '1 hour', 'ONLINE', 'PLANNED') RETURNING id",
        a=others,
    )
    assert "row-level security" in message
    await db.finish(commit=False)


async def test_an_operation_changes_only_its_columns(
    connection: AsyncConnection, world: World
) -> None:
    """confirmSessionReport lets a municipality set the confirmation, not rewrite the report."""
    visit = await connection.scalar(
        text(
            "SELECT v.id FROM dispatch_visit v JOIN dispatch_assignment a "
            "ON a.id = v.assignment_id WHERE a.municipality_id = :m"
        ),
        {"m": world.municipality[OWN]},
    )
    staff = Principal(Role.municipal_staff, "s", municipality_id=world.municipality[OWN])
    db = await as_principal(connection, staff, "confirmSessionReport")
    message = await refused(
        db,
        "UPDATE dispatch_visit SET report = '書き換え', confirmed_at = now() "
        "WHERE id = :v RETURNING id",
        v=visit,
    )
    assert "may not change report" in message
    changed = await db.all(
        text(
            "UPDATE dispatch_visit SET confirmed_at = now() WHERE id = :v RETURNING id"
        ).bindparams(v=visit)
    )
    assert len(changed) == 1, "the operation's own column is writable"
    await db.finish(commit=False)


async def dataset_of(connection: AsyncConnection, identifier: str) -> int:
    return int(
        await connection.scalar(
            text("SELECT id FROM dataset WHERE identifier = :i"), {"i": identifier}
        )
    )


async def test_a_publisher_approves_for_itself_only(
    connection: AsyncConnection, world: World
) -> None:
    """approveJointDataset: 和歌山市 may set its own approval of a joint dataset, not 北山村's."""
    dataset = await dataset_of(connection, "draft-joint")
    staff = Principal(Role.municipal_staff, "s", municipality_id=world.municipality[OWN])
    db = await as_principal(connection, staff, "approveJointDataset")
    statement = (
        "UPDATE dataset_publisher SET approved_version = 1 "
        "WHERE dataset_id = :d AND municipality_id = :m RETURNING id"
    )
    others = await db.all(text(statement).bindparams(d=dataset, m=world.municipality[FAR]))
    assert others == [], "another publisher's approval matches no row"
    own = await db.all(text(statement).bindparams(d=dataset, m=world.municipality[OWN]))
    assert len(own) == 1
    await db.finish(commit=False)


async def test_an_edit_cannot_hand_a_dataset_to_another_municipality(
    connection: AsyncConnection, world: World
) -> None:
    """updateDataset changes the dataset's fields, not its identifier or lead municipality."""
    dataset = await dataset_of(connection, "draft-own")
    staff = Principal(Role.municipal_staff, "s", municipality_id=world.municipality[OWN])
    db = await as_principal(connection, staff, "updateDataset")
    for column, value in (("lead_municipality_id", world.municipality[FAR]), ("identifier", "x")):
        message = await refused(
            db, f"UPDATE dataset SET {column} = :v WHERE id = :d RETURNING id", v=value, d=dataset
        )
        assert f"may not change {column}" in message
    await db.finish(commit=False)


async def test_a_municipality_cannot_publish_anothers_draft_even_naming_the_operation(
    connection: AsyncConnection, world: World
) -> None:
    dataset = await dataset_of(connection, "draft-far")
    staff = Principal(Role.municipal_staff, "s", municipality_id=world.municipality[OWN])
    db = await as_principal(connection, staff, "publishDataset")
    published = await db.all(
        text("UPDATE dataset SET status = 'PUBLISHED' WHERE id = :d RETURNING id").bindparams(
            d=dataset
        )
    )
    assert published == []
    # Nor may it make itself a publisher, with the one operation that adds publishers.
    await db.scalar(text("SELECT set_config('dxlink.operation', 'updateDataset', true)"))
    message = await refused(
        db,
        "INSERT INTO dataset_publisher (dataset_id, municipality_id) VALUES (:d, :m)",
        d=dataset,
        m=world.municipality[OWN],
    )
    assert "row-level security" in message
    await db.finish(commit=False)


async def test_without_an_operation_nothing_is_writable(
    connection: AsyncConnection, world: World
) -> None:
    admin = Principal(Role.prefecture_admin, "admin")
    db = request_session(connection, admin)  # no dxlink.operation
    assert "row-level security" in await refused(
        db,
        "INSERT INTO expert (name, monthly_capacity) VALUES ('x', 1) RETURNING id",
    )
    updated = await db.all(text("UPDATE expert SET name = 'x' RETURNING id"))
    assert updated == [], "an update outside every operation matches no row"
    await db.finish(commit=False)


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM dispatch_assignment",
        "DELETE FROM dispatch_visit",
        "UPDATE audit_log SET actor_role = 'x'",
        "DELETE FROM audit_log",
        "INSERT INTO dxlink_write_rule VALUES ('Expert','createExpert','insert','public','all')",
        "TRUNCATE dispatch_request",
        "UPDATE municipality SET name = 'x'",
    ],
)
async def test_statements_no_rule_needs_lack_the_grant(
    connection: AsyncConnection, world: World, statement: str
) -> None:
    admin = Principal(Role.prefecture_admin, "admin")
    db = await as_principal(connection, admin, "endAssignment")
    assert "permission denied" in await refused(db, statement)
    await db.finish(commit=False)
