"""The access policy, as data: role x entity -> which rows, and which fields are hidden.

This table is the one statement of who sees what. It is enforced twice:
- in the query layer: `row_condition` and `hidden_fields` are applied by `service.reads` to every
  select of a declared type (lists, `node(id:)`, DataLoader batches), so a resolver cannot forget;
- in PostgreSQL: row-level security policies on the scoped tables (migrations
  ``b7c1d2e3f4a5_row_level_security``), calling one STABLE function per rule.
`docs/ACCESS.md` is generated from it (`python -m auth.access_doc`), and tests/auth/ runs every
cell of it as every role, with and without the query layer.

Rows a principal may not see are simply absent (a list omits them, `node(id:)` and lookups
return null), so an error never reveals whether a forbidden row exists. Hidden fields resolve to
null. Writes arrive with the mutations of later features; each adds its operation here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    and_,
    case,
    cast,
    false,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY

from auth.principal import Principal, Role
from service.models import (
    AssessmentAnswer,
    AssessmentResponse,
    Dataset,
    DatasetPublisher,
    DispatchAssignment,
    DispatchRequest,
    DispatchVisit,
    Distribution,
    Expert,
    ExpertAvailability,
    Municipality,
    Producer,
    TierAssignment,
    WorkingGroup,
    WorkingGroupAdviser,
    WorkingGroupAttendance,
    WorkingGroupMeeting,
    WorkingGroupMembership,
    WorkingGroupOutput,
)
from service.models.dispatch import AssignmentStatus
from service.models.open_data import DatasetStatus
from service.models.views import score as score_v
from service.models.views import score_point as score_point_v
from service.models.views import section_score as section_score_v
from service.models.working_group import MembershipStatus, WorkingGroupStatus

# Tests switch this off to show that row-level security alone still hides the rows.
QUERY_LAYER = True


class Rows(Enum):
    """Which rows of an entity a role reads."""

    ALL = "all rows"
    NONE = "no rows"
    OWN_MUNICIPALITY = "rows of the principal's own municipality"
    REGION = "rows of the municipalities in the principal's region"
    ASSIGNED_NOW = "rows of municipalities the expert is assigned to now (active, in period)"
    OWN_EXPERT = "rows of the principal's own expert profile or assignments"
    ASSIGNED_TO_OWN_MUNICIPALITY = "experts who are or were assigned to the own municipality"
    ASSIGNED_IN_REGION = "experts who are or were assigned in the principal's region"
    PUBLISHED = "published rows"
    PUBLISHED_OR_OWN = "published rows, and drafts the principal's municipality publishes"
    OWN_DATASET = "rows of datasets the principal's municipality publishes (or created)"
    OWN_PRODUCER = "rows of the principal's own producer profile"
    WG_VISIBLE = (
        "rows of working groups the principal sees: public groups (active or closed), plus "
        "proposals the principal's municipality (or, for a regional office, region) made, plus "
        "groups the principal takes part in (WG_PARTICIPANT)"
    )
    WG_PARTICIPANT = (
        "rows of working groups whose active member or lead is the principal's municipality, "
        "or that the principal's expert or producer advises"
    )
    WG_PUBLISHED = (
        "published rows of working groups the principal sees (WG_VISIBLE), and every row of "
        "groups it takes part in (WG_PARTICIPANT)"
    )
    WG_ACTIVE_OR_OWN = (
        "active memberships of working groups the principal sees (WG_VISIBLE), plus the "
        "principal's municipality's own memberships and every membership of the groups it leads"
    )
    # Write rules only (judged on the row's working group, `Scope.working_group_id`).
    WG_MEMBER = "rows of working groups the principal's municipality is an active member or lead of"
    WG_LEAD = "rows of working groups the principal's municipality leads"


class Action(Enum):
    """What an operation does to the entity's table."""

    INSERT = "insert"
    UPDATE = "update"
    DELETE = "delete"


@dataclass(frozen=True)
class Write:
    """Who may do one operation (a mutation) to rows of an entity.

    ``rows`` says, role by role, which rows (`Rows.ALL`, `Rows.OWN_MUNICIPALITY`,
    `Rows.OWN_EXPERT`, `Rows.OWN_DATASET`, `Rows.WG_MEMBER` or `Rows.WG_LEAD`, judged on the
    row's scope: its municipality, its expert, the municipalities publishing its dataset, its
    working group's lead and active members); an update may
    change ``columns`` only (``version`` and ``updated_at`` always change with it). PostgreSQL
    enforces the same (migration f7a8b9c0d1e2): the service names its operation in the
    transaction-local setting ``dxlink.operation``, the write policies check the role and the
    row, and a trigger checks the columns.
    """

    actions: frozenset[Action]
    rows: dict[Role, Rows]
    columns: frozenset[str] = frozenset()


@dataclass(frozen=True)
class EntityPolicy:
    """Access to one GraphQL type; ``municipality``/``expert`` locate a row's scope."""

    description: str
    read: dict[Role, Rows]
    hidden: dict[Role, frozenset[str]] = field(default_factory=dict)
    # Operation (mutation) name -> who may do it to which rows.
    writes: dict[str, Write] = field(default_factory=dict)
    municipality: ColumnElement[Any] | None = None
    expert: ColumnElement[Any] | None = None
    published: ColumnElement[bool] | None = None
    # Whether a given municipality publishes the row (a correlated EXISTS).
    published_by: Callable[[int | None], ColumnElement[bool]] | None = None
    # The row's working group (its id), for the WG_* rules; ``producer`` its producer.
    working_group: ColumnElement[Any] | None = None
    producer: ColumnElement[Any] | None = None
    # Tables without a GraphQL type of their own written under this entity's rules (an
    # answer's chosen options): their write policies judge the row as the entity's.
    also_writes: tuple[str, ...] = ()


def _everyone() -> dict[Role, Rows]:
    return dict.fromkeys(Role, Rows.ALL)


def _roles(**rules: Rows) -> dict[Role, Rows]:
    table = dict.fromkeys(Role, Rows.NONE)
    table.update({Role(name): rule for name, rule in rules.items()})
    return table


tier_t = TierAssignment.__table__
response_t = AssessmentResponse.__table__
expert_t = Expert.__table__
availability_t = ExpertAvailability.__table__
request_t = DispatchRequest.__table__
assignment_t = DispatchAssignment.__table__
visit_t = DispatchVisit.__table__
municipality_t = Municipality.__table__

_visit_municipality = (
    select(assignment_t.c.municipality_id)
    .where(assignment_t.c.id == visit_t.c.assignment_id)
    .scalar_subquery()
)
_visit_expert = (
    select(assignment_t.c.expert_id)
    .where(assignment_t.c.id == visit_t.c.assignment_id)
    .scalar_subquery()
)

_answer_municipality = (
    select(response_t.c.municipality_id)
    .where(response_t.c.id == AssessmentAnswer.__table__.c.response_id)
    .scalar_subquery()
)

dataset_t = Dataset.__table__
distribution_t = Distribution.__table__
publisher_t = DatasetPublisher.__table__


def _published_by(dataset_id: ColumnElement[Any]) -> Callable[[int | None], ColumnElement[bool]]:
    def condition(municipality_id: int | None) -> ColumnElement[bool]:
        # An alias of its own: the outer select may join dataset_publisher itself.
        publisher = publisher_t.alias("policy_publisher")
        return (
            select(publisher.c.municipality_id)
            .where(
                publisher.c.dataset_id == dataset_id,
                publisher.c.municipality_id == municipality_id,
            )
            .correlate_except(publisher)
            .exists()
        )

    return condition


# Assessment answers (raw): the municipality, the prefecture, experts assigned to it now.
_ANSWERS = _roles(
    prefecture_admin=Rows.ALL,
    municipal_staff=Rows.OWN_MUNICIPALITY,
    expert=Rows.ASSIGNED_NOW,
)

# Scoring rubrics: the prefecture's staff, who score, and the municipalities' staff, who are
# scored (experts, offices and the public read tiers, not how they are computed).
_RUBRIC_READERS = _roles(prefecture_admin=Rows.ALL, municipal_staff=Rows.ALL)
# Scores: where both the response and the rubric are readable.
_SCORES = _roles(prefecture_admin=Rows.ALL, municipal_staff=Rows.OWN_MUNICIPALITY)
_PREFECTURE = _roles(prefecture_admin=Rows.ALL)

# Writes of responses: a municipality's staff answer for their own municipality, the prefecture
# for any; only the prefecture reopens a submitted response.
_RESPONDENTS = _roles(prefecture_admin=Rows.ALL, municipal_staff=Rows.OWN_MUNICIPALITY)

# Assignments and their visits: the prefecture's staff, the region's office, the
# municipality and the assigned expert.
_FILE = _roles(
    prefecture_admin=Rows.ALL,
    dispatch_coordinator=Rows.ALL,
    municipal_staff=Rows.OWN_MUNICIPALITY,
)

_DISPATCH = _roles(
    prefecture_admin=Rows.ALL,
    dispatch_coordinator=Rows.ALL,
    regional_office=Rows.REGION,
    municipal_staff=Rows.OWN_MUNICIPALITY,
    expert=Rows.OWN_EXPERT,
)

# Writes of dispatch: coordinators (and the prefecture) run it; experts plan and report their own
# sessions; a municipality files its requests and confirms its reports.
_COORDINATORS = _roles(prefecture_admin=Rows.ALL, dispatch_coordinator=Rows.ALL)


def _coordinators(*actions: Action, columns: tuple[str, ...] = ()) -> Write:
    return Write(frozenset(actions), _COORDINATORS, frozenset(columns))


_PLAN = _roles(prefecture_admin=Rows.ALL, dispatch_coordinator=Rows.ALL, expert=Rows.OWN_EXPERT)

# Datasets and their distributions: the public catalog, plus drafts for their publishers.
_CATALOG = {
    **dict.fromkeys(Role, Rows.PUBLISHED),
    Role.prefecture_admin: Rows.ALL,
    Role.municipal_staff: Rows.PUBLISHED_OR_OWN,
}

# Writes of the catalog: a municipality's staff write their own datasets (the prefecture any);
# each publisher approves for itself; the prefecture alone unpublishes.
_OWN_DATASETS = _roles(prefecture_admin=Rows.ALL, municipal_staff=Rows.OWN_DATASET)
_OWN_APPROVAL = _roles(prefecture_admin=Rows.ALL, municipal_staff=Rows.OWN_MUNICIPALITY)
_DATASET_FIELDS = (
    *("title", "description", "keywords", "themes", "license", "update_frequency"),
    *("issued_on", "modified_on", "contact_name", "contact_email", "contact_url"),
    *("landing_page", "spatial", "standard_dataset_id", "status", "published_at"),
)
_APPROVAL = ("approved_version", "approved_at", "approved_by")

wg_t = WorkingGroup.__table__
membership_t = WorkingGroupMembership.__table__
adviser_t = WorkingGroupAdviser.__table__
meeting_t = WorkingGroupMeeting.__table__
attendance_t = WorkingGroupAttendance.__table__
output_t = WorkingGroupOutput.__table__
producer_t = Producer.__table__

_attendance_working_group = (
    select(meeting_t.c.working_group_id)
    .where(meeting_t.c.id == attendance_t.c.meeting_id)
    # Explicitly: the attendance row is two levels up (inside the rules' EXISTS).
    .correlate(attendance_t)
    .scalar_subquery()
)

# Working groups: the public groups for everyone, proposals for their proposers, the rest of a
# group's file (meetings, attendance, advisers, drafts) for those who take part in it, and the
# prefecture, which runs the programme, everything.
_WG_PARTICIPANTS = _roles(
    prefecture_admin=Rows.ALL,
    municipal_staff=Rows.WG_PARTICIPANT,
    expert=Rows.WG_PARTICIPANT,
    producer=Rows.WG_PARTICIPANT,
)


def _wg_everyone(rule: Rows) -> dict[Role, Rows]:
    return {**dict.fromkeys(Role, rule), Role.prefecture_admin: Rows.ALL}


# The chat webhook is a secret of the lead and the prefecture (see `webhook_url_visible`).
_WEBHOOK_HIDDEN = {
    role: frozenset({"webhook_url"})
    for role in (
        Role.public,
        Role.expert,
        Role.producer,
        Role.dispatch_coordinator,
        Role.regional_office,
    )
}

# The working groups' scoped types (tests/working_groups/test_access.py runs their rules).
WORKING_GROUP_TYPES = (
    "Producer",
    "WorkingGroup",
    "WorkingGroupMembership",
    "WorkingGroupAdviser",
    "WorkingGroupMeeting",
    "WorkingGroupAttendance",
    "WorkingGroupOutput",
)

# Reference data every role reads in full.
PUBLIC_TYPES = (
    "Prefecture",
    "Region",
    "Municipality",
    "AssessmentFramework",
    "AssessmentSection",
    "AssessmentQuestion",
    "AssessmentOption",
    "AssessmentRound",
    "Tier",
    "PublishedStatistic",
    "StandardDataset",
    "StandardDatasetColumn",
    "License",
    "DatasetTheme",
    "DxGoal",
    "DxGoalIndicator",
)

POLICY: dict[str, EntityPolicy] = {
    **{
        name: EntityPolicy(description="Reference data, public.", read=_everyone())
        for name in PUBLIC_TYPES
    },
    "TierAssignment": EntityPolicy(
        description="A municipality's support tier at a snapshot, with score and override.",
        read=_roles(
            prefecture_admin=Rows.ALL,
            dispatch_coordinator=Rows.ALL,
            regional_office=Rows.REGION,
            municipal_staff=Rows.OWN_MUNICIPALITY,
            expert=Rows.ASSIGNED_NOW,
        ),
        # The override's reason is the prefecture's note; the region's office sees the tier only.
        # The score is the rubric's, which only the prefecture and the municipality read: an
        # expert and the region's office see the tier, not the total it came from.
        hidden={
            Role.regional_office: frozenset({"reason", "decided_by", "score"}),
            Role.expert: frozenset({"score"}),
        },
        municipality=tier_t.c.municipality_id,
        writes={
            # One tier per municipality with a submitted response in the round; a re-run
            # updates the snapshot's tiers (an override's final tier stays).
            "classifyTiers": Write(
                frozenset({Action.INSERT, Action.UPDATE}),
                _PREFECTURE,
                frozenset({"score", "computed_level", "level", "round_id"}),
            ),
            "overrideTier": Write(
                frozenset({Action.UPDATE}),
                _PREFECTURE,
                frozenset({"level", "overridden", "reason", "decided_by"}),
            ),
        },
    ),
    **{
        name: EntityPolicy(description=description, read=_RUBRIC_READERS)
        for name, description in (
            (
                "AssessmentRubric",
                "A scoring rubric (points, weights, tier thresholds): for the prefecture's "
                "staff, who score, and the municipalities', who are scored; others read tiers, "
                "not how they are computed.",
            ),
            ("AssessmentRubricThreshold", "A rubric's minimum total for a tier."),
        )
    },
    **{
        name: EntityPolicy(description=description, read=_SCORES, municipality=municipality)
        for name, description, municipality in (
            (
                "AssessmentScore",
                "A submitted response's score (a view: where both the response and the rubric "
                "are readable, so not for experts, who read answers but not rubrics).",
                score_v.c.municipality_id,
            ),
            (
                "AssessmentSectionScore",
                "A section's score in a response (as AssessmentScore).",
                section_score_v.c.municipality_id,
            ),
            (
                "AssessmentScorePoint",
                "An option that earned points in a response (as AssessmentScore).",
                score_point_v.c.municipality_id,
            ),
        )
    },
    "AssessmentResponse": EntityPolicy(
        description="A municipality's assessment answers in one round (raw answers).",
        read=_ANSWERS,
        municipality=response_t.c.municipality_id,
        writes={
            # A save advances the response's version (and creates it on the first save).
            "saveAssessmentAnswers": Write(frozenset({Action.INSERT, Action.UPDATE}), _RESPONDENTS),
            "submitAssessmentResponse": Write(
                frozenset({Action.UPDATE}), _RESPONDENTS, frozenset({"status", "submitted_at"})
            ),
            "reopenAssessmentResponse": Write(
                frozenset({Action.UPDATE}),
                _roles(prefecture_admin=Rows.ALL),
                frozenset({"status", "reopened_reason"}),
            ),
        },
    ),
    "AssessmentAnswer": EntityPolicy(
        description="One answer of a response: visible exactly where its response is.",
        read=_ANSWERS,
        municipality=_answer_municipality,
        # An answer's chosen options (assessment_answer_option) are replaced with it.
        also_writes=("assessment_answer_option",),
        writes={
            "saveAssessmentAnswers": Write(
                frozenset({Action.INSERT, Action.UPDATE, Action.DELETE}),
                _RESPONDENTS,
                frozenset({"text_value", "number_value"}),
            ),
        },
    ),
    "Expert": EntityPolicy(
        description="A dispatched digital expert's profile.",
        read=_roles(
            prefecture_admin=Rows.ALL,
            dispatch_coordinator=Rows.ALL,
            expert=Rows.OWN_EXPERT,
            municipal_staff=Rows.ASSIGNED_TO_OWN_MUNICIPALITY,
            regional_office=Rows.ASSIGNED_IN_REGION,
        ),
        # Capacity is the coordinators' planning figure; the contact is for those who work
        # with the expert, not for the region's office.
        hidden={
            Role.municipal_staff: frozenset({"monthly_capacity"}),
            Role.regional_office: frozenset({"monthly_capacity", "contact"}),
        },
        expert=expert_t.c.id,
        writes={
            "createExpert": _coordinators(Action.INSERT),
            "updateExpert": _coordinators(
                Action.UPDATE,
                columns=(
                    *("name", "affiliation", "main_job", "themes", "skills"),
                    *("adviser_registrations", "contact", "monthly_capacity"),
                ),
            ),
        },
    ),
    "ExpertAvailability": EntityPolicy(
        description="A period in which an expert can take sessions: visible where the expert is.",
        read=_roles(
            prefecture_admin=Rows.ALL,
            dispatch_coordinator=Rows.ALL,
            expert=Rows.OWN_EXPERT,
            municipal_staff=Rows.ASSIGNED_TO_OWN_MUNICIPALITY,
            regional_office=Rows.ASSIGNED_IN_REGION,
        ),
        expert=availability_t.c.expert_id,
        writes={
            # The windows come with the profile; updateExpert replaces them.
            "createExpert": _coordinators(Action.INSERT),
            "updateExpert": _coordinators(Action.INSERT, Action.DELETE),
        },
    ),
    "DispatchProgramme": EntityPolicy(
        description="The dispatch programme of a fiscal year: its period, theme menu and rules.",
        read=_everyone(),
        writes={
            "createDispatchProgramme": _coordinators(Action.INSERT),
            "updateDispatchProgramme": _coordinators(
                Action.UPDATE,
                columns=(
                    *("name", "starts_on", "ends_on", "themes", "sessions_per_month_target"),
                    *("sessions_per_month_max", "first_session_on_site", "confirmation_required"),
                ),
            ),
        },
    ),
    "DispatchRequest": EntityPolicy(
        description="A municipality's request for an expert on a theme: its own and the "
        "coordinators'.",
        read=_roles(
            prefecture_admin=Rows.ALL,
            dispatch_coordinator=Rows.ALL,
            regional_office=Rows.REGION,
            municipal_staff=Rows.OWN_MUNICIPALITY,
        ),
        municipality=request_t.c.municipality_id,
        writes={
            "fileDispatchRequest": Write(frozenset({Action.INSERT}), _FILE),
            "withdrawDispatchRequest": Write(
                frozenset({Action.UPDATE}), _FILE, frozenset({"status"})
            ),
            # Assigning an expert matches the request; ending the assignment reopens it.
            "assignExpert": _coordinators(Action.UPDATE, columns=("status",)),
            "endAssignment": _coordinators(Action.UPDATE, columns=("status",)),
        },
    ),
    "DispatchAssignment": EntityPolicy(
        description="An expert assigned to a municipality for a theme and period.",
        read=_DISPATCH,
        hidden={Role.regional_office: frozenset({"ended_reason"})},
        municipality=assignment_t.c.municipality_id,
        expert=assignment_t.c.expert_id,
        writes={
            "assignExpert": _coordinators(Action.INSERT),
            # Reassigning ends the assignment and inserts the next one.
            "reassignExpert": _coordinators(
                Action.UPDATE, Action.INSERT, columns=("status", "ends_on", "ended_reason")
            ),
            "endAssignment": _coordinators(
                Action.UPDATE, columns=("status", "ends_on", "ended_reason")
            ),
        },
    ),
    "DispatchVisit": EntityPolicy(
        description="One session of an assignment (planned or held) and the expert's report.",
        read=_DISPATCH,
        # The report is between the expert, the municipality and the prefecture.
        hidden={Role.regional_office: frozenset({"report", "next_steps", "hours"})},
        municipality=_visit_municipality,
        expert=_visit_expert,
        writes={
            "planSession": Write(frozenset({Action.INSERT}), _PLAN),
            "recordSessionReport": Write(
                frozenset({Action.UPDATE}),
                _roles(prefecture_admin=Rows.ALL, expert=Rows.OWN_EXPERT),
                frozenset({"status", "report", "next_steps", "hours", "reported_at"}),
            ),
            "confirmSessionReport": Write(
                frozenset({Action.UPDATE}),
                _roles(prefecture_admin=Rows.ALL, municipal_staff=Rows.OWN_MUNICIPALITY),
                frozenset({"confirmed_at", "confirmed_by"}),
            ),
            "cancelSession": Write(
                frozenset({Action.UPDATE}),
                {**_PLAN, Role.municipal_staff: Rows.OWN_MUNICIPALITY},
                frozenset({"status", "cancelled_reason"}),
            ),
            # Ending or handing over an assignment cancels its sessions planned after the end.
            "endAssignment": _coordinators(Action.UPDATE, columns=("status", "cancelled_reason")),
            "reassignExpert": _coordinators(Action.UPDATE, columns=("status", "cancelled_reason")),
        },
    ),
    "Dataset": EntityPolicy(
        description="An open dataset: public once published; drafts for publishers.",
        read=_CATALOG,
        published=dataset_t.c.status == DatasetStatus.PUBLISHED,
        published_by=_published_by(dataset_t.c.id),
        municipality=dataset_t.c.lead_municipality_id,
        writes={
            "createDataset": Write(
                frozenset({Action.INSERT}),
                _roles(prefecture_admin=Rows.ALL, municipal_staff=Rows.OWN_MUNICIPALITY),
            ),
            "updateDataset": Write(
                frozenset({Action.UPDATE}), _OWN_DATASETS, frozenset(_DATASET_FIELDS)
            ),
            # A new distribution is an edit: a joint dataset asks its publishers again.
            "addDistribution": Write(
                frozenset({Action.UPDATE}), _OWN_DATASETS, frozenset({"status", "published_at"})
            ),
            "publishDataset": Write(
                frozenset({Action.UPDATE}),
                _OWN_DATASETS,
                frozenset({"status", "published_at", "unpublished_reason"}),
            ),
            "approveJointDataset": Write(
                frozenset({Action.UPDATE}), _OWN_DATASETS, frozenset({"status", "published_at"})
            ),
            "unpublishDataset": Write(
                frozenset({Action.UPDATE}),
                _roles(prefecture_admin=Rows.ALL),
                frozenset({"status", "unpublished_reason"}),
            ),
        },
    ),
    "DatasetPublisher": EntityPolicy(
        description="A publisher of a dataset and the version it approved: visible exactly "
        "where its dataset is.",
        read=_CATALOG,
        published=publisher_t.c.dataset_published,
        published_by=_published_by(publisher_t.c.dataset_id),
        municipality=publisher_t.c.municipality_id,
        writes={
            "createDataset": Write(frozenset({Action.INSERT}), _OWN_DATASETS),
            "updateDataset": Write(
                frozenset({Action.INSERT, Action.UPDATE, Action.DELETE}),
                _OWN_DATASETS,
                frozenset({*_APPROVAL, "position"}),
            ),
            # Each publisher approves for itself; the editor's approval moves with its edit.
            **{
                operation: Write(frozenset({Action.UPDATE}), _OWN_APPROVAL, frozenset(_APPROVAL))
                for operation in ("addDistribution", "publishDataset", "approveJointDataset")
            },
        },
    ),
    "Distribution": EntityPolicy(
        description="A file or API of a dataset: visible exactly where its dataset is.",
        read=_CATALOG,
        published=distribution_t.c.dataset_published,
        published_by=_published_by(distribution_t.c.dataset_id),
        writes={"addDistribution": Write(frozenset({Action.INSERT}), _OWN_DATASETS)},
    ),
    # Sessions counted by month and a programme's progress: views that count, for each viewer,
    # the rows row-level security lets it read (security_invoker), so their rows are open to
    # every role that reads dispatch at all.
    **{
        name: EntityPolicy(
            description=description,
            read={
                **_roles(**dict.fromkeys((r.value for r in Role), Rows.ALL)),
                Role.public: Rows.NONE,
                # A producer works with working groups, not dispatch.
                Role.producer: Rows.NONE,
            },
        )
        for name, description in (
            ("ProgrammeProgress", "A programme's requests and sessions, counted as visible."),
            ("ExpertMonth", "An expert's sessions in a month, counted as visible."),
            ("MunicipalityMonth", "A municipality's sessions in a month, counted as visible."),
            ("AssignmentMonth", "An assignment's sessions in a month, counted as visible."),
        )
    },
    # The catalog's coverage: counts of published datasets, public like the datasets.
    **{
        name: EntityPolicy(description=description, read=_everyone())
        for name, description in (
            ("OpenDataCoverageCell", "Published datasets per municipality and standard dataset."),
            ("OpenDataPublishersYear", "Municipalities publishing open data per fiscal year."),
        )
    },
    "Producer": EntityPolicy(
        description="A producer of the programme: for the prefecture, the coordinators and "
        "the producer itself.",
        read=_roles(
            prefecture_admin=Rows.ALL,
            dispatch_coordinator=Rows.ALL,
            producer=Rows.OWN_PRODUCER,
        ),
        hidden={
            Role.dispatch_coordinator: frozenset({"contact"}),
            Role.producer: frozenset({"contact"}),
        },
        producer=producer_t.c.id,
    ),
    "WorkingGroup": EntityPolicy(
        description="A working group: active and closed groups are public; proposals and "
        "declined ones for the prefecture, their proposer and participants. The webhook URL "
        "for the prefecture and the lead municipality only.",
        read=_wg_everyone(Rows.WG_VISIBLE),
        hidden=_WEBHOOK_HIDDEN,
        working_group=wg_t.c.id,
        municipality=wg_t.c.lead_municipality_id,
    ),
    "WorkingGroupMembership": EntityPolicy(
        description="A municipality's membership of a group: active ones where the group is "
        "visible; requests, declined and left ones for the prefecture, the member and the lead.",
        read=_wg_everyone(Rows.WG_ACTIVE_OR_OWN),
        hidden={Role.public: frozenset({"contact_role"})},
        working_group=membership_t.c.working_group_id,
        municipality=membership_t.c.municipality_id,
        published=membership_t.c.status == MembershipStatus.ACTIVE,
    ),
    "WorkingGroupAdviser": EntityPolicy(
        description="An expert or producer advising a group: for participants, the "
        "prefecture and the coordinators.",
        read={**_WG_PARTICIPANTS, Role.dispatch_coordinator: Rows.ALL},
        working_group=adviser_t.c.working_group_id,
        expert=adviser_t.c.expert_id,
        producer=adviser_t.c.producer_id,
    ),
    "WorkingGroupMeeting": EntityPolicy(
        description="A meeting of a group with its minutes: for participants and the prefecture.",
        read=_WG_PARTICIPANTS,
        working_group=meeting_t.c.working_group_id,
    ),
    "WorkingGroupAttendance": EntityPolicy(
        description="A municipality's attendance at a meeting: where the meeting is visible.",
        read=_WG_PARTICIPANTS,
        working_group=_attendance_working_group,
        municipality=attendance_t.c.municipality_id,
    ),
    "WorkingGroupOutput": EntityPolicy(
        description="A group's output: published ones where the group is visible; drafts for "
        "participants and the prefecture.",
        read=_wg_everyone(Rows.WG_PUBLISHED),
        working_group=output_t.c.working_group_id,
        published=output_t.c.published,
    ),
    "AuditRecord": EntityPolicy(
        description="The audit log of every change.",
        read=_roles(prefecture_admin=Rows.ALL),
    ),
}


def _assigned_now(expert_id: int | None) -> Any:
    # Assignment periods are dates in Japan: "today" is today in Asia/Tokyo, as in the database
    # function dxlink_expert_assigned_to.
    today = cast(func.timezone("Asia/Tokyo", func.now()), Date)
    return select(assignment_t.c.municipality_id).where(
        assignment_t.c.expert_id == expert_id,
        assignment_t.c.status == AssignmentStatus.ACTIVE,
        and_(assignment_t.c.starts_on <= today, assignment_t.c.ends_on >= today),
    )


def _region_municipalities(region_id: int | None) -> Any:
    return select(municipality_t.c.id).where(municipality_t.c.region_id == region_id)


def _wg_led(working_group: Any, principal: Principal) -> ColumnElement[bool]:
    """Whether the principal's municipality leads the group ``working_group`` (an id)."""
    if principal.municipality_id is None:
        return false()
    # Aliases of their own: the outer select may be of these tables itself.
    wg = wg_t.alias("policy_wg")
    return (
        select(wg.c.id)
        .where(wg.c.id == working_group, wg.c.lead_municipality_id == principal.municipality_id)
        .correlate_except(wg)
        .exists()
    )


def _wg_participant(working_group: Any, principal: Principal) -> ColumnElement[bool]:
    """Whether the principal takes part in the group: its municipality leads it or is an active
    member, or its expert or producer advises it (as the database's dxlink_wg_participant)."""
    conditions: list[ColumnElement[bool]] = []
    if principal.municipality_id is not None:
        member = membership_t.alias("policy_member")
        conditions += [
            _wg_led(working_group, principal),
            select(member.c.id)
            .where(
                member.c.working_group_id == working_group,
                member.c.municipality_id == principal.municipality_id,
                member.c.status == MembershipStatus.ACTIVE,
            )
            .correlate_except(member)
            .exists(),
        ]
    for person, person_id in (
        ("expert_id", principal.expert_id),
        ("producer_id", principal.producer_id),
    ):
        if person_id is not None:
            adviser = adviser_t.alias("policy_adviser")
            conditions.append(
                select(adviser.c.id)
                .where(adviser.c.working_group_id == working_group, adviser.c[person] == person_id)
                .correlate_except(adviser)
                .exists()
            )
    return or_(*conditions) if conditions else false()


_PUBLIC_WG_STATUSES = (WorkingGroupStatus.ACTIVE, WorkingGroupStatus.CLOSED)


def _wg_visible(working_group: Any, principal: Principal) -> ColumnElement[bool]:
    """Whether the principal sees the group (`Rows.WG_VISIBLE`, as dxlink_wg_visible)."""
    wg = wg_t.alias("policy_visible_wg")
    # Not IN (...): the compiled path takes no expanding parameters.
    seen = [or_(*(wg.c.status == status for status in _PUBLIC_WG_STATUSES))]
    if principal.municipality_id is not None:
        seen.append(wg.c.proposed_by_municipality_id == principal.municipality_id)
    if principal.role is Role.regional_office and principal.region_id is not None:
        seen.append(wg.c.proposed_by_region_id == principal.region_id)
    public = (
        select(wg.c.id).where(wg.c.id == working_group, or_(*seen)).correlate_except(wg).exists()
    )
    return or_(public, _wg_participant(working_group, principal))


def webhook_url_visible(principal: Principal) -> ColumnElement[bool]:
    """Whether a ``working_group`` row's webhook URL is shown to ``principal``: to the
    prefecture, and to the staff of the group's lead municipality (a condition on the
    ``working_group`` table's columns; role-based ``hidden`` cannot say "the lead")."""
    if principal.role is Role.prefecture_admin:
        return true()
    if principal.role is Role.municipal_staff and principal.municipality_id is not None:
        return wg_t.c.lead_municipality_id == principal.municipality_id
    return false()


def webhook_url_column(principal: Principal) -> ColumnElement[Any]:
    """``working_group.webhook_url`` as ``principal`` reads it: null unless
    `webhook_url_visible`."""
    return case((webhook_url_visible(principal), wg_t.c.webhook_url), else_=None)


def row_condition(type_name: str, principal: Principal) -> ColumnElement[bool] | None:
    """The WHERE condition limiting ``type_name`` to the rows ``principal`` reads (None: all)."""
    if not QUERY_LAYER:
        return None
    entity = POLICY.get(type_name)
    if entity is None:
        return false()  # an undeclared type is readable by nobody
    rule = entity.read.get(principal.role, Rows.NONE)
    municipality, expert = entity.municipality, entity.expert
    match rule:
        case Rows.ALL:
            return None
        case Rows.OWN_MUNICIPALITY if municipality is not None:
            return municipality == principal.municipality_id
        case Rows.REGION if municipality is not None:
            return municipality.in_(_region_municipalities(principal.region_id))
        case Rows.ASSIGNED_NOW if municipality is not None:
            return municipality.in_(_assigned_now(principal.expert_id))
        case Rows.OWN_EXPERT if expert is not None:
            return expert == principal.expert_id
        case Rows.ASSIGNED_TO_OWN_MUNICIPALITY if expert is not None:
            return expert.in_(
                select(assignment_t.c.expert_id).where(
                    assignment_t.c.municipality_id == principal.municipality_id
                )
            )
        case Rows.ASSIGNED_IN_REGION if expert is not None:
            return expert.in_(
                select(assignment_t.c.expert_id).where(
                    assignment_t.c.municipality_id.in_(_region_municipalities(principal.region_id))
                )
            )
        case Rows.PUBLISHED if entity.published is not None:
            return entity.published
        case Rows.PUBLISHED_OR_OWN if entity.published is not None and entity.published_by:
            return or_(entity.published, entity.published_by(principal.municipality_id))
        case Rows.OWN_PRODUCER if entity.producer is not None:
            return entity.producer == principal.producer_id
        case Rows.WG_VISIBLE if (wg := entity.working_group) is not None:
            return _wg_visible(wg, principal)
        case Rows.WG_PARTICIPANT if (wg := entity.working_group) is not None:
            return _wg_participant(wg, principal)
        case Rows.WG_PUBLISHED if (wg := entity.working_group) is not None and (
            entity.published is not None
        ):
            return or_(
                and_(entity.published, _wg_visible(wg, principal)),
                _wg_participant(wg, principal),
            )
        case Rows.WG_ACTIVE_OR_OWN if (wg := entity.working_group) is not None and (
            entity.published is not None and municipality is not None
        ):
            own = (
                municipality == principal.municipality_id
                if principal.municipality_id is not None
                else false()
            )
            return or_(
                and_(entity.published, _wg_visible(wg, principal)),
                own,
                _wg_led(wg, principal),
            )
        case _:
            return false()


def hidden_fields(type_name: str, principal: Principal) -> frozenset[str]:
    """Fields of ``type_name`` that resolve to null for ``principal``."""
    entity = POLICY.get(type_name)
    if entity is None:
        return frozenset()
    return entity.hidden.get(principal.role, frozenset())


@dataclass(frozen=True)
class Scope:
    """Where a row belongs, for the write rules: its municipality and expert (None: none)."""

    municipality_id: int | None = None
    expert_id: int | None = None
    # The municipalities publishing (or leading) the row's dataset, for `Rows.OWN_DATASET`.
    dataset_municipalities: frozenset[int] = frozenset()
    # The row's working group, its lead municipality and its active member municipalities, for
    # `Rows.WG_MEMBER` and `Rows.WG_LEAD` (`working_group_scope` selects the last two).
    working_group_id: int | None = None
    working_group_lead_id: int | None = None
    working_group_members: frozenset[int] = frozenset()


def working_group_scope(working_group_id: int) -> Any:
    """A select of one row: the group's lead municipality and the array of its active member
    municipalities, to build a `Scope` for the WG_* write rules."""
    member = membership_t.alias("scope_member")
    members = (
        select(func.coalesce(func.array_agg(member.c.municipality_id), cast([], ARRAY(Integer))))
        .where(
            member.c.working_group_id == wg_t.c.id,
            member.c.status == MembershipStatus.ACTIVE,
        )
        .scalar_subquery()
    )
    return select(wg_t.c.lead_municipality_id, members).where(wg_t.c.id == working_group_id)


@dataclass(frozen=True)
class CompositeWrite:
    """A mutation made of other operations: it writes nothing under its own name (PostgreSQL
    has no rule for it), every row it writes is written by one of ``operations`` under that
    operation's rule; ``roles`` may call it at all (the service refuses the others,
    ``FORBIDDEN``, before anything is read)."""

    roles: frozenset[Role]
    operations: tuple[str, ...]
    description: str


COMPOSITE_WRITES: dict[str, CompositeWrite] = {
    "importAssessmentCsv": CompositeWrite(
        frozenset({Role.prefecture_admin}),
        ("reopenAssessmentResponse", "saveAssessmentAnswers", "submitAssessmentResponse"),
        "the web form's CSV: each row the municipality's response, saved and submitted "
        "(reopened first when it replaces a submitted one)",
    ),
}


def write_rule(type_name: str, operation: str) -> Write | None:
    entity = POLICY.get(type_name)
    return None if entity is None else entity.writes.get(operation)


def can_write(
    type_name: str, operation: str, action: Action, principal: Principal, scope: Scope
) -> bool:
    """Whether ``principal`` may ``action`` a row of ``type_name`` in ``scope`` for
    ``operation``.

    With the query layer switched off (tests), the service asks nothing and PostgreSQL's write
    policies alone decide."""
    if not QUERY_LAYER:
        return True
    rule = write_rule(type_name, operation)
    if rule is None or action not in rule.actions:
        return False
    match rule.rows.get(principal.role, Rows.NONE):
        case Rows.ALL:
            return True
        case Rows.OWN_MUNICIPALITY:
            return scope.municipality_id is not None and (
                scope.municipality_id == principal.municipality_id
            )
        case Rows.OWN_EXPERT:
            return scope.expert_id is not None and scope.expert_id == principal.expert_id
        case Rows.OWN_DATASET:
            return principal.municipality_id in scope.dataset_municipalities
        case Rows.WG_LEAD:
            return principal.municipality_id is not None and (
                scope.working_group_lead_id == principal.municipality_id
            )
        case Rows.WG_MEMBER:
            return principal.municipality_id is not None and (
                scope.working_group_lead_id == principal.municipality_id
                or principal.municipality_id in scope.working_group_members
            )
        case _:
            return False


def may_write(type_name: str, operation: str, principal: Principal) -> bool:
    """Whether ``principal``'s role may do ``operation`` to any row of ``type_name`` at all."""
    rule = write_rule(type_name, operation)
    return rule is not None and rule.rows.get(principal.role, Rows.NONE) is not Rows.NONE
