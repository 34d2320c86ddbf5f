"""Queries and mutations of expert dispatch: thin, they read the input, call the domain
service, and answer with the objects as the caller may read them."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

import strawberry

from resolvers.context import Info
from schema.dispatch import (
    AssignmentStatus,
    DispatchAssignment,
    DispatchProgramme,
    DispatchRequest,
    DispatchVisit,
    Expert,
    RequestStatus,
)
from schema.dispatch_writes import (
    AssignExpertInput,
    AssignmentPayload,
    CancelSessionInput,
    ConfirmSessionReportInput,
    CreateDispatchProgrammeInput,
    CreateExpertInput,
    DispatchProgrammePayload,
    DispatchRequestPayload,
    EndAssignmentInput,
    ExpertPayload,
    FileDispatchRequestInput,
    PlanSessionInput,
    ReassignExpertInput,
    ReassignExpertPayload,
    RecordSessionReportInput,
    SessionPayload,
    UpdateDispatchProgrammeInput,
    UpdateExpertInput,
    WithdrawDispatchRequestInput,
)
from schema.errors import UserError, user_errors
from schema.mapping import SqlType, sql_type_of
from schema.node import decode_global_id
from schema.pagination import Connection
from service import reads
from service.dispatch.assignments import AssignmentService
from service.dispatch.profiles import UNSET, ExpertProfile, ProfileService, ProgrammeRules, Window
from service.dispatch.service import DispatchService
from service.dispatch.sessions import SessionService
from service.writes import UserErrors


def _service(info: Info) -> DispatchService:
    return DispatchService(info.context.db, info.context.settings)


def node_key(value: str, type_name: str, argument: str) -> Any:
    """The key of a global id of ``type_name``; None for an id of another type (not found).
    A malformed id is malformed input: a GraphQL error naming the argument."""
    spec, key = decode_global_id(value, argument)
    return key if spec.name == type_name else None


@strawberry.type
class DispatchQuery:
    @strawberry.field(description="事業 / the dispatch programmes, oldest first.")
    async def dispatch_programmes(self, info: Info) -> list[DispatchProgramme]:
        return await _service(info).programmes(sql_type_of(DispatchProgramme))

    @strawberry.field(
        description="年度の事業 / The programme of a fiscal year (default: the newest); "
        "null if none."
    )
    async def dispatch_programme(
        self, info: Info, fiscal_year: int | None = None
    ) -> DispatchProgramme | None:
        return await _service(info).programme(sql_type_of(DispatchProgramme), fiscal_year)

    @strawberry.field(description="専門人材 / experts the viewer may see, by name.")
    async def experts(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        theme: str | None = None,
    ) -> Connection[Expert]:
        page, count = await _service(info).experts(
            sql_type_of(Expert), first=first, after=after, theme=theme
        )
        return Connection.from_page(page, count)

    @strawberry.field(description="派遣要望 / requests the viewer may see, newest first.")
    async def dispatch_requests(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        municipality_code: str | None = None,
        status: RequestStatus | None = None,  # type: ignore[valid-type]
        fiscal_year: int | None = None,
    ) -> Connection[DispatchRequest]:
        page, count = await _service(info).requests(
            sql_type_of(DispatchRequest),
            first=first,
            after=after,
            municipality_code=municipality_code,
            status=status,
            fiscal_year=fiscal_year,
        )
        return Connection.from_page(page, count)

    @strawberry.field(
        description="派遣 / assignments the viewer may see, by start: of a municipality "
        "(code), an expert (id), a theme, a status, or running in a month (`2026-07`)."
    )
    async def assignments(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        municipality: str | None = None,
        expert: strawberry.ID | None = None,
        theme: str | None = None,
        status: AssignmentStatus | None = None,  # type: ignore[valid-type]
        month: str | None = None,
    ) -> Connection[DispatchAssignment]:
        expert_id = None if expert is None else node_key(expert, "Expert", "expert")
        page, count = await _service(info).assignments(
            sql_type_of(DispatchAssignment),
            first=first,
            after=after,
            municipality_code=municipality,
            expert_id=-1 if expert is not None and expert_id is None else expert_id,
            theme=theme,
            status=status,
            month=month,
        )
        return Connection.from_page(page, count)

    @strawberry.field(
        description="派遣 / Expert assignments the viewer may see, optionally of one municipality.",
        deprecation_reason="Use `assignments`, a connection with filters.",
    )
    async def dispatch_assignments(
        self, info: Info, municipality_code: str | None = None
    ) -> list[DispatchAssignment]:
        return await _service(info).assignment_list(
            sql_type_of(DispatchAssignment), municipality_code
        )


async def _payload(
    info: Info,
    spec: SqlType,
    write: Callable[[], Awaitable[int]],
) -> tuple[Any | None, list[UserError]]:
    """Run a write; read back what it changed as the caller may read it."""
    try:
        key = await write()
    except UserErrors as refused:
        return None, user_errors(refused.errors)
    return await reads.fetch_one(info.context.db, spec, [spec.table.c.id == key]), []


def _profile(data: Any) -> ExpertProfile:
    names = [
        "name",
        "affiliation",
        "main_job",
        "themes",
        "skills",
        "adviser_registrations",
        "contact",
        "monthly_capacity",
    ]
    given = {n: getattr(data, n) for n in names if getattr(data, n) is not strawberry.UNSET}
    profile = ExpertProfile(**given)
    if data.availability is not strawberry.UNSET:
        profile.availability = [
            Window(w.starts_on, w.ends_on, w.note) for w in data.availability or []
        ]
    return profile


def _rules(data: Any) -> ProgrammeRules:
    names = [f.name for f in dataclasses.fields(ProgrammeRules)]
    return ProgrammeRules(
        **{n: getattr(data, n) for n in names if getattr(data, n, UNSET) is not strawberry.UNSET}
    )


@strawberry.type
class DispatchMutation:
    @strawberry.mutation(description="専門人材の登録 / register an expert (coordinators).")
    async def create_expert(self, info: Info, input: CreateExpertInput) -> ExpertPayload:
        service = ProfileService(info.context.db)
        expert, errors = await _payload(
            info, sql_type_of(Expert), lambda: service.create_expert(_profile(input))
        )
        return ExpertPayload(expert=expert, user_errors=errors)

    @strawberry.mutation(description="専門人材の更新 / change an expert's profile.")
    async def update_expert(self, info: Info, input: UpdateExpertInput) -> ExpertPayload:
        service = ProfileService(info.context.db)
        key = node_key(input.id, "Expert", "input.id")
        expert, errors = await _payload(
            info,
            sql_type_of(Expert),
            lambda: service.update_expert(key, input.version, _profile(input)),
        )
        return ExpertPayload(expert=expert, user_errors=errors)

    @strawberry.mutation(description="事業の設定 / set up a fiscal year's programme.")
    async def create_dispatch_programme(
        self, info: Info, input: CreateDispatchProgrammeInput
    ) -> DispatchProgrammePayload:
        service = ProfileService(info.context.db)
        programme, errors = await _payload(
            info,
            sql_type_of(DispatchProgramme),
            lambda: service.create_programme(input.fiscal_year, _rules(input)),
        )
        return DispatchProgrammePayload(programme=programme, user_errors=errors)

    @strawberry.mutation(description="事業の変更 / change a programme's period, menu or rules.")
    async def update_dispatch_programme(
        self, info: Info, input: UpdateDispatchProgrammeInput
    ) -> DispatchProgrammePayload:
        service = ProfileService(info.context.db)
        programme, errors = await _payload(
            info,
            sql_type_of(DispatchProgramme),
            lambda: service.update_programme(input.fiscal_year, input.version, _rules(input)),
        )
        return DispatchProgrammePayload(programme=programme, user_errors=errors)

    @strawberry.mutation(description="派遣要望の提出 / a municipality asks for an expert.")
    async def file_dispatch_request(
        self, info: Info, input: FileDispatchRequestInput
    ) -> DispatchRequestPayload:
        service = ProfileService(info.context.db)
        request, errors = await _payload(
            info,
            sql_type_of(DispatchRequest),
            lambda: service.file_request(
                fiscal_year=input.fiscal_year,
                municipality_code=input.municipality_code,
                theme=input.theme,
                goals=input.goals,
                required_profile=input.required_profile,
            ),
        )
        return DispatchRequestPayload(request=request, user_errors=errors)

    @strawberry.mutation(description="派遣要望の取下げ / withdraw a request no expert serves.")
    async def withdraw_dispatch_request(
        self, info: Info, input: WithdrawDispatchRequestInput
    ) -> DispatchRequestPayload:
        service = ProfileService(info.context.db)
        key = node_key(input.id, "DispatchRequest", "input.id")
        request, errors = await _payload(
            info,
            sql_type_of(DispatchRequest),
            lambda: service.withdraw_request(key, input.version),
        )
        return DispatchRequestPayload(request=request, user_errors=errors)

    @strawberry.mutation(description="専門人材の割当 / assign an expert to a request.")
    async def assign_expert(self, info: Info, input: AssignExpertInput) -> AssignmentPayload:
        service = AssignmentService(info.context.db)
        assignment, errors = await _payload(
            info,
            sql_type_of(DispatchAssignment),
            lambda: _id(
                service.assign(
                    request_id=node_key(input.request_id, "DispatchRequest", "input.requestId"),
                    expert_id=node_key(input.expert_id, "Expert", "input.expertId"),
                    starts_on=input.starts_on,
                    ends_on=input.ends_on,
                )
            ),
        )
        return AssignmentPayload(assignment=assignment, user_errors=errors)

    @strawberry.mutation(description="担当変更 / another expert takes over an assignment.")
    async def reassign_expert(
        self, info: Info, input: ReassignExpertInput
    ) -> ReassignExpertPayload:
        service = AssignmentService(info.context.db)
        spec = sql_type_of(DispatchAssignment)
        try:
            done = await service.reassign(
                assignment_id=node_key(
                    input.assignment_id, "DispatchAssignment", "input.assignmentId"
                ),
                version=input.version,
                expert_id=node_key(input.expert_id, "Expert", "input.expertId"),
                from_on=input.from_on,
                reason=input.reason,
            )
        except UserErrors as refused:
            return ReassignExpertPayload(
                assignment=None, previous=None, user_errors=user_errors(refused.errors)
            )
        db = info.context.db
        return ReassignExpertPayload(
            assignment=await reads.fetch_one(db, spec, [spec.table.c.id == done.assignment_id]),
            previous=await reads.fetch_one(db, spec, [spec.table.c.id == done.previous_id]),
            user_errors=[],
        )

    @strawberry.mutation(description="派遣終了 / end an assignment, with a reason.")
    async def end_assignment(self, info: Info, input: EndAssignmentInput) -> AssignmentPayload:
        service = AssignmentService(info.context.db)
        assignment, errors = await _payload(
            info,
            sql_type_of(DispatchAssignment),
            lambda: _id(
                service.end(
                    assignment_id=node_key(
                        input.assignment_id, "DispatchAssignment", "input.assignmentId"
                    ),
                    version=input.version,
                    reason=input.reason,
                    ends_on=input.ends_on,
                )
            ),
        )
        return AssignmentPayload(assignment=assignment, user_errors=errors)

    @strawberry.mutation(description="面談の予定 / plan a session (coordinators, the expert).")
    async def plan_session(self, info: Info, input: PlanSessionInput) -> SessionPayload:
        service = SessionService(info.context.db)
        session, errors = await _payload(
            info,
            sql_type_of(DispatchVisit),
            lambda: service.plan(
                assignment_id=node_key(
                    input.assignment_id, "DispatchAssignment", "input.assignmentId"
                ),
                starts_at=input.starts_at,
                ends_at=input.ends_at,
                mode=input.mode,
                place=input.place,
                theme=input.theme,
            ),
        )
        return SessionPayload(session=session, user_errors=errors)

    @strawberry.mutation(description="面談報告 / the expert reports a session held.")
    async def record_session_report(
        self, info: Info, input: RecordSessionReportInput
    ) -> SessionPayload:
        service = SessionService(info.context.db)
        session, errors = await _payload(
            info,
            sql_type_of(DispatchVisit),
            lambda: service.report(
                session_id=node_key(input.session_id, "DispatchVisit", "input.sessionId"),
                version=input.version,
                report=input.report,
                next_steps=input.next_steps,
                hours=input.hours,
            ),
        )
        return SessionPayload(session=session, user_errors=errors)

    @strawberry.mutation(description="報告の確認 / the municipality confirms a report.")
    async def confirm_session_report(
        self, info: Info, input: ConfirmSessionReportInput
    ) -> SessionPayload:
        service = SessionService(info.context.db)
        session, errors = await _payload(
            info,
            sql_type_of(DispatchVisit),
            lambda: service.confirm(
                session_id=node_key(input.session_id, "DispatchVisit", "input.sessionId"),
                version=input.version,
            ),
        )
        return SessionPayload(session=session, user_errors=errors)

    @strawberry.mutation(description="面談の中止 / cancel a session not held.")
    async def cancel_session(self, info: Info, input: CancelSessionInput) -> SessionPayload:
        service = SessionService(info.context.db)
        session, errors = await _payload(
            info,
            sql_type_of(DispatchVisit),
            lambda: service.cancel(
                session_id=node_key(input.session_id, "DispatchVisit", "input.sessionId"),
                version=input.version,
                reason=input.reason,
            ),
        )
        return SessionPayload(session=session, user_errors=errors)


async def _id(assigned: Awaitable[Any]) -> int:
    return int((await assigned).assignment_id)
