"""Sessions of an assignment: plan, report, confirm, cancel (the programme's rules as data)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from auth.policy import Action, Scope
from service.database import RequestSession
from service.dispatch.repository import DispatchRepository, visit_t
from service.models.dispatch import AssignmentStatus, VisitMode, VisitStatus
from service.writes import Code, Write, says_nothing

JST = ZoneInfo("Asia/Tokyo")
_REPORT_LIMIT = 20_000
_HOURS_LIMIT = 24


class SessionService:
    def __init__(self, db: RequestSession) -> None:
        self.db = db
        self.repository = DispatchRepository(db)

    async def plan(
        self,
        *,
        assignment_id: int | None,
        starts_at: datetime,
        ends_at: datetime,
        mode: VisitMode,
        place: str | None,
        theme: str | None,
    ) -> int:
        async with Write(self.db, "planSession") as write:
            assignment = await self.repository.assignment(assignment_id)
            if assignment is None:
                write.fail(("input", "assignmentId"), Code.NOT_FOUND, "no such assignment")
            assert assignment is not None
            write.authorize(
                "DispatchVisit",
                Action.INSERT,
                Scope(assignment.municipality_id, assignment.expert_id),
                ("input", "assignmentId"),
            )
            # Judge the assignment as it is once no other write of its expert or its programme's
            # rules runs (an end or a handover may have committed while we waited).
            await self.repository.lock(assignment.programme_id, assignment.expert_id)
            assignment = await self.repository.assignment(assignment.id)
            if assignment.status is AssignmentStatus.ENDED:
                write.fail(("input", "assignmentId"), Code.ASSIGNMENT_ENDED)
            _check_times(write, starts_at, ends_at)
            if mode is VisitMode.ON_SITE and not (place or "").strip():
                write.error(("input", "place"), Code.REQUIRED, "an on-site session needs a place")
            _check_length(write, ("input", "place"), place, 200)
            _check_length(write, ("input", "theme"), theme, 200)
            write.check()
            day = starts_at.astimezone(JST).date()
            if not assignment.starts_on <= day <= assignment.ends_on:
                write.fail(
                    ("input", "startsAt"),
                    Code.OUTSIDE_ASSIGNMENT,
                    f"the assignment runs {assignment.starts_on} - {assignment.ends_on}",
                )
            rules = await self.repository.plan_rules(
                assignment.programme_id, assignment.id, assignment.expert_id, starts_at, ends_at
            )
            if rules.clash_starts_at is not None:
                write.error(
                    ("input", "startsAt"),
                    Code.OVERLAPPING_SESSION,
                    "the expert has a session from "
                    f"{rules.clash_starts_at.astimezone(JST):%Y-%m-%d %H:%M} to "
                    f"{rules.clash_ends_at.astimezone(JST):%H:%M} (JST)",
                )
            # Without a programme (NULL), the defaults: first session on site, six a month.
            on_site_first = rules.first_session_on_site is not False
            if on_site_first and mode is not VisitMode.ON_SITE and rules.sessions_before == 0:
                write.error(("input", "mode"), Code.FIRST_SESSION_NOT_ON_SITE)
            maximum = rules.sessions_per_month_max
            if maximum is None:
                maximum = 6
            if rules.sessions_in_month >= maximum:
                write.error(
                    ("input", "startsAt"),
                    Code.MONTHLY_MAXIMUM,
                    f"{day:%Y-%m} holds {maximum} sessions already (the programme's maximum)",
                )
            write.check()
            return await self.repository.insert(
                visit_t,
                {
                    "assignment_id": assignment.id,
                    "starts_at": starts_at,
                    "ends_at": ends_at,
                    "mode": mode,
                    "status": VisitStatus.PLANNED,
                    "place": (place or "").strip() or None,
                    "theme": (theme or "").strip() or None,
                },
            )

    async def report(
        self,
        *,
        session_id: int | None,
        version: int,
        report: str,
        next_steps: str | None,
        hours: float | None,
    ) -> int:
        async with Write(self.db, "recordSessionReport") as write:
            session = await self._session(write, session_id, Action.UPDATE)
            if session.status is VisitStatus.CANCELLED:
                write.fail(("input", "sessionId"), Code.SESSION_CANCELLED)
            if says_nothing(report):
                write.error(("input", "report"), Code.REQUIRED, "write what was done")
            _check_length(write, ("input", "report"), report, _REPORT_LIMIT)
            _check_length(write, ("input", "nextSteps"), next_steps, _REPORT_LIMIT)
            if hours is not None and not 0 < hours <= _HOURS_LIMIT:
                write.error(("input", "hours"), Code.INVALID, f"between 0 and {_HOURS_LIMIT}")
            write.check()
            now = datetime.now(JST)
            if session.starts_at > now:
                write.fail(("input", "sessionId"), Code.SESSION_NOT_HELD_YET)
            programme = await self.repository.programme(id_=session.programme_id)
            on_site_first = programme is None or programme.first_session_on_site
            if (
                on_site_first
                and session.mode is not VisitMode.ON_SITE
                and await self.repository.held_before(session.assignment_id, session.starts_at) == 0
            ):
                # The first held session of an assignment is on site.
                write.fail(("input", "sessionId"), Code.FIRST_SESSION_NOT_ON_SITE)
            await self._update(
                write,
                session,
                version,
                {
                    "status": VisitStatus.HELD,
                    "report": report.strip(),
                    "next_steps": (next_steps or "").strip() or None,
                    "hours": hours,
                    "reported_at": now,
                },
            )
        return int(session.id)

    async def confirm(self, *, session_id: int | None, version: int) -> int:
        async with Write(self.db, "confirmSessionReport") as write:
            session = await self._session(write, session_id, Action.UPDATE)
            if session.report is None:
                write.fail(("input", "sessionId"), Code.REPORT_MISSING)
            if session.confirmed_at is not None:
                write.fail(("input", "sessionId"), Code.ALREADY_CONFIRMED)
            await self._update(
                write,
                session,
                version,
                {"confirmed_at": datetime.now(JST), "confirmed_by": self.db.principal.subject},
            )
        return int(session.id)

    async def cancel(self, *, session_id: int | None, version: int, reason: str) -> int:
        async with Write(self.db, "cancelSession") as write:
            session = await self._session(write, session_id, Action.UPDATE)
            if session.status is VisitStatus.HELD:
                write.error(("input", "sessionId"), Code.SESSION_ALREADY_HELD)
            elif session.status is VisitStatus.CANCELLED:
                write.error(("input", "sessionId"), Code.SESSION_CANCELLED)
            if says_nothing(reason):
                write.error(("input", "reason"), Code.REQUIRED, "say why the session is cancelled")
            write.check()
            await self._update(
                write,
                session,
                version,
                {"status": VisitStatus.CANCELLED, "cancelled_reason": reason.strip()},
            )
        return int(session.id)

    async def _session(self, write: Write, session_id: int | None, action: Action) -> Any:
        session = await self.repository.session(session_id)
        if session is None:
            write.fail(("input", "sessionId"), Code.NOT_FOUND, "no such session")
        write.authorize(
            "DispatchVisit",
            action,
            Scope(session.municipality_id, session.expert_id),
            ("input", "sessionId"),
        )
        return session

    async def _update(
        self, write: Write, session: Any, version: int, values: dict[str, Any]
    ) -> None:
        await self.repository.update(visit_t, session.id, values, version=version)


def _check_times(write: Write, starts_at: datetime, ends_at: datetime) -> None:
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        write.error(("input", "startsAt"), Code.INVALID, "times need a time zone (ISO 8601)")
    elif ends_at <= starts_at:
        write.error(("input", "endsAt"), Code.INVALID_PERIOD, "ends before it starts")
    elif ends_at - starts_at > timedelta(hours=12):
        write.error(("input", "endsAt"), Code.INVALID, "a session lasts at most 12 hours")


def _check_length(write: Write, field: tuple[str, ...], value: str | None, limit: int) -> None:
    if value is not None and len(value) > limit:
        write.error(field, Code.TOO_LONG, f"at most {limit} characters")
