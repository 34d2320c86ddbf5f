"""Every cell of the access policy, called through the API as every kind of principal.

The cases are generated from `auth.policy.POLICY`: a rule added there is tested here. Each case
runs twice: with both layers (query filters and row-level security), and with the query-layer
filters switched off, so that PostgreSQL's row-level security alone must hide the rows.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from auth import policy
from auth.policy import POLICY, Rows
from auth.principal import Principal
from auth.tokens import mint_token
from schema.mapping import REGISTRY
from service.settings import Settings
from tests.auth.world import PRINCIPAL_NAMES, Row, World, build_world, token_claims
from tests.conftest import GraphQL, data_of

# Types with global ids; the counting views (no ids) are tested in test_counted_views.py.
# The working groups' types (rules Rows.WG_*, OWN_PRODUCER) are run as every role in
# tests/working_groups/test_access.py, on a world of groups of their own.
SCOPED = [
    name
    for name in POLICY
    if name not in policy.PUBLIC_TYPES
    and name not in policy.WORKING_GROUP_TYPES
    and REGISTRY[name].node
]
LAYERS = ["query+rls", "rls-only"]


def expected_visible(rule: Rows, principal: Principal, row: Row, world: World) -> bool:
    """The policy's meaning, restated independently of both enforcement layers."""
    m, e = row.municipality_id, row.expert_id
    region = principal.region_id
    match rule:
        case Rows.ALL:
            return True
        case Rows.NONE:
            return False
        case Rows.OWN_MUNICIPALITY:
            return m is not None and m == principal.municipality_id
        case Rows.REGION:
            return m is not None and world.region_of.get(m) == region
        case Rows.ASSIGNED_NOW:
            return m in world.assigned_now.get(principal.expert_id or -1, set())
        case Rows.OWN_EXPERT:
            return e is not None and e == principal.expert_id
        case Rows.ASSIGNED_TO_OWN_MUNICIPALITY:
            return principal.municipality_id in world.ever_assigned.get(e or -1, set())
        case Rows.ASSIGNED_IN_REGION:
            return any(
                world.region_of.get(x) == region for x in world.ever_assigned.get(e or -1, set())
            )
        case Rows.PUBLISHED:
            return row.published
        case Rows.PUBLISHED_OR_OWN:
            return row.published or principal.municipality_id in row.publishers
    raise AssertionError(rule)


@pytest.fixture
async def world(connection: AsyncConnection) -> World:
    return await build_world(connection)


@pytest.fixture(params=LAYERS)
def layer(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "rls-only":
        monkeypatch.setattr(policy, "QUERY_LAYER", False)
    return str(request.param)


def token_for(principal: Principal, settings: Settings) -> str | None:
    if principal.subject is None:
        return None
    return mint_token(
        settings, role=principal.role, subject=principal.subject, scope=token_claims(principal)
    )


NODE = "query($id: ID!) { node(id: $id) { __typename id } }"


@pytest.mark.parametrize("who", PRINCIPAL_NAMES)
@pytest.mark.parametrize("entity", SCOPED)
async def test_read_rows(
    gql: GraphQL, world: World, settings: Settings, layer: str, entity: str, who: str
) -> None:
    principal = world.principals[who]
    rule = POLICY[entity].read.get(principal.role, Rows.NONE)
    token = token_for(principal, settings)
    assert world.rows[entity], f"the test world has no {entity}"
    for row in world.rows[entity]:
        body = data_of(await gql(NODE, {"id": row.global_id}, token=token))
        visible = expected_visible(rule, principal, row, world)
        assert (body["node"] is not None) is visible, (entity, who, rule, row)
        if visible:
            assert body["node"] == {"__typename": entity, "id": row.global_id}


def _field(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


HIDDEN_CASES = [
    (entity, field_name)
    for entity, access in POLICY.items()
    if entity not in policy.WORKING_GROUP_TYPES
    for field_name in sorted(set().union(*access.hidden.values()) if access.hidden else ())
]


@pytest.mark.parametrize("who", PRINCIPAL_NAMES)
@pytest.mark.parametrize(("entity", "field_name"), HIDDEN_CASES)
async def test_read_hidden_fields(
    gql: GraphQL,
    world: World,
    settings: Settings,
    layer: str,
    entity: str,
    field_name: str,
    who: str,
) -> None:
    principal = world.principals[who]
    rule = POLICY[entity].read.get(principal.role, Rows.NONE)
    visible_rows = [r for r in world.rows[entity] if expected_visible(rule, principal, r, world)]
    if not visible_rows:
        # Nothing to read: the field cannot leak through this role (see test_read_rows).
        assert rule in (Rows.NONE, Rows.OWN_EXPERT, Rows.ASSIGNED_NOW) or not world.rows[entity]
        return
    hidden = field_name in POLICY[entity].hidden.get(principal.role, frozenset())
    query = f"query($id: ID!) {{ node(id: $id) {{ ... on {entity} {{ {_field(field_name)} }} }} }}"
    token = token_for(principal, settings)
    for row in visible_rows:
        node: dict[str, Any] = data_of(await gql(query, {"id": row.global_id}, token=token))["node"]
        value = node[_field(field_name)]
        assert (value is None) is hidden, (entity, field_name, who, value)


PUBLIC_LOOKUPS = {
    "Municipality": '{ municipality(code: "302015") { id } }',
    "Region": "{ regions { id } }",
    "Prefecture": "{ prefectures { id } }",
    "AssessmentFramework": "{ assessmentFramework { id } }",
    "AssessmentSection": "{ assessmentFramework { sections { id } } }",
    "AssessmentQuestion": "{ assessmentFramework { questions { id } } }",
    "AssessmentOption": "{ assessmentFramework { questions { options { id } } } }",
    "AssessmentRound": "{ assessmentFramework { rounds { id } } }",
    "Tier": "{ tiers { id } }",
    "PublishedStatistic": "{ publishedStatistics { id } }",
    "StandardDataset": "{ standardDatasets { id } }",
    "StandardDatasetColumn": "{ standardDatasets { columns { id } } }",
    "License": "{ licenses { id } }",
    "DatasetTheme": "{ datasetThemes { id } }",
    "DxGoal": "{ dxGoals { id } }",
    "DxGoalIndicator": "{ dxGoals { indicators { id } } }",
}


def _ids(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [v for k, v in value.items() if k == "id"] + [
            i for v in value.values() for i in _ids(v)
        ]
    if isinstance(value, list):
        return [i for v in value for i in _ids(v)]
    return []


@pytest.mark.parametrize("who", PRINCIPAL_NAMES)
@pytest.mark.parametrize("entity", policy.PUBLIC_TYPES)
async def test_reference_data_is_read_by_everyone(
    gql: GraphQL, world: World, settings: Settings, entity: str, who: str
) -> None:
    principal = world.principals[who]
    assert POLICY[entity].read[principal.role] is Rows.ALL
    token = token_for(principal, settings)
    ids = _ids(data_of(await gql(PUBLIC_LOOKUPS[entity], token=token)))
    assert ids
    body = data_of(await gql(NODE, {"id": ids[-1]}, token=token))
    assert body["node"]["__typename"] == entity
