"""Reads of the dispatch domain: the programme, and connections of experts, requests and
assignments with their filters (the access policy scopes every select).

The filters are SQL conditions over values that may be plain values (the resolver path) or bind
parameters (the compiled path, service/compiler/roots.py): one definition serves both."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, and_, any_, cast, func, select
from sqlalchemy.sql.expression import ColumnElement

from schema.mapping import SqlType
from service import reads
from service.database import RequestSession
from service.dispatch.repository import next_month
from service.errors import InvalidArgument
from service.geography.codes import require_valid_code
from service.models import (
    DispatchAssignment,
    DispatchProgramme,
    DispatchRequest,
    DispatchVisit,
    Expert,
    Municipality,
)
from service.pagination import Ordering, SortKey
from service.settings import Settings

expert_t = Expert.__table__
request_t = DispatchRequest.__table__
assignment_t = DispatchAssignment.__table__
municipality_t = Municipality.__table__
programme_t = DispatchProgramme.__table__
visit_t = DispatchVisit.__table__

EXPERTS_BY_NAME = Ordering("expert:name:asc", (SortKey(expert_t.c.name), SortKey(expert_t.c.id)))
REQUESTS_NEWEST_FIRST = Ordering("request:id:desc", (SortKey(request_t.c.id, True),))
ASSIGNMENTS_BY_START = Ordering(
    "assignment:startsOn:asc", (SortKey(assignment_t.c.starts_on), SortKey(assignment_t.c.id))
)

_JST = ZoneInfo("Asia/Tokyo")
_MONTH = re.compile(r"(\d{4})-(\d{2})")


def month_bounds(month: str, argument: str = "month") -> tuple[date, date]:
    """The first day of a `YYYY-MM` month and of the next."""
    match = _MONTH.fullmatch(month.strip())
    if match is None or not 1 <= int(match[2]) <= 12:
        raise InvalidArgument(argument, "must be a month such as 2026-07")
    first = date(int(match[1]), int(match[2]), 1)
    return first, next_month(first)


def session_in_month(first: Any, following: Any) -> ColumnElement[bool]:
    """A session starting in the month from ``first`` to ``following`` (Japan's calendar):
    the compiled path's filter; `starts_in_month` is the same test in Python."""
    day = cast(func.timezone("Asia/Tokyo", visit_t.c.starts_at), Date)
    return and_(day >= first, day < following)


def starts_in_month(starts_at: datetime, first: date, following: date) -> bool:
    return first <= starts_at.astimezone(_JST).date() < following


def municipality_is(code: Any) -> ColumnElement[bool]:
    return select(municipality_t.c.id).where(municipality_t.c.code == code).scalar_subquery()


def expert_conditions(*, theme: Any = None) -> list[ColumnElement[bool]]:
    return [] if theme is None else [any_(expert_t.c.themes) == theme]


def request_conditions(
    *, municipality_code: Any = None, status: Any = None, programme_year: Any = None
) -> list[ColumnElement[bool]]:
    conditions = []
    if municipality_code is not None:
        conditions.append(request_t.c.municipality_id == municipality_is(municipality_code))
    if status is not None:
        conditions.append(request_t.c.status == status)
    if programme_year is not None:
        year = select(programme_t.c.id).where(programme_t.c.fiscal_year == programme_year)
        conditions.append(request_t.c.programme_id == year.scalar_subquery())
    return conditions


def assignment_conditions(
    *,
    municipality_code: Any = None,
    expert_id: Any = None,
    theme: Any = None,
    status: Any = None,
    month_first: Any = None,
    month_next: Any = None,
) -> list[ColumnElement[bool]]:
    conditions = []
    if municipality_code is not None:
        conditions.append(assignment_t.c.municipality_id == municipality_is(municipality_code))
    if expert_id is not None:
        conditions.append(assignment_t.c.expert_id == expert_id)
    if theme is not None:
        conditions.append(assignment_t.c.theme == theme)
    if status is not None:
        conditions.append(assignment_t.c.status == status)
    if month_first is not None:
        # Running at some time in the month.
        conditions += [assignment_t.c.starts_on < month_next, assignment_t.c.ends_on >= month_first]
    return conditions


class DispatchService:
    def __init__(self, db: RequestSession, settings: Settings | None = None) -> None:
        self.db = db
        self.settings = settings

    async def _page(
        self,
        spec: SqlType,
        where: list[ColumnElement[bool]],
        ordering: Ordering,
        first: int | None,
        after: str | None,
    ) -> tuple[reads.Page, Callable[[], Awaitable[int]]]:
        assert self.settings is not None
        return await reads.paginate(
            self.db,
            spec,
            where=where,
            ordering=ordering,
            first=first,
            after=after,
            default=self.settings.default_page_size,
            maximum=self.settings.max_page_size,
        )

    async def experts(
        self, spec: SqlType, *, first: int | None, after: str | None, theme: str | None
    ) -> tuple[reads.Page, Callable[[], Awaitable[int]]]:
        return await self._page(spec, expert_conditions(theme=theme), EXPERTS_BY_NAME, first, after)

    async def requests(
        self,
        spec: SqlType,
        *,
        first: int | None,
        after: str | None,
        municipality_code: str | None,
        status: Any,
        fiscal_year: int | None,
    ) -> tuple[reads.Page, Callable[[], Awaitable[int]]]:
        code = _code(municipality_code, "municipalityCode")
        where = request_conditions(
            municipality_code=code, status=status, programme_year=fiscal_year
        )
        return await self._page(spec, where, REQUESTS_NEWEST_FIRST, first, after)

    async def assignments(
        self,
        spec: SqlType,
        *,
        first: int | None,
        after: str | None,
        municipality_code: str | None,
        expert_id: int | None,
        theme: str | None,
        status: Any,
        month: str | None,
    ) -> tuple[reads.Page, Callable[[], Awaitable[int]]]:
        first_day, next_first = month_bounds(month) if month is not None else (None, None)
        where = assignment_conditions(
            municipality_code=_code(municipality_code, "municipality"),
            expert_id=expert_id,
            theme=theme,
            status=status,
            month_first=first_day,
            month_next=next_first,
        )
        return await self._page(spec, where, ASSIGNMENTS_BY_START, first, after)

    async def assignment_list(self, spec: SqlType, municipality_code: str | None) -> list[Any]:
        code = _code(municipality_code, "municipalityCode")
        return await reads.fetch_all(self.db, spec, assignment_conditions(municipality_code=code))

    async def programmes(self, spec: SqlType) -> list[Any]:
        return await reads.fetch_all(self.db, spec)

    async def programme(self, spec: SqlType, fiscal_year: int | None) -> Any | None:
        if fiscal_year is None:
            newest = await reads.fetch_all(self.db, spec, order_by=[spec.key.desc()])
            return newest[0] if newest else None
        return await reads.fetch_one(self.db, spec, [spec.key == fiscal_year])

    async def changed_assignment(
        self, spec: SqlType, assignment_id: int, municipality_code: str | None
    ) -> Any | None:
        """A changed assignment as the principal reads it (None when invisible, or of another
        municipality than ``municipality_code``, checked by `live_filter`)."""
        where = [assignment_t.c.id == assignment_id]
        where += assignment_conditions(municipality_code=municipality_code)
        return await reads.fetch_one(self.db, spec, where)

    async def changed_session(
        self, spec: SqlType, session_id: int, municipality_code: str | None
    ) -> Any | None:
        """A changed session as the principal reads it, like `changed_assignment`."""
        where = [visit_t.c.id == session_id]
        if municipality_code is not None:
            of = select(assignment_t.c.id).where(
                assignment_t.c.municipality_id == municipality_is(municipality_code)
            )
            where.append(visit_t.c.assignment_id.in_(of))
        return await reads.fetch_one(self.db, spec, where)


def live_filter(municipality_code: str | None) -> str | None:
    """The checked `municipality:` argument of a subscription."""
    return _code(municipality_code, "municipality")


def _code(code: str | None, argument: str) -> str | None:
    return None if code is None else require_valid_code(code.strip(), argument)
