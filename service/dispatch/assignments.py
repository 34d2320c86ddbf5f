"""Assigning experts: assign, reassign, end. The rules are checked in the mutation's
transaction against the database's current state; the expert's advisory lock makes two
coordinators taking the same expert's last free capacity take turns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from auth.policy import Action, Scope
from service.database import RequestSession
from service.dispatch.repository import (
    DispatchRepository,
    assignment_t,
    first_month_over,
    request_t,
)
from service.models.dispatch import AssignmentStatus, RequestStatus
from service.writes import Code, Write, refusals, says_nothing

# The database's last word on "one active assignment per request", in a race.
refusals(
    {
        "uq_dispatch_assignment_open_request": (
            ("input", "requestId"),
            Code.REQUEST_ALREADY_ASSIGNED,
            Code.REQUEST_ALREADY_ASSIGNED.value,
        ),
    }
)


@dataclass(frozen=True)
class Assigned:
    assignment_id: int
    previous_id: int | None = None


class AssignmentService:
    def __init__(self, db: RequestSession) -> None:
        self.db = db
        self.repository = DispatchRepository(db)

    async def assign(
        self,
        *,
        request_id: int | None,
        expert_id: int | None,
        starts_on: date | None,
        ends_on: date | None,
    ) -> Assigned:
        async with Write(self.db, "assignExpert") as write:
            request = await self.repository.request(request_id)
            expert = await self.repository.expert(expert_id)
            if request is None:
                write.error(("input", "requestId"), Code.NOT_FOUND, "no such request")
            if expert is None:
                write.error(("input", "expertId"), Code.NOT_FOUND, "no such expert")
            write.check()
            assert request is not None
            assert expert is not None
            scope = Scope(request.municipality_id, expert.id)
            write.authorize("DispatchAssignment", Action.INSERT, scope)
            if request.status is not RequestStatus.OPEN:
                write.fail(
                    ("input", "requestId"),
                    Code.REQUEST_NOT_OPEN,
                    f"the request is {request.status.name}",
                )
            await self.repository.lock(request.programme_id, expert.id)
            programme = await self.repository.programme(id_=request.programme_id)
            starts_on = starts_on or max(programme.starts_on, await self.repository.today())
            ends_on = ends_on or programme.ends_on
            self._check_period(write, starts_on, ends_on, programme)
            self._check_theme(write, request.theme, expert)
            await self._check_capacity(
                write, expert, starts_on, ends_on, programme.sessions_per_month_target
            )
            write.check()
            assignment_id = await self.repository.insert(
                assignment_t,
                {
                    "request_id": request.id,
                    "programme_id": programme.id,
                    "expert_id": expert.id,
                    "municipality_id": request.municipality_id,
                    "theme": request.theme,
                    "starts_on": starts_on,
                    "ends_on": ends_on,
                    "status": AssignmentStatus.ACTIVE,
                },
            )
            await self.repository.update(request_t, request.id, {"status": RequestStatus.MATCHED})
        return Assigned(assignment_id)

    async def reassign(
        self,
        *,
        assignment_id: int | None,
        version: int,
        expert_id: int | None,
        from_on: date | None,
        reason: str | None,
    ) -> Assigned:
        async with Write(self.db, "reassignExpert") as write:
            current = await self.repository.assignment(assignment_id)
            expert = await self.repository.expert(expert_id)
            if current is None:
                write.error(("input", "assignmentId"), Code.NOT_FOUND, "no such assignment")
            if expert is None:
                write.error(("input", "expertId"), Code.NOT_FOUND, "no such expert")
            write.check()
            assert current is not None
            assert expert is not None
            write.authorize(
                "DispatchAssignment",
                Action.UPDATE,
                Scope(current.municipality_id, current.expert_id),
                ("input", "assignmentId"),
            )
            write.authorize(
                "DispatchAssignment", Action.INSERT, Scope(current.municipality_id, expert.id)
            )
            if current.status is AssignmentStatus.ENDED:
                write.fail(("input", "assignmentId"), Code.ASSIGNMENT_ENDED)
            if expert.id == current.expert_id:
                write.fail(("input", "expertId"), Code.CONFLICT, "the expert is assigned already")
            today = await self.repository.today()
            from_on = from_on or max(today, current.starts_on)
            if not current.starts_on <= from_on <= current.ends_on:
                write.fail(
                    ("input", "fromOn"),
                    Code.OUTSIDE_ASSIGNMENT,
                    f"must lie in {current.starts_on} - {current.ends_on}",
                )
            await self.repository.lock(current.programme_id, expert.id, current.expert_id)
            programme = await self.repository.programme(id_=current.programme_id)
            target = programme.sessions_per_month_target if programme is not None else 4
            self._check_theme(write, current.theme, expert)
            await self._check_capacity(write, expert, from_on, current.ends_on, target)
            write.check()
            ended_on = max(current.starts_on, from_on - timedelta(days=1))
            await self.repository.update(
                assignment_t,
                current.id,
                {
                    "status": AssignmentStatus.ENDED,
                    "ends_on": ended_on,
                    "ended_reason": reason or "reassigned / 担当変更",
                },
                version=version,
            )
            # The sessions planned after the handover were the previous expert's.
            await self.repository.cancel_planned_after(
                current.id, ended_on, f"担当変更 / reassigned: {reason or '-'}"
            )
            new_id = await self.repository.insert(
                assignment_t,
                {
                    "request_id": current.request_id,
                    "programme_id": current.programme_id,
                    "expert_id": expert.id,
                    "municipality_id": current.municipality_id,
                    "theme": current.theme,
                    "starts_on": from_on,
                    "ends_on": current.ends_on,
                    "status": AssignmentStatus.ACTIVE,
                },
            )
        return Assigned(new_id, current.id)

    async def end(
        self, *, assignment_id: int | None, version: int, reason: str, ends_on: date | None
    ) -> Assigned:
        async with Write(self.db, "endAssignment") as write:
            current = await self.repository.assignment(assignment_id)
            if current is None:
                write.fail(("input", "assignmentId"), Code.NOT_FOUND, "no such assignment")
            assert current is not None
            write.authorize(
                "DispatchAssignment",
                Action.UPDATE,
                Scope(current.municipality_id, current.expert_id),
                ("input", "assignmentId"),
            )
            if says_nothing(reason):
                write.error(("input", "reason"), Code.REQUIRED, "say why the assignment ends")
            if current.status is AssignmentStatus.ENDED:
                write.error(("input", "assignmentId"), Code.ASSIGNMENT_ENDED)
            write.check()
            await self.repository.lock_experts(current.expert_id)
            ends_on = ends_on or await self.repository.today()
            if not current.starts_on <= ends_on <= current.ends_on:
                write.fail(
                    ("input", "endsOn"),
                    Code.OUTSIDE_ASSIGNMENT,
                    f"must lie in {current.starts_on} - {current.ends_on}",
                )
            await self.repository.update(
                assignment_t,
                current.id,
                {
                    "status": AssignmentStatus.ENDED,
                    "ends_on": ends_on,
                    "ended_reason": reason.strip(),
                },
                version=version,
            )
            await self.repository.cancel_planned_after(
                current.id, ends_on, f"派遣終了 / assignment ended: {reason.strip()}"
            )
            if current.request_id is not None:
                # The request may be served again, by another expert.
                await self.repository.update(
                    request_t, current.request_id, {"status": RequestStatus.OPEN}
                )
        return Assigned(current.id)

    @staticmethod
    def _check_period(write: Write, starts_on: date, ends_on: date, programme: Any) -> None:
        if ends_on < starts_on:
            write.error(("input", "endsOn"), Code.INVALID_PERIOD, "ends before it starts")
        elif starts_on < programme.starts_on or ends_on > programme.ends_on:
            write.error(
                ("input", "startsOn" if starts_on < programme.starts_on else "endsOn"),
                Code.OUTSIDE_PROGRAMME,
                f"the programme runs {programme.starts_on} - {programme.ends_on}",
            )

    @staticmethod
    def _check_theme(write: Write, theme: str, expert: Any) -> None:
        if theme not in (expert.themes or []):
            write.error(
                ("input", "expertId"),
                Code.THEME_NOT_COVERED,
                f"{expert.name} does not cover {theme}",
            )

    async def _check_capacity(
        self, write: Write, expert: Any, starts_on: date, ends_on: date, target: int
    ) -> None:
        """Each month of the period, the sessions the expert's running assignments aim at
        (their programmes' targets) plus this one's stay within the expert's capacity."""
        if ends_on < starts_on:
            return
        others = await self.repository.open_assignments(expert.id, starts_on, ends_on)
        # Only the new assignment's months matter: clip the others to its period.
        bookings = [
            (max(a.starts_on, starts_on), min(a.ends_on, ends_on), a.target) for a in others
        ]
        over = first_month_over([*bookings, (starts_on, ends_on, target)], expert.monthly_capacity)
        if over is not None:
            month, booked = over
            write.error(
                ("input", "expertId"),
                Code.CAPACITY_EXCEEDED,
                f"{month:%Y-%m}: {booked - target} of {expert.monthly_capacity} sessions are "
                f"booked already; this assignment needs {target}",
            )
