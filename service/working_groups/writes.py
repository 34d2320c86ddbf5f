"""Working groups' writes (ARCHITECTURE.md, "Writes"): proposing, deciding and creating a
group, editing it, advisers, memberships, meetings with attendance, outputs.

Each mutation is one `Write`: it reads what its rules need as the principal (a group the
principal may not read is not found), asks the policy (``auth/policy.py``), checks its rules,
writes through `WorkingGroupRepository`; PostgreSQL's write policies and column guard judge
every row again. Writes that judge a group's members (deciding a membership, recording a
meeting's attendance) take the group's advisory lock and read the members after it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any

from sqlalchemy import func

from auth.policy import Action, Scope
from auth.principal import Role
from service.database import RequestSession
from service.models.working_group import (
    MeetingMode,
    MembershipStatus,
    OutputKind,
    WorkingGroupKind,
    WorkingGroupStatus,
)
from service.open_data.fields import is_http_url
from service.working_groups import webhooks
from service.working_groups.repository import (
    WorkingGroupRepository,
    adviser_t,
    attendance_t,
    group_goal_t,
    group_t,
    meeting_t,
    membership_t,
    output_t,
)
from service.writes import Code, Write, refusals, says_nothing

LIMITS = {
    "name": 200,
    "slug": 80,
    "theme": 200,
    "title": 200,
    "note": 200,
    "contact_role": 200,
    "url": 2000,
    "webhook_url": 2000,
    "purpose": 4000,
    "expected_outputs": 4000,
    "public_summary": 4000,
    "reason": 2000,
    "agenda": 20000,
    "minutes": 50000,
    "description": 20000,
}
_SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")

refusals(
    {
        "uq_working_group_slug": (
            ("input", "slug"),
            Code.CONFLICT,
            "another working group has this slug",
        ),
        "uq_working_group_membership_working_group_id_municipality_id": (
            ("input", "workingGroup"),
            Code.CONFLICT,
            "the municipality has asked to join or is a member already",
        ),
        "uq_working_group_adviser_working_group_id_expert_id": (
            ("input", "expert"),
            Code.CONFLICT,
            "the expert advises the group already",
        ),
        "uq_working_group_adviser_working_group_id_producer_id": (
            ("input", "producer"),
            Code.CONFLICT,
            "the producer advises the group already",
        ),
    }
)


class Decision(Enum):
    APPROVE = "approve"
    DECLINE = "decline"


class MembershipDecision(Enum):
    ACCEPT = "accept"
    DECLINE = "decline"


@dataclass(frozen=True)
class GroupRef:
    """A working group named by its id (``key``) or its ``slug``."""

    key: int | None = None
    slug: str | None = None


@dataclass(frozen=True)
class GroupDraft:
    name: str
    theme: str | None
    purpose: str | None
    expected_outputs: str | None
    goals: list[str]
    slug: str | None = None
    region: str | None = None
    lead_municipality: str | None = None
    led_by_prefecture: bool = False
    kind: WorkingGroupKind = WorkingGroupKind.BUSINESS_CREATION


@dataclass(frozen=True)
class Attendance:
    municipality: str
    attendees: int


def field(name: str, *rest: str) -> tuple[str, ...]:
    head, *tail = name.split("_")
    return ("input", head + "".join(part.title() for part in tail), *rest)


def fiscal_year(day: date) -> int:
    """Japan's fiscal year: April to March."""
    return day.year if day.month >= 4 else day.year - 1


class WorkingGroupWriteService:
    def __init__(self, db: RequestSession) -> None:
        self.db = db
        self.repository = WorkingGroupRepository(db)

    # --- checks --------------------------------------------------------------------------

    @staticmethod
    def _text(write: Write, name: str, value: str | None, *, required: str | None = None) -> Any:
        cleaned = value.strip() if value is not None else None
        if cleaned is not None and len(cleaned) > LIMITS[name]:
            write.error(field(name), Code.TOO_LONG, f"at most {LIMITS[name]} characters")
        if required is not None and (cleaned is None or says_nothing(cleaned)):
            write.error(field(name), Code.REQUIRED, required)
        return cleaned or None

    @staticmethod
    def _url(write: Write, name: str, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if len(value) > LIMITS[name]:
            write.error(field(name), Code.TOO_LONG, f"at most {LIMITS[name]} characters")
        elif not is_http_url(value):
            write.error(field(name), Code.INVALID_URL, "an http:// or https:// URL with a host")
        return value

    async def _group(self, write: Write, ref: GroupRef) -> Any:
        group = await self.repository.group(ref.key, ref.slug.strip() if ref.slug else None)
        if group is None:
            write.fail(("input", "workingGroup"), Code.NOT_FOUND, "no such working group")
        return group

    @staticmethod
    def _scope(group: Any, members: frozenset[int] = frozenset()) -> Scope:
        """Where a group's row (and its parts) belong: its lead, region and members."""
        return Scope(
            municipality_id=group.lead_municipality_id,
            region_id=group.region_id,
            working_group_id=group.id,
            working_group_lead_id=group.lead_municipality_id,
            working_group_members=members,
        )

    async def _goals(self, write: Write, codes: list[str]) -> list[int]:
        cleaned = [c.strip() for c in codes]
        if not cleaned:
            write.error(field("goals"), Code.REQUIRED, "name at least one of わかやまDX-GOALS")
            return []
        known = await self.repository.goals(cleaned)
        seen: set[str] = set()
        for i, code in enumerate(cleaned):
            if code not in known:
                write.error(field("goals", str(i)), Code.NOT_FOUND, f"no goal {code}")
            elif code in seen:
                write.error(field("goals", str(i)), Code.CONFLICT, f"{code} is named twice")
            seen.add(code)
        return [known[c] for c in dict.fromkeys(cleaned) if c in known]

    def _draft(self, write: Write, draft: GroupDraft) -> dict[str, Any]:
        values = {
            "name": self._text(write, "name", draft.name, required="name the working group"),
            "theme": self._text(write, "theme", draft.theme, required="say what it works on"),
            "purpose": self._text(write, "purpose", draft.purpose, required="say what it is for"),
            "expected_outputs": self._text(
                write,
                "expected_outputs",
                draft.expected_outputs,
                required="say what it is expected to produce",
            ),
        }
        if draft.slug is not None:
            slug = draft.slug.strip()
            if len(slug) > LIMITS["slug"]:
                write.error(field("slug"), Code.TOO_LONG, f"at most {LIMITS['slug']} characters")
            elif not _SLUG.fullmatch(slug):
                write.error(
                    field("slug"),
                    Code.INVALID,
                    "lower-case letters, digits and '-', starting and ending with a letter or "
                    "digit",
                )
            values["slug"] = slug
        return values

    async def _insert_group(
        self, values: dict[str, Any], goal_ids: list[int], lead: int | None
    ) -> int:
        """Insert the group with its goals and its lead's membership (ACTIVE). Its id comes
        from the sequence and nothing is read back: a proposer may not read the row before its
        membership exists."""
        key = await self.repository.next_group_id()
        values.setdefault("slug", f"wg-{key}")
        await self.repository.insert_rows(group_t, [{"id": key, **values}])
        await self.repository.insert_rows(
            group_goal_t, [{"working_group_id": key, "goal_id": g} for g in goal_ids]
        )
        if lead is not None:
            await self.repository.insert_rows(
                membership_t,
                [
                    {
                        "working_group_id": key,
                        "municipality_id": lead,
                        "status": MembershipStatus.ACTIVE,
                        "requested_by": self.db.principal.subject,
                        "decided_at": None,
                        "decided_by": self.db.principal.subject,
                    }
                ],
            )
        return key

    async def _region(self, write: Write, code: str | None) -> int | None:
        if code is None or not code.strip():
            return None
        region = await self.repository.region_id(code.strip())
        if region is None:
            write.error(
                field("region"), Code.NOT_FOUND, f"no region {code} (its name or short name)"
            )
        return region

    # --- groups ----------------------------------------------------------------------------

    async def propose(self, draft: GroupDraft) -> int:
        """A municipality (its own, leading) or a regional office (for its region) proposes a
        self-initiated group; the prefecture decides."""
        async with Write(self.db, "proposeWorkingGroup") as write:
            principal = self.db.principal
            values = self._draft(write, draft)
            goal_ids = await self._goals(write, draft.goals)
            region_id = await self._region(write, draft.region)
            lead = None
            if draft.lead_municipality is not None and draft.lead_municipality.strip():
                lead = await self.repository.municipality(draft.lead_municipality.strip())
                if lead is None:
                    write.fail(
                        field("lead_municipality"),
                        Code.NOT_FOUND,
                        f"no municipality {draft.lead_municipality}",
                    )
            elif principal.role is not Role.regional_office:
                write.fail(
                    field("lead_municipality"), Code.REQUIRED, "name the municipality leading it"
                )
            if principal.role is Role.regional_office:
                # Its own region, and a lead of that region (or the prefecture).
                if region_id is not None and region_id != principal.region_id:
                    write.error(
                        field("region"), Code.FORBIDDEN, "a regional office proposes for its region"
                    )
                if lead is not None and lead.region_id != principal.region_id:
                    write.error(
                        field("lead_municipality"),
                        Code.FORBIDDEN,
                        "the lead is a municipality of the office's region, or the prefecture",
                    )
                write.check()
                region_id = principal.region_id
            write.authorize(
                "WorkingGroup",
                Action.INSERT,
                Scope(municipality_id=lead.id if lead is not None else None, region_id=region_id),
                field("lead_municipality"),
            )
            write.check()
            today = await self.repository.today()
            values.update(
                kind=WorkingGroupKind.SELF_INITIATED,
                status=WorkingGroupStatus.PROPOSED,
                lead_municipality_id=lead.id if lead is not None else None,
                lead_prefecture=lead is None,
                region_id=region_id,
                fiscal_year=fiscal_year(today),
                proposed_by=principal.subject,
                proposed_by_municipality_id=(
                    principal.municipality_id if principal.role is Role.municipal_staff else None
                ),
                proposed_by_region_id=(
                    principal.region_id if principal.role is Role.regional_office else None
                ),
            )
            return await self._insert_group(values, goal_ids, lead.id if lead else None)

    async def decide(
        self, ref: GroupRef, version: int, decision: Decision, reason: str | None
    ) -> int:
        async with Write(self.db, "decideWorkingGroup") as write:
            group = await self._group(write, ref)
            write.authorize(
                "WorkingGroup", Action.UPDATE, self._scope(group), ("input", "workingGroup")
            )
            if group.status is not WorkingGroupStatus.PROPOSED:
                write.error(
                    ("input", "workingGroup"),
                    Code.NOT_PROPOSED,
                    f"the working group is {group.status.name}",
                )
            cleaned = self._text(
                write,
                "reason",
                reason,
                required="say why the proposal is declined"
                if decision is Decision.DECLINE
                else None,
            )
            write.check()
            today = await self.repository.today()
            values: dict[str, Any] = {
                "decided_at": _now(),
                "decided_by": self.db.principal.subject,
                "decision_reason": cleaned,
            }
            if decision is Decision.APPROVE:
                values.update(status=WorkingGroupStatus.ACTIVE, started_on=today)
            else:
                values.update(status=WorkingGroupStatus.DECLINED)
            await self.repository.update(
                group_t, group.id, values, version=version, field=("input", "workingGroup")
            )
            return int(group.id)

    async def create(self, draft: GroupDraft) -> int:
        """The prefecture starts a group (a business-creation one by default), active at once."""
        async with Write(self.db, "createWorkingGroup") as write:
            values = self._draft(write, draft)
            goal_ids = await self._goals(write, draft.goals)
            region_id = await self._region(write, draft.region)
            lead = None
            code = (draft.lead_municipality or "").strip()
            if code and draft.led_by_prefecture:
                write.error(
                    field("lead_municipality"),
                    Code.CONFLICT,
                    "a municipality or the prefecture leads, not both",
                )
            elif code:
                lead = await self.repository.municipality(code)
                if lead is None:
                    write.error(
                        field("lead_municipality"), Code.NOT_FOUND, f"no municipality {code}"
                    )
            elif not draft.led_by_prefecture:
                write.error(
                    field("lead_municipality"),
                    Code.REQUIRED,
                    "name the municipality leading it, or ledByPrefecture",
                )
            write.authorize(
                "WorkingGroup",
                Action.INSERT,
                Scope(municipality_id=lead.id if lead is not None else None, region_id=region_id),
            )
            write.check()
            today = await self.repository.today()
            values.update(
                kind=draft.kind,
                status=WorkingGroupStatus.ACTIVE,
                lead_municipality_id=lead.id if lead is not None else None,
                lead_prefecture=lead is None,
                region_id=region_id,
                fiscal_year=fiscal_year(today),
                started_on=today,
                decided_at=_now(),
                decided_by=self.db.principal.subject,
            )
            return await self._insert_group(values, goal_ids, lead.id if lead else None)

    async def update(self, ref: GroupRef, version: int, changes: dict[str, str | None]) -> int:
        """Edit what the group says of itself, and its chat webhook (``changes``: only the
        fields given; None clears one)."""
        async with Write(self.db, "updateWorkingGroup") as write:
            group = await self._group(write, ref)
            write.authorize(
                "WorkingGroup", Action.UPDATE, self._scope(group), ("input", "workingGroup")
            )
            if group.status in (WorkingGroupStatus.CLOSED, WorkingGroupStatus.DECLINED):
                write.fail(
                    ("input", "workingGroup"),
                    Code.GROUP_NOT_OPEN,
                    f"the working group is {group.status.name}",
                )
            values: dict[str, Any] = {}
            for name, value in changes.items():
                if name == "webhook_url":
                    values[name] = self._url(write, name, value)
                elif name == "theme":
                    values[name] = self._text(write, name, value, required="say what it works on")
                else:
                    values[name] = self._text(write, name, value)
            write.check()
            await self.repository.update(
                group_t, group.id, values, version=version, field=("input", "workingGroup")
            )
            return int(group.id)

    async def assign_adviser(
        self,
        ref: GroupRef,
        expert: int | None,
        producer: int | None,
        note: str | None,
        *,
        expert_given: bool,
        producer_given: bool,
    ) -> int:
        """``expert``/``producer``: the keys of the ids given (None: an id of another type)."""
        async with Write(self.db, "assignWorkingGroupAdviser") as write:
            group = await self._group(write, ref)
            write.authorize(
                "WorkingGroupAdviser", Action.INSERT, self._scope(group), ("input", "workingGroup")
            )
            if expert_given == producer_given:
                write.fail(("input",), Code.INVALID, "name an expert or a producer, one of them")
            if expert_given and await self.repository.expert(expert) is None:
                write.error(("input", "expert"), Code.NOT_FOUND, "no such expert")
            if producer_given and await self.repository.producer(producer) is None:
                write.error(("input", "producer"), Code.NOT_FOUND, "no such producer")
            cleaned = self._text(write, "note", note)
            write.check()
            if await self.repository.adviser_of(group.id, expert, producer):
                which = "expert" if expert is not None else "producer"
                write.fail(
                    ("input", which), Code.CONFLICT, f"the {which} advises the group already"
                )
            return await self.repository.insert(
                adviser_t,
                {
                    "working_group_id": group.id,
                    "expert_id": expert,
                    "producer_id": producer,
                    "note": cleaned,
                },
            )

    # --- members -----------------------------------------------------------------------------

    async def request_membership(self, ref: GroupRef, contact_role: str | None) -> int:
        """A municipality's staff asks for their municipality to join an active group."""
        async with Write(self.db, "requestMembership") as write:
            group = await self._group(write, ref)
            municipality = self.db.principal.municipality_id
            write.authorize(
                "WorkingGroupMembership",
                Action.INSERT,
                Scope(
                    municipality_id=municipality,
                    region_id=group.region_id,
                    working_group_id=group.id,
                    working_group_lead_id=group.lead_municipality_id,
                ),
                ("input", "workingGroup"),
            )
            if group.status is not WorkingGroupStatus.ACTIVE:
                write.error(
                    ("input", "workingGroup"),
                    Code.GROUP_NOT_OPEN,
                    f"the working group is {group.status.name}",
                )
            cleaned = self._text(write, "contact_role", contact_role)
            write.check()
            existing = await self.repository.membership_of(group.id, municipality)
            if existing is not None:
                write.fail(
                    ("input", "workingGroup"),
                    Code.CONFLICT,
                    f"the municipality's membership is {existing.status.name} already",
                )
            return await self.repository.insert(
                membership_t,
                {
                    "working_group_id": group.id,
                    "municipality_id": municipality,
                    "status": MembershipStatus.REQUESTED,
                    "contact_role": cleaned,
                    "requested_by": self.db.principal.subject,
                },
            )

    async def decide_membership(
        self,
        key: int | None,
        version: int,
        decision: MembershipDecision,
        operation: str = "decideMembership",
    ) -> int:
        """The group's lead (or the prefecture) accepts or declines a request to join
        (``acceptMembership``: accepts, under its own name)."""
        async with Write(self.db, operation) as write:
            membership = await self.repository.membership(key)
            if membership is None:
                write.fail(("input", "membership"), Code.NOT_FOUND, "no such membership")
            group = await self.repository.group(membership.working_group_id, None)
            if group is None:
                write.fail(("input", "membership"), Code.NOT_FOUND, "no such membership")
            write.authorize(
                "WorkingGroupMembership",
                Action.UPDATE,
                self._scope(group),
                ("input", "membership"),
            )
            await self.repository.lock(group.id)
            if membership.status is not MembershipStatus.REQUESTED:
                write.error(
                    ("input", "membership"),
                    Code.NOT_REQUESTED,
                    f"the membership is {membership.status.name}",
                )
            if group.status is not WorkingGroupStatus.ACTIVE:
                write.error(
                    ("input", "membership"),
                    Code.GROUP_NOT_OPEN,
                    f"the working group is {group.status.name}",
                )
            write.check()
            status = (
                MembershipStatus.ACTIVE
                if decision is MembershipDecision.ACCEPT
                else MembershipStatus.DECLINED
            )
            await self.repository.update(
                membership_t,
                membership.id,
                {"status": status, "decided_at": _now(), "decided_by": self.db.principal.subject},
                version=version,
                field=("input", "membership"),
            )
            await self._notify(
                group.id,
                "membership_decided",
                f"{group.name}: 参加申請 {status.name.lower()} / membership {status.name}",
            )
            return int(membership.id)

    # --- meetings and outputs ----------------------------------------------------------------

    async def record_meeting(
        self,
        ref: GroupRef,
        *,
        held_on: date,
        mode: MeetingMode,
        title: str | None,
        agenda: str | None,
        minutes: str | None,
        attendance: list[Attendance],
    ) -> int:
        async with Write(self.db, "recordMeeting") as write:
            group = await self._group(write, ref)
            await self.repository.lock(group.id)
            members = frozenset(await self.repository.active_members(group.id))
            write.authorize(
                "WorkingGroupMeeting",
                Action.INSERT,
                self._scope(group, members),
                ("input", "workingGroup"),
            )
            if group.status is not WorkingGroupStatus.ACTIVE:
                write.fail(
                    ("input", "workingGroup"),
                    Code.GROUP_NOT_OPEN,
                    f"the working group is {group.status.name}",
                )
            values = {
                "title": self._text(write, "title", title, required="give the meeting a title"),
                "agenda": self._text(write, "agenda", agenda),
                "minutes": self._text(write, "minutes", minutes),
            }
            codes = await self.repository.municipality_ids([a.municipality for a in attendance])
            seen: set[int] = set()
            rows = []
            for i, entry in enumerate(attendance):
                at = ("input", "attendance", str(i))
                municipality = codes.get(entry.municipality)
                if municipality is None:
                    write.error(
                        (*at, "municipality"),
                        Code.NOT_FOUND,
                        f"no municipality {entry.municipality}",
                    )
                elif municipality not in members:
                    write.error(
                        (*at, "municipality"),
                        Code.NOT_A_MEMBER,
                        f"{entry.municipality} is not a member of the working group",
                    )
                elif municipality in seen:
                    write.error((*at, "municipality"), Code.CONFLICT, "named twice")
                if not 0 <= entry.attendees <= 999:
                    write.error((*at, "attendees"), Code.INVALID, "0 to 999 attendees")
                if municipality is not None:
                    seen.add(municipality)
                    rows.append({"municipality_id": municipality, "attendees": entry.attendees})
            write.check()
            meeting = await self.repository.insert(
                meeting_t,
                {
                    "working_group_id": group.id,
                    "held_on": held_on,
                    "mode": mode,
                    "recorded_by": self.db.principal.subject,
                    **values,
                },
            )
            await self.repository.insert_rows(
                attendance_t, [{"meeting_id": meeting, **row} for row in rows]
            )
            await self._notify(
                group.id,
                "meeting_recorded",
                f"{group.name}: 会議記録 {held_on.isoformat()} {values['title']}",
            )
            return meeting

    async def add_output(
        self,
        ref: GroupRef,
        *,
        kind: OutputKind,
        title: str,
        description: str | None,
        url: str | None,
        published: bool,
    ) -> int:
        async with Write(self.db, "addOutput") as write:
            group = await self._group(write, ref)
            members = frozenset(await self.repository.active_members(group.id))
            write.authorize(
                "WorkingGroupOutput",
                Action.INSERT,
                self._scope(group, members),
                ("input", "workingGroup"),
            )
            if group.status is not WorkingGroupStatus.ACTIVE:
                write.error(
                    ("input", "workingGroup"),
                    Code.GROUP_NOT_OPEN,
                    f"the working group is {group.status.name}",
                )
            values = {
                "title": self._text(write, "title", title, required="give the output a title"),
                "description": self._text(write, "description", description),
                "url": self._url(write, "url", url),
            }
            write.check()
            today = await self.repository.today()
            output = await self.repository.insert(
                output_t,
                {
                    "working_group_id": group.id,
                    "kind": kind,
                    "published": published,
                    "published_on": today if published else None,
                    "created_by": self.db.principal.subject,
                    **values,
                },
            )
            await self._notify(group.id, "output_added", f"{group.name}: 成果物 {values['title']}")
            return output

    async def _notify(self, working_group_id: int, event: str, text: str) -> None:
        """Queue the group's chat message in this transaction (the webhook's outbox: sent after
        commit, nothing for a rolled-back mutation)."""
        await webhooks.enqueue(await self.db.orm(), working_group_id, event, text)


def _now() -> Any:
    return func.now()
