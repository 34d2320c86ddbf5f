"""Sessions: planned by coordinators or the expert, reported by the expert, confirmed by the
municipality; the programme's rules as data, each with its code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.conftest import GraphQL, data_of
from tests.dispatch.conftest import KAINAN, WAKAYAMA, Dispatch, assign, codes

PLAN = """
mutation($input: PlanSessionInput!) {
  planSession(input: $input) {
    session { id startsAt endsAt mode status place version }
    userErrors { field code message }
  }
}
"""
REPORT = """
mutation($input: RecordSessionReportInput!) {
  recordSessionReport(input: $input) {
    session { status report nextSteps hours reportedAt version }
    userErrors { field code message }
  }
}
"""
CONFIRM = """
mutation($input: ConfirmSessionReportInput!) {
  confirmSessionReport(input: $input) {
    session { confirmedAt confirmedBy version }
    userErrors { field code message }
  }
}
"""
CANCEL = """
mutation($input: CancelSessionInput!) {
  cancelSession(input: $input) { session { status cancelledReason } userErrors { field code } }
}
"""


@pytest.fixture
async def assignment(gql: GraphQL, dispatch: Dispatch) -> str:
    payload = await assign(gql, dispatch, WAKAYAMA, "生成AI専門家", startsOn="2026-12-01")
    assert payload["userErrors"] == []
    return str(payload["assignment"]["id"])


def _at(day: str, hour: int) -> str:
    """A time in Japan (UTC+9), ISO 8601."""
    return f"{day}T{hour:02d}:00:00+09:00"


async def plan(
    gql: GraphQL, token: str, assignment: str, day: str, hour: int = 10, **extra: Any
) -> dict[str, Any]:
    input = {
        "assignmentId": assignment,
        "startsAt": _at(day, hour),
        "endsAt": _at(day, hour + 2),
        "mode": "ON_SITE",
        "place": "本庁舎 会議室",
        **extra,
    }
    return data_of(await gql(PLAN, {"input": input}, token=token))["planSession"]


async def test_the_expert_plans_the_first_session_on_site(
    gql: GraphQL, dispatch: Dispatch, assignment: str
) -> None:
    expert = dispatch.expert("生成AI専門家")
    online = await plan(gql, expert, assignment, "2026-12-07", mode="ONLINE", place=None)
    assert online["userErrors"] == [
        {
            "field": ["input", "mode"],
            "code": "FIRST_SESSION_NOT_ON_SITE",
            "message": "the first session of an assignment is on site",
        }
    ]
    first = await plan(gql, expert, assignment, "2026-12-07")
    assert first["userErrors"] == []
    assert first["session"]["status"] == "PLANNED"
    assert first["session"]["startsAt"] == "2026-12-07T01:00:00+00:00"  # stored in UTC
    later = await plan(gql, expert, assignment, "2026-12-14", mode="ONLINE", place=None)
    assert later["userErrors"] == []
    # An online session before the first on-site one would become the first.
    earlier = await plan(gql, expert, assignment, "2026-12-03", mode="ONLINE", place=None)
    assert codes(earlier) == ["FIRST_SESSION_NOT_ON_SITE"]


async def test_an_on_site_session_needs_a_place(
    gql: GraphQL, dispatch: Dispatch, assignment: str
) -> None:
    payload = await plan(gql, dispatch.coordinator, assignment, "2026-12-07", place="  ")
    assert payload["userErrors"][0]["field"] == ["input", "place"]
    assert codes(payload) == ["REQUIRED"]


async def test_an_expert_never_has_two_sessions_at_once(
    gql: GraphQL, dispatch: Dispatch, assignment: str, connection: AsyncConnection
) -> None:
    # Another assignment of the same expert, in another municipality.
    other = (await assign(gql, dispatch, KAINAN, "生成AI専門家", startsOn="2026-12-01"))[
        "assignment"
    ]["id"]
    assert (await plan(gql, dispatch.coordinator, assignment, "2026-12-07", 10))["userErrors"] == []
    clash = await plan(gql, dispatch.coordinator, other, "2026-12-07", 11)
    assert codes(clash) == ["OVERLAPPING_SESSION"]
    assert "2026-12-07 10:00 to 12:00 (JST)" in clash["userErrors"][0]["message"]
    # Back to back is no overlap.
    assert (await plan(gql, dispatch.coordinator, other, "2026-12-07", 12))["userErrors"] == []


async def test_a_month_holds_at_most_the_programmes_maximum(
    gql: GraphQL, dispatch: Dispatch, assignment: str, connection: AsyncConnection
) -> None:
    await connection.execute(text("UPDATE dispatch_programme SET sessions_per_month_max = 4"))
    for day in ("2026-12-07", "2026-12-09", "2026-12-14", "2026-12-16"):
        assert (await plan(gql, dispatch.coordinator, assignment, day))["userErrors"] == []
    fifth = await plan(gql, dispatch.coordinator, assignment, "2026-12-21")
    assert codes(fifth) == ["MONTHLY_MAXIMUM"]
    # The next month is another month (in Japan's time: 2027-01-01 08:00 JST is still
    # 2026-12-31 in UTC).
    january = await plan(gql, dispatch.coordinator, assignment, "2027-01-01", 8)
    assert january["userErrors"] == []


async def test_sessions_lie_in_the_assignment_and_end_after_they_start(
    gql: GraphQL, dispatch: Dispatch, assignment: str
) -> None:
    outside = await plan(gql, dispatch.coordinator, assignment, "2027-03-02")
    assert codes(outside) == ["OUTSIDE_ASSIGNMENT"]
    backwards = await plan(
        gql,
        dispatch.coordinator,
        assignment,
        "2026-12-07",
        endsAt=_at("2026-12-07", 9),
    )
    assert codes(backwards) == ["INVALID_PERIOD"]
    naive = await plan(
        gql,
        dispatch.coordinator,
        assignment,
        "2026-12-07",
        startsAt="2026-12-07T10:00:00",
        endsAt="2026-12-07T12:00:00",
    )
    assert codes(naive) == ["INVALID"]


async def test_other_experts_and_municipalities_cannot_plan(
    gql: GraphQL, dispatch: Dispatch, assignment: str
) -> None:
    for token in (
        dispatch.expert("標準化専門家"),
        dispatch.staff(WAKAYAMA),
        dispatch.staff(KAINAN),
    ):
        payload = await plan(gql, token, assignment, "2026-12-07")
        assert payload["session"] is None
        assert set(codes(payload)) <= {"FORBIDDEN", "NOT_FOUND"}
        assert codes(payload)


async def _held_session(
    gql: GraphQL, dispatch: Dispatch, assignment: str, connection: AsyncConnection
) -> str:
    """A session of last week's (planned now, moved into the past as a data fix would)."""
    session = (await plan(gql, dispatch.coordinator, assignment, "2026-12-07"))["session"]
    past = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    await connection.execute(
        text("UPDATE dispatch_visit SET starts_at = :s, ends_at = :e"),
        {"s": past, "e": past + timedelta(hours=2)},
    )
    return str(session["id"])


async def test_the_expert_reports_and_the_municipality_confirms(
    gql: GraphQL, dispatch: Dispatch, assignment: str, connection: AsyncConnection
) -> None:
    session = await _held_session(gql, dispatch, assignment, connection)
    expert = dispatch.expert("生成AI専門家")
    report = {"sessionId": session, "version": 1, "report": "ガイドライン案を説明した。",
              "nextSteps": "庁内の意見を集める", "hours": 2.5}  # fmt: skip
    assert codes(data_of(await gql(CONFIRM, {"input": {"sessionId": session, "version": 1}},
                                   token=dispatch.staff(WAKAYAMA)))["confirmSessionReport"]) == [
        "REPORT_MISSING"
    ]  # fmt: skip
    done = data_of(await gql(REPORT, {"input": report}, token=expert))["recordSessionReport"]
    assert done["userErrors"] == []
    assert done["session"]["status"] == "HELD"
    assert done["session"]["hours"] == 2.5
    assert done["session"]["version"] == 2
    # Another municipality cannot confirm; the assigned one can, once.
    other = data_of(
        await gql(
            CONFIRM, {"input": {"sessionId": session, "version": 2}}, token=dispatch.staff(KAINAN)
        )
    )["confirmSessionReport"]
    assert codes(other) == ["NOT_FOUND"]
    confirmed = data_of(
        await gql(
            CONFIRM, {"input": {"sessionId": session, "version": 2}}, token=dispatch.staff(WAKAYAMA)
        )
    )["confirmSessionReport"]
    assert confirmed["userErrors"] == []
    assert confirmed["session"]["confirmedBy"] == f"municipal_staff-{WAKAYAMA}"
    again = data_of(
        await gql(
            CONFIRM, {"input": {"sessionId": session, "version": 3}}, token=dispatch.staff(WAKAYAMA)
        )
    )["confirmSessionReport"]
    assert codes(again) == ["ALREADY_CONFIRMED"]


async def test_a_report_is_for_a_session_held_with_its_version(
    gql: GraphQL, dispatch: Dispatch, assignment: str, connection: AsyncConnection
) -> None:
    expert = dispatch.expert("生成AI専門家")
    future = (await plan(gql, dispatch.coordinator, assignment, "2027-01-11"))["session"]["id"]
    # Next month's, whatever today is (the test must not depend on the day it runs).
    ahead = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    await connection.execute(
        text("UPDATE dispatch_visit SET starts_at = :s, ends_at = :e"),
        {"s": ahead, "e": ahead + timedelta(hours=2)},
    )
    early = data_of(await gql(REPORT, {"input": {"sessionId": future, "version": 1,
                                                  "report": "x"}}, token=expert))  # fmt: skip
    assert codes(early["recordSessionReport"]) == ["SESSION_NOT_HELD_YET"]
    session = await _held_session(gql, dispatch, assignment, connection)
    for input, code in (
        ({"report": " "}, "REQUIRED"),
        ({"report": "ok", "hours": 0}, "INVALID"),
        ({"report": "ok", "hours": 25}, "INVALID"),
        ({"report": "x" * 20001}, "TOO_LONG"),
        ({"report": "ok", "version": 5}, "STALE"),
    ):
        body = await gql(
            REPORT, {"input": {"sessionId": session, "version": 1, **input}}, token=expert
        )
        assert codes(data_of(body)["recordSessionReport"]) == [code], input
    # The coordinator does not write the expert's report.
    coordinator = data_of(
        await gql(
            REPORT,
            {"input": {"sessionId": session, "version": 1, "report": "ok"}},
            token=dispatch.coordinator,
        )
    )["recordSessionReport"]
    assert codes(coordinator) == ["FORBIDDEN"]


async def test_a_cancelled_session_is_neither_reported_nor_cancelled_again(
    gql: GraphQL, dispatch: Dispatch, assignment: str, connection: AsyncConnection
) -> None:
    session = await _held_session(gql, dispatch, assignment, connection)
    expert = dispatch.expert("生成AI専門家")
    assert codes(data_of(await gql(CANCEL, {"input": {"sessionId": session, "version": 1,
                                                      "reason": ""}}, token=expert))[
        "cancelSession"]) == ["REQUIRED"]  # fmt: skip
    cancelled = data_of(
        await gql(
            CANCEL,
            {"input": {"sessionId": session, "version": 1, "reason": "台風"}},
            token=dispatch.staff(WAKAYAMA),
        )
    )["cancelSession"]
    assert cancelled == {
        "session": {"status": "CANCELLED", "cancelledReason": "台風"},
        "userErrors": [],
    }
    for mutation, input, name in (
        (CANCEL, {"reason": "again"}, "cancelSession"),
        (REPORT, {"report": "ok"}, "recordSessionReport"),
    ):
        body = await gql(mutation, {"input": {"sessionId": session, "version": 2, **input}},
                         token=expert)  # fmt: skip
        assert codes(data_of(body)[name]) == ["SESSION_CANCELLED"]


async def test_a_held_session_is_not_cancelled(
    gql: GraphQL, dispatch: Dispatch, assignment: str, connection: AsyncConnection
) -> None:
    session = await _held_session(gql, dispatch, assignment, connection)
    expert = dispatch.expert("生成AI専門家")
    await gql(REPORT, {"input": {"sessionId": session, "version": 1, "report": "ok"}},
              token=expert)  # fmt: skip
    body = await gql(CANCEL, {"input": {"sessionId": session, "version": 2, "reason": "x"}},
                     token=dispatch.coordinator)  # fmt: skip
    assert codes(data_of(body)["cancelSession"]) == ["SESSION_ALREADY_HELD"]


async def test_ending_an_assignment_cancels_the_sessions_planned_after_it(
    gql: GraphQL, dispatch: Dispatch, assignment: str
) -> None:
    coordinator = dispatch.coordinator
    kept = await plan(gql, coordinator, assignment, "2026-12-07")
    dropped = await plan(gql, coordinator, assignment, "2026-12-21", mode="ONLINE", place=None)
    assert kept["userErrors"] == dropped["userErrors"] == []
    ended = data_of(
        await gql(
            """mutation($input: EndAssignmentInput!) { endAssignment(input: $input) {
                 assignment { status endsOn sessions { startsAt status cancelledReason } }
                 userErrors { code } } }""",
            {
                "input": {
                    "assignmentId": assignment,
                    "version": 1,
                    "endsOn": "2026-12-10",
                    "reason": "庁内体制の変更",
                }
            },
            token=coordinator,
        )
    )["endAssignment"]
    assert ended["userErrors"] == []
    assert ended["assignment"]["endsOn"] == "2026-12-10"
    assert sorted(ended["assignment"]["sessions"], key=lambda s: s["startsAt"]) == [
        {"startsAt": "2026-12-07T01:00:00+00:00", "status": "PLANNED", "cancelledReason": None},
        {
            "startsAt": "2026-12-21T01:00:00+00:00",
            "status": "CANCELLED",
            "cancelledReason": "派遣終了 / assignment ended: 庁内体制の変更",
        },
    ]


CALENDAR = """
query($m: String) {
  assignments(first: 5) { nodes { sessions(month: $m) { startsAt } } }
}
"""


async def test_an_assignments_sessions_of_one_month_in_japans_calendar(
    gql: GraphQL, dispatch: Dispatch, assignment: str
) -> None:
    # 1 January 08:00 in Japan is still 31 December in UTC: a January session.
    for day, hour in (("2026-12-07", 10), ("2027-01-01", 8), ("2027-01-12", 10)):
        assert (await plan(gql, dispatch.coordinator, assignment, day, hour))["userErrors"] == []

    async def starts(month: str | None) -> list[str]:
        body = data_of(await gql(CALENDAR, {"m": month}, token=dispatch.coordinator))
        (node,) = body["assignments"]["nodes"]
        return [s["startsAt"] for s in node["sessions"]]

    assert await starts("2026-12") == ["2026-12-07T01:00:00+00:00"]
    assert await starts(" 2027-01 ") == ["2026-12-31T23:00:00+00:00", "2027-01-12T01:00:00+00:00"]
    assert await starts("2027-02") == []
    assert len(await starts(None)) == 3
    refused = await gql(CALENDAR, {"m": "2026-13"}, token=dispatch.coordinator)
    assert refused["data"] is None
    (error,) = refused["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["argument"] == "month"
    assert "2026-07" in error["message"]
