"""Fields the policy hides are answered on the compiled path as null (issue 8, point 5).

They used to be rendered as `to_json(NULL)`, which PostgreSQL refuses; every such request
closed a read-pool connection and went to the resolvers, silently. The suite now fails on any
compiled statement that fails in PostgreSQL (tests/conftest.py), and these cases pin it down.
"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from auth.principal import Role
from auth.tokens import mint_token
from service.settings import Settings
from tests import factories as f
from tests.conftest import GraphQL, data_of

CASES = [
    # (role, scope claims, query, path to the hidden value)
    (
        Role.regional_office,
        {"region": "海草"},
        '{ municipality(code: "302015") { dispatchAssignments { theme endedReason } } }',
        ("municipality", "dispatchAssignments", 0, "endedReason"),
    ),
    (
        Role.regional_office,
        {"region": "海草"},
        '{ municipality(code: "302015") { tierHistory { snapshotOn reason decidedBy } } }',
        ("municipality", "tierHistory", 0, "reason"),
    ),
    (
        Role.regional_office,
        {"region": "海草"},
        '{ municipality(code: "302015") { dispatchAssignments { visits { place report } } } }',
        ("municipality", "dispatchAssignments", 0, "visits", 0, "report"),
    ),
    (
        Role.municipal_staff,
        {"municipality": "302015"},
        '{ municipality(code: "302015") { dispatchAssignments { expert { name '
        "monthlyCapacity } } } }",
        ("municipality", "dispatchAssignments", 0, "expert", "monthlyCapacity"),
    ),
]


@pytest.mark.parametrize(("role", "claims", "query", "path"), CASES)
async def test_hidden_fields_are_null_on_the_compiled_path(
    client: httpx.AsyncClient,
    gql: GraphQL,
    connection: AsyncConnection,
    settings: Settings,
    role: Role,
    claims: dict[str, str],
    query: str,
    path: tuple[object, ...],
) -> None:
    municipality = await f.municipality_id(connection, "302015")
    expert = await f.create_expert(connection)
    assignment = await f.create_assignment(
        connection, expert_id=expert, municipality_id=municipality
    )
    await f.create_visit(connection, assignment_id=assignment)
    await f.create_tier_assignment(connection, municipality_id=municipality)
    token = mint_token(settings, role=role, subject="someone", scope=claims)

    response = await client.post(
        "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.headers.get("x-dxlink-executor") == "compiled", response.text
    value = response.json()["data"]
    for step in path:
        value = value[step]  # type: ignore[index]
    assert value is None
    # And the resolvers agree, byte for byte (the `gql` helper compares the two).
    data_of(await gql(query, token=token))
