"""Inputs and payloads of the working groups' mutations (ARCHITECTURE.md, "Writes")."""

from __future__ import annotations

from datetime import date

import strawberry

from schema.errors import UserError
from schema.working_groups import (
    MeetingMode,
    OutputKind,
    WorkingGroup,
    WorkingGroupAdviser,
    WorkingGroupKind,
    WorkingGroupMeeting,
    WorkingGroupMembership,
    WorkingGroupOutput,
)
from service.working_groups.writes import Decision as DecisionModel
from service.working_groups.writes import MembershipDecision as MembershipDecisionModel

WorkingGroupDecision = strawberry.enum(
    DecisionModel,
    name="WorkingGroupDecision",
    description="提案の判断 / the prefecture's decision on a proposed group: APPROVE 採択 (it "
    "starts today) or DECLINE 不採択 (with a reason).",
)
MembershipDecision = strawberry.enum(
    MembershipDecisionModel,
    name="MembershipDecision",
    description="参加申請の判断 / ACCEPT 承認 or DECLINE 不承認 of a request to join.",
)

_GROUP = "WG / The working group: its id or its slug."
_VERSION = "読み取った版 / The version read: a stale one is refused (STALE)."


@strawberry.input(
    description="自主WGの提案 / a municipality (its own, leading) or a regional office (for its "
    "region; led by one of its municipalities or the prefecture) proposes a self-initiated "
    "group; the prefecture decides (decideWorkingGroup)."
)
class ProposeWorkingGroupInput:
    name: str = strawberry.field(description="名称 / The group's name (up to 200 characters).")
    slug: str | None = strawberry.field(
        default=None,
        description="スラッグ / Lower-case letters, digits and '-' (default: wg-<id>).",
    )
    theme: str = strawberry.field(description="テーマ / What it works on.")
    purpose: str = strawberry.field(description="目的 / What it is for.")
    expected_outputs: str = strawberry.field(description="期待される成果 / Expected outputs.")
    region: str | None = strawberry.field(
        default=None,
        description="地域 / The region's code it serves (a regional office: its own, the "
        "default); none: prefecture-wide.",
    )
    goals: list[str] = strawberry.field(
        description="DX-GOALS / Codes of the goals it serves (at least one)."
    )
    lead_municipality: str | None = strawberry.field(
        default=None,
        description="幹事市町村 / The leading municipality's code (municipal staff: their own); "
        "left out by a regional office: the prefecture leads.",
    )


@strawberry.input(
    description="WGの設置 / the prefecture starts a group (a business-creation one by default), "
    "active at once."
)
class CreateWorkingGroupInput:
    name: str = strawberry.field(description="名称 / The group's name (up to 200 characters).")
    slug: str | None = strawberry.field(
        default=None,
        description="スラッグ / Lower-case letters, digits and '-' (default: wg-<id>).",
    )
    kind: WorkingGroupKind = strawberry.field(  # type: ignore[valid-type]
        default=WorkingGroupKind.BUSINESS_CREATION,  # type: ignore[attr-defined]
        description="種類 / BUSINESS_CREATION (default) or SELF_INITIATED.",
    )
    theme: str = strawberry.field(description="テーマ / What it works on.")
    purpose: str = strawberry.field(description="目的 / What it is for.")
    expected_outputs: str = strawberry.field(description="期待される成果 / Expected outputs.")
    region: str | None = strawberry.field(
        default=None, description="地域 / The region's code it serves; none: prefecture-wide."
    )
    goals: list[str] = strawberry.field(
        description="DX-GOALS / Codes of the goals it serves (at least one)."
    )
    lead: str | None = strawberry.field(
        default=None, description="幹事市町村 / The leading municipality's code."
    )
    led_by_prefecture: bool = strawberry.field(
        default=False, description="県が幹事 / The prefecture leads (instead of `lead`)."
    )


@strawberry.input(
    description="提案の判断 / the prefecture approves (the group starts today, in Japan) or "
    "declines (with a reason) a proposed group."
)
class DecideWorkingGroupInput:
    working_group: str = strawberry.field(description=_GROUP)
    version: int = strawberry.field(description=_VERSION)
    decision: WorkingGroupDecision  # type: ignore[valid-type]
    reason: str | None = strawberry.field(
        default=None, description="理由 / Why (required to decline; up to 2,000 characters)."
    )


@strawberry.input(
    description="WGの更新 / the lead municipality's staff or the prefecture edit what the group "
    "says of itself; fields left out stay as they are, null clears one (not the theme)."
)
class UpdateWorkingGroupInput:
    working_group: str = strawberry.field(description=_GROUP)
    version: int = strawberry.field(description=_VERSION)
    theme: str | None = strawberry.UNSET
    purpose: str | None = strawberry.UNSET
    expected_outputs: str | None = strawberry.UNSET
    public_summary: str | None = strawberry.UNSET
    webhook_url: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="チャット通知 / A Slack-compatible incoming-webhook URL (http or https, up "
        "to 2,000 characters).",
    )


@strawberry.type(description="WGの変更結果 / The working group after the change, or why not.")
class WorkingGroupPayload:
    working_group: WorkingGroup | None
    user_errors: list[UserError]


@strawberry.input(
    description="アドバイザーの配置 / the prefecture assigns an expert or a producer (one of "
    "them) to advise a group."
)
class AssignWorkingGroupAdviserInput:
    working_group: str = strawberry.field(description=_GROUP)
    expert: strawberry.ID | None = strawberry.field(default=None, description="The expert's id.")
    producer: strawberry.ID | None = strawberry.field(
        default=None, description="The producer's id."
    )
    note: str | None = strawberry.field(default=None, description="備考 / A note (up to 200).")


@strawberry.type(description="アドバイザーの配置結果 / The adviser, or why not.")
class WorkingGroupAdviserPayload:
    adviser: WorkingGroupAdviser | None
    user_errors: list[UserError]


@strawberry.input(
    description="参加申請 / a municipality's staff ask for their municipality to join an "
    "active group; its lead decides (decideMembership)."
)
class RequestMembershipInput:
    working_group: str = strawberry.field(description=_GROUP)
    contact_role: str | None = strawberry.field(
        default=None,
        description="窓口 / The member's contact role, a post (e.g. 情報政策課 主任), not a name.",
    )


@strawberry.input(
    description="参加申請の判断 / the group's lead (or the prefecture) accepts or declines a "
    "request to join."
)
class DecideMembershipInput:
    membership: strawberry.ID = strawberry.field(description="The membership's id.")
    version: int = strawberry.field(description=_VERSION)
    decision: MembershipDecision  # type: ignore[valid-type]


@strawberry.input(
    description="参加申請の承認 / the group's lead (or the prefecture) accepts a request to join "
    "(decideMembership with ACCEPT)."
)
class AcceptMembershipInput:
    membership: strawberry.ID = strawberry.field(description="The membership's id.")
    version: int = strawberry.field(description=_VERSION)


@strawberry.type(description="参加の変更結果 / The membership after the change, or why not.")
class WorkingGroupMembershipPayload:
    membership: WorkingGroupMembership | None
    user_errors: list[UserError]


@strawberry.input(description="出席 / how many of a member municipality's staff attended.")
class AttendanceInput:
    municipality: str = strawberry.field(description="The municipality's code (a member).")
    attendees: int = strawberry.field(description="出席者数 / 0 to 999.")


@strawberry.input(
    description="会議の記録 / an active member's staff (the lead's too) or the prefecture record "
    "a meeting of an active group, with the attendance of its member municipalities."
)
class RecordMeetingInput:
    working_group: str = strawberry.field(description=_GROUP)
    held_on: date = strawberry.field(description="開催日 / The day it was held.")
    mode: MeetingMode  # type: ignore[valid-type]
    title: str = strawberry.field(description="件名 / The meeting's title (up to 200).")
    agenda: str | None = None
    minutes: str | None = None
    attendance: list[AttendanceInput] = strawberry.field(
        default_factory=list, description="出席 / Attendance per member municipality."
    )


@strawberry.type(description="会議の記録結果 / The meeting recorded, or why not.")
class WorkingGroupMeetingPayload:
    meeting: WorkingGroupMeeting | None
    user_errors: list[UserError]


@strawberry.input(
    description="成果物の登録 / an active member's staff or the prefecture add an output of an "
    "active group."
)
class AddOutputInput:
    working_group: str = strawberry.field(description=_GROUP)
    kind: OutputKind  # type: ignore[valid-type]
    title: str = strawberry.field(description="題名 / The output's title (up to 200).")
    description: str | None = None
    url: str | None = strawberry.field(
        default=None, description="リンク / An http(s) URL (up to 2,000 characters)."
    )
    published: bool = strawberry.field(
        default=False, description="公開 / Published (today, in Japan)."
    )


@strawberry.type(description="成果物の登録結果 / The output, or why not.")
class WorkingGroupOutputPayload:
    output: WorkingGroupOutput | None
    user_errors: list[UserError]
