"""Mutations of working groups: thin, they read the input, call the domain service, and
answer with the objects as the caller may read them (`resolvers.dispatch._payload`)."""

from __future__ import annotations

import strawberry

from resolvers.context import Info
from resolvers.dispatch import _payload, node_key
from schema.mapping import sql_type_of
from schema.node import decode_global_id
from schema.working_groups import (
    WorkingGroup,
    WorkingGroupAdviser,
    WorkingGroupMeeting,
    WorkingGroupMembership,
    WorkingGroupOutput,
)
from schema.working_groups_writes import (
    AcceptMembershipInput,
    AddOutputInput,
    AssignWorkingGroupAdviserInput,
    CreateWorkingGroupInput,
    DecideMembershipInput,
    DecideWorkingGroupInput,
    ProposeWorkingGroupInput,
    RecordMeetingInput,
    RequestMembershipInput,
    UpdateWorkingGroupInput,
    WorkingGroupAdviserPayload,
    WorkingGroupMeetingPayload,
    WorkingGroupMembershipPayload,
    WorkingGroupOutputPayload,
    WorkingGroupPayload,
)
from service.errors import InvalidArgument
from service.models.working_group import WorkingGroupKind
from service.working_groups.writes import (
    Attendance,
    GroupDraft,
    GroupRef,
    MembershipDecision,
    WorkingGroupWriteService,
)

_UPDATABLE = ("theme", "purpose", "expected_outputs", "public_summary", "webhook_url")


def group_ref(value: str) -> GroupRef:
    """A group's global id (keyed by its slug), or else its slug; an id of another type names
    no group (not found)."""
    try:
        spec, key = decode_global_id(value, "input.workingGroup")
    except InvalidArgument:
        return GroupRef(slug=value)
    return GroupRef(slug=str(key)) if spec.name == "WorkingGroup" else GroupRef()


@strawberry.type
class WorkingGroupMutation:
    @strawberry.mutation(
        description="自主WGの提案 / a municipality or a regional office proposes a working group."
    )
    async def propose_working_group(
        self, info: Info, input: ProposeWorkingGroupInput
    ) -> WorkingGroupPayload:
        service = WorkingGroupWriteService(info.context.db)
        draft = GroupDraft(
            name=input.name,
            slug=input.slug,
            theme=input.theme,
            purpose=input.purpose,
            expected_outputs=input.expected_outputs,
            region=input.region,
            goals=input.goals,
            lead_municipality=input.lead_municipality,
            kind=WorkingGroupKind.SELF_INITIATED,
        )
        group, errors = await _payload(
            info, sql_type_of(WorkingGroup), lambda: service.propose(draft)
        )
        return WorkingGroupPayload(working_group=group, user_errors=errors)

    @strawberry.mutation(
        description="提案の判断 / the prefecture approves or declines a proposed working group."
    )
    async def decide_working_group(
        self, info: Info, input: DecideWorkingGroupInput
    ) -> WorkingGroupPayload:
        service = WorkingGroupWriteService(info.context.db)
        group, errors = await _payload(
            info,
            sql_type_of(WorkingGroup),
            lambda: service.decide(
                group_ref(input.working_group), input.version, input.decision, input.reason
            ),
        )
        return WorkingGroupPayload(working_group=group, user_errors=errors)

    @strawberry.mutation(description="WGの設置 / the prefecture starts a working group.")
    async def create_working_group(
        self, info: Info, input: CreateWorkingGroupInput
    ) -> WorkingGroupPayload:
        service = WorkingGroupWriteService(info.context.db)
        draft = GroupDraft(
            name=input.name,
            slug=input.slug,
            theme=input.theme,
            purpose=input.purpose,
            expected_outputs=input.expected_outputs,
            region=input.region,
            goals=input.goals,
            lead_municipality=input.lead,
            led_by_prefecture=input.led_by_prefecture,
            kind=input.kind,
        )
        group, errors = await _payload(
            info, sql_type_of(WorkingGroup), lambda: service.create(draft)
        )
        return WorkingGroupPayload(working_group=group, user_errors=errors)

    @strawberry.mutation(description="WGの更新 / edit a working group's description and webhook.")
    async def update_working_group(
        self, info: Info, input: UpdateWorkingGroupInput
    ) -> WorkingGroupPayload:
        service = WorkingGroupWriteService(info.context.db)
        changes = {
            name: getattr(input, name)
            for name in _UPDATABLE
            if getattr(input, name) is not strawberry.UNSET
        }
        group, errors = await _payload(
            info,
            sql_type_of(WorkingGroup),
            lambda: service.update(group_ref(input.working_group), input.version, changes),
        )
        return WorkingGroupPayload(working_group=group, user_errors=errors)

    @strawberry.mutation(
        description="アドバイザーの配置 / the prefecture assigns an expert or a producer to a "
        "working group."
    )
    async def assign_working_group_adviser(
        self, info: Info, input: AssignWorkingGroupAdviserInput
    ) -> WorkingGroupAdviserPayload:
        service = WorkingGroupWriteService(info.context.db)
        expert = node_key(input.expert, "Expert", "input.expert") if input.expert else None
        producer = (
            node_key(input.producer, "Producer", "input.producer") if input.producer else None
        )
        adviser, errors = await _payload(
            info,
            sql_type_of(WorkingGroupAdviser),
            lambda: service.assign_adviser(
                group_ref(input.working_group),
                expert,
                producer,
                input.note,
                expert_given=input.expert is not None,
                producer_given=input.producer is not None,
            ),
        )
        return WorkingGroupAdviserPayload(adviser=adviser, user_errors=errors)

    @strawberry.mutation(
        description="参加申請 / a municipality asks to join an active working group."
    )
    async def request_membership(
        self, info: Info, input: RequestMembershipInput
    ) -> WorkingGroupMembershipPayload:
        service = WorkingGroupWriteService(info.context.db)
        membership, errors = await _payload(
            info,
            sql_type_of(WorkingGroupMembership),
            lambda: service.request_membership(group_ref(input.working_group), input.contact_role),
        )
        return WorkingGroupMembershipPayload(membership=membership, user_errors=errors)

    @strawberry.mutation(
        description="参加申請の判断 / the group's lead or the prefecture accepts or declines a "
        "request to join."
    )
    async def decide_membership(
        self, info: Info, input: DecideMembershipInput
    ) -> WorkingGroupMembershipPayload:
        service = WorkingGroupWriteService(info.context.db)
        key = node_key(input.membership, "WorkingGroupMembership", "input.membership")
        membership, errors = await _payload(
            info,
            sql_type_of(WorkingGroupMembership),
            lambda: service.decide_membership(key, input.version, input.decision),
        )
        return WorkingGroupMembershipPayload(membership=membership, user_errors=errors)

    @strawberry.mutation(
        description="参加申請の承認 / the group's lead or the prefecture accepts a request to join."
    )
    async def accept_membership(
        self, info: Info, input: AcceptMembershipInput
    ) -> WorkingGroupMembershipPayload:
        service = WorkingGroupWriteService(info.context.db)
        key = node_key(input.membership, "WorkingGroupMembership", "input.membership")
        membership, errors = await _payload(
            info,
            sql_type_of(WorkingGroupMembership),
            lambda: service.decide_membership(
                key, input.version, MembershipDecision.ACCEPT, "acceptMembership"
            ),
        )
        return WorkingGroupMembershipPayload(membership=membership, user_errors=errors)

    @strawberry.mutation(description="会議の記録 / record a meeting of a working group.")
    async def record_meeting(
        self, info: Info, input: RecordMeetingInput
    ) -> WorkingGroupMeetingPayload:
        service = WorkingGroupWriteService(info.context.db)
        meeting, errors = await _payload(
            info,
            sql_type_of(WorkingGroupMeeting),
            lambda: service.record_meeting(
                group_ref(input.working_group),
                held_on=input.held_on,
                mode=input.mode,
                title=input.title,
                agenda=input.agenda,
                minutes=input.minutes,
                attendance=[Attendance(a.municipality, a.attendees) for a in input.attendance],
            ),
        )
        return WorkingGroupMeetingPayload(meeting=meeting, user_errors=errors)

    @strawberry.mutation(description="成果物の登録 / add an output of a working group.")
    async def add_output(self, info: Info, input: AddOutputInput) -> WorkingGroupOutputPayload:
        service = WorkingGroupWriteService(info.context.db)
        output, errors = await _payload(
            info,
            sql_type_of(WorkingGroupOutput),
            lambda: service.add_output(
                group_ref(input.working_group),
                kind=input.kind,
                title=input.title,
                description=input.description,
                url=input.url,
                published=input.published,
            ),
        )
        return WorkingGroupOutputPayload(output=output, user_errors=errors)
