"""GraphQL types of expert dispatch: the programme, experts, requests, assignments, sessions.

Mutations' inputs and payloads are in `schema/dispatch_writes.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import strawberry
from sqlalchemy import Table, cast, func
from sqlalchemy.dialects.postgresql import DOUBLE_PRECISION

from resolvers.context import Info
from schema.mapping import Column, ToMany, ToOne, sql_type
from schema.node import Node
from schema.scalars import float_column
from service.dispatch.service import month_bounds, starts_in_month
from service.models import DispatchAssignment as AssignmentModel
from service.models import DispatchProgramme as ProgrammeModel
from service.models import DispatchRequest as RequestModel
from service.models import DispatchVisit as VisitModel
from service.models import Expert as ExpertModel
from service.models import ExpertAvailability as AvailabilityModel
from service.models import Municipality as MunicipalityModel
from service.models.dispatch import AssignmentStatus as AssignmentStatusModel
from service.models.dispatch import RequestStatus as RequestStatusModel
from service.models.dispatch import VisitMode as VisitModeModel
from service.models.dispatch import VisitStatus as VisitStatusModel
from service.models.views import (
    assignment_month,
    expert_month,
    municipality_month,
    programme_progress,
)

T = TypeVar("T", bound=type)

if TYPE_CHECKING:
    from schema.geography import Municipality

expert_t = ExpertModel.__table__
availability_t = AvailabilityModel.__table__
programme_t = ProgrammeModel.__table__
request_t = RequestModel.__table__
assignment_t = AssignmentModel.__table__
visit_t = VisitModel.__table__
municipality_t = MunicipalityModel.__table__

AssignmentStatus = strawberry.enum(
    AssignmentStatusModel,
    name="AssignmentStatus",
    description="派遣の状態 / state of an assignment: PLANNED, ACTIVE or ENDED.",
)
VisitMode = strawberry.enum(
    VisitModeModel, name="VisitMode", description="実施方法 / ON_SITE (訪問) or ONLINE."
)
VisitStatus = strawberry.enum(
    VisitStatusModel,
    name="VisitStatus",
    description="面談の状態 / state of a session: PLANNED, HELD or CANCELLED.",
)
RequestStatus = strawberry.enum(
    RequestStatusModel,
    name="RequestStatus",
    description="派遣要望の状態 / state of a request: OPEN, MATCHED or WITHDRAWN.",
)


@sql_type(
    programme_progress,
    key=programme_progress.c.programme_id,
    node=False,
    fields={
        "requests": Column(programme_progress.c.requests),
        "matched": Column(programme_progress.c.matched),
        "open": Column(programme_progress.c.open),
        "sessions_planned": Column(programme_progress.c.sessions_planned),
        "sessions_held": Column(programme_progress.c.sessions_held),
        "sessions_held_on_site": Column(programme_progress.c.sessions_held_on_site),
        "on_site_share": Column(
            float_column(
                cast(programme_progress.c.sessions_held_on_site, DOUBLE_PRECISION)
                / func.nullif(programme_progress.c.sessions_held, 0)
            )
        ),
    },
)
@strawberry.type(
    description="進捗 / progress of a programme, counted over what the viewer may read."
)
class ProgrammeProgress:
    sql_row: strawberry.Private[Mapping[str, Any]]
    requests: int = strawberry.field(description="派遣要望数 / Requests filed.")
    matched: int = strawberry.field(description="割当済み / Requests an assignment serves.")
    open: int = strawberry.field(description="割当待ち / Requests waiting for an expert.")
    sessions_planned: int
    sessions_held: int
    sessions_held_on_site: int
    on_site_share: float | None = strawberry.field(
        description="訪問の割合 / Share of held sessions that were on site (0 to 1); "
        "null before any."
    )


@sql_type(
    programme_t,
    key=programme_t.c.fiscal_year,
    order_by=(programme_t.c.fiscal_year,),
    fields={
        "fiscal_year": Column(programme_t.c.fiscal_year),
        "name": Column(programme_t.c.name),
        "starts_on": Column(programme_t.c.starts_on),
        "ends_on": Column(programme_t.c.ends_on),
        "themes": Column(programme_t.c.themes),
        "sessions_per_month_target": Column(programme_t.c.sessions_per_month_target),
        "sessions_per_month_max": Column(programme_t.c.sessions_per_month_max),
        "first_session_on_site": Column(programme_t.c.first_session_on_site),
        "confirmation_required": Column(programme_t.c.confirmation_required),
        "version": Column(programme_t.c.version),
        "synthetic": Column(programme_t.c.synthetic),
        "progress": ToOne("ProgrammeProgress", programme_t.c.id, programme_progress.c.programme_id),
    },
)
@strawberry.type(
    description="デジタル専門人材派遣事業 / the dispatch programme of a fiscal year: period, "
    "theme menu and rules."
)
class DispatchProgramme(Node):
    fiscal_year: int = strawberry.field(description="年度 / Japanese fiscal year (April-March).")
    name: str
    starts_on: date
    ends_on: date
    themes: list[str] = strawberry.field(
        description="テーマ一覧 / The theme menu municipalities choose from."
    )
    sessions_per_month_target: int = strawberry.field(
        description="月の面談目標 / Sessions a month aimed at."
    )
    sessions_per_month_max: int = strawberry.field(
        description="月の面談上限 / At most this many a month."
    )
    first_session_on_site: bool = strawberry.field(
        description="初回面談は訪問 / Whether an assignment's first session must be on site."
    )
    confirmation_required: bool = strawberry.field(
        description="報告確認の要否 / Whether the municipality confirms each report."
    )
    version: int = strawberry.field(
        description="バージョン / Increases with every change (optimistic lock)."
    )
    synthetic: bool = strawberry.field(
        description="デモデータ / True for demo data (dxlink seed --demo)."
    )

    @strawberry.field(description="進捗 / Requests, matches and sessions, as far as visible.")
    async def progress(self, info: Info) -> ProgrammeProgress | None:
        return await info.context.loaders.load_related(self, "progress")


def _months_type(table: Table) -> Callable[[T], T]:
    key = table.c.expert_id if "expert_id" in table.c else table.c.municipality_id
    return sql_type(
        table,
        key=key,
        node=False,
        order_by=(table.c.month,),
        fields={
            "month": Column(table.c.month),
            "planned": Column(table.c.planned),
            "held": Column(table.c.held),
            "on_site": Column(table.c.on_site),
            "target": Column(table.c.target),
            "assignments": Column(table.c.assignments),
        },
    )


@strawberry.type
class _MonthCounts:
    """The counts of an expert's or a municipality's month (`_months_type` reads them)."""

    sql_row: strawberry.Private[Mapping[str, Any]]
    month: date = strawberry.field(description="月 / The first day of the month.")
    planned: int
    held: int
    on_site: int = strawberry.field(description="訪問 / Sessions on site (planned or held).")
    target: int = strawberry.field(description="目標 / Sessions aimed at: the programmes' targets.")
    assignments: int = strawberry.field(description="派遣数 / Assignments running that month.")


@_months_type(expert_month)
@strawberry.type(
    description="月別の面談数 / an expert's sessions in one month (Japan's calendar) against "
    "the target, over the assignments the viewer may read."
)
class ExpertMonth(_MonthCounts):
    pass


@_months_type(municipality_month)
@strawberry.type(
    description="月別の面談数 / a municipality's sessions in one month (Japan's calendar) "
    "against the target, over the assignments the viewer may read."
)
class MunicipalityMonth(_MonthCounts):
    pass


@sql_type(
    assignment_month,
    key=assignment_month.c.assignment_id,
    node=False,
    order_by=(assignment_month.c.month,),
    fields={
        "month": Column(assignment_month.c.month),
        "planned": Column(assignment_month.c.planned),
        "held": Column(assignment_month.c.held),
        "on_site": Column(assignment_month.c.on_site),
        "target": Column(assignment_month.c.target),
        "maximum": Column(assignment_month.c.maximum),
    },
)
@strawberry.type(description="月別の面談数 / an assignment's sessions in one month.")
class AssignmentMonth:
    sql_row: strawberry.Private[Mapping[str, Any]]
    month: date = strawberry.field(description="月 / The first day of the month.")
    planned: int
    held: int
    on_site: int
    target: int
    maximum: int


@sql_type(
    availability_t,
    key=availability_t.c.id,
    order_by=(availability_t.c.expert_id, availability_t.c.starts_on, availability_t.c.id),
    fields={
        "starts_on": Column(availability_t.c.starts_on),
        "ends_on": Column(availability_t.c.ends_on),
        "note": Column(availability_t.c.note),
    },
)
@strawberry.type(description="対応可能期間 / a period in which the expert can take sessions.")
class ExpertAvailability(Node):
    starts_on: date
    ends_on: date
    note: str | None


@sql_type(
    expert_t,
    key=expert_t.c.id,
    order_by=(expert_t.c.name, expert_t.c.id),
    fields={
        "name": Column(expert_t.c.name),
        "affiliation": Column(expert_t.c.affiliation),
        "main_job": Column(expert_t.c.main_job),
        "themes": Column(expert_t.c.themes),
        "skills": Column(expert_t.c.skills),
        "adviser_registrations": Column(expert_t.c.adviser_registrations),
        "contact": Column(expert_t.c.contact),
        "monthly_capacity": Column(expert_t.c.monthly_capacity),
        "version": Column(expert_t.c.version),
        "synthetic": Column(expert_t.c.synthetic),
        "availability": ToMany(
            "ExpertAvailability",
            expert_t.c.id,
            availability_t.c.expert_id,
            (availability_t.c.starts_on, availability_t.c.id),
        ),
        "assignments": ToMany(
            "DispatchAssignment",
            expert_t.c.id,
            assignment_t.c.expert_id,
            (assignment_t.c.starts_on, assignment_t.c.id),
        ),
        "sessions_by_month": ToMany(
            "ExpertMonth", expert_t.c.id, expert_month.c.expert_id, (expert_month.c.month,)
        ),
    },
)
@strawberry.type(
    description="デジタル専門人材 / a part-time digital expert dispatched to municipalities."
)
class Expert(Node):
    name: str
    affiliation: str | None = strawberry.field(description="所属 / the contractor or company.")
    main_job: str | None = strawberry.field(description="本業 / the expert's main job.")
    themes: list[str] = strawberry.field(description="対応テーマ / Themes the expert can support.")
    skills: list[str]
    adviser_registrations: list[str] = strawberry.field(
        description="National adviser registrations, e.g. 地域情報化アドバイザー."
    )
    contact: str | None = strawberry.field(
        description="連絡先; null where the viewer may not see it (docs/ACCESS.md)."
    )
    monthly_capacity: int | None = strawberry.field(
        description="月の対応可能面談数 / Sessions a month the expert can give; null where "
        "the viewer may not see it."
    )
    version: int = strawberry.field(
        description="バージョン / Increases with every change (optimistic lock)."
    )
    synthetic: bool = strawberry.field(
        description="デモデータ / True for demo data (dxlink seed --demo)."
    )

    @strawberry.field(description="対応可能期間 / Periods in which the expert can take sessions.")
    async def availability(self, info: Info) -> list[ExpertAvailability]:
        return await info.context.loaders.load_related(self, "availability")

    @strawberry.field(description="担当する派遣 / The expert's assignments the viewer may see.")
    async def assignments(self, info: Info) -> list[DispatchAssignment]:
        return await info.context.loaders.load_related(self, "assignments")

    @strawberry.field(
        description="月別の面談数 / Sessions by month against the target, as far as visible."
    )
    async def sessions_by_month(self, info: Info) -> list[ExpertMonth]:
        return await info.context.loaders.load_related(self, "sessions_by_month")


@sql_type(
    request_t,
    key=request_t.c.id,
    order_by=(request_t.c.created_at.desc(), request_t.c.id.desc()),
    fields={
        "theme": Column(request_t.c.theme),
        "goals": Column(request_t.c.goals),
        "required_profile": Column(request_t.c.required_profile),
        "status": Column(request_t.c.status),
        "created_at": Column(request_t.c.created_at),
        "version": Column(request_t.c.version),
        "synthetic": Column(request_t.c.synthetic),
        "programme": ToOne("DispatchProgramme", request_t.c.programme_id, programme_t.c.id),
        "municipality": ToOne("Municipality", request_t.c.municipality_id, municipality_t.c.id),
        "assignments": ToMany(
            "DispatchAssignment",
            request_t.c.id,
            assignment_t.c.request_id,
            (assignment_t.c.starts_on, assignment_t.c.id),
        ),
    },
)
@strawberry.type(description="派遣要望 / a municipality's request for an expert on one theme.")
class DispatchRequest(Node):
    theme: str = strawberry.field(description="テーマ / A theme of the programme's menu.")
    goals: str | None = strawberry.field(description="目標 / what the municipality wants to reach.")
    required_profile: str | None = strawberry.field(description="求める人材像 / the profile asked.")
    status: RequestStatus  # type: ignore[valid-type]
    created_at: datetime
    version: int = strawberry.field(
        description="バージョン / Increases with every change (optimistic lock)."
    )
    synthetic: bool = strawberry.field(
        description="デモデータ / True for demo data (dxlink seed --demo)."
    )

    @strawberry.field
    async def programme(self, info: Info) -> DispatchProgramme:
        return await info.context.loaders.load_related(self, "programme")

    @strawberry.field
    async def municipality(
        self, info: Info
    ) -> Annotated[Municipality, strawberry.lazy("schema.geography")]:
        return await info.context.loaders.load_related(self, "municipality")

    @strawberry.field(description="派遣 / Assignments that served the request, oldest first.")
    async def assignments(self, info: Info) -> list[DispatchAssignment]:
        return await info.context.loaders.load_related(self, "assignments")


@sql_type(
    assignment_t,
    key=assignment_t.c.id,
    order_by=(assignment_t.c.starts_on, assignment_t.c.id),
    fields={
        "theme": Column(assignment_t.c.theme),
        "starts_on": Column(assignment_t.c.starts_on),
        "ends_on": Column(assignment_t.c.ends_on),
        "status": Column(assignment_t.c.status),
        "ended_reason": Column(assignment_t.c.ended_reason),
        "version": Column(assignment_t.c.version),
        "synthetic": Column(assignment_t.c.synthetic),
        "expert": ToOne("Expert", assignment_t.c.expert_id, expert_t.c.id),
        "municipality": ToOne("Municipality", assignment_t.c.municipality_id, municipality_t.c.id),
        "request": ToOne("DispatchRequest", assignment_t.c.request_id, request_t.c.id),
        "programme": ToOne("DispatchProgramme", assignment_t.c.programme_id, programme_t.c.id),
        **{
            name: ToMany(
                "DispatchVisit",
                assignment_t.c.id,
                visit_t.c.assignment_id,
                (visit_t.c.starts_at, visit_t.c.id),
            )
            for name in ("sessions", "visits")
        },
        "sessions_by_month": ToMany(
            "AssignmentMonth",
            assignment_t.c.id,
            assignment_month.c.assignment_id,
            (assignment_month.c.month,),
        ),
    },
)
@strawberry.type(
    description="派遣 / an expert assigned to a municipality for a theme and a period."
)
class DispatchAssignment(Node):
    theme: str = strawberry.field(description="e.g. DX推進計画, 生成AI, 情報システム標準化.")
    starts_on: date
    ends_on: date
    status: AssignmentStatus  # type: ignore[valid-type]
    ended_reason: str | None
    version: int = strawberry.field(
        description="バージョン / Increases with every change (optimistic lock)."
    )
    synthetic: bool = strawberry.field(
        description="デモデータ / True for demo data (dxlink seed --demo)."
    )

    @strawberry.field(
        description="専門人材 / The expert; null where the viewer may not see the profile."
    )
    async def expert(self, info: Info) -> Expert | None:
        return await info.context.loaders.load_related(self, "expert")

    @strawberry.field
    async def municipality(
        self, info: Info
    ) -> Annotated[Municipality, strawberry.lazy("schema.geography")]:
        return await info.context.loaders.load_related(self, "municipality")

    @strawberry.field(
        description="派遣要望 / The request it serves; null where the viewer may not see it."
    )
    async def request(self, info: Info) -> DispatchRequest | None:
        return await info.context.loaders.load_related(self, "request")

    @strawberry.field(description="事業 / The programme whose rules it follows.")
    async def programme(self, info: Info) -> DispatchProgramme | None:
        return await info.context.loaders.load_related(self, "programme")

    @strawberry.field(
        description="面談 / the assignment's sessions in time order; `month` (`2026-07`, "
        "Japan's calendar) keeps those starting in that month."
    )
    async def sessions(self, info: Info, month: str | None = None) -> list[DispatchVisit]:
        sessions: list[DispatchVisit] = await info.context.loaders.load_related(self, "sessions")
        if month is None:
            return sessions
        first, following = month_bounds(month)
        return [s for s in sessions if starts_in_month(s.starts_at, first, following)]

    @strawberry.field(
        description="面談 / Sessions of the assignment in time order.",
        deprecation_reason="Use `sessions`, the name the mutations use.",
    )
    async def visits(self, info: Info) -> list[DispatchVisit]:
        return await info.context.loaders.load_related(self, "visits")

    @strawberry.field(
        description="月別の面談数 / Sessions by month against the programme's target and maximum."
    )
    async def sessions_by_month(self, info: Info) -> list[AssignmentMonth]:
        return await info.context.loaders.load_related(self, "sessions_by_month")


@sql_type(
    visit_t,
    key=visit_t.c.id,
    order_by=(visit_t.c.starts_at, visit_t.c.id),
    fields={
        "starts_at": Column(visit_t.c.starts_at),
        "ends_at": Column(visit_t.c.ends_at),
        "mode": Column(visit_t.c.mode),
        "status": Column(visit_t.c.status),
        "place": Column(visit_t.c.place),
        "theme": Column(visit_t.c.theme),
        "report": Column(visit_t.c.report),
        "next_steps": Column(visit_t.c.next_steps),
        "hours": Column(float_column(visit_t.c.hours)),
        "reported_at": Column(visit_t.c.reported_at),
        "confirmed_at": Column(visit_t.c.confirmed_at),
        "confirmed_by": Column(visit_t.c.confirmed_by),
        "cancelled_reason": Column(visit_t.c.cancelled_reason),
        "version": Column(visit_t.c.version),
        "synthetic": Column(visit_t.c.synthetic),
        "assignment": ToOne("DispatchAssignment", visit_t.c.assignment_id, assignment_t.c.id),
    },
)
@strawberry.type(description="面談 / one session of an expert with a municipality, and its report.")
class DispatchVisit(Node):
    starts_at: datetime
    ends_at: datetime
    mode: VisitMode  # type: ignore[valid-type]
    status: VisitStatus  # type: ignore[valid-type]
    place: str | None
    theme: str | None
    report: str | None = strawberry.field(
        description="面談報告 / The expert's report; null until written or where the viewer "
        "may not see it."
    )
    next_steps: str | None = strawberry.field(description="次回までの取組 / next steps.")
    hours: float | None = strawberry.field(description="従事時間 / Hours the expert spent.")
    reported_at: datetime | None
    confirmed_at: datetime | None = strawberry.field(
        description="確認日時 / When the municipality confirmed the report."
    )
    confirmed_by: str | None
    cancelled_reason: str | None
    version: int = strawberry.field(
        description="バージョン / Increases with every change (optimistic lock)."
    )
    synthetic: bool = strawberry.field(
        description="デモデータ / True for demo data (dxlink seed --demo)."
    )

    @strawberry.field
    async def assignment(self, info: Info) -> DispatchAssignment | None:
        return await info.context.loaders.load_related(self, "assignment")
