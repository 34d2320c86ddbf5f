"""SQL of expert dispatch. Every statement runs as the request's principal under row-level
security: a row the principal may not read is not found."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, DateTime, delete, func, insert, literal, select, update
from sqlalchemy.engine import Row

from service.database import RequestSession
from service.models import (
    DispatchAssignment,
    DispatchProgramme,
    DispatchRequest,
    DispatchVisit,
    Expert,
    ExpertAvailability,
    Municipality,
)
from service.models.dispatch import AssignmentStatus, RequestStatus, VisitStatus
from service.writes import Code, UserError, UserErrors

expert_t = Expert.__table__
availability_t = ExpertAvailability.__table__
programme_t = DispatchProgramme.__table__
request_t = DispatchRequest.__table__
assignment_t = DispatchAssignment.__table__
visit_t = DispatchVisit.__table__
municipality_t = Municipality.__table__

# Advisory lock classes (int4). Always the programme's before any expert's, experts in id order:
# no two transactions can then wait for each other.
_EXPERT_LOCK = 73_064_401  # one expert's sessions and capacity
_PROGRAMME_LOCK = 73_064_402  # a programme's rules: shared by writes that apply them
_FOUR_DAYS = timedelta(days=4)


class DispatchRepository:
    def __init__(self, db: RequestSession) -> None:
        self.db = db

    async def one(self, statement: Any) -> Row[Any] | None:
        rows = await self.db.all(statement.limit(2))
        return rows[0] if rows else None

    async def lock(
        self, programme_id: int | None, *expert_ids: int, exclusive: bool = False
    ) -> None:
        """Take, in one statement, the programme's lock (shared by the writes that apply its
        rules; ``exclusive`` for changing them) and then the experts' (serialising the writes
        that count their sessions or capacity), in id order. PostgreSQL evaluates a select
        list left to right, so the order is the one that keeps any two transactions from
        waiting for each other. Rules are read after this statement (a statement's snapshot
        predates the locks it takes)."""
        locks = []
        if programme_id is not None:  # None: an assignment from before programmes (no rules)
            lock = func.pg_advisory_xact_lock if exclusive else func.pg_advisory_xact_lock_shared
            locks.append(lock(_PROGRAMME_LOCK, programme_id))
        for expert_id in sorted(set(expert_ids)):
            locks.append(func.pg_advisory_xact_lock(_EXPERT_LOCK, expert_id))
        if locks:
            await self.db.all(select(*locks))

    async def lock_experts(self, *expert_ids: int) -> None:
        """Serialise the writes that count one expert's sessions or capacity."""
        await self.lock(None, *expert_ids)

    async def lock_programme(self, programme_id: int | None, *, exclusive: bool = False) -> None:
        """Writes that apply a programme's rules share its lock; changing the rules takes it
        alone, so rules and the assignments and sessions they judged never cross."""
        await self.lock(programme_id, exclusive=exclusive)

    # --- reads ---------------------------------------------------------------------------

    async def expert(self, expert_id: int | None) -> Row[Any] | None:
        return await self.one(select(expert_t).where(expert_t.c.id == expert_id))

    async def programme(self, *, fiscal_year: int | None = None, id_: int | None = None) -> Any:
        condition = (
            programme_t.c.fiscal_year == fiscal_year
            if fiscal_year is not None
            else programme_t.c.id == id_
        )
        return await self.one(select(programme_t).where(condition))

    async def municipality_id(self, code: str) -> int | None:
        return await self.db.scalar(
            select(municipality_t.c.id).where(municipality_t.c.code == code)
        )

    async def request(self, request_id: int | None) -> Row[Any] | None:
        return await self.one(select(request_t).where(request_t.c.id == request_id))

    async def assignment(self, assignment_id: int | None) -> Row[Any] | None:
        return await self.one(select(assignment_t).where(assignment_t.c.id == assignment_id))

    async def session(self, session_id: int | None) -> Row[Any] | None:
        statement = (
            select(
                visit_t,
                assignment_t.c.expert_id,
                assignment_t.c.municipality_id,
                assignment_t.c.programme_id,
            )
            .join(assignment_t, assignment_t.c.id == visit_t.c.assignment_id)
            .where(visit_t.c.id == session_id)
        )
        return await self.one(statement)

    async def open_assignments(
        self, expert_id: int, starts_on: date, ends_on: date, *, excluding: int | None = None
    ) -> list[Row[Any]]:
        """The expert's running assignments overlapping a period, with their monthly target."""
        statement = (
            select(
                assignment_t.c.id,
                assignment_t.c.starts_on,
                assignment_t.c.ends_on,
                func.coalesce(programme_t.c.sessions_per_month_target, 4).label("target"),
            )
            .select_from(
                assignment_t.outerjoin(programme_t, programme_t.c.id == assignment_t.c.programme_id)
            )
            .where(
                assignment_t.c.expert_id == expert_id,
                assignment_t.c.status.in_([AssignmentStatus.PLANNED, AssignmentStatus.ACTIVE]),
                assignment_t.c.starts_on <= ends_on,
                assignment_t.c.ends_on >= starts_on,
                assignment_t.c.id != (excluding if excluding is not None else -1),
            )
        )
        return list(await self.db.all(statement))

    async def programme_assignments(self, programme_id: int) -> list[Row[Any]]:
        """Every assignment of the programme, ended ones too (they are its record)."""
        return list(
            await self.db.all(
                select(
                    assignment_t.c.id,
                    assignment_t.c.expert_id,
                    assignment_t.c.theme,
                    assignment_t.c.starts_on,
                    assignment_t.c.ends_on,
                    assignment_t.c.status,
                ).where(assignment_t.c.programme_id == programme_id)
            )
        )

    async def themes_in_use(self, programme_id: int) -> set[str]:
        """Themes that open or matched requests and running assignments of the programme name."""
        requests = select(request_t.c.theme).where(
            request_t.c.programme_id == programme_id,
            request_t.c.status.in_([RequestStatus.OPEN, RequestStatus.MATCHED]),
        )
        assignments = select(assignment_t.c.theme).where(
            assignment_t.c.programme_id == programme_id,
            assignment_t.c.status != AssignmentStatus.ENDED,
        )
        return {row[0] for row in await self.db.all(requests.union(assignments))}

    async def busiest_month(self, programme_id: int) -> int:
        """The most sessions (not cancelled) one assignment of the programme has in a month."""
        month = func.date_trunc("month", func.timezone("Asia/Tokyo", visit_t.c.starts_at))
        counts = (
            select(func.count().label("n"))
            .select_from(visit_t.join(assignment_t, assignment_t.c.id == visit_t.c.assignment_id))
            .where(
                assignment_t.c.programme_id == programme_id,
                visit_t.c.status != VisitStatus.CANCELLED,
            )
            .group_by(visit_t.c.assignment_id, month)
            .subquery()
        )
        return int(await self.db.scalar(select(func.coalesce(func.max(counts.c.n), 0))))

    async def running_themes(self, expert_id: int) -> set[str]:
        """Themes of the expert's assignments that have not ended."""
        rows = await self.db.all(
            select(assignment_t.c.theme).where(
                assignment_t.c.expert_id == expert_id,
                assignment_t.c.status != AssignmentStatus.ENDED,
            )
        )
        return {row[0] for row in rows}

    async def plan_rules(
        self,
        programme_id: int | None,
        assignment_id: int,
        expert_id: int,
        starts_at: datetime,
        ends_at: datetime,
    ) -> Row[Any]:
        """What planning a session of the assignment at [starts_at, ends_at) is judged on, in
        one statement: the programme's rules (NULL without a programme visible), the earliest
        other session of the expert (any assignment) that overlaps the time, the assignment's
        sessions (not cancelled) before ``starts_at`` and in the Japanese month of
        ``starts_at``."""

        def programme(column: Any) -> Any:
            return select(column).where(programme_t.c.id == programme_id).scalar_subquery()

        def clash(column: Any) -> Any:
            return (
                select(column)
                .join(assignment_t, assignment_t.c.id == visit_t.c.assignment_id)
                .where(
                    assignment_t.c.expert_id == expert_id,
                    visit_t.c.status != VisitStatus.CANCELLED,
                    visit_t.c.starts_at < ends_at,
                    visit_t.c.ends_at > starts_at,
                )
                .order_by(visit_t.c.starts_at, visit_t.c.id)
                .limit(1)
                .scalar_subquery()
            )

        def sessions(*conditions: Any) -> Any:
            return (
                select(func.count())
                .where(
                    visit_t.c.assignment_id == assignment_id,
                    visit_t.c.status != VisitStatus.CANCELLED,
                    *conditions,
                )
                .scalar_subquery()
            )

        month = func.date_trunc("month", func.timezone("Asia/Tokyo", visit_t.c.starts_at))
        given = func.date_trunc(
            "month", func.timezone("Asia/Tokyo", literal(starts_at, DateTime(timezone=True)))
        )
        rows = await self.db.all(
            select(
                programme(programme_t.c.first_session_on_site).label("first_session_on_site"),
                programme(programme_t.c.sessions_per_month_max).label("sessions_per_month_max"),
                clash(visit_t.c.starts_at).label("clash_starts_at"),
                clash(visit_t.c.ends_at).label("clash_ends_at"),
                sessions(visit_t.c.starts_at < starts_at).label("sessions_before"),
                sessions(month == given).label("sessions_in_month"),
            )
        )
        return rows[0]

    async def held_before(self, assignment_id: int, starts_at: datetime) -> int:
        return int(
            await self.db.scalar(
                select(func.count()).where(
                    visit_t.c.assignment_id == assignment_id,
                    visit_t.c.status == VisitStatus.HELD,
                    visit_t.c.starts_at < starts_at,
                )
            )
        )

    async def today(self) -> date:
        """Today in Japan, by the database's clock."""
        return await self.db.scalar(select(func.timezone("Asia/Tokyo", func.now()).cast(Date)))

    # --- writes --------------------------------------------------------------------------

    async def insert(self, table: Any, values: dict[str, Any]) -> int:
        rows = await self.db.all(insert(table).values(**values).returning(table.c.id))
        return int(rows[0][0])

    async def update(
        self,
        table: Any,
        key: int,
        values: dict[str, Any],
        *,
        version: int | None = None,
        field: tuple[str, ...] = ("input", "id"),
    ) -> None:
        """Update one row (only at ``version`` when given) and advance its version.

        When no row changed, say why, as a user error: the row is not there or not visible
        (`NOT_FOUND` on ``field``), it is at another version (`STALE`), or row-level security
        skipped it: an UPDATE's ``USING`` policy drops rows silently where an INSERT's
        ``WITH CHECK`` raises, so a refusal by the write policies surfaces here (`FORBIDDEN`).
        """
        statement = update(table).where(table.c.id == key).values(**values)
        if version is not None:
            statement = statement.where(table.c.version == version)
        if "version" in table.c:
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

    async def cancel_planned_after(self, assignment_id: int, ends_on: date, reason: str) -> int:
        """Cancel the assignment's planned sessions on days (in Japan) after ``ends_on``."""
        day = func.timezone("Asia/Tokyo", visit_t.c.starts_at).cast(Date)
        rows = await self.db.all(
            update(visit_t)
            .where(
                visit_t.c.assignment_id == assignment_id,
                visit_t.c.status == VisitStatus.PLANNED,
                day > ends_on,
            )
            .values(
                status=VisitStatus.CANCELLED,
                cancelled_reason=reason,
                version=visit_t.c.version + 1,
                updated_at=func.now(),
            )
            .returning(visit_t.c.id)
        )
        return len(rows)

    async def replace_availability(self, expert_id: int, windows: list[dict[str, Any]]) -> None:
        await self.db.rowcount(
            delete(availability_t).where(availability_t.c.expert_id == expert_id)
        )
        for window in windows:
            await self.insert(availability_t, {"expert_id": expert_id, **window})


def month_starts(starts_on: date, ends_on: date) -> list[date]:
    """The first days of the months a period touches."""
    out, current = [], starts_on.replace(day=1)
    while current <= ends_on:
        out.append(current)
        current = next_month(current)
    return out


def next_month(month: date) -> date:
    return (month.replace(day=28) + _FOUR_DAYS).replace(day=1)


def overlaps_month(starts_on: date, ends_on: date, month: date) -> bool:
    return starts_on < next_month(month) and ends_on >= month


def first_month_over(
    bookings: list[tuple[date, date, int]], capacity: int
) -> tuple[date, int] | None:
    """The first month in which ``bookings`` ((starts on, ends on, sessions a month) each) aim at
    more than ``capacity`` sessions, with the sessions booked; None when every month fits."""
    if not bookings:
        return None
    first = min(b[0] for b in bookings)
    last = max(b[1] for b in bookings)
    for month in month_starts(first, last):
        booked = sum(n for s, e, n in bookings if overlaps_month(s, e, month))
        if booked > capacity:
            return month, booked
    return None
