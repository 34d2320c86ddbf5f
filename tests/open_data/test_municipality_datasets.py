"""A municipality's datasets: newest first, limited per municipality, scoped by role."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from auth.principal import Role
from auth.tokens import mint_token
from schema.node import encode_global_id
from service.settings import Settings
from tests import factories as f
from tests.conftest import GraphQL, data_of

QUERY = """
query($first: Int!) {
  municipalities(first: 30, search: "$SEARCH") {
    edges { node { code datasets(first: $first) {
      identifier status publishers { code } distributions { format } standardDataset { key }
    } } }
  }
}
"""


def query(search: str) -> str:
    return QUERY.replace("$SEARCH", search)


async def make_catalog(connection: AsyncConnection) -> dict[str, int]:
    m = {code: await f.municipality_id(connection, code) for code in ("302015", "302023", "304271")}
    for i in range(4):
        dataset = await f.create_dataset(
            connection,
            identifier=f"302015-{i}",
            publishers=[m["302015"]],
            modified_on=date(2026, 1, 1 + i),
        )
        await f.create_distribution(connection, dataset_id=dataset)
    await f.create_dataset(
        connection,
        identifier="joint-evacuation",
        publishers=[m["302023"], m["302015"]],
        modified_on=date(2026, 3, 1),
    )
    await f.create_dataset(
        connection,
        identifier="302015-draft",
        status="DRAFT",
        publishers=[m["302015"]],
        modified_on=date(2026, 6, 1),
    )
    return m


def datasets_of(data: dict[str, Any], code: str) -> list[dict[str, Any]]:
    return next(
        e["node"]["datasets"] for e in data["municipalities"]["edges"] if e["node"]["code"] == code
    )


async def test_newest_first_limited_per_municipality(
    gql: GraphQL, connection: AsyncConnection, count_statements: Any
) -> None:
    await make_catalog(connection)
    with count_statements() as statements:
        data = data_of(await gql(query("302"), {"first": 3}, **{"X-Dxlink-Executor": "resolvers"}))
    wakayama = datasets_of(data, "302015")
    assert [d["identifier"] for d in wakayama] == ["joint-evacuation", "302015-3", "302015-2"]
    assert [d["identifier"] for d in datasets_of(data, "302023")] == ["joint-evacuation"]
    assert wakayama[0]["publishers"] == [{"code": "302015"}, {"code": "302023"}]
    assert wakayama[1]["distributions"] == [{"format": "CSV"}]
    # principal, page, datasets, publishers, distributions (no dataset names a standard
    # dataset, so that loader has nothing to fetch)
    assert len(statements) == 5, statements


async def test_drafts_only_for_their_publisher(
    gql: GraphQL, connection: AsyncConnection, settings: Settings
) -> None:
    await make_catalog(connection)
    public = data_of(await gql(query("302015"), {"first": 10}))
    assert "302015-draft" not in [d["identifier"] for d in datasets_of(public, "302015")]
    staff = mint_token(
        settings, role=Role.municipal_staff, subject="s", scope={"municipality": "302015"}
    )
    own = data_of(await gql(query("302015"), {"first": 10}, token=staff))
    assert datasets_of(own, "302015")[0] == {
        "identifier": "302015-draft",
        "status": "DRAFT",
        "publishers": [{"code": "302015"}],
        "distributions": [],
        "standardDataset": None,
    }
    other = mint_token(
        settings, role=Role.municipal_staff, subject="k", scope={"municipality": "304271"}
    )
    theirs = data_of(await gql(query("302015"), {"first": 10}, token=other))
    assert "302015-draft" not in [d["identifier"] for d in datasets_of(theirs, "302015")]


async def test_first_over_the_maximum_is_refused(gql: GraphQL) -> None:
    body = await gql(query("302015"), {"first": 1000})
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "first"}


async def test_publishing_a_dataset_shows_its_distributions(
    gql: GraphQL, connection: AsyncConnection
) -> None:
    """Links carry a copy of the dataset's state (for row-level security): it must follow."""
    owner = await f.municipality_id(connection, "302015")
    dataset = await f.create_dataset(
        connection, identifier="302015-soon", status="DRAFT", publishers=[owner]
    )
    distribution = await f.create_distribution(connection, dataset_id=dataset)
    query = "query($id: ID!) { node(id: $id) { id } }"
    node_id = encode_global_id("Distribution", distribution)
    assert data_of(await gql(query, {"id": node_id})) == {"node": None}
    await connection.execute(
        text("UPDATE dataset SET status = 'PUBLISHED' WHERE id = :id"), {"id": dataset}
    )
    assert data_of(await gql(query, {"id": node_id})) == {"node": {"id": node_id}}
    await connection.execute(
        text("UPDATE dataset SET status = 'UNPUBLISHED' WHERE id = :id"), {"id": dataset}
    )
    assert data_of(await gql(query, {"id": node_id})) == {"node": None}
