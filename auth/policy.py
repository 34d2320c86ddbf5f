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
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

from sqlalchemy import ColumnElement, Date, and_, cast, false, func, or_, select

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
    TierAssignment,
)
from service.models.dispatch import AssignmentStatus
from service.models.open_data import DatasetStatus
from service.models.views import score as score_v
from service.models.views import score_point as score_point_v
from service.models.views import section_score as section_score_v

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
    WG_LEAD = "rows of working groups the principal's municipality leads"
    WG_MEMBER = "rows of working groups the principal's municipality leads or is an active member of"


class Action(Enum):
    """What an operation does to the entity's table."""

    INSERT = "insert"
    UPDATE = "update"
    DELETE = "delete"


@dataclass(frozen=True)
class Write:
    """Who may do one operation (a mutation) to rows of an entity.

    ``rows`` says, role by role, which rows (`Rows.ALL`, `Rows.OWN_MUNICIPALITY`,
    `Rows.OWN_EXPERT` or `Rows.OWN_DATASET`, judged on the row's scope: its municipality, its
    expert, the municipalities publishing its dataset); an update may
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
)

_GROUP_PROPOSERS = _roles(municipal_staff=Rows.OWN_MUNICIPALITY, regional_office=Rows.REGION)
_GROUP_EDITORS = _roles(prefecture_admin=Rows.ALL, municipal_staff=Rows.OWN_MUNICIPALITY)
_GROUP_LEADS = _roles(prefecture_admin=Rows.ALL, municipal_staff=Rows.WG_LEAD)
_GROUP_MEMBERS = _roles(prefecture_admin=Rows.ALL, municipal_staff=Rows.WG_MEMBER)
_INSERT = frozenset({Action.INSERT})
_UPDATE = frozenset({Action.UPDATE})

# The working groups' writes (service/working_groups/writes.py). A group's row belongs to its
# lead municipality and its region (OWN_MUNICIPALITY: the lead; REGION: the group's region);
# its goals are written under the group's rules; a membership belongs to its municipality,
# and to the group for its lead (WG_LEAD); a meeting (with its attendance) and an output
# belong to the group's members (WG_MEMBER, the lead included).
WORKING_GROUP_WRITES: dict[str, dict[str, Write]] = {
    "WorkingGroup": {
        "proposeWorkingGroup": Write(_INSERT, _GROUP_PROPOSERS),
        "createWorkingGroup": Write(_INSERT, _PREFECTURE),
        "decideWorkingGroup": Write(
            _UPDATE,
            _PREFECTURE,
            frozenset({"status", "started_on", "decided_at", "decided_by", "decision_reason"}),
        ),
        "updateWorkingGroup": Write(
            _UPDATE,
            _GROUP_EDITORS,
            frozenset({"theme", "purpose", "expected_outputs", "public_summary", "webhook_url"}),
        ),
    },
    "WorkingGroupMembership": {
        # The lead's own membership, with the group.
        "proposeWorkingGroup": Write(_INSERT, _GROUP_PROPOSERS),
        "createWorkingGroup": Write(_INSERT, _PREFECTURE),
        "requestMembership": Write(_INSERT, _roles(municipal_staff=Rows.OWN_MUNICIPALITY)),
        "decideMembership": Write(
            _UPDATE, _GROUP_LEADS, frozenset({"status", "decided_at", "decided_by"})
        ),
    },
    "WorkingGroupAdviser": {"assignWorkingGroupAdviser": Write(_INSERT, _PREFECTURE)},
    "WorkingGroupMeeting": {"recordMeeting": Write(_INSERT, _GROUP_MEMBERS)},
    "WorkingGroupOutput": {"addOutput": Write(_INSERT, _GROUP_MEMBERS)},
}

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
    "AuditRecord": EntityPolicy(
        description="The audit log of every change.",
        read=_roles(prefecture_admin=Rows.ALL),
    ),
    # WG reads (placeholder until wg-access)
    **{
        name: EntityPolicy(description="Working groups (placeholder).", read=_everyone())
        for name in (
            "DxGoal",
            "DxGoalIndicator",
            "Producer",
            "WorkingGroup",
            "WorkingGroupMembership",
            "WorkingGroupAdviser",
            "WorkingGroupMeeting",
            "WorkingGroupAttendance",
            "WorkingGroupOutput",
        )
    },
    # end WG reads (placeholder until wg-access)
}

# The working groups' writes join their entities' read rules.
WORKING_GROUP_ALSO_WRITES = {
    "WorkingGroup": ("working_group_goal",),
    "WorkingGroupMeeting": ("working_group_attendance",),
}
for _name, _writes in WORKING_GROUP_WRITES.items():
    POLICY[_name] = replace(
        POLICY[_name],
        writes={**POLICY[_name].writes, **_writes},
        also_writes=POLICY[_name].also_writes + WORKING_GROUP_ALSO_WRITES.get(_name, ()),
    )


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
    # The row's working group: its region (`Rows.REGION`), its lead municipality
    # (`Rows.WG_LEAD`) and its active members (`Rows.WG_MEMBER`, with the lead).
    region_id: int | None = None
    working_group_id: int | None = None
    working_group_lead: int | None = None
    working_group_members: frozenset[int] = frozenset()


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
        case Rows.REGION:
            return scope.region_id is not None and scope.region_id == principal.region_id
        case Rows.WG_LEAD:
            return scope.working_group_lead is not None and (
                scope.working_group_lead == principal.municipality_id
            )
        case Rows.WG_MEMBER:
            return principal.municipality_id is not None and (
                principal.municipality_id == scope.working_group_lead
                or principal.municipality_id in scope.working_group_members
            )
        case _:
            return False


def may_write(type_name: str, operation: str, principal: Principal) -> bool:
    """Whether ``principal``'s role may do ``operation`` to any row of ``type_name`` at all."""
    rule = write_rule(type_name, operation)
    return rule is not None and rule.rows.get(principal.role, Rows.NONE) is not Rows.NONE
