"""Factories of working groups' rows: plain async functions inserting one row as the owner and
returning its id (the shape of tests/factories.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from service.models.working_group import (
    DxGoal,
    DxGoalIndicator,
    Producer,
    WorkingGroup,
    WorkingGroupAdviser,
    WorkingGroupAttendance,
    WorkingGroupGoal,
    WorkingGroupMeeting,
    WorkingGroupMembership,
    WorkingGroupOutput,
)
from tests.factories import municipality_id


async def _insert(connection: AsyncConnection, model: Any, values: dict[str, Any]) -> int:
    table = model.__table__
    result = await connection.execute(insert(table).values(**values).returning(table.c.id))
    return int(result.scalar_one())


async def create_goal(connection: AsyncConnection, **overrides: Any) -> int:
    values = {"code": "G1", "title": "行政のデジタル化", "position": 1, **overrides}
    return await _insert(connection, DxGoal, values)


async def create_indicator(connection: AsyncConnection, *, goal_id: int, **overrides: Any) -> int:
    values = {
        "goal_id": goal_id,
        "name": "オンライン申請率",
        "unit": "%",
        "fiscal_year": 2026,
        "target": 80.0,
        "current": 20.0,
        **overrides,
    }
    return await _insert(connection, DxGoalIndicator, values)


async def create_producer(connection: AsyncConnection, **overrides: Any) -> int:
    values = {"name": "総括 花子", "kind": "GENERAL", "specialty": "DX戦略", **overrides}
    return await _insert(connection, Producer, values)


async def create_group(
    connection: AsyncConnection,
    *,
    lead: str | None = None,
    goals: tuple[int, ...] = (),
    **overrides: Any,
) -> int:
    """A working group; ``lead`` a municipality code (else the prefecture leads)."""
    values: dict[str, Any] = {
        "slug": "joint-procurement",
        "name": "共同調達WG",
        "kind": "BUSINESS_CREATION",
        "status": "ACTIVE",
        "theme": "共同調達",
        "fiscal_year": 2026,
        "started_on": date(2026, 4, 1),
        "lead_prefecture": lead is None,
        **overrides,
    }
    if lead is not None:
        values["lead_municipality_id"] = await municipality_id(connection, lead)
    group = await _insert(connection, WorkingGroup, values)
    for goal in goals:
        await connection.execute(
            insert(WorkingGroupGoal.__table__).values(working_group_id=group, goal_id=goal)
        )
    return group


async def create_membership(
    connection: AsyncConnection, *, group_id: int, code: str, **overrides: Any
) -> int:
    values = {
        "working_group_id": group_id,
        "municipality_id": await municipality_id(connection, code),
        "status": "ACTIVE",
        "contact_role": "情報政策課 主任",
        **overrides,
    }
    return await _insert(connection, WorkingGroupMembership, values)


async def create_adviser(connection: AsyncConnection, *, group_id: int, **overrides: Any) -> int:
    return await _insert(
        connection, WorkingGroupAdviser, {"working_group_id": group_id, **overrides}
    )


async def create_meeting(connection: AsyncConnection, *, group_id: int, **overrides: Any) -> int:
    values = {
        "working_group_id": group_id,
        "held_on": date(2026, 5, 1),
        "mode": "ONLINE",
        "title": "第1回",
        **overrides,
    }
    return await _insert(connection, WorkingGroupMeeting, values)


async def create_attendance(
    connection: AsyncConnection, *, meeting_id: int, code: str, attendees: int = 1
) -> None:
    await connection.execute(
        insert(WorkingGroupAttendance.__table__).values(
            meeting_id=meeting_id,
            municipality_id=await municipality_id(connection, code),
            attendees=attendees,
        )
    )


async def create_output(connection: AsyncConnection, *, group_id: int, **overrides: Any) -> int:
    values = {
        "working_group_id": group_id,
        "kind": "DOCUMENT",
        "title": "報告書",
        "published": True,
        "published_on": date(2026, 9, 1),
        **overrides,
    }
    return await _insert(connection, WorkingGroupOutput, values)
