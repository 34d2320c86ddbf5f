"""SQL of working groups' writes. Every statement runs as the request's principal under
row-level security: a row the principal may not read is not found."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Date, func, insert, or_, select, update
from sqlalchemy.engine import Row

from service.database import RequestSession
from service.models import Expert, Municipality, Region
from service.models.working_group import (
    DxGoal,
    MembershipStatus,
    Producer,
    WorkingGroup,
    WorkingGroupAdviser,
    WorkingGroupAttendance,
    WorkingGroupGoal,
    WorkingGroupMeeting,
    WorkingGroupMembership,
    WorkingGroupOutput,
)
from service.writes import Code, UserError, UserErrors

group_t = WorkingGroup.__table__
goal_t = DxGoal.__table__
group_goal_t = WorkingGroupGoal.__table__
membership_t = WorkingGroupMembership.__table__
adviser_t = WorkingGroupAdviser.__table__
meeting_t = WorkingGroupMeeting.__table__
attendance_t = WorkingGroupAttendance.__table__
output_t = WorkingGroupOutput.__table__
municipality_t = Municipality.__table__
region_t = Region.__table__
expert_t = Expert.__table__
producer_t = Producer.__table__

# Advisory lock class (int4) of one working group's members: deciding a membership and
# recording a meeting's attendance take turns (dispatch 73_064_401-2, the catalog 73_064_403,
# assessments 73_064_404).
_GROUP_LOCK = 73_064_405


class WorkingGroupRepository:
    def __init__(self, db: RequestSession) -> None:
        self.db = db

    async def one(self, statement: Any) -> Row[Any] | None:
        rows = await self.db.all(statement.limit(2))
        return rows[0] if rows else None

    async def lock(self, working_group_id: int) -> None:
        """Serialise the writes that judge the group's members (its own statement: rules are
        read after it)."""
        await self.db.all(select(func.pg_advisory_xact_lock(_GROUP_LOCK, working_group_id)))

    # --- reads ---------------------------------------------------------------------------

    async def group(self, key: int | None, slug: str | None) -> Row[Any] | None:
        if key is None and not slug:
            return None
        condition = group_t.c.id == key if key is not None else group_t.c.slug == slug
        return await self.one(select(group_t).where(condition))

    async def municipality(self, code: str) -> Row[Any] | None:
        return await self.one(
            select(municipality_t.c.id, municipality_t.c.region_id).where(
                municipality_t.c.code == code
            )
        )

    async def region_id(self, name: str) -> int | None:
        """A region by its name or short name (as ``workingGroups(region:)`` finds it)."""
        rows = await self.db.all(
            select(region_t.c.id)
            .where(or_(region_t.c.name == name, region_t.c.short_name == name))
            .limit(2)
        )
        return int(rows[0][0]) if len(rows) == 1 else None

    async def goals(self, codes: list[str]) -> dict[str, int]:
        rows = await self.db.all(select(goal_t.c.code, goal_t.c.id).where(goal_t.c.code.in_(codes)))
        return {r.code: int(r.id) for r in rows}

    async def membership(self, key: int | None) -> Row[Any] | None:
        if key is None:
            return None
        return await self.one(select(membership_t).where(membership_t.c.id == key))

    async def membership_of(self, working_group_id: int, municipality_id: int) -> Row[Any] | None:
        return await self.one(
            select(membership_t).where(
                membership_t.c.working_group_id == working_group_id,
                membership_t.c.municipality_id == municipality_id,
            )
        )

    async def active_members(self, working_group_id: int) -> set[int]:
        rows = await self.db.all(
            select(membership_t.c.municipality_id).where(
                membership_t.c.working_group_id == working_group_id,
                membership_t.c.status == MembershipStatus.ACTIVE,
            )
        )
        return {int(r[0]) for r in rows}

    async def municipality_ids(self, codes: list[str]) -> dict[str, int]:
        rows = await self.db.all(
            select(municipality_t.c.code, municipality_t.c.id).where(
                municipality_t.c.code.in_(codes)
            )
        )
        return {r.code: int(r.id) for r in rows}

    async def expert(self, key: int | None) -> int | None:
        if key is None:
            return None
        return await self.db.scalar(select(expert_t.c.id).where(expert_t.c.id == key))

    async def producer(self, key: int | None) -> int | None:
        if key is None:
            return None
        return await self.db.scalar(select(producer_t.c.id).where(producer_t.c.id == key))

    async def adviser_of(
        self, working_group_id: int, expert_id: int | None, producer_id: int | None
    ) -> bool:
        column = adviser_t.c.expert_id if expert_id is not None else adviser_t.c.producer_id
        found = await self.db.scalar(
            select(adviser_t.c.id).where(
                adviser_t.c.working_group_id == working_group_id,
                column == (expert_id if expert_id is not None else producer_id),
            )
        )
        return found is not None

    async def today(self) -> date:
        """Today in Japan, by the database's clock."""
        return await self.db.scalar(select(func.timezone("Asia/Tokyo", func.now()).cast(Date)))

    async def next_group_id(self) -> int:
        return int(await self.db.scalar(select(func.nextval("working_group_id_seq"))))

    # --- writes --------------------------------------------------------------------------

    async def insert(self, table: Any, values: dict[str, Any]) -> int:
        rows = await self.db.all(insert(table).values(**values).returning(table.c.id))
        return int(rows[0][0])

    async def insert_rows(self, table: Any, rows: list[dict[str, Any]]) -> None:
        """Insert without RETURNING: the principal may not read the rows yet (a new group's
        goals and lead membership, before the group is readable)."""
        if rows:
            await self.db.rowcount(insert(table).values(rows))

    async def update(
        self,
        table: Any,
        key: int,
        values: dict[str, Any],
        *,
        version: int | None = None,
        field: tuple[str, ...] = ("input", "id"),
    ) -> None:
        """Update one row (only at ``version`` when given) and advance its version; when no
        row changed, say why: `NOT_FOUND`, `STALE`, or `FORBIDDEN` (the write policies skipped
        it), as `DispatchRepository.update` does."""
        statement = update(table).where(table.c.id == key).values(**values)
        if version is not None:
            statement = statement.where(table.c.version == version)
        statement = statement.values(version=table.c.version + 1, updated_at=func.now())
        if await self.db.all(statement.returning(table.c.id)):
            return
        found = await self.db.all(select(table.c.version).where(table.c.id == key))
        if not found:
            raise UserErrors([UserError(field, Code.NOT_FOUND, Code.NOT_FOUND.value)])
        if version is not None and found[0][0] != version:
            raise UserErrors(
                [
                    UserError(
                        ("input", "version"), Code.STALE, f"the object is at version {found[0][0]}"
                    )
                ]
            )
        raise UserErrors([UserError(field, Code.FORBIDDEN, Code.FORBIDDEN.value)])
