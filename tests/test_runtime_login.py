"""The API's runtime login, on a database migrated and seeded by an owner that is no superuser.

A managed PostgreSQL gives its customers such an owner, and it is the case where
``FORCE ROW LEVEL SECURITY`` matters: a superuser owner bypasses row-level security anyway. The
API runs as `Database.from_settings` builds it, as `dxlink serve` does: both pools log in as the
runtime login, which owns nothing, cannot become anyone but ``dxlink_api``, and reads nothing
without it.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from auth import policy
from auth.policy import POLICY
from auth.principal import Principal, Role
from auth.tokens import mint_token
from seeds.loader import load_seeds
from service import migrate
from service.app import create_app
from service.database import (
    API_ROLE,
    Database,
    PrivilegedLoginError,
    RequestSession,
    RuntimeLogin,
    create_engine,
    libpq_url,
)
from service.models import Expert
from service.settings import Settings, SettingsError
from tests import factories as f
from tests.auth.test_policy_matrix import NODE, SCOPED, expected_visible, token_for
from tests.auth.world import PRINCIPAL_NAMES, World, build_world
from tests.database import scratch_database

OWNER_PASSWORD = "owner-login-password-of-the-tests"
RUNTIME_PASSWORD = "runtime-login-password-of-the-tests"
MAINTENANCE = "SELECT set_config('dxlink.maintenance', 'on', true)"
CHOICE = "定義している"

# Tables with row-level security, and how to count the rows of each the public may not read.
PRIVATE_ROWS = {
    "tier_assignment": "true",
    "assessment_response": "true",
    "assessment_answer": "true",
    "assessment_answer_option": "true",
    "expert": "true",
    "dispatch_request": "true",
    "dispatch_assignment": "true",
    "dispatch_visit": "true",
    "audit_log": "true",
    "dataset": "status <> 'PUBLISHED'",
    "dataset_publisher": "NOT dataset_published",
    "distribution": "NOT dataset_published",
}


@dataclass
class Deployment:
    owner: str  # the login that migrated and seeded: no superuser
    superuser: str  # the server's superuser, which did nothing but create the owner
    server: str
    owner_url: str
    runtime_url: str  # libpq URL of the runtime login
    settings: Settings
    world: World
    private_rows: dict[str, int]  # what the owner counts in maintenance


def _login_url(url: str, user: str, password: str | None) -> str:
    return make_url(url).set(username=user, password=password).render_as_string(False)


@pytest.fixture(scope="module")
async def deployment(
    pg_server: str, settings: Settings, engine: AsyncEngine
) -> AsyncIterator[Deployment]:
    """A scratch database owned, migrated and seeded by a fresh owner with CREATEROLE, which
    also creates the runtime login (a fresh name, so that nothing of other runs interferes)."""
    # `engine` migrated the suite's main database: the cluster has the API role. The owner
    # needs its ADMIN OPTION to grant it on (and migration b7c1d2e3f4a5 grants it to itself).
    suffix = uuid.uuid4().hex[:8]
    owner, runtime_user = f"dxlink_test_owner_{suffix}", f"dxlink_test_app_{suffix}"
    superuser = make_url(pg_server).username or "postgres"
    runtime_settings = settings.model_copy(
        update={
            "db_runtime_user": runtime_user,
            "db_runtime_password": SecretStr(RUNTIME_PASSWORD),
        }
    )
    admin = await asyncpg.connect(libpq_url(pg_server))
    try:
        await admin.execute(f"CREATE ROLE {owner} LOGIN CREATEROLE PASSWORD '{OWNER_PASSWORD}'")
        await admin.execute(f"GRANT {API_ROLE} TO {owner} WITH ADMIN OPTION")
        async with scratch_database(pg_server, "owner") as url:
            await admin.execute(f'ALTER DATABASE "{make_url(url).database}" OWNER TO {owner}')
            owner_url = _login_url(url, owner, OWNER_PASSWORD)
            owner_engine = create_engine(owner_url, runtime_settings, statement_timeout_ms=0)
            try:
                await migrate.upgrade(owner_engine)
                login = RuntimeLogin.from_settings(runtime_settings)
                await migrate.provision_runtime_login(owner_engine, login)
                async with owner_engine.begin() as connection:
                    await load_seeds(connection)
                async with owner_engine.begin() as connection:
                    await connection.execute(text(MAINTENANCE))
                    world = await build_world(connection)
                    # (The world holds requests already, of the FY2026 programme.)
                    # Every world response (all submitted) chooses one option of question 0-1.
                    responses = await connection.scalars(text("SELECT id FROM assessment_response"))
                    for response in list(responses):
                        await f.create_choice_answer(
                            connection, response_id=response, question_key="0-1", labels=[CHOICE]
                        )
                    private_rows = {
                        table: int(
                            await connection.scalar(
                                text(f"SELECT count(*) FROM {table} WHERE {condition}")
                            )
                        )
                        for table, condition in PRIVATE_ROWS.items()
                    }
            finally:
                await owner_engine.dispose()
            yield Deployment(
                owner=owner,
                superuser=superuser,
                server=pg_server,
                owner_url=owner_url,
                runtime_url=libpq_url(login.url(owner_url)),
                settings=runtime_settings,
                world=world,
                private_rows=private_rows,
            )
    finally:
        # The database is gone; the roles are the cluster's, and this run's alone.
        await admin.execute(f"DROP ROLE IF EXISTS {runtime_user}")
        await admin.execute(f"DROP ROLE IF EXISTS {owner}")
        await admin.close()


@pytest.fixture
async def runtime(deployment: Deployment) -> AsyncIterator[asyncpg.Connection]:
    """A connection of the runtime login, as an injected statement would find it."""
    connection = await asyncpg.connect(deployment.runtime_url)
    try:
        yield connection
    finally:
        await connection.close()


@pytest.fixture
async def owner(deployment: Deployment) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(libpq_url(deployment.owner_url))
    try:
        yield connection
    finally:
        await connection.close()


async def test_the_runtime_login_is_no_superuser_and_owns_nothing(
    runtime: asyncpg.Connection, deployment: Deployment
) -> None:
    assert await runtime.fetchval("SELECT session_user") == deployment.settings.db_runtime_user
    role = await runtime.fetchrow(
        "SELECT rolsuper, rolbypassrls, rolinherit, rolcreaterole, rolcreatedb "
        "FROM pg_roles WHERE rolname = session_user"
    )
    assert tuple(role) == (False, False, False, False, False)
    owned = await runtime.fetchval(
        "SELECT (SELECT count(*) FROM pg_class WHERE relowner = r.oid) "
        "+ (SELECT count(*) FROM pg_proc WHERE proowner = r.oid) "
        "FROM pg_roles r WHERE rolname = session_user"
    )
    assert owned == 0


BARE_LOGIN_READS = [
    "SELECT count(*) FROM municipality",
    "SELECT count(*) FROM tier_assignment",
    "SELECT count(*) FROM audit_log",
    "SELECT * FROM dxlink_tier_counts(current_date)",
    "SELECT * FROM dxlink_answer_counts('2024', '1-1')",
    "SELECT dxlink_expert_exists(1)",
    "SELECT dxlink_can_read_expert(1)",
]


@pytest.mark.parametrize("statement", BARE_LOGIN_READS)
async def test_after_reset_role_the_login_reads_nothing(
    runtime: asyncpg.Connection, statement: str
) -> None:
    await runtime.execute(f"SET ROLE {API_ROLE}")
    await runtime.execute("RESET ROLE")
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
        await runtime.fetch(statement)


async def test_the_bare_login_reads_the_schema_revision_only(
    runtime: asyncpg.Connection,
) -> None:
    """/readyz needs the revision; nothing else of alembic_version is anybody's to write."""
    assert await runtime.fetchval("SELECT version_num FROM alembic_version") == (
        migrate.head_revision()
    )
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await runtime.execute("UPDATE alembic_version SET version_num = 'x'")


def _escapes(deployment: Deployment) -> list[str]:
    owner, superuser = deployment.owner, deployment.superuser
    return [
        f"SET ROLE {superuser}",
        f"SET ROLE {owner}",
        "SET ROLE pg_read_all_data",
        f"SET SESSION AUTHORIZATION {superuser}",
        f"SET SESSION AUTHORIZATION {owner}",
        f"SELECT set_config('role', '{superuser}', false)",
        f"SELECT set_config('session_authorization', '{owner}', false)",
        f"ALTER ROLE {deployment.settings.db_runtime_user} BYPASSRLS",
        f"GRANT {owner} TO {deployment.settings.db_runtime_user}",
    ]


async def test_the_runtime_login_cannot_become_anyone_else(
    runtime: asyncpg.Connection, deployment: Deployment
) -> None:
    for statement in _escapes(deployment):
        for role in ("", API_ROLE):
            await runtime.execute(f"SET ROLE {role or 'NONE'}")
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await runtime.execute(statement)
    assert await runtime.fetchval("SELECT session_user") == deployment.settings.db_runtime_user


async def test_the_api_role_cannot_switch_row_level_security_off(
    runtime: asyncpg.Connection,
) -> None:
    await runtime.execute(f"SET ROLE {API_ROLE}")
    for statement in (
        "ALTER TABLE tier_assignment DISABLE ROW LEVEL SECURITY",
        "ALTER TABLE tier_assignment NO FORCE ROW LEVEL SECURITY",
        "DROP POLICY read ON tier_assignment",
        "SET row_security = off; SELECT count(*) FROM tier_assignment",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await runtime.execute(statement)


@pytest.mark.parametrize("maintenance", [False, True], ids=["plain", "claiming-maintenance"])
async def test_without_a_principal_the_api_role_reads_no_scoped_row(
    runtime: asyncpg.Connection, deployment: Deployment, maintenance: bool
) -> None:
    """The policies see no principal: the public's view, which holds none of these rows;
    ``dxlink.maintenance`` opens nothing to the API role (that policy names the owner)."""
    await runtime.execute(f"SET ROLE {API_ROLE}")
    if maintenance:
        await runtime.execute("SET dxlink.maintenance = 'on'")
    for table, condition in PRIVATE_ROWS.items():
        assert deployment.private_rows[table] > 0, table  # the rows are there
        count = await runtime.fetchval(f"SELECT count(*) FROM {table} WHERE {condition}")
        assert count == 0, table
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await runtime.execute("DELETE FROM tier_assignment")


async def test_the_owner_is_held_by_row_level_security_outside_maintenance(
    owner: asyncpg.Connection, deployment: Deployment
) -> None:
    for table, condition in PRIVATE_ROWS.items():
        count = await owner.fetchval(f"SELECT count(*) FROM {table} WHERE {condition}")
        assert count == 0, table
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        await owner.execute(
            "INSERT INTO expert (name, themes, monthly_capacity) VALUES ('x', '{}', 1)"
        )
    assert await owner.execute("UPDATE tier_assignment SET reason = 'x'") == "UPDATE 0"
    assert await owner.execute("DELETE FROM audit_log") == "DELETE 0"
    async with owner.transaction():
        await owner.execute(MAINTENANCE)
        for table, condition in PRIVATE_ROWS.items():
            count = await owner.fetchval(f"SELECT count(*) FROM {table} WHERE {condition}")
            assert count == deployment.private_rows[table], table


@pytest.fixture
async def served(deployment: Deployment) -> AsyncIterator[tuple[httpx.AsyncClient, Database]]:
    """The app as `dxlink serve` makes it: `Database.from_settings` on the owner's URL."""
    database = Database.from_settings(deployment.owner_url, deployment.settings)
    app = create_app(deployment.settings, database=database)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client, database
    finally:
        await database.dispose()


async def _post(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str | None
) -> tuple[bool, dict[str, Any]]:
    """Both executors' answer, which must be the same bytes; True when compiled SQL gave it."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    payload = {"query": query, "variables": variables}
    first = await client.post("/graphql", json=payload, headers=headers)
    assert first.status_code == 200, first.text
    forced = {**headers, "x-dxlink-executor": "resolvers"}
    reference = await client.post("/graphql", json=payload, headers=forced)
    assert first.content == reference.content
    return first.headers.get("x-dxlink-executor") == "compiled", first.json()


async def test_the_app_logs_in_as_the_runtime_login_on_both_pools(
    served: tuple[httpx.AsyncClient, Database], deployment: Deployment
) -> None:
    client, database = served
    ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text
    compiled, _ = await _post(client, "{ municipalities(first: 3) { nodes { code } } }", {}, None)
    assert compiled
    user = deployment.settings.db_runtime_user
    async with database.engine.connect() as connection:
        logins = (await connection.execute(text("SELECT session_user, current_user"))).one()
        assert tuple(logins) == (user, user)
    assert database.read_pool is not None
    pool = await database.read_pool.pool()
    async with pool.acquire() as connection:
        assert tuple(await connection.fetchrow("SELECT session_user, current_user")) == (
            user,
            API_ROLE,
        )


async def test_row_level_security_alone_answers_every_principal_as_the_policy_says(
    served: tuple[httpx.AsyncClient, Database],
    deployment: Deployment,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """test_policy_matrix's row cases, with the query layer off, through the served app: the
    visibility functions work for an owner held by its own tables' policies."""
    monkeypatch.setattr(policy, "QUERY_LAYER", False)
    client, _ = served
    world, compiled = deployment.world, 0
    for who in PRINCIPAL_NAMES:
        principal = world.principals[who]
        token = token_for(principal, deployment.settings)  # experts: a scope lookup each
        for entity in SCOPED:
            rule = POLICY[entity].read.get(principal.role, policy.Rows.NONE)
            for row in world.rows[entity]:
                by_sql, body = await _post(client, NODE, {"id": row.global_id}, token)
                compiled += by_sql
                visible = expected_visible(rule, principal, row, world)
                assert (body["data"]["node"] is not None) is visible, (entity, who, row)
    assert compiled > 0  # the read pool answered part of them


AGGREGATES = """{
  tierDistribution { total }
  assessmentAnswerCounts(round: "2024-04", question: "0-1") { counts { option { label } count } }
}"""


async def test_aggregates_count_every_row_for_the_public(
    served: tuple[httpx.AsyncClient, Database], deployment: Deployment
) -> None:
    """The counting functions run as the owner, for the public here: were the owner held by
    its own tables' policies there, it would read no tier and no answer, and count 0."""
    client, _ = served
    _, body = await _post(client, AGGREGATES, {}, None)
    tiers = len(deployment.world.rows["TierAssignment"])
    assert {c["total"] for c in body["data"]["tierDistribution"]} == {tiers}
    counts = body["data"]["assessmentAnswerCounts"]["counts"]
    assert {c["option"]["label"]: c["count"] for c in counts}[CHOICE] == tiers  # one each


async def test_an_expert_token_finds_its_scope(
    served: tuple[httpx.AsyncClient, Database], deployment: Deployment
) -> None:
    """The scope lookup runs as the API role with no principal, which may not read experts:
    dxlink_expert_exists answers for it."""
    client, _ = served
    expert = deployment.world.experts["A"]
    token = mint_token(
        deployment.settings, role=Role.expert, subject="a", scope={"expert": str(expert)}
    )
    _, body = await _post(client, "{ viewer { role expert { name } } }", {}, token)
    assert body == {"data": {"viewer": {"role": "expert", "expert": {"name": "専門家A"}}}}
    missing = mint_token(
        deployment.settings, role=Role.expert, subject="z", scope={"expert": "999999"}
    )
    refused = await client.post(
        "/graphql",
        json={"query": "{ viewer { role } }"},
        headers={"authorization": f"Bearer {missing}"},
    )
    assert refused.status_code == 401


async def test_an_audited_write_through_the_runtime_login(
    served: tuple[httpx.AsyncClient, Database],
    deployment: Deployment,
    owner: asyncpg.Connection,
) -> None:
    """The audit trigger writes audit_log as the owner, which the owner's policies allow in
    maintenance only: the trigger's function brings its own."""
    # Writes arrive with the features' mutations; this test grants one (committed: the
    # database is this module's alone).
    await owner.execute(
        f"GRANT INSERT ON expert TO {API_ROLE}; "
        f"GRANT USAGE ON SEQUENCE expert_id_seq TO {API_ROLE}; "
        f"CREATE POLICY test_write ON expert FOR INSERT TO {API_ROLE} "
        "WITH CHECK (dxlink_is_admin())"
    )
    client, database = served
    db = RequestSession(
        database.sessionmaker, Principal(Role.prefecture_admin, "admin@pref"), "r-1"
    )
    session = await db.orm()
    session.add(Expert(name="監査 次郎", themes=[], monthly_capacity=1))
    await session.flush()
    await db.finish(commit=True)
    admin = mint_token(deployment.settings, role=Role.prefecture_admin, subject="admin")
    _, body = await _post(
        client,
        '{ auditLog(first: 5, entity: "expert") { edges { node { actorSubject action } } } }',
        {},
        admin,
    )
    assert body["data"]["auditLog"]["edges"] == [
        {"node": {"actorSubject": "admin@pref", "action": "insert"}}
    ]


async def test_provisioning_again_writes_nothing(deployment: Deployment) -> None:
    """A superuser can tell the password is already right, so a second migrate leaves the role
    as it was (a non-superuser owner cannot read verifiers: it sets the password again)."""
    admin = await asyncpg.connect(libpq_url(deployment.server))
    engine = create_engine(
        _login_url(deployment.owner_url, deployment.superuser, None), deployment.settings
    )
    user = deployment.settings.db_runtime_user
    try:
        query = "SELECT xmin::text, rolpassword FROM pg_authid WHERE rolname = $1"
        before = await admin.fetchrow(query, user)
        await migrate.provision_runtime_login(engine, RuntimeLogin(user, RUNTIME_PASSWORD))
        assert await admin.fetchrow(query, user) == before
        assert before["rolpassword"].startswith("SCRAM-SHA-256$4096:")
    finally:
        await engine.dispose()
        await admin.close()


async def test_privileged_or_entangled_runtime_logins_are_refused(
    deployment: Deployment,
) -> None:
    suffix = uuid.uuid4().hex[:8]
    entangled, weak_owner = f"dxlink_test_member_{suffix}", f"dxlink_test_weak_{suffix}"
    admin = await asyncpg.connect(libpq_url(deployment.server))
    owner_engine = create_engine(deployment.owner_url, deployment.settings)
    weak_url = _login_url(deployment.owner_url, weak_owner, OWNER_PASSWORD)
    weak_engine = create_engine(weak_url, deployment.settings)
    try:
        await admin.execute(f"CREATE ROLE {entangled} LOGIN NOINHERIT")
        await admin.execute(f"GRANT {deployment.owner} TO {entangled}")
        await admin.execute(f"CREATE ROLE {weak_owner} LOGIN PASSWORD '{OWNER_PASSWORD}'")
        cases = [
            (owner_engine, deployment.superuser, "is a superuser"),
            (owner_engine, entangled, f"may become {deployment.owner}"),
            (weak_engine, f"dxlink_test_none_{suffix}", "may not create roles"),
            (weak_engine, deployment.settings.db_runtime_user, "may not prepare the runtime"),
        ]
        for engine, user, reason in cases:
            with pytest.raises(SettingsError, match=reason):
                await migrate.provision_runtime_login(engine, RuntimeLogin(user, RUNTIME_PASSWORD))
        # And the app refuses to serve as a privileged login, whoever provisioned it.
        privileged = deployment.settings.model_copy(
            update={"db_runtime_user": deployment.superuser}
        )
        database = Database.from_settings(deployment.owner_url, privileged)
        try:
            with pytest.raises(PrivilegedLoginError, match="refusing to serve"):
                async with database.engine.connect():
                    pass
            assert database.read_pool is not None
            with pytest.raises(PrivilegedLoginError, match="refusing to serve"):
                await database.read_pool.pool()
        finally:
            await database.dispose()
    finally:
        await owner_engine.dispose()
        await weak_engine.dispose()
        await admin.execute(f"DROP ROLE IF EXISTS {entangled}")
        await admin.execute(f"DROP ROLE IF EXISTS {weak_owner}")
        await admin.close()


def test_the_runtime_url_replaces_the_owners_login_only() -> None:
    login = RuntimeLogin("dxlink_app", "p@ss/word:with?signs")
    url = login.url("postgresql://owner:secret@db.example:5433/dxlink?sslmode=require&user=owner")
    parsed = make_url(url)
    assert (parsed.username, parsed.password) == ("dxlink_app", "p@ss/word:with?signs")
    assert (parsed.host, parsed.port, parsed.database) == ("db.example", 5433, "dxlink")
    assert dict(parsed.query) == {"sslmode": "require"}
    assert "p@ss" not in repr(login)
    embedded = make_url(login.url("postgresql://postgres:@/dxlink?host=/tmp/x/pgdata"))
    assert (embedded.username, dict(embedded.query)) == ("dxlink_app", {"host": "/tmp/x/pgdata"})


async def test_the_password_is_hashed_as_postgresql_hashes_it(pg_server: str) -> None:
    """PostgreSQL as the oracle: the verifier it stores for a password, recomputed from its
    salt and iteration count by `scram_verifier`, is the same text."""
    admin = await asyncpg.connect(libpq_url(pg_server))
    transaction = admin.transaction()
    await transaction.start()
    try:
        await admin.execute("SET LOCAL password_encryption = 'scram-sha-256'")
        await admin.execute(f"CREATE ROLE dxlink_test_oracle PASSWORD '{RUNTIME_PASSWORD}'")
        stored = await admin.fetchval(
            "SELECT rolpassword FROM pg_authid WHERE rolname = 'dxlink_test_oracle'"
        )
    finally:
        await transaction.rollback()  # the role does not stay
        await admin.close()
    iterations, salt = stored.split("$")[1].split(":")
    again = migrate.scram_verifier(
        RUNTIME_PASSWORD, salt=base64.b64decode(salt), iterations=int(iterations)
    )
    assert again == stored
