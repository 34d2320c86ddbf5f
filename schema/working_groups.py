"""GraphQL types of working groups (ワーキンググループ) under わかやまDX-GOALS: the goals and their
indicators, the groups, their members, advisers (experts or producers), meetings with attendance,
and outputs."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from sqlalchemy import Integer, case, cast, func, select
from sqlalchemy.dialects.postgresql import DOUBLE_PRECISION

from resolvers.context import Info
from schema.mapping import Column, ToMany, ToOne, sql_type
from schema.node import Node
from schema.scalars import float_column
from service.models import Expert as ExpertModel
from service.models import Municipality as MunicipalityModel
from service.models import Region as RegionModel
from service.models.working_group import DxGoal as DxGoalModel
from service.models.working_group import DxGoalIndicator as IndicatorModel
from service.models.working_group import MeetingMode as MeetingModeModel
from service.models.working_group import MembershipStatus as MembershipStatusModel
from service.models.working_group import OutputKind as OutputKindModel
from service.models.working_group import Producer as ProducerModel
from service.models.working_group import ProducerKind as ProducerKindModel
from service.models.working_group import WorkingGroup as WorkingGroupModel
from service.models.working_group import WorkingGroupAdviser as AdviserModel
from service.models.working_group import WorkingGroupAttendance as AttendanceModel
from service.models.working_group import WorkingGroupGoal as GoalLinkModel
from service.models.working_group import WorkingGroupKind as WorkingGroupKindModel
from service.models.working_group import WorkingGroupMeeting as MeetingModel
from service.models.working_group import WorkingGroupMembership as MembershipModel
from service.models.working_group import WorkingGroupOutput as OutputModel
from service.models.working_group import WorkingGroupStatus as WorkingGroupStatusModel
from service.pagination import check_page_size

if TYPE_CHECKING:
    from schema.dispatch import Expert
    from schema.geography import Municipality, Region

goal_t = DxGoalModel.__table__
indicator_t = IndicatorModel.__table__
producer_t = ProducerModel.__table__
wg_t = WorkingGroupModel.__table__
goal_link_t = GoalLinkModel.__table__
membership_t = MembershipModel.__table__
adviser_t = AdviserModel.__table__
meeting_t = MeetingModel.__table__
attendance_t = AttendanceModel.__table__
output_t = OutputModel.__table__
municipality_t = MunicipalityModel.__table__
region_t = RegionModel.__table__
expert_t = ExpertModel.__table__

WorkingGroupKind = strawberry.enum(
    WorkingGroupKindModel,
    name="WorkingGroupKind",
    description="WGの種類 / kind of working group: BUSINESS_CREATION 事業創出WG (business "
    "creation, led by the prefecture, e.g. joint procurement) or SELF_INITIATED 自主WG "
    "(self-initiated, started by municipalities or a regional office).",
)
WorkingGroupStatus = strawberry.enum(
    WorkingGroupStatusModel,
    name="WorkingGroupStatus",
    description="WGの状態 / state of a working group: PROPOSED 提案中, ACTIVE 活動中, "
    "CLOSED 終了 or DECLINED 不採択.",
)
MembershipStatus = strawberry.enum(
    MembershipStatusModel,
    name="MembershipStatus",
    description="参加の状態 / state of a membership: REQUESTED 申請中, ACTIVE 参加中, "
    "LEFT 脱退 or DECLINED 不承認.",
)
MeetingMode = strawberry.enum(
    MeetingModeModel,
    name="MeetingMode",
    description="開催方法 / how a meeting was held: ON_SITE 対面, ONLINE オンライン or "
    "HYBRID ハイブリッド.",
)
OutputKind = strawberry.enum(
    OutputKindModel,
    name="OutputKind",
    description="成果物の種類 / kind of output: DOCUMENT 資料, DECISION 決定事項, "
    "PROCUREMENT_SPEC 共同調達仕様書 or OTHER その他.",
)
ProducerKind = strawberry.enum(
    ProducerKindModel,
    name="ProducerKind",
    description="プロデューサーの種類 / GENERAL 総括プロデューサー (general producer) or "
    "SPECIALIST 専門プロデューサー (specialist producer).",
)

# Newest first: meetings and the order of a group's meetings(first:).
MEETING_ORDER = (meeting_t.c.held_on.desc(), meeting_t.c.id.desc())

# Members are the memberships in ACTIVE state: the relation's remote key is null for the others.
ACTIVE_MEMBER_GROUP = case(
    (membership_t.c.status == MembershipStatusModel.ACTIVE.name, membership_t.c.working_group_id)
)

# A group's active members, counted in SQL (under row-level security, on both executors).
MEMBER_COUNT = cast(
    select(func.count())
    .select_from(membership_t)
    .where(
        membership_t.c.working_group_id == wg_t.c.id,
        membership_t.c.status == MembershipStatusModel.ACTIVE.name,
    )
    .scalar_subquery(),
    Integer,
)

PROGRESS = float_column(
    case(
        (
            indicator_t.c.target > 0,
            cast(indicator_t.c.current, DOUBLE_PRECISION)
            / cast(indicator_t.c.target, DOUBLE_PRECISION),
        )
    )
)


@sql_type(
    indicator_t,
    key=indicator_t.c.id,
    order_by=(indicator_t.c.fiscal_year, indicator_t.c.position, indicator_t.c.id),
    fields={
        "name": Column(indicator_t.c.name),
        "unit": Column(indicator_t.c.unit),
        "fiscal_year": Column(indicator_t.c.fiscal_year),
        "target": Column(float_column(indicator_t.c.target)),
        "current": Column(float_column(indicator_t.c.current)),
        "progress": Column(PROGRESS),
        "synthetic": Column(indicator_t.c.synthetic),
        "goal": ToOne("DxGoal", indicator_t.c.goal_id, goal_t.c.id),
    },
)
@strawberry.type(
    description="指標 / an indicator of a DX-GOAL in one fiscal year: its target and current value."
)
class DxGoalIndicator(Node):
    name: str = strawberry.field(description="指標名 / Name of the indicator.")
    unit: str | None = strawberry.field(description="単位 / Unit, e.g. 団体 or %.")
    fiscal_year: int = strawberry.field(description="年度 / Fiscal year, e.g. 2026.")
    target: float | None = strawberry.field(description="目標値 / Target value.")
    current: float | None = strawberry.field(description="現在値 / Current value.")
    progress: float | None = strawberry.field(
        description="達成率 / current divided by target; null without a positive target or a "
        "current value."
    )
    synthetic: bool = strawberry.field(
        description="デモデータ / True for demo data (dxlink seed --demo)."
    )

    @strawberry.field(description="目標 / The goal the indicator measures.")
    async def goal(self, info: Info) -> DxGoal:
        return await info.context.loaders.load_related(self, "goal")


@sql_type(
    goal_t,
    key=goal_t.c.code,
    order_by=(goal_t.c.position, goal_t.c.code),
    fields={
        "code": Column(goal_t.c.code),
        "title": Column(goal_t.c.title),
        "description": Column(goal_t.c.description),
        "position": Column(goal_t.c.position),
        "synthetic": Column(goal_t.c.synthetic),
        "indicators": ToMany(
            "DxGoalIndicator",
            goal_t.c.id,
            indicator_t.c.goal_id,
            (indicator_t.c.fiscal_year, indicator_t.c.position, indicator_t.c.id),
        ),
        "working_groups": ToMany(
            "WorkingGroup",
            goal_t.c.id,
            goal_link_t.c.goal_id,
            (wg_t.c.slug,),
            through=(goal_link_t, goal_link_t.c.working_group_id == wg_t.c.id),
        ),
    },
)
@strawberry.type(
    description="わかやまDX-GOALS / one of the shared DX goals of the prefecture and its "
    "municipalities, identified by its code."
)
class DxGoal(Node):
    code: str = strawberry.field(description="目標コード / The goal's code, e.g. G1.")
    title: str = strawberry.field(description="目標 / Title of the goal.")
    description: str | None = strawberry.field(description="説明 / What the goal means.")
    position: int = strawberry.field(description="表示順 / Position in the list of goals.")
    synthetic: bool = strawberry.field(
        description="デモデータ / True for demo data (dxlink seed --demo)."
    )

    @strawberry.field(description="指標 / The goal's indicators, by fiscal year and position.")
    async def indicators(self, info: Info) -> list[DxGoalIndicator]:
        return await info.context.loaders.load_related(self, "indicators")

    @strawberry.field(
        description="ワーキンググループ / Working groups serving the goal, by slug, as far as "
        "visible."
    )
    async def working_groups(self, info: Info) -> list[WorkingGroup]:
        return await info.context.loaders.load_related(self, "working_groups")


@sql_type(
    producer_t,
    key=producer_t.c.id,
    order_by=(producer_t.c.kind, producer_t.c.name, producer_t.c.id),
    fields={
        "name": Column(producer_t.c.name),
        "kind": Column(producer_t.c.kind),
        "specialty": Column(producer_t.c.specialty),
        "affiliation": Column(producer_t.c.affiliation),
        "contact": Column(producer_t.c.contact),
        "synthetic": Column(producer_t.c.synthetic),
    },
)
@strawberry.type(
    description="プロデューサー / a producer of the programme (総括 or 専門), assigned to "
    "working groups as an adviser."
)
class Producer(Node):
    name: str = strawberry.field(description="氏名 / Name.")
    kind: ProducerKind  # type: ignore[valid-type]
    specialty: str | None = strawberry.field(description="専門分野 / Field of expertise.")
    affiliation: str | None = strawberry.field(description="所属 / Affiliation.")
    contact: str | None = strawberry.field(
        description="連絡先 / Contact; null where the viewer may not see it (docs/ACCESS.md)."
    )
    synthetic: bool = strawberry.field(
        description="デモデータ / True for demo data (dxlink seed --demo)."
    )


@sql_type(
    membership_t,
    key=membership_t.c.id,
    order_by=(membership_t.c.requested_at, membership_t.c.id),
    fields={
        "status": Column(membership_t.c.status),
        "contact_role": Column(membership_t.c.contact_role),
        "requested_at": Column(membership_t.c.requested_at),
        "decided_at": Column(membership_t.c.decided_at),
        "version": Column(membership_t.c.version),
        "synthetic": Column(membership_t.c.synthetic),
        "working_group": ToOne("WorkingGroup", membership_t.c.working_group_id, wg_t.c.id),
        "municipality": ToOne("Municipality", membership_t.c.municipality_id, municipality_t.c.id),
    },
)
@strawberry.type(description="WGへの参加 / a municipality's membership of a working group.")
class WorkingGroupMembership(Node):
    status: MembershipStatus  # type: ignore[valid-type]
    contact_role: str | None = strawberry.field(
        description="担当 / The member's contact role (a post, e.g. 情報政策課 主任), not a "
        "person's name."
    )
    requested_at: datetime = strawberry.field(description="申請日時 / When it was requested.")
    decided_at: datetime | None = strawberry.field(
        description="決定日時 / When it was accepted or declined."
    )
    version: int = strawberry.field(
        description="版 / Increases with every change (optimistic lock)."
    )
    synthetic: bool = strawberry.field(
        description="デモデータ / True for demo data (dxlink seed --demo)."
    )

    @strawberry.field(description="WG / The working group.")
    async def working_group(self, info: Info) -> WorkingGroup:
        return await info.context.loaders.load_related(self, "working_group")

    @strawberry.field(description="団体 / The member municipality.")
    async def municipality(
        self, info: Info
    ) -> Annotated[Municipality, strawberry.lazy("schema.geography")]:
        return await info.context.loaders.load_related(self, "municipality")


@sql_type(
    adviser_t,
    key=adviser_t.c.id,
    order_by=(adviser_t.c.id,),
    fields={
        "note": Column(adviser_t.c.note),
        "synthetic": Column(adviser_t.c.synthetic),
        "working_group": ToOne("WorkingGroup", adviser_t.c.working_group_id, wg_t.c.id),
        "expert": ToOne("Expert", adviser_t.c.expert_id, expert_t.c.id),
        "producer": ToOne("Producer", adviser_t.c.producer_id, producer_t.c.id),
    },
)
@strawberry.type(
    description="アドバイザー / an adviser of a working group: an expert or a producer (one of "
    "the two)."
)
class WorkingGroupAdviser(Node):
    note: str | None = strawberry.field(description="備考 / Note, e.g. the adviser's role.")
    synthetic: bool = strawberry.field(
        description="デモデータ / True for demo data (dxlink seed --demo)."
    )

    @strawberry.field(description="WG / The working group.")
    async def working_group(self, info: Info) -> WorkingGroup:
        return await info.context.loaders.load_related(self, "working_group")

    @strawberry.field(description="専門人材 / The expert; null when the adviser is a producer.")
    async def expert(
        self, info: Info
    ) -> Annotated[Expert, strawberry.lazy("schema.dispatch")] | None:
        return await info.context.loaders.load_related(self, "expert")

    @strawberry.field(description="プロデューサー / The producer; null when an expert.")
    async def producer(self, info: Info) -> Producer | None:
        return await info.context.loaders.load_related(self, "producer")


@sql_type(
    attendance_t,
    key=attendance_t.c.municipality_id,
    node=False,
    order_by=(attendance_t.c.municipality_id,),
    fields={
        "attendees": Column(attendance_t.c.attendees),
        "synthetic": Column(attendance_t.c.synthetic),
        "municipality": ToOne("Municipality", attendance_t.c.municipality_id, municipality_t.c.id),
    },
)
@strawberry.type(description="出席 / who of a municipality attended a meeting.")
class WorkingGroupAttendance:
    sql_row: strawberry.Private[Mapping[str, Any]]
    attendees: int = strawberry.field(description="出席者数 / Staff of the municipality present.")
    synthetic: bool = strawberry.field(
        description="デモデータ / True for demo data (dxlink seed --demo)."
    )

    @strawberry.field(description="団体 / The municipality.")
    async def municipality(
        self, info: Info
    ) -> Annotated[Municipality, strawberry.lazy("schema.geography")]:
        return await info.context.loaders.load_related(self, "municipality")


@sql_type(
    meeting_t,
    key=meeting_t.c.id,
    order_by=MEETING_ORDER,
    fields={
        "held_on": Column(meeting_t.c.held_on),
        "mode": Column(meeting_t.c.mode),
        "title": Column(meeting_t.c.title),
        "agenda": Column(meeting_t.c.agenda),
        "minutes": Column(meeting_t.c.minutes),
        "version": Column(meeting_t.c.version),
        "synthetic": Column(meeting_t.c.synthetic),
        "working_group": ToOne("WorkingGroup", meeting_t.c.working_group_id, wg_t.c.id),
        "attendance": ToMany(
            "WorkingGroupAttendance",
            meeting_t.c.id,
            attendance_t.c.meeting_id,
            (attendance_t.c.municipality_id,),
        ),
    },
)
@strawberry.type(description="会議 / a meeting of a working group.")
class WorkingGroupMeeting(Node):
    held_on: date = strawberry.field(description="開催日 / Date of the meeting.")
    mode: MeetingMode  # type: ignore[valid-type]
    title: str | None = strawberry.field(description="件名 / Title.")
    agenda: str | None = strawberry.field(description="議題 / Agenda.")
    minutes: str | None = strawberry.field(description="議事録 / Minutes.")
    version: int = strawberry.field(
        description="版 / Increases with every change (optimistic lock)."
    )
    synthetic: bool = strawberry.field(
        description="デモデータ / True for demo data (dxlink seed --demo)."
    )

    @strawberry.field(description="WG / The working group.")
    async def working_group(self, info: Info) -> WorkingGroup:
        return await info.context.loaders.load_related(self, "working_group")

    @strawberry.field(description="出席 / Attendance per municipality, by municipality.")
    async def attendance(self, info: Info) -> list[WorkingGroupAttendance]:
        return await info.context.loaders.load_related(self, "attendance")


@sql_type(
    output_t,
    key=output_t.c.id,
    order_by=(output_t.c.published_on.desc().nulls_last(), output_t.c.id.desc()),
    fields={
        "kind": Column(output_t.c.kind),
        "title": Column(output_t.c.title),
        "description": Column(output_t.c.description),
        "url": Column(output_t.c.url),
        "published": Column(output_t.c.published),
        "published_on": Column(output_t.c.published_on),
        "version": Column(output_t.c.version),
        "synthetic": Column(output_t.c.synthetic),
        "working_group": ToOne("WorkingGroup", output_t.c.working_group_id, wg_t.c.id),
    },
)
@strawberry.type(description="成果物 / a result of a working group: a document or a decision.")
class WorkingGroupOutput(Node):
    kind: OutputKind  # type: ignore[valid-type]
    title: str = strawberry.field(description="題名 / Title.")
    description: str | None = strawberry.field(description="概要 / Description.")
    url: str | None = strawberry.field(description="URL / Link to the document.")
    published: bool = strawberry.field(description="公開 / True when published.")
    published_on: date | None = strawberry.field(description="公開日 / Date of publication.")
    version: int = strawberry.field(
        description="版 / Increases with every change (optimistic lock)."
    )
    synthetic: bool = strawberry.field(
        description="デモデータ / True for demo data (dxlink seed --demo)."
    )

    @strawberry.field(description="WG / The working group.")
    async def working_group(self, info: Info) -> WorkingGroup:
        return await info.context.loaders.load_related(self, "working_group")


@sql_type(
    wg_t,
    key=wg_t.c.slug,
    order_by=(wg_t.c.slug,),
    fields={
        "slug": Column(wg_t.c.slug),
        "name": Column(wg_t.c.name),
        "kind": Column(wg_t.c.kind),
        "status": Column(wg_t.c.status),
        "theme": Column(wg_t.c.theme),
        "purpose": Column(wg_t.c.purpose),
        "expected_outputs": Column(wg_t.c.expected_outputs),
        "public_summary": Column(wg_t.c.public_summary),
        "led_by_prefecture": Column(wg_t.c.lead_prefecture),
        "fiscal_year": Column(wg_t.c.fiscal_year),
        "started_on": Column(wg_t.c.started_on),
        "closed_on": Column(wg_t.c.closed_on),
        "decided_at": Column(wg_t.c.decided_at),
        "decision_reason": Column(wg_t.c.decision_reason),
        # A secret: the lead municipality's staff and the prefecture read it (the function
        # reads the request's principal settings, so both executors agree).
        "webhook_url": Column(
            case((func.dxlink_webhook_url_visible(wg_t.c.lead_municipality_id), wg_t.c.webhook_url))
        ),
        "version": Column(wg_t.c.version),
        "synthetic": Column(wg_t.c.synthetic),
        "member_count": Column(MEMBER_COUNT),
        "lead_municipality": ToOne(
            "Municipality", wg_t.c.lead_municipality_id, municipality_t.c.id
        ),
        "region": ToOne("Region", wg_t.c.region_id, region_t.c.id),
        "proposed_by_municipality": ToOne(
            "Municipality", wg_t.c.proposed_by_municipality_id, municipality_t.c.id
        ),
        "proposed_by_region": ToOne("Region", wg_t.c.proposed_by_region_id, region_t.c.id),
        "goals": ToMany(
            "DxGoal",
            wg_t.c.id,
            goal_link_t.c.working_group_id,
            (goal_t.c.position, goal_t.c.code),
            through=(goal_link_t, goal_link_t.c.goal_id == goal_t.c.id),
        ),
        "members": ToMany(
            "WorkingGroupMembership",
            wg_t.c.id,
            ACTIVE_MEMBER_GROUP,
            (membership_t.c.municipality_id, membership_t.c.id),
        ),
        "memberships": ToMany(
            "WorkingGroupMembership",
            wg_t.c.id,
            membership_t.c.working_group_id,
            (membership_t.c.requested_at, membership_t.c.id),
        ),
        "advisers": ToMany(
            "WorkingGroupAdviser", wg_t.c.id, adviser_t.c.working_group_id, (adviser_t.c.id,)
        ),
        "meetings": ToMany("WorkingGroupMeeting", wg_t.c.id, meeting_t.c.working_group_id),
        "outputs": ToMany("WorkingGroupOutput", wg_t.c.id, output_t.c.working_group_id),
    },
)
@strawberry.type(
    description="ワーキンググループ / a working group under わかやまDX-GOALS: 事業創出WG "
    "(business creation) or 自主WG (self-initiated), identified by its slug."
)
class WorkingGroup(Node):
    slug: str = strawberry.field(description="識別子 / The group's slug, e.g. joint-procurement.")
    name: str = strawberry.field(description="名称 / Name of the group.")
    kind: WorkingGroupKind  # type: ignore[valid-type]
    status: WorkingGroupStatus  # type: ignore[valid-type]
    theme: str | None = strawberry.field(description="テーマ / Theme.")
    purpose: str | None = strawberry.field(description="目的 / Purpose.")
    expected_outputs: str | None = strawberry.field(description="想定成果物 / Expected outputs.")
    public_summary: str | None = strawberry.field(description="公開概要 / Public summary.")
    led_by_prefecture: bool = strawberry.field(
        description="県主導 / True when the prefecture leads the group (no lead municipality)."
    )
    fiscal_year: int | None = strawberry.field(description="年度 / Fiscal year it started in.")
    started_on: date | None = strawberry.field(description="開始日 / Start date.")
    closed_on: date | None = strawberry.field(description="終了日 / Closing date.")
    decided_at: datetime | None = strawberry.field(
        description="決定日時 / When the proposal was accepted or declined."
    )
    decision_reason: str | None = strawberry.field(description="決定理由 / Reason of the decision.")
    webhook_url: str | None = strawberry.field(
        description="Webhook URL / The chat's incoming webhook: a secret, null where the viewer "
        "may not see it (docs/ACCESS.md)."
    )
    version: int = strawberry.field(
        description="版 / Increases with every change (optimistic lock)."
    )
    synthetic: bool = strawberry.field(
        description="デモデータ / True for demo data (dxlink seed --demo)."
    )
    member_count: int = strawberry.field(
        description="参加団体数 / Active members, as far as visible."
    )

    @strawberry.field(
        description="幹事団体 / The lead municipality; null when the prefecture leads."
    )
    async def lead_municipality(
        self, info: Info
    ) -> Annotated[Municipality, strawberry.lazy("schema.geography")] | None:
        return await info.context.loaders.load_related(self, "lead_municipality")

    @strawberry.field(description="対象地域 / The region the group serves; null: prefecture-wide.")
    async def region(
        self, info: Info
    ) -> Annotated[Region, strawberry.lazy("schema.geography")] | None:
        return await info.context.loaders.load_related(self, "region")

    @strawberry.field(description="提案団体 / The municipality that proposed the group.")
    async def proposed_by_municipality(
        self, info: Info
    ) -> Annotated[Municipality, strawberry.lazy("schema.geography")] | None:
        return await info.context.loaders.load_related(self, "proposed_by_municipality")

    @strawberry.field(description="提案振興局 / The regional office that proposed the group.")
    async def proposed_by_region(
        self, info: Info
    ) -> Annotated[Region, strawberry.lazy("schema.geography")] | None:
        return await info.context.loaders.load_related(self, "proposed_by_region")

    @strawberry.field(description="目標 / The DX-GOALS the group serves, in the goals' order.")
    async def goals(self, info: Info) -> list[DxGoal]:
        return await info.context.loaders.load_related(self, "goals")

    @strawberry.field(description="参加団体 / Active memberships, by municipality.")
    async def members(self, info: Info) -> list[WorkingGroupMembership]:
        return await info.context.loaders.load_related(self, "members")

    @strawberry.field(
        description="参加申請 / Memberships in every state, oldest request first, as far as "
        "visible."
    )
    async def memberships(self, info: Info) -> list[WorkingGroupMembership]:
        return await info.context.loaders.load_related(self, "memberships")

    @strawberry.field(description="アドバイザー / Advisers: experts and producers.")
    async def advisers(self, info: Info) -> list[WorkingGroupAdviser]:
        return await info.context.loaders.load_related(self, "advisers")

    @strawberry.field(description="会議 / Meetings, newest first.")
    async def meetings(self, info: Info, first: int = 10) -> list[WorkingGroupMeeting]:
        size = check_page_size(first, default=10, maximum=info.context.settings.max_page_size)
        return await info.context.loaders.load_related(self, "meetings", size)

    @strawberry.field(description="成果物 / Outputs, newest first, as far as visible.")
    async def outputs(self, info: Info) -> list[WorkingGroupOutput]:
        return await info.context.loaders.load_related(self, "outputs")


@strawberry.type(
    description="地域別の参加状況 / Participation in one region (振興局): its municipalities, "
    "how many take part in an active working group (an active member or its lead) and how "
    "many lead one."
)
class RegionParticipation:
    region: Annotated[Region, strawberry.lazy("schema.geography")] = strawberry.field(
        description="地域 / The region."
    )
    municipalities: int = strawberry.field(description="団体数 / Municipalities in the region.")
    participating: int = strawberry.field(
        description="参加団体 / Municipalities in at least one active working group."
    )
    leading: int = strawberry.field(
        description="幹事団体 / Municipalities leading at least one active working group."
    )
    share: float | None = strawberry.field(
        description="参加率 / participating divided by municipalities (0 to 1)."
    )


@strawberry.type(
    description="WGへの参加状況 / Municipalities taking part in active working groups, "
    "prefecture-wide and per region, counted over what the viewer may read."
)
class ParticipationCoverage:
    municipalities: int = strawberry.field(description="団体数 / Municipalities in all.")
    participating: int = strawberry.field(
        description="参加団体 / Municipalities in at least one active working group (an active "
        "member or its lead)."
    )
    leading: int = strawberry.field(
        description="幹事団体 / Municipalities leading at least one active working group."
    )
    share: float | None = strawberry.field(
        description="参加率 / participating divided by municipalities (0 to 1)."
    )
    regions: list[RegionParticipation] = strawberry.field(
        description="地域別 / Per region, in the regions' order."
    )
