"""An expert's view follows its assignments: its own work, and its municipality's data only
while the assignment runs."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tests import factories as f
from tests.conftest import GraphQL, data_of
from tests.dispatch.conftest import KAINAN, WAKAYAMA, Dispatch, assign
from tests.dispatch.test_sessions import plan

VIEW = """
query($w: String!, $k: String!) {
  assignments(first: 10) { totalCount nodes { status municipality { code } expert { name } } }
  experts(first: 10) { nodes { name } }
  dispatchRequests(first: 10) { totalCount }
  wakayama: municipality(code: $w) { tier { score } assessmentResponses { id } }
  kainan: municipality(code: $k) { tier { score } assessmentResponses { id } }
}
"""
END = """
mutation($input: EndAssignmentInput!) {
  endAssignment(input: $input) { assignment { status } userErrors { code } }
}
"""


@pytest.fixture(autouse=True)
async def running(connection: AsyncConnection, dispatch: Dispatch) -> None:
    """The programme runs today, whatever day the suite runs on: what an expert may read
    depends on the assignment running today (the policy asks PostgreSQL's clock)."""
    await connection.execute(
        text(
            "UPDATE dispatch_programme SET starts_on = least(starts_on, current_date - 60),"
            " ends_on = greatest(ends_on, current_date + 400) WHERE id = :id"
        ),
        {"id": dispatch.programme},
    )


# An assignment that started a month ago; a session two weeks ahead.
STARTED = (date.today() - timedelta(days=30)).isoformat()
AHEAD = (date.today() + timedelta(days=14)).isoformat()


async def view(gql: GraphQL, token: str) -> dict[str, Any]:
    return data_of(await gql(VIEW, {"w": WAKAYAMA, "k": KAINAN}, token=token))


async def test_an_expert_sees_its_assignment_and_its_municipality_until_it_ends(
    gql: GraphQL, connection: AsyncConnection, dispatch: Dispatch
) -> None:
    for code in (WAKAYAMA, KAINAN):
        municipality = dispatch.municipality[code]
        await f.create_tier_assignment(connection, municipality_id=municipality)
        await f.create_response(connection, municipality_id=municipality)
    mine = await assign(gql, dispatch, WAKAYAMA, "生成AI専門家", startsOn=STARTED)
    assert mine["userErrors"] == []
    other = await assign(gql, dispatch, KAINAN, "標準化専門家", startsOn=STARTED)
    assert other["userErrors"] != [], "the standardisation expert does not cover 生成AI"
    expert = dispatch.expert("生成AI専門家")

    during = await view(gql, expert)
    assert during["assignments"]["nodes"] == [
        {"status": "ACTIVE", "municipality": {"code": WAKAYAMA}, "expert": {"name": "生成AI専門家"}}
    ]
    assert during["experts"]["nodes"] == [{"name": "生成AI専門家"}]
    assert during["dispatchRequests"]["totalCount"] == 0, "requests are the coordinators'"
    assert during["wakayama"]["tier"] is not None
    assert len(during["wakayama"]["assessmentResponses"]) == 1
    assert during["kainan"] == {"tier": None, "assessmentResponses": []}

    ended = data_of(
        await gql(
            END,
            {"input": {"assignmentId": mine["assignment"]["id"], "version": 1, "reason": "終了"}},
            token=dispatch.coordinator,
        )
    )["endAssignment"]
    assert ended == {"assignment": {"status": "ENDED"}, "userErrors": []}

    after = await view(gql, expert)
    # Its own record of work stays; the municipality's data does not.
    assert after["assignments"]["nodes"] == [
        {"status": "ENDED", "municipality": {"code": WAKAYAMA}, "expert": {"name": "生成AI専門家"}}
    ]
    assert after["wakayama"] == {"tier": None, "assessmentResponses": []}
    assert after["kainan"] == {"tier": None, "assessmentResponses": []}
    planned = await plan(gql, expert, mine["assignment"]["id"], AHEAD)
    assert [e["code"] for e in planned["userErrors"]] == ["ASSIGNMENT_ENDED"]


async def test_another_expert_sees_none_of_it(gql: GraphQL, dispatch: Dispatch) -> None:
    mine = await assign(gql, dispatch, WAKAYAMA, "生成AI専門家", startsOn=STARTED)
    assert mine["userErrors"] == []
    stranger = await view(gql, dispatch.expert("標準化専門家"))
    assert stranger["assignments"] == {"totalCount": 0, "nodes": []}
    assert stranger["experts"]["nodes"] == [{"name": "標準化専門家"}]
    assert stranger["wakayama"] == {"tier": None, "assessmentResponses": []}
    planned = await plan(gql, dispatch.expert("標準化専門家"), mine["assignment"]["id"], AHEAD)
    assert [e["code"] for e in planned["userErrors"]] == ["NOT_FOUND"]
