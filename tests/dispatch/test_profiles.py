"""Experts, the programme and requests: what coordinators and municipalities set up, each rule
with its code; and changes that would break a rule the assignments already rely on."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.conftest import GraphQL, data_of, error_of
from tests.dispatch.conftest import KAINAN, WAKAYAMA, Dispatch, assign, codes

CREATE_EXPERT = """
mutation($input: CreateExpertInput!) {
  createExpert(input: $input) {
    expert { name themes skills contact monthlyCapacity version synthetic
             availability { startsOn endsOn note } }
    userErrors { field code message }
  }
}
"""
UPDATE_EXPERT = """
mutation($input: UpdateExpertInput!) {
  updateExpert(input: $input) {
    expert { name themes monthlyCapacity version availability { startsOn } }
    userErrors { field code message }
  }
}
"""
UPDATE_PROGRAMME = """
mutation($input: UpdateDispatchProgrammeInput!) {
  updateDispatchProgramme(input: $input) {
    programme { startsOn endsOn themes sessionsPerMonthTarget sessionsPerMonthMax version }
    userErrors { field code message }
  }
}
"""
CREATE_PROGRAMME = """
mutation($input: CreateDispatchProgrammeInput!) {
  createDispatchProgramme(input: $input) {
    programme { fiscalYear name startsOn endsOn sessionsPerMonthTarget sessionsPerMonthMax
                firstSessionOnSite confirmationRequired }
    userErrors { field code message }
  }
}
"""
FILE = """
mutation($input: FileDispatchRequestInput!) {
  fileDispatchRequest(input: $input) {
    request { theme goals status municipality { code } version }
    userErrors { field code message }
  }
}
"""
WITHDRAW = """
mutation($input: WithdrawDispatchRequestInput!) {
  withdrawDispatchRequest(input: $input) {
    request { status version }
    userErrors { field code message }
  }
}
"""


async def mutate(gql: GraphQL, query: str, input: dict[str, Any], token: str) -> dict[str, Any]:
    (payload,) = data_of(await gql(query, {"input": input}, token=token)).values()
    return dict(payload)


async def test_a_coordinator_creates_an_expert_with_availability(
    gql: GraphQL, dispatch: Dispatch
) -> None:
    created = await mutate(
        gql,
        CREATE_EXPERT,
        {
            "name": "  新任 専門家 ",
            "themes": ["生成AI", " "],
            "skills": ["プロンプト設計"],
            "contact": "shinnin@example.jp",
            "monthlyCapacity": 6,
            "availability": [{"startsOn": "2026-06-01", "endsOn": "2026-12-31", "note": "平日"}],
        },
        dispatch.coordinator,
    )
    assert created == {
        "expert": {
            "name": "新任 専門家",
            "themes": ["生成AI"],
            "skills": ["プロンプト設計"],
            "contact": "shinnin@example.jp",
            "monthlyCapacity": 6,
            "version": 1,
            "synthetic": False,
            "availability": [{"startsOn": "2026-06-01", "endsOn": "2026-12-31", "note": "平日"}],
        },
        "userErrors": [],
    }


async def test_an_expert_profile_is_checked_field_by_field(
    gql: GraphQL, connection: AsyncConnection, dispatch: Dispatch
) -> None:
    before = await connection.scalar(text("SELECT count(*) FROM expert"))
    refused = await mutate(
        gql,
        CREATE_EXPERT,
        {
            "name": " ",
            "contact": "x" * 1000,
            "monthlyCapacity": 101,
            "availability": [{"startsOn": "2026-12-01", "endsOn": "2026-11-01"}],
        },
        dispatch.coordinator,
    )
    assert refused["expert"] is None
    assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [
        (["input", "name"], "REQUIRED"),
        (["input", "contact"], "TOO_LONG"),
        (["input", "monthlyCapacity"], "INVALID"),
        (["input", "availability", "0", "endsOn"], "INVALID_PERIOD"),
    ]
    assert await connection.scalar(text("SELECT count(*) FROM expert")) == before


async def test_an_update_changes_what_it_names_and_needs_the_current_version(
    gql: GraphQL, dispatch: Dispatch
) -> None:
    expert = dispatch.id("Expert", dispatch.experts["標準化専門家"])
    changed = await mutate(
        gql,
        UPDATE_EXPERT,
        {"id": expert, "version": 1, "themes": ["情報システム標準化", "生成AI"]},
        dispatch.coordinator,
    )
    assert changed["userErrors"] == []
    assert changed["expert"]["themes"] == ["情報システム標準化", "生成AI"]
    assert changed["expert"]["monthlyCapacity"] == 4, "unnamed fields stay"
    assert changed["expert"]["version"] == 2
    stale = await mutate(
        gql, UPDATE_EXPERT, {"id": expert, "version": 1, "name": "別名"}, dispatch.coordinator
    )
    assert stale["expert"] is None
    assert [(e["field"], e["code"]) for e in stale["userErrors"]] == [
        (["input", "version"], "STALE")
    ]
    cleared = await mutate(
        gql, UPDATE_EXPERT, {"id": expert, "version": 2, "name": None}, dispatch.coordinator
    )
    assert codes(cleared) == ["REQUIRED"]


async def test_capacity_is_not_lowered_below_what_assignments_book(
    gql: GraphQL, dispatch: Dispatch
) -> None:
    assert (await assign(gql, dispatch, WAKAYAMA, "生成AI専門家", startsOn="2026-12-01"))[
        "userErrors"
    ] == []
    expert = dispatch.id("Expert", dispatch.experts["生成AI専門家"])
    lowered = await mutate(
        gql, UPDATE_EXPERT, {"id": expert, "version": 1, "monthlyCapacity": 3}, dispatch.coordinator
    )
    assert [(e["field"], e["code"]) for e in lowered["userErrors"]] == [
        (["input", "monthlyCapacity"], "CAPACITY_EXCEEDED")
    ]
    enough = await mutate(
        gql, UPDATE_EXPERT, {"id": expert, "version": 1, "monthlyCapacity": 4}, dispatch.coordinator
    )
    assert enough["userErrors"] == []


async def test_a_theme_in_use_stays_with_its_expert(gql: GraphQL, dispatch: Dispatch) -> None:
    assert (await assign(gql, dispatch, WAKAYAMA, "生成AI専門家"))["userErrors"] == []
    expert = dispatch.id("Expert", dispatch.experts["生成AI専門家"])
    dropped = await mutate(
        gql, UPDATE_EXPERT, {"id": expert, "version": 1, "themes": ["DX推進計画"]},
        dispatch.coordinator,
    )  # fmt: skip
    assert [(e["field"], e["code"]) for e in dropped["userErrors"]] == [
        (["input", "themes"], "THEME_NOT_COVERED")
    ]


async def test_a_programme_has_the_pilots_shape_by_default(
    gql: GraphQL, dispatch: Dispatch
) -> None:
    created = await mutate(gql, CREATE_PROGRAMME, {"fiscalYear": 2027}, dispatch.admin)
    assert created == {
        "programme": {
            "fiscalYear": 2027,
            "name": "デジタル専門人材派遣",
            "startsOn": "2027-06-01",
            "endsOn": "2028-02-29",
            "sessionsPerMonthTarget": 4,
            "sessionsPerMonthMax": 6,
            "firstSessionOnSite": True,
            "confirmationRequired": True,
        },
        "userErrors": [],
    }
    again = await mutate(gql, CREATE_PROGRAMME, {"fiscalYear": 2027}, dispatch.admin)
    assert [(e["field"], e["code"]) for e in again["userErrors"]] == [
        (["input", "fiscalYear"], "CONFLICT")
    ]


async def test_programme_rules_are_checked(gql: GraphQL, dispatch: Dispatch) -> None:
    refused = await mutate(
        gql,
        UPDATE_PROGRAMME,
        {
            "fiscalYear": 2026,
            "version": 1,
            "endsOn": "2026-05-01",
            "sessionsPerMonthTarget": 8,
            "sessionsPerMonthMax": 6,
        },
        dispatch.coordinator,
    )
    assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [
        (["input", "endsOn"], "INVALID_PERIOD"),
        (["input", "sessionsPerMonthMax"], "INVALID"),
    ]
    for name in ("startsOn", "endsOn", "sessionsPerMonthTarget", "themes"):
        cleared = await mutate(
            gql, UPDATE_PROGRAMME, {"fiscalYear": 2026, "version": 1, name: None},
            dispatch.coordinator,
        )  # fmt: skip
        assert [(e["field"], e["code"]) for e in cleared["userErrors"]] == [
            (["input", name], "REQUIRED")
        ], name


async def test_a_programme_keeps_room_for_its_assignments(gql: GraphQL, dispatch: Dispatch) -> None:
    assert (await assign(gql, dispatch, WAKAYAMA, "生成AI専門家", startsOn="2026-12-01"))[
        "userErrors"
    ] == []
    shorter = await mutate(
        gql, UPDATE_PROGRAMME, {"fiscalYear": 2026, "version": 1, "endsOn": "2027-01-31"},
        dispatch.coordinator,
    )  # fmt: skip
    assert [(e["field"], e["code"]) for e in shorter["userErrors"]] == [
        (["input", "endsOn"], "OUTSIDE_PROGRAMME")
    ]
    without = await mutate(
        gql, UPDATE_PROGRAMME, {"fiscalYear": 2026, "version": 1, "themes": ["DX推進計画"]},
        dispatch.coordinator,
    )  # fmt: skip
    assert [(e["field"], e["code"]) for e in without["userErrors"]] == [
        (["input", "themes"], "THEME_NOT_OFFERED")
    ]
    # The expert (capacity 8) serves one assignment aiming at 4 a month; 9 would exceed it.
    more = await mutate(
        gql,
        UPDATE_PROGRAMME,
        {"fiscalYear": 2026, "version": 1, "sessionsPerMonthTarget": 9, "sessionsPerMonthMax": 9},
        dispatch.coordinator,
    )
    assert [(e["field"], e["code"]) for e in more["userErrors"]] == [
        (["input", "sessionsPerMonthTarget"], "CAPACITY_EXCEEDED")
    ]
    fine = await mutate(
        gql,
        UPDATE_PROGRAMME,
        {"fiscalYear": 2026, "version": 1, "sessionsPerMonthTarget": 5, "endsOn": "2027-03-31"},
        dispatch.coordinator,
    )
    assert fine["userErrors"] == []
    assert fine["programme"]["version"] == 2


async def test_a_municipality_files_its_own_requests(gql: GraphQL, dispatch: Dispatch) -> None:
    staff = dispatch.staff(KAINAN)
    filed = await mutate(
        gql, FILE, {"fiscalYear": 2026, "theme": "DX推進計画", "goals": "計画の改定"}, staff
    )
    assert filed == {
        "request": {
            "theme": "DX推進計画",
            "goals": "計画の改定",
            "status": "OPEN",
            "municipality": {"code": KAINAN},
            "version": 1,
        },
        "userErrors": [],
    }
    twice = await mutate(gql, FILE, {"fiscalYear": 2026, "theme": "DX推進計画"}, staff)
    assert [(e["field"], e["code"]) for e in twice["userErrors"]] == [
        (["input", "theme"], "CONFLICT")
    ]
    elsewhere = await mutate(
        gql, FILE, {"fiscalYear": 2026, "theme": "DX推進計画", "municipalityCode": WAKAYAMA}, staff
    )
    assert [(e["field"], e["code"]) for e in elsewhere["userErrors"]] == [
        (["input", "municipalityCode"], "FORBIDDEN")
    ]
    off_menu = await mutate(gql, FILE, {"fiscalYear": 2026, "theme": "観光DX"}, staff)
    assert codes(off_menu) == ["THEME_NOT_OFFERED"]
    assert "生成AI" in off_menu["userErrors"][0]["message"], "the message lists the menu"
    no_year = await mutate(gql, FILE, {"fiscalYear": 2031, "theme": "生成AI"}, staff)
    assert [(e["field"], e["code"]) for e in no_year["userErrors"]] == [
        (["input", "fiscalYear"], "NOT_FOUND")
    ]
    unknown = await mutate(
        gql, FILE, {"fiscalYear": 2026, "theme": "生成AI", "municipalityCode": "999999"},
        dispatch.coordinator,
    )  # fmt: skip
    assert codes(unknown) == ["NOT_FOUND"]


async def test_a_request_is_withdrawn_while_open(gql: GraphQL, dispatch: Dispatch) -> None:
    request = dispatch.id("DispatchRequest", dispatch.requests[WAKAYAMA])
    matched = await assign(gql, dispatch, WAKAYAMA, "生成AI専門家")
    assert matched["userErrors"] == []
    staff = dispatch.staff(WAKAYAMA)
    refused = await mutate(gql, WITHDRAW, {"id": request, "version": 2}, staff)
    assert codes(refused) == ["REQUEST_NOT_OPEN"]
    other = dispatch.id("DispatchRequest", dispatch.requests[KAINAN])
    hidden = await mutate(gql, WITHDRAW, {"id": other, "version": 1}, staff)
    assert codes(hidden) == ["NOT_FOUND"], "another municipality's request is not visible"
    stale = await mutate(gql, WITHDRAW, {"id": other, "version": 9}, dispatch.staff(KAINAN))
    assert codes(stale) == ["STALE"]
    done = await mutate(gql, WITHDRAW, {"id": other, "version": 1}, dispatch.staff(KAINAN))
    assert done == {"request": {"status": "WITHDRAWN", "version": 2}, "userErrors": []}


async def test_malformed_input_is_a_graphql_error_naming_the_field(
    gql: GraphQL, dispatch: Dispatch
) -> None:
    error = error_of(
        await gql(
            CREATE_EXPERT,
            {"input": {"name": "x", "monthlyCapacity": "many"}},
            token=dispatch.coordinator,
        )
    )
    assert "monthlyCapacity" in error["message"]
    nul = await gql(CREATE_EXPERT, {"input": {"name": "a\x00b"}}, token=dispatch.coordinator)
    error = error_of(nul)
    assert "'input.name'" in error["message"]
    assert error["extensions"]["field"] == ["input", "name"]
