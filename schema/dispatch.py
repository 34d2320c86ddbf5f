"""GraphQL types of expert dispatch: experts, assignments and visits (read side)."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from resolvers.context import Info
from schema.mapping import Column, ToMany, ToOne, sql_type
from schema.node import Node
from service.models import DispatchAssignment as AssignmentModel
from service.models import DispatchVisit as VisitModel
from service.models import Expert as ExpertModel
from service.models import Municipality as MunicipalityModel
from service.models.dispatch import AssignmentStatus as AssignmentStatusModel
from service.models.dispatch import VisitMode as VisitModeModel
from service.models.dispatch import VisitStatus as VisitStatusModel

if TYPE_CHECKING:
    from schema.geography import Municipality

expert_t = ExpertModel.__table__
assignment_t = AssignmentModel.__table__
visit_t = VisitModel.__table__
municipality_t = MunicipalityModel.__table__

AssignmentStatus = strawberry.enum(AssignmentStatusModel, name="AssignmentStatus")
VisitMode = strawberry.enum(VisitModeModel, name="VisitMode", description="ON_SITE or ONLINE.")
VisitStatus = strawberry.enum(VisitStatusModel, name="VisitStatus")


@sql_type(
    expert_t,
    key=expert_t.c.id,
    fields={
        "name": Column(expert_t.c.name),
        "affiliation": Column(expert_t.c.affiliation),
        "main_job": Column(expert_t.c.main_job),
        "themes": Column(expert_t.c.themes),
        "monthly_capacity": Column(expert_t.c.monthly_capacity),
        "assignments": ToMany(
            "DispatchAssignment",
            expert_t.c.id,
            assignment_t.c.expert_id,
            (assignment_t.c.starts_on, assignment_t.c.id),
        ),
    },
)
@strawberry.type(description="A part-time digital expert dispatched to municipalities.")
class Expert(Node):
    name: str
    affiliation: str | None
    main_job: str | None
    themes: list[str] = strawberry.field(description="Themes the expert can support.")
    monthly_capacity: int | None = strawberry.field(
        description="Sessions a month the expert can give; null where the viewer may not see it."
    )

    @strawberry.field(description="The expert's assignments the viewer may see.")
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
        "expert": ToOne("Expert", assignment_t.c.expert_id, expert_t.c.id),
        "municipality": ToOne("Municipality", assignment_t.c.municipality_id, municipality_t.c.id),
        "visits": ToMany(
            "DispatchVisit",
            assignment_t.c.id,
            visit_t.c.assignment_id,
            (visit_t.c.starts_at, visit_t.c.id),
        ),
    },
)
@strawberry.type(description="An expert assigned to a municipality for a theme and a period.")
class DispatchAssignment(Node):
    theme: str = strawberry.field(description="e.g. DX推進計画, 生成AI, 情報システム標準化.")
    starts_on: date
    ends_on: date
    status: AssignmentStatus  # type: ignore[valid-type]
    ended_reason: str | None

    @strawberry.field(description="The expert; null where the viewer may not see the profile.")
    async def expert(self, info: Info) -> Expert | None:
        return await info.context.loaders.load_related(self, "expert")

    @strawberry.field
    async def municipality(
        self, info: Info
    ) -> Annotated[Municipality, strawberry.lazy("schema.geography")]:
        return await info.context.loaders.load_related(self, "municipality")

    @strawberry.field(description="Sessions of the assignment in time order.")
    async def visits(self, info: Info) -> list[DispatchVisit]:
        return await info.context.loaders.load_related(self, "visits")


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
        "assignment": ToOne("DispatchAssignment", visit_t.c.assignment_id, assignment_t.c.id),
    },
)
@strawberry.type(description="One session of an expert with a municipality, and its report.")
class DispatchVisit(Node):
    starts_at: datetime
    ends_at: datetime
    mode: VisitMode  # type: ignore[valid-type]
    status: VisitStatus  # type: ignore[valid-type]
    place: str | None
    theme: str | None
    report: str | None = strawberry.field(
        description="The expert's report; null until written or where the viewer may not see it."
    )

    @strawberry.field
    async def assignment(self, info: Info) -> DispatchAssignment | None:
        return await info.context.loaders.load_related(self, "assignment")
