"""Coordinators assign experts: each rule with its code; nothing written when one fails."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from auth.principal import Role
from service.models import AuditRecord, DispatchAssignment, DispatchRequest
from tests import factories as f
from tests.conftest import GraphQL, data_of
from tests.dispatch.conftest import KAINAN, WAKAYAMA, Dispatch, assign, codes


async def _assignments(connection: AsyncConnection) -> int:
    return int(await connection.scalar(select(func.count()).select_from(DispatchAssignment)))


async def test_a_coordinator_assigns_an_expert_for_the_rest_of_the_programme(
    gql: GraphQL, dispatch: Dispatch, connection: AsyncConnection
) -> None:
    payload = await assign(gql, dispatch, WAKAYAMA, "生成AI専門家")
    assert payload["userErrors"] == []
    assignment = payload["assignment"]
    assert assignment["theme"] == "生成AI"
    assert assignment["status"] == "ACTIVE"
    assert assignment["version"] == 1
    assert assignment["endsOn"] == "2027-02-28"  # the programme's end
    assert assignment["startsOn"] >= "2026-06-01"
    assert assignment["expert"] == {"name": "生成AI専門家"}
    assert assignment["municipality"] == {"code": WAKAYAMA}
    status = await connection.scalar(
        select(DispatchRequest.status).where(DispatchRequest.id == dispatch.requests[WAKAYAMA])
    )
    assert status.name == "MATCHED"
    # One audit row per changed record, with who and the request.
    audit = (
        await connection.execute(
            select(AuditRecord.entity, AuditRecord.action, AuditRecord.actor_role).where(
                AuditRecord.entity.in_(["dispatch_assignment", "dispatch_request"])
            )
        )
    ).all()
    assert sorted(map(tuple, audit)) == [
        ("dispatch_assignment", "insert", "dispatch_coordinator"),
        ("dispatch_request", "update", "dispatch_coordinator"),
    ]


async def test_the_audit_log_shows_the_change_to_the_prefecture(
    gql: GraphQL, dispatch: Dispatch
) -> None:
    await assign(gql, dispatch, WAKAYAMA, "生成AI専門家")
    log = data_of(
        await gql(
            '{ auditLog(first: 5, entity: "dispatch_assignment") { edges { node { action '
            "actorRole actorSubject requestId after } } } }",
            token=dispatch.admin,
        )
    )["auditLog"]["edges"]
    [entry] = [e["node"] for e in log]
    assert entry["action"] == "insert"
    assert entry["actorRole"] == "dispatch_coordinator"
    assert entry["actorSubject"] == "dispatch_coordinator-x"
    assert entry["requestId"]
    assert entry["after"]["theme"] == "生成AI"


async def test_only_coordinators_and_the_prefecture_assign(
    gql: GraphQL, dispatch: Dispatch, connection: AsyncConnection
) -> None:
    for token in (
        dispatch.staff(WAKAYAMA),
        dispatch.expert("生成AI専門家"),
        dispatch.token(Role.regional_office, region="海草"),
        None,
    ):
        headers = {} if token is None else {"token": token}
        payload = data_of(
            await gql(
                "mutation($i: AssignExpertInput!) { assignExpert(input: $i) { assignment { id } "
                "userErrors { field code } } }",
                {
                    "i": {
                        "requestId": dispatch.id("DispatchRequest", dispatch.requests[WAKAYAMA]),
                        "expertId": dispatch.id("Expert", dispatch.experts["生成AI専門家"]),
                    }
                },
                **headers,
            )
        )["assignExpert"]
        assert payload["assignment"] is None
        # Municipal staff read their request but may not assign; the others do not even see
        # the request or the expert (not found, as for an object that does not exist).
        found = {e["code"] for e in payload["userErrors"]}
        assert found in ({"FORBIDDEN"}, {"NOT_FOUND"}), payload
    assert await _assignments(connection) == 0
    payload = await assign(gql, dispatch, WAKAYAMA, "生成AI専門家", token=dispatch.admin)
    assert payload["userErrors"] == []


async def test_the_expert_must_cover_the_theme(gql: GraphQL, dispatch: Dispatch) -> None:
    payload = await assign(gql, dispatch, WAKAYAMA, "標準化専門家")
    assert payload["assignment"] is None
    assert payload["userErrors"] == [
        {
            "field": ["input", "expertId"],
            "code": "THEME_NOT_COVERED",
            "message": "標準化専門家 does not cover 生成AI",
        }
    ]


async def test_the_period_lies_inside_the_programme(gql: GraphQL, dispatch: Dispatch) -> None:
    late = await assign(gql, dispatch, WAKAYAMA, "生成AI専門家", startsOn="2026-12-01",
                        endsOn="2027-03-31")  # fmt: skip
    assert codes(late) == ["OUTSIDE_PROGRAMME"]
    assert late["userErrors"][0]["field"] == ["input", "endsOn"]
    early = await assign(gql, dispatch, WAKAYAMA, "生成AI専門家", startsOn="2026-05-01")
    assert codes(early) == ["OUTSIDE_PROGRAMME"]
    backwards = await assign(gql, dispatch, WAKAYAMA, "生成AI専門家", startsOn="2027-01-01",
                             endsOn="2026-12-01")  # fmt: skip
    assert codes(backwards) == ["INVALID_PERIOD"]


async def test_the_experts_monthly_capacity_holds_across_assignments(
    gql: GraphQL, dispatch: Dispatch, connection: AsyncConnection
) -> None:
    """Capacity 8, the programme aims at 4 a month: two assignments at once, not three."""
    third = await f.create_request(
        connection,
        programme_id=dispatch.programme,
        municipality_id=await f.municipality_id(connection, "302031"),
    )
    assert (await assign(gql, dispatch, WAKAYAMA, "生成AI専門家"))["userErrors"] == []
    assert (await assign(gql, dispatch, KAINAN, "生成AI専門家"))["userErrors"] == []
    dispatch.requests["302031"] = third
    refused = await assign(gql, dispatch, "302031", "生成AI専門家")
    assert codes(refused) == ["CAPACITY_EXCEEDED"]
    assert (
        "8 of 8 sessions are booked already; this assignment needs 4"
        in (refused["userErrors"][0]["message"])
    )
    # Once an assignment ends (before March), the last month has room again.
    later = await assign(gql, dispatch, "302031", "生成AI専門家", startsOn="2027-02-01")
    assert codes(later) == ["CAPACITY_EXCEEDED"]


async def test_one_active_assignment_per_request(gql: GraphQL, dispatch: Dispatch) -> None:
    assert (await assign(gql, dispatch, WAKAYAMA, "生成AI専門家"))["userErrors"] == []
    again = await assign(gql, dispatch, WAKAYAMA, "生成AI専門家")
    assert codes(again) == ["REQUEST_NOT_OPEN"]


async def test_unknown_ids_are_not_found_and_malformed_ids_are_input_errors(
    gql: GraphQL, dispatch: Dispatch
) -> None:
    missing = data_of(
        await gql(
            "mutation($i: AssignExpertInput!) { assignExpert(input: $i) { userErrors { field "
            "code } } }",
            {
                "i": {
                    "requestId": dispatch.id("DispatchRequest", 999999),
                    "expertId": dispatch.id("Municipality", WAKAYAMA),
                }
            },
            token=dispatch.coordinator,
        )
    )["assignExpert"]
    assert missing["userErrors"] == [
        {"field": ["input", "requestId"], "code": "NOT_FOUND"},
        {"field": ["input", "expertId"], "code": "NOT_FOUND"},
    ]
    malformed = await gql(
        "mutation($i: AssignExpertInput!) { assignExpert(input: $i) { userErrors { code } } }",
        {"i": {"requestId": "!!", "expertId": "x"}},
        token=dispatch.coordinator,
    )
    assert malformed["errors"][0]["extensions"] == {
        "code": "BAD_USER_INPUT",
        "argument": "input.requestId",
    }


END = """
mutation($input: EndAssignmentInput!) {
  endAssignment(input: $input) {
    assignment { status endsOn endedReason version }
    userErrors { field code message }
  }
}
"""


async def test_ending_an_assignment_needs_a_reason_and_the_current_version(
    gql: GraphQL, dispatch: Dispatch, connection: AsyncConnection
) -> None:
    assignment = (await assign(gql, dispatch, WAKAYAMA, "生成AI専門家"))["assignment"]

    async def end(**input: Any) -> dict[str, Any]:
        body = await gql(
            END, {"input": {"assignmentId": assignment["id"], **input}}, token=dispatch.coordinator
        )
        return data_of(body)["endAssignment"]

    assert codes(await end(version=1, reason="  ")) == ["REQUIRED"]
    # Zero-width spaces and a BOM are no reason either (str.strip() keeps them).
    assert codes(await end(version=1, reason="\u200b\ufeff")) == ["REQUIRED"]
    assert codes(await end(version=7, reason="契約終了")) == ["STALE"]
    done = await end(version=1, reason="契約終了", endsOn="2027-01-31")
    assert done["userErrors"] == []
    assert done["assignment"] == {
        "status": "ENDED",
        "endsOn": "2027-01-31",
        "endedReason": "契約終了",
        "version": 2,
    }
    assert codes(await end(version=2, reason="again")) == ["ASSIGNMENT_ENDED"]
    # The request is open again, for another expert.
    status = await connection.scalar(
        select(DispatchRequest.status).where(DispatchRequest.id == dispatch.requests[WAKAYAMA])
    )
    assert status.name == "OPEN"


REASSIGN = """
mutation($input: ReassignExpertInput!) {
  reassignExpert(input: $input) {
    assignment { expert { name } startsOn endsOn status }
    previous { expert { name } endsOn status endedReason }
    userErrors { field code message }
  }
}
"""


async def test_reassigning_ends_one_and_starts_the_next(
    gql: GraphQL, dispatch: Dispatch, connection: AsyncConnection
) -> None:
    await connection.execute(
        text("UPDATE expert SET themes = themes || '{生成AI}' WHERE name = '標準化専門家'")
    )
    assignment = (await assign(gql, dispatch, WAKAYAMA, "生成AI専門家"))["assignment"]
    body = await gql(
        REASSIGN,
        {
            "input": {
                "assignmentId": assignment["id"],
                "version": 1,
                "expertId": dispatch.id("Expert", dispatch.experts["標準化専門家"]),
                "fromOn": "2027-01-01",
                "reason": "本業の都合",
            }
        },
        token=dispatch.coordinator,
    )
    payload = data_of(body)["reassignExpert"]
    assert payload["userErrors"] == []
    assert payload["previous"] == {
        "expert": {"name": "生成AI専門家"},
        "endsOn": "2026-12-31",
        "status": "ENDED",
        "endedReason": "本業の都合",
    }
    assert payload["assignment"] == {
        "expert": {"name": "標準化専門家"},
        "startsOn": "2027-01-01",
        "endsOn": "2027-02-28",
        "status": "ACTIVE",
    }
