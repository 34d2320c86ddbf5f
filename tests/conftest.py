"""Test harness on a real PostgreSQL.

The suite migrates one fresh database once (which also exercises the migrations) and loads the
seeds; every test then runs inside an outer transaction that is rolled back at teardown, with the
app's sessions joined to it by savepoints, so tests never see each other's writes.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker

from service.app import create_app
from service.cli import prepare_database
from service.compiled_view import EXPECTED_DECLINES
from service.database import Database, create_engine
from service.settings import Settings
from tests.database import scratch_database, server_url, stop_embedded


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings(
        database_url=None,
        max_page_size=100,
        default_page_size=20,
        jwt_algorithms="HS256",
        jwt_secret="test-secret-of-at-least-32-bytes-length",
        db_runtime_password="test-runtime-login-password",
        executor_header=True,
    )


@pytest.fixture(scope="session")
def ide_assets() -> None:
    """GraphiQL's pinned files, as `./scripts/serve` installs them (quick when present)."""
    from service.ide.assets import fetch

    fetch()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    # Not under pytest's temp root: another pytest session on the machine deletes all but its
    # three newest folders there and makes the root private again, under a running server.
    folder = Path(tempfile.mkdtemp(prefix="dxlink-test-pg-"))
    try:
        yield server_url(folder)
    finally:
        stop_embedded(folder)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
async def database_url(pg_server: str) -> AsyncIterator[str]:
    async with scratch_database(pg_server, "main") as url:
        yield url


@pytest.fixture(scope="session")
async def engine(database_url: str, settings: Settings) -> AsyncIterator[AsyncEngine]:
    # As `dxlink serve` prepares a database (migrated, the runtime login, seeded): an app
    # built on this URL logs in as the runtime login, whichever test happens to run first.
    await prepare_database(database_url, settings, migrate_=True, seed=True)
    engine = create_engine(database_url, settings)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as connection:
        transaction = await connection.begin()
        yield connection
        await transaction.rollback()


@pytest.fixture
def app(connection: AsyncConnection, engine: AsyncEngine, settings: Settings) -> Any:
    sessionmaker = async_sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    return create_app(settings, database=Database(engine, sessionmaker))


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


GraphQL = Callable[..., Any]

# Queries answered by both executors with identical bytes during this test session.
executors_compared: list[str] = []
# What the compiled path did with the suite's requests: compiled, or declined (by reason).
compiled_outcomes: Counter[str] = Counter()


@pytest.fixture
def gql(client: httpx.AsyncClient, connection: AsyncConnection, app: Any) -> GraphQL:
    """POST a GraphQL document; return the decoded body (``data`` and ``errors``).

    ``token=`` sends a bearer token; other keyword arguments are headers. A statement the
    compiler built that then fails in PostgreSQL fails the test: the resolvers would answer
    it correctly, which would hide the compiler's bug.
    """
    stats = app.state.graphql.compiled.stats

    async def run(
        query: str,
        variables: dict[str, Any] | None = None,
        token: str | None = None,
        **headers: str,
    ) -> Any:
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        payload = {"query": query, "variables": variables or {}}
        before = Counter(stats)
        response = await client.post("/graphql", json=payload, headers=headers)
        # The request switched the shared test transaction to the API role; switch back so
        # the test's own statements (factories, checks) run as the owner again.
        await connection.execute(text("RESET ROLE"))
        outcome = Counter(stats)
        outcome.subtract(before)
        compiled_outcomes.update(+outcome)
        failed = [reason for reason in +outcome if reason.startswith("failed")]
        assert not failed, f"the compiled statement failed in PostgreSQL ({failed}): {query!r}"
        declined = [
            reason.removeprefix("declined: ")
            for reason in +outcome
            if reason.startswith("declined: ")
            and reason.removeprefix("declined: ") not in EXPECTED_DECLINES
        ]
        assert not declined, f"a read went to the resolvers ({declined}): {query!r}"
        assert response.status_code == 200, response.text
        if response.headers.get("x-dxlink-executor") == "compiled":
            # Differential check: the resolver path must answer with the very same bytes.
            forced = {**headers, "X-Dxlink-Executor": "resolvers"}
            reference = await client.post("/graphql", json=payload, headers=forced)
            await connection.execute(text("RESET ROLE"))
            assert "x-dxlink-executor" not in reference.headers
            assert response.content == reference.content, (
                f"executors differ for {query!r}:\n compiled:  {response.text}\n"
                f" resolvers: {reference.text}"
            )
            executors_compared.append(query)
        return response.json()

    return run


@pytest.fixture
def count_statements(engine: AsyncEngine) -> Callable[[], Any]:
    """Context manager collecting the SQL statements the engine runs inside its block."""

    @contextmanager
    def counting() -> Iterator[list[str]]:
        statements: list[str] = []

        def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            # Savepoints and RESET ROLE belong to the test harness (see `gql`).
            if not statement.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO", "RESET")):
                statements.append(statement)

        event.listen(engine.sync_engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", record)

    return counting


def data_of(body: dict[str, Any]) -> Any:
    """The ``data`` of a response that must have no errors."""
    assert "errors" not in body, body.get("errors")
    return body["data"]


def error_of(body: dict[str, Any]) -> dict[str, Any]:
    """The only error of a response."""
    errors = body.get("errors")
    assert errors, body
    assert len(errors) == 1, body
    return errors[0]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    distinct = len(set(executors_compared))
    terminalreporter.write_line(
        f"compiled read path: {len(executors_compared)} responses ({distinct} distinct queries) "
        "byte-identical to the resolver path"
    )
    declined = {k: n for k, n in compiled_outcomes.items() if k != "compiled"}
    terminalreporter.write_line(
        f"compiled read path: {compiled_outcomes['compiled']} requests compiled, "
        f"{sum(declined.values())} answered by the resolvers:"
    )
    for reason, n in sorted(declined.items(), key=lambda item: (-item[1], item[0])):
        terminalreporter.write_line(f"  {n:5d}  {reason}")
