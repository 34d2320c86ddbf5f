"""Inputs and payloads of the dispatch mutations (ARCHITECTURE.md, "Writes")."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from schema.dispatch import (
    DispatchAssignment,
    DispatchProgramme,
    DispatchRequest,
    DispatchVisit,
    Expert,
    VisitMode,
)
from schema.errors import UserError


@strawberry.input(description="対応可能期間 / a period in which the expert can take sessions.")
class AvailabilityInput:
    starts_on: date
    ends_on: date
    note: str | None = None


@strawberry.input(description="専門人材の登録 / a new expert's profile.")
class CreateExpertInput:
    name: str
    affiliation: str | None = None
    main_job: str | None = None
    themes: list[str] = strawberry.field(default_factory=list)
    skills: list[str] = strawberry.field(default_factory=list)
    adviser_registrations: list[str] = strawberry.field(default_factory=list)
    contact: str | None = None
    monthly_capacity: int = strawberry.field(
        default=4, description="月の対応可能面談数 / Sessions a month the expert can give."
    )
    availability: list[AvailabilityInput] = strawberry.field(default_factory=list)


@strawberry.input(
    description="専門人材の更新 / changes to an expert's profile; fields left out stay as they "
    "are. `availability`, when given, replaces every window."
)
class UpdateExpertInput:
    id: strawberry.ID
    version: int = strawberry.field(
        description="読み取ったバージョン / The version read: a stale one is refused."
    )
    name: str | None = strawberry.UNSET
    affiliation: str | None = strawberry.UNSET
    main_job: str | None = strawberry.UNSET
    themes: list[str] | None = strawberry.UNSET
    skills: list[str] | None = strawberry.UNSET
    adviser_registrations: list[str] | None = strawberry.UNSET
    contact: str | None = strawberry.UNSET
    monthly_capacity: int | None = strawberry.UNSET
    availability: list[AvailabilityInput] | None = strawberry.UNSET


@strawberry.type(
    description="専門人材の変更結果 / The expert after the change, or why nothing changed."
)
class ExpertPayload:
    expert: Expert | None
    user_errors: list[UserError]


@strawberry.input(
    description="事業の設定 / a fiscal year's programme; by default June to February, 4 "
    "sessions a month aimed at, 6 at most, the first on site, reports confirmed."
)
class CreateDispatchProgrammeInput:
    fiscal_year: int
    name: str | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    themes: list[str] = strawberry.field(default_factory=list)
    sessions_per_month_target: int | None = None
    sessions_per_month_max: int | None = None
    first_session_on_site: bool | None = None
    confirmation_required: bool | None = None


@strawberry.input(
    description="事業の変更 / Changes to a programme; fields left out stay as they are."
)
class UpdateDispatchProgrammeInput:
    fiscal_year: int
    version: int = strawberry.field(
        description="読み取ったバージョン / The version read: a stale one is refused."
    )
    name: str | None = strawberry.UNSET
    starts_on: date | None = strawberry.UNSET
    ends_on: date | None = strawberry.UNSET
    themes: list[str] | None = strawberry.UNSET
    sessions_per_month_target: int | None = strawberry.UNSET
    sessions_per_month_max: int | None = strawberry.UNSET
    first_session_on_site: bool | None = strawberry.UNSET
    confirmation_required: bool | None = strawberry.UNSET


@strawberry.type(
    description="事業の変更結果 / The programme after the change, or why nothing changed."
)
class DispatchProgrammePayload:
    programme: DispatchProgramme | None
    user_errors: list[UserError]


@strawberry.input(
    description="派遣要望 / a municipality asks for an expert on a theme of the programme's menu."
)
class FileDispatchRequestInput:
    fiscal_year: int
    theme: str
    municipality_code: str | None = strawberry.field(
        default=None, description="市町村コード / Default: the caller's own municipality."
    )
    goals: str | None = None
    required_profile: str | None = None


@strawberry.input(
    description="派遣要望の取下げ / A municipality withdraws a request no expert serves."
)
class WithdrawDispatchRequestInput:
    id: strawberry.ID
    version: int


@strawberry.type(
    description="派遣要望の変更結果 / The request after the change, or why nothing changed."
)
class DispatchRequestPayload:
    request: DispatchRequest | None
    user_errors: list[UserError]


@strawberry.input(
    description="専門人材の割当 / assign an expert to an open request. The period defaults to "
    "the rest of the programme."
)
class AssignExpertInput:
    request_id: strawberry.ID
    expert_id: strawberry.ID
    starts_on: date | None = None
    ends_on: date | None = None


@strawberry.input(
    description="担当変更 / another expert takes over an assignment from `fromOn` (default "
    "today); the current one ends the day before."
)
class ReassignExpertInput:
    assignment_id: strawberry.ID
    version: int
    expert_id: strawberry.ID
    from_on: date | None = None
    reason: str | None = None


@strawberry.input(description="派遣終了 / end an assignment (default today), with a reason.")
class EndAssignmentInput:
    assignment_id: strawberry.ID
    version: int
    reason: str
    ends_on: date | None = None


@strawberry.type(
    description="派遣の変更結果 / The assignment after the change, or why nothing changed."
)
class AssignmentPayload:
    assignment: DispatchAssignment | None
    user_errors: list[UserError]


@strawberry.type(description="担当変更の結果 / The new assignment and the one it replaces.")
class ReassignExpertPayload:
    assignment: DispatchAssignment | None
    previous: DispatchAssignment | None
    user_errors: list[UserError]


@strawberry.input(description="面談の予定 / plan a session of an assignment.")
class PlanSessionInput:
    assignment_id: strawberry.ID
    starts_at: datetime = strawberry.field(description="開始日時 / ISO 8601 with a time zone.")
    ends_at: datetime
    mode: VisitMode  # type: ignore[valid-type]
    place: str | None = strawberry.field(default=None, description="場所 / Needed on site.")
    theme: str | None = None


@strawberry.input(description="面談報告 / the expert's report of a session held.")
class RecordSessionReportInput:
    session_id: strawberry.ID
    version: int
    report: str
    next_steps: str | None = None
    hours: float | None = None


@strawberry.input(description="報告の確認 / the municipality confirms a session's report.")
class ConfirmSessionReportInput:
    session_id: strawberry.ID
    version: int


@strawberry.input(description="面談の中止 / cancel a session not held, with a reason.")
class CancelSessionInput:
    session_id: strawberry.ID
    version: int
    reason: str


@strawberry.type(
    description="面談の変更結果 / The session after the change, or why nothing changed."
)
class SessionPayload:
    session: DispatchVisit | None
    user_errors: list[UserError]
