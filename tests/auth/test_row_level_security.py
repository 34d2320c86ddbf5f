"""Row-level security in PostgreSQL: the API role, RLS alone hiding rows, audit, aggregates."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker

from auth import policy
from auth.principal import Principal, Role
from auth.tokens import mint_token
from schema.node import encode_global_id
from service.database import API_ROLE, RequestSession
from service.models import AuditRecord, Expert
from service.settings import Settings
from tests import factories as f
from tests.auth.world import FAR, OWN, World, build_world
from tests.conftest import GraphQL, data_of


@pytest.fixture
async def world(connection: AsyncConnection) -> World:
    return await build_world(connection)


def request_session(connection: AsyncConnection, principal: Principal) -> RequestSession:
    sessionmaker = async_sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    return RequestSession(sessionmaker, principal, "req-1")


def staff_token(settings: Settings, code: str = OWN) -> str:
    return mint_token(
        settings, role=Role.municipal_staff, subject="staff", scope={"municipality": code}
    )


async def test_api_statements_run_as_a_role_that_owns_nothing_and_cannot_bypass_rls(
    connection: AsyncConnection,
) -> None:
    db = request_session(connection, Principal(Role.prefecture_admin, "admin"))
    assert await db.scalar(select(text("current_user"))) == API_ROLE
    await db.finish(commit=False)
    await connection.execute(text("RESET ROLE"))
    role = (
        await connection.execute(
            text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = :r"), {"r": API_ROLE}
        )
    ).one()
    assert role == (False, False)
    owned = await connection.scalar(
        text("SELECT count(*) FROM pg_tables WHERE tableowner = :r"), {"r": API_ROLE}
    )
    assert owned == 0


async def test_every_scoped_table_has_row_level_security(connection: AsyncConnection) -> None:
    scoped = {
        "tier_assignment",
        "assessment_response",
        "assessment_answer",
        "assessment_answer_option",
        "expert",
        "dispatch_request",
        "dispatch_assignment",
        "dispatch_visit",
        "dataset",
        "dataset_publisher",
        "distribution",
        "audit_log",
        "expert_availability",
        "dispatch_programme",
        "idempotency_key",
        "assessment_rubric",
        "assessment_rubric_section",
        "assessment_rubric_option",
        "assessment_rubric_threshold",
        "producer",
        "working_group",
        "working_group_goal",
        "working_group_membership",
        "working_group_adviser",
        "working_group_meeting",
        "working_group_attendance",
        "working_group_output",
    }
    rows = await connection.execute(
        text("SELECT relname FROM pg_class WHERE relrowsecurity AND relkind = 'r'")
    )
    assert scoped <= {row.relname for row in rows}


async def test_every_table_with_row_level_security_holds_its_owner_too(
    connection: AsyncConnection,
) -> None:
    """FORCE, and the owner's own way in is its `maintenance` policy; every other policy is the
    API role's."""
    tables = (
        await connection.execute(
            text(
                "SELECT c.relname, c.relforcerowsecurity, c.relowner::regrole::text AS owner "
                "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relrowsecurity"
            )
        )
    ).all()
    assert len(tables) == 27
    for table in tables:
        assert table.relforcerowsecurity, table.relname
        policies = (
            await connection.execute(
                text(
                    "SELECT policyname, roles::text[] AS roles, cmd, qual, with_check "
                    "FROM pg_policies WHERE schemaname = 'public' AND tablename = :t"
                ),
                {"t": table.relname},
            )
        ).all()
        names = {p.policyname: p for p in policies}
        maintenance = names.pop("maintenance")
        assert (maintenance.roles, maintenance.cmd) == ([table.owner], "ALL")
        assert "dxlink.maintenance" not in maintenance.qual  # through dxlink_setting()
        assert "dxlink_setting('maintenance'" in maintenance.qual
        for policy_ in names.values():
            assert policy_.roles == [API_ROLE], (table.relname, policy_)


async def test_the_functions_serve_the_api_role_alone(connection: AsyncConnection) -> None:
    """No function of the schema is anybody's to call but the API role's (and its owner's;
    trigger functions nobody's): the runtime login itself, after RESET ROLE, cannot run the
    definer functions. The audit test above shows triggers fire for the API role all the same."""
    rows = await connection.execute(
        text(
            "SELECT p.oid::regprocedure::text AS name, p.proacl IS NULL AS default_acl, "
            "EXISTS (SELECT 1 FROM aclexplode(p.proacl) a WHERE a.grantee = 0) AS public, "
            "has_function_privilege(:api, p.oid, 'EXECUTE') AS api, "
            "p.prorettype = 'trigger'::regtype AS trigger "
            "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'public' AND p.prokind = 'f'"
        ),
        {"api": API_ROLE},
    )
    functions = rows.all()
    assert len(functions) == 47
    for function in functions:
        expected = (False, False, not function.trigger)
        assert (function.default_acl, function.public, function.api) == expected, function.name


EVERY_LIST = """
{
  municipalities(first: 30) { edges { node { code
    tier { municipality { code } }
    tierHistory { municipality { code } }
    assessmentResponses { municipality { code } answers { question { key } } }
    dispatchAssignments { municipality { code }
      visits { report assignment { municipality { code } } }
      expert { name assignments { municipality { code } } } }
  } } }
  experts { nodes { name assignments {
    municipality { code } visits { assignment { municipality { code } } } } } }
  dispatchAssignments { municipality { code } }
  auditLog(first: 100) { totalCount edges { node { entity } } }
}
"""


def scoped_codes(data: dict[str, Any]) -> set[str]:
    """Codes of municipalities reached through scoped objects (not the public list itself)."""
    found: set[str] = set()

    def walk(value: Any, scoped: bool) -> None:
        if isinstance(value, dict):
            if scoped and "code" in value:
                found.add(value["code"])
            for key, child in value.items():
                walk(child, scoped or key not in ("municipalities", "edges", "node"))
        elif isinstance(value, list):
            for child in value:
                walk(child, scoped)

    for key, value in data.items():
        walk(value, key != "municipalities")
    return found


@pytest.mark.parametrize("query_layer", [True, False], ids=["query+rls", "rls-only"])
async def test_municipal_staff_sees_no_row_of_another_municipality(
    gql: GraphQL,
    world: World,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    query_layer: bool,
) -> None:
    monkeypatch.setattr(policy, "QUERY_LAYER", query_layer)
    data = data_of(await gql(EVERY_LIST, token=staff_token(settings)))
    assert scoped_codes(data) == {OWN}
    assert data["experts"]["nodes"] == [
        {
            "name": "専門家A",
            "assignments": [
                {
                    "municipality": {"code": OWN},
                    "visits": [{"assignment": {"municipality": {"code": OWN}}}],
                }
            ],
        }
    ]
    assert data["auditLog"] == {"totalCount": 0, "edges": []}
    own = next(e["node"] for e in data["municipalities"]["edges"] if e["node"]["code"] == OWN)
    assert own["tier"] == {"municipality": {"code": OWN}}
    assert own["assessmentResponses"][0]["answers"] == [
        {"question": {"key": "4-2"}},
        {"question": {"key": "7-3"}},
    ]


async def test_rls_alone_hides_rows_even_from_a_raw_select(
    connection: AsyncConnection, world: World
) -> None:
    """No resolver at all: a plain SELECT in a request's transaction sees only own rows."""
    own = world.municipality[OWN]
    db = request_session(
        connection, Principal(Role.municipal_staff, "s", municipality_id=own, municipality_code=OWN)
    )
    rows = await db.all(text("SELECT municipality_id FROM tier_assignment"))
    responses = await db.all(text("SELECT municipality_id FROM assessment_response"))
    audit = await db.all(text("SELECT id FROM audit_log"))
    await db.finish(commit=False)
    await connection.execute(text("RESET ROLE"))
    assert {r.municipality_id for r in rows} == {own}
    assert {r.municipality_id for r in responses} == {own}
    assert audit == []


async def test_a_forbidden_row_looks_exactly_like_a_missing_one(
    gql: GraphQL, world: World, settings: Settings
) -> None:
    query = "query($id: ID!) { node(id: $id) { id } }"
    forbidden = next(
        r.global_id
        for r in world.rows["TierAssignment"]
        if r.municipality_id == world.municipality[FAR]
    )
    missing = encode_global_id("TierAssignment", 2_000_000_000)
    token = staff_token(settings)
    assert await gql(query, {"id": forbidden}, token=token) == await gql(
        query, {"id": missing}, token=token
    )


async def test_changes_under_a_principal_are_audited_in_the_same_transaction(
    connection: AsyncConnection,
) -> None:
    # Writes arrive with the features' mutations, each with its grant and write policy; this
    # test adds one for experts (inside the test's transaction, so it is rolled back too).
    for statement in (
        "GRANT INSERT ON expert TO dxlink_api",
        "GRANT USAGE ON SEQUENCE expert_id_seq TO dxlink_api",
        "CREATE POLICY test_write ON expert FOR INSERT TO dxlink_api "
        "WITH CHECK (dxlink_is_admin())",
    ):
        await connection.execute(text(statement))
    db = request_session(connection, Principal(Role.prefecture_admin, "admin@pref"))
    session = await db.orm()
    session.add(Expert(name="監査 花子", themes=["生成AI"], monthly_capacity=2))
    await session.flush()
    await db.finish(commit=True)
    await connection.execute(text("RESET ROLE"))
    audit_t = AuditRecord.__table__
    statement = select(audit_t).where(audit_t.c.entity == "expert")
    record = (await connection.execute(statement)).one()
    assert record.actor_subject == "admin@pref"
    assert record.actor_role == "prefecture_admin"
    assert record.action == "insert"
    assert record.before is None
    assert record.after["name"] == "監査 花子"
    assert record.request_id == "req-1"


async def test_seed_writes_without_a_principal_are_not_audited(
    connection: AsyncConnection,
) -> None:
    await f.create_expert(connection)
    assert await connection.scalar(select(AuditRecord.id)) is None


DISTRIBUTION = """
query($on: Date) { tierDistribution(snapshotOn: $on) {
  snapshotOn total suppressed tier { level name } count } }
"""


async def _assign_tiers(connection: AsyncConnection, levels: list[int], on: date) -> None:
    codes = [
        row.code
        for row in await connection.execute(text("SELECT code FROM municipality ORDER BY code"))
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


def _counts(body: dict[str, Any]) -> dict[str, int | None]:
    return {c["tier"]["name"]: c["count"] for c in body["tierDistribution"]}


def _same(body: dict[str, Any], name: str) -> Any:
    """A figure of the whole snapshot, the same on each tier's entry."""
    (value,) = {c[name] for c in body["tierDistribution"]}
    return value


async def test_small_groups_are_suppressed_for_the_public_but_not_for_staff(
    gql: GraphQL, connection: AsyncConnection, settings: Settings
) -> None:
    # November 2024 as published: 共創 6, 協働 22, 支援 2, 関与 0.
    await _assign_tiers(connection, [4] * 6 + [3] * 22 + [2] * 2, date(2024, 11, 30))
    public = data_of(await gql(DISTRIBUTION))
    assert _same(public, "suppressed") is True
    assert set(_counts(public).values()) == {None}
    assert _same(public, "total") == 30
    staff_view = data_of(await gql(DISTRIBUTION, token=staff_token(settings)))
    assert _same(staff_view, "suppressed") is True  # municipal staff: not exact
    admin = mint_token(settings, role=Role.prefecture_admin, subject="a")
    exact = data_of(await gql(DISTRIBUTION, token=admin))
    assert _same(exact, "suppressed") is False
    assert _counts(exact) == {"関与": 0, "支援": 2, "協働": 22, "共創": 6}


async def test_groups_of_three_or_empty_are_public(
    gql: GraphQL, connection: AsyncConnection
) -> None:
    await _assign_tiers(connection, [4] * 3 + [3] * 24 + [2] * 3, date(2025, 11, 30))
    body = data_of(await gql(DISTRIBUTION, {"on": "2025-11-30"}))
    assert _same(body, "suppressed") is False
    assert _same(body, "snapshotOn") == "2025-11-30"
    assert _counts(body) == {"関与": 0, "支援": 3, "協働": 24, "共創": 3}


@pytest.mark.parametrize("table", ["dataset_publisher", "distribution"])
async def test_a_links_published_copy_cannot_be_written_out_of_step(
    connection: AsyncConnection, gql: GraphQL, table: str
) -> None:
    """The dataset rule trusts a link's `dataset_published` copy: the copy always follows the
    dataset, whatever an UPDATE of the link row says; the public keeps seeing the dataset."""
    municipality = await f.municipality_id(connection, "302015")
    dataset = await f.create_dataset(connection, publishers=[municipality])
    await f.create_distribution(connection, dataset_id=dataset)
    await connection.execute(
        text(f"UPDATE {table} SET dataset_published = false WHERE dataset_id = :d"), {"d": dataset}
    )
    copies = await connection.execute(
        text(f"SELECT dataset_published FROM {table} WHERE dataset_id = :d"), {"d": dataset}
    )
    assert set(copies.scalars()) == {True}
    body = await gql(
        '{ municipality(code: "302015") { datasets(first: 5) { identifier '
        "distributions { format } } } }"
    )
    datasets = data_of(body)["municipality"]["datasets"]
    assert [d["identifier"] for d in datasets] == ["302015-aed"]
    assert datasets[0]["distributions"]
