"""Every constraint a mutation can run into answers as a user error, not a 500.

A constraint of a table the mutations write is either registered in `service.writes.CONSTRAINTS`
(it becomes a user error with a field and a code), or listed below with the rule the service
checks before it writes, so that only a bug can reach it.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

import resolvers  # noqa: F401  (imports every write module, which register their refusals)
from auth.policy import POLICY
from schema.mapping import REGISTRY
from service.writes import CONSTRAINTS

# Constraints the service's own checks keep inputs away from (module: the check).
CHECKED_FIRST = {
    "ck_dispatch_assignment_period_ordered": "assignments.py _check_period",
    "ck_dispatch_programme_period_ordered": "profiles.py _check_programme",
    "ck_dispatch_programme_maximum_over_target": "profiles.py _check_programme",
    "ck_dispatch_visit_time_ordered": "sessions.py _check_times",
    "ck_dispatch_visit_hours_positive": "sessions.py record_report",
    "ck_expert_availability_period_ordered": "profiles.py _windows",
    "ck_expert_capacity_non_negative": "profiles.py _expert_values",
    "ck_dataset_themes_known": "open_data/datasets.py _values (the dataset_theme table)",
    "ck_dataset_publisher_one_publisher": "open_data/datasets.py _publishers (one key each)",
    "uq_tier_assignment_municipality_id_snapshot_on": "tiers/writes.py classify (its ON CONFLICT)",
    "ck_working_group_adviser_one_person": "working_groups/writes.py assign_adviser (one of them)",
    "ck_working_group_attendance_attendees_range": "working_groups/writes.py record_meeting",
    "ck_working_group_one_lead": "working_groups/writes.py create (lead or ledByPrefecture)",
    "ck_working_group_period_ordered": "working_groups/writes.py (no mutation sets closed_on)",
    # Enumerations: the values come from GraphQL enums and the services, never from text.
    "ck_dispatch_assignment_assignment_status": "AssignmentStatus",
    "ck_dispatch_request_request_status": "RequestStatus",
    "ck_dispatch_visit_visit_mode": "SessionMode",
    "ck_dispatch_visit_visit_status": "VisitStatus",
    "ck_dataset_dataset_status": "DatasetStatus",
    "ck_assessment_response_response_status": "ResponseStatus",
    "ck_working_group_meeting_meeting_mode": "MeetingMode",
    "ck_working_group_membership_membership_status": "MembershipStatus",
    "ck_working_group_output_output_kind": "OutputKind",
    "ck_working_group_working_group_kind": "WorkingGroupKind",
    "ck_working_group_working_group_status": "WorkingGroupStatus",
}


def written_tables() -> set[str]:
    return {
        table
        for entity, access in POLICY.items()
        if access.writes
        for table in (REGISTRY[entity].table.name, *access.also_writes)
    }


async def test_registered_refusals_name_real_constraints(connection: AsyncConnection) -> None:
    names = set(
        await connection.scalars(
            text(
                "SELECT conname FROM pg_constraint UNION "
                "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'"
            )
        )
    )
    assert set(CONSTRAINTS) <= names, sorted(set(CONSTRAINTS) - names)
    assert set(CHECKED_FIRST) <= names, sorted(set(CHECKED_FIRST) - names)


async def test_every_constraint_of_a_written_table_is_accounted_for(
    connection: AsyncConnection,
) -> None:
    """Unique keys and checks (not null and foreign keys are the service's lookups)."""
    rows = await connection.execute(
        text(
            "SELECT c.conname FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
            "WHERE t.relname = ANY(:tables) AND c.contype IN ('u', 'c', 'x') "
            "UNION SELECT i.indexname FROM pg_indexes i JOIN pg_class x ON x.relname = i.indexname"
            " JOIN pg_index ix ON ix.indexrelid = x.oid "
            "WHERE i.tablename = ANY(:tables) AND ix.indisunique AND NOT ix.indisprimary"
        ),
        {"tables": sorted(written_tables())},
    )
    present = {name for (name,) in rows}
    missing = present - set(CONSTRAINTS) - set(CHECKED_FIRST)
    assert not missing, (
        f"constraints a mutation may hit with no user error: {sorted(missing)}; register "
        "them with service.writes.refusals, or name the check that comes first here"
    )
