"""`dxlink seed --demo`: write the demo programme (seeds/demo.py) through the dispatch services,
or remove it (`--remove`). One transaction on the owner's login either way.

The writes are the mutations' own: each runs in the services of service/dispatch/ as the
principal ``dxlink-seed-demo`` (prefecture_admin) under the API role, so the rules, the write
policies of row-level security and the audit trigger judge them as they judge the API's. The
only difference is the repository, which flags every row it inserts ``synthetic``. The audit log
therefore holds the demo's changes, under that subject and with ``"synthetic": true`` in each
row's image; removing the demo is audited the same way, and the log keeps both (it is the
record of what happened, demo or not).

After the dispatch demo come the catalog (seeds/demo_catalog_loader.py) and the 2024-04
assessment with its tier snapshots (seeds/demo_assessment_loader.py), each written as its
municipality's staff through its own services, flagged ``synthetic`` the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker

from auth.principal import Principal, Role
from seeds import demo, demo_assessment
from seeds.demo_assessment_loader import write_assessments
from seeds.demo_catalog_loader import write_catalog
from seeds.demo_working_groups import remove_working_groups, write_working_groups
from service.database import RequestSession
from service.dispatch.assignments import AssignmentService
from service.dispatch.profiles import ExpertProfile, ProfileService, ProgrammeRules, Window
from service.dispatch.repository import DispatchRepository
from service.dispatch.sessions import SessionService
from service.models import (
    AssessmentAnswer,
    AssessmentAnswerOption,
    AssessmentResponse,
    AssessmentRound,
    AssessmentRubric,
    Dataset,
    DatasetPublisher,
    DispatchAssignment,
    DispatchProgramme,
    DispatchRequest,
    DispatchVisit,
    Distribution,
    Expert,
    ExpertAvailability,
    Municipality,
    Prefecture,
    TierAssignment,
)
from service.models.dispatch import VisitStatus
from service.writes import UserErrors

logger = logging.getLogger(__name__)
SUBJECT = "dxlink-seed-demo"
PREFECTURE = "300004"
_LOCK_KEY = 7_306_440_043  # "dxlink seed --demo"; the reference seeds take ...042

programme_t = DispatchProgramme.__table__
expert_t = Expert.__table__
availability_t = ExpertAvailability.__table__
request_t = DispatchRequest.__table__
assignment_t = DispatchAssignment.__table__
visit_t = DispatchVisit.__table__
# Children before parents (the order removal deletes in).
TABLES = (visit_t, assignment_t, request_t, availability_t, expert_t, programme_t)
dataset_t = Dataset.__table__
publisher_t = DatasetPublisher.__table__
distribution_t = Distribution.__table__
CATALOG_TABLES = (dataset_t, publisher_t, distribution_t)
response_t = AssessmentResponse.__table__
answer_t = AssessmentAnswer.__table__
chosen_t = AssessmentAnswerOption.__table__
tier_t = TierAssignment.__table__
rubric_t = AssessmentRubric.__table__
round_t = AssessmentRound.__table__
# The demo's assessment responses, tier snapshots and rubric, children before parents (a
# rubric's weights, points and thresholds go with it).
ASSESSMENT_TABLES = (chosen_t, answer_t, response_t, tier_t, rubric_t)
T = TypeVar("T")


class DemoRefused(Exception):
    """The demo cannot be written or removed as things are; the message says why."""


@dataclass(frozen=True)
class DemoOutcome:
    written: bool
    rows: dict[str, int]  # synthetic rows per table, after the command

    def __str__(self) -> str:
        return ", ".join(f"{table} {n}" for table, n in self.rows.items())


class SyntheticRepository(DispatchRepository):
    """The dispatch repository, flagging what it inserts as demo data."""

    async def insert(self, table: Any, values: dict[str, Any]) -> int:
        return await super().insert(table, {**values, "synthetic": True})


async def synthetic_rows(connection: AsyncConnection) -> dict[str, int]:
    counts = {}
    for table in (*reversed(TABLES), *CATALOG_TABLES, *reversed(ASSESSMENT_TABLES)):
        statement = select(func.count()).select_from(table).where(table.c.synthetic)
        counts[table.name] = int(await connection.scalar(statement))
    return counts


async def seed_demo(connection: AsyncConnection, now: datetime | None = None) -> DemoOutcome:
    """Write the demo on ``connection`` (the caller owns the transaction), unless it is there."""
    await _begin(connection)
    present = await synthetic_rows(connection)
    if any(present.values()):
        outcome = DemoOutcome(False, present)
        logger.info("demo data is there already (%s): nothing written", outcome)
        # A demo of before the working groups gets them (written once, like the rest).
        await write_working_groups(connection)
        return outcome
    real = (
        await connection.execute(
            select(programme_t.c.id, programme_t.c.name).where(
                programme_t.c.fiscal_year == demo.FISCAL_YEAR
            )
        )
    ).first()
    if real is not None:
        raise DemoRefused(
            f"a real FY{demo.FISCAL_YEAR} programme exists ({real.name}, id {real.id}); the "
            "demo brings its own programme of that year and would otherwise mix synthetic "
            "requests, assignments and sessions into the real one, so it wrote nothing"
        )
    real_assessment = await _real_assessment(connection)
    if real_assessment:
        raise DemoRefused(
            f"{real_assessment}; the demo answers that round and writes those snapshots for "
            "every municipality, so it wrote nothing"
        )
    plan = demo.build_plan(await _municipalities(connection), now or datetime.now(demo.JST))
    sessionmaker = async_sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    db = RequestSession(sessionmaker, Principal(Role.prefecture_admin, subject=SUBJECT), "demo")
    try:
        await _write(db, plan)
    except BaseException:
        await db.finish(commit=False)
        raise
    await db.finish(commit=True)
    await write_catalog(connection, sessionmaker)
    await write_assessments(connection, sessionmaker)
    # Back to the owner for the rest of the caller's transaction.
    await connection.execute(text("RESET ROLE"))
    # The working groups (seeds/demo_working_groups.py): their advisers are the demo's experts.
    await write_working_groups(connection)
    outcome = DemoOutcome(True, await synthetic_rows(connection))
    logger.info("demo data written, all flagged synthetic: %s", outcome)
    return outcome


async def remove_demo(connection: AsyncConnection) -> DemoOutcome:
    """Delete every synthetic row (dispatch, catalog, assessment responses and tiers); refuse
    when real rows depend on one."""
    await _begin(connection)
    # Audited like the demo's writes (the trigger records changes made under a principal).
    await connection.execute(
        text(
            "SELECT set_config('dxlink.role', 'prefecture_admin', true), "
            "set_config('dxlink.subject', :subject, true), "
            "set_config('dxlink.request_id', 'demo-remove', true)"
        ),
        {"subject": SUBJECT},
    )
    dependants = await _real_dependants(connection)
    if dependants:
        raise DemoRefused(
            "real (non-synthetic) rows belong to demo data: "
            + "; ".join(dependants)
            + ". Removing the demo would delete them or leave them dangling, so nothing was "
            "removed; delete or move them first"
        )
    # The demo's working groups first: their advisers reference the demo's experts.
    removed = {table: n for table, n in (await remove_working_groups(connection)).items() if n}
    # The demo catalog: its publishers and distributions go with their datasets (cascade).
    result = await connection.execute(delete(dataset_t).where(dataset_t.c.synthetic))
    removed[dataset_t.name] = int(result.rowcount)  # type: ignore[attr-defined]
    logger.info("demo: removed %d rows of %s", removed[dataset_t.name], dataset_t.name)
    for table in (*ASSESSMENT_TABLES, *TABLES):
        condition = table.c.synthetic
        if table is availability_t:
            # Windows belong to their expert, whoever wrote them (they cascade with it).
            condition = condition | table.c.expert_id.in_(
                select(expert_t.c.id).where(expert_t.c.synthetic)
            )
        if table is rubric_t:
            # The rounds it scores are reference data: they stay, unscored.
            await connection.execute(
                round_t.update()
                .where(round_t.c.rubric_id.in_(select(rubric_t.c.id).where(rubric_t.c.synthetic)))
                .values(rubric_id=None)
            )
        result = await connection.execute(delete(table).where(condition))
        removed[table.name] = int(result.rowcount)  # type: ignore[attr-defined]
        logger.info("demo: removed %d rows of %s", removed[table.name], table.name)
    outcome = DemoOutcome(bool(sum(removed.values())), removed)
    if not outcome.written:
        logger.info("no demo data to remove")
    return outcome


async def _begin(connection: AsyncConnection) -> None:
    # One demo command at a time; the owner reads and writes past row-level security
    # (maintenance, like the reference seeds; SECURITY DEFINER checks need it too).
    await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    await connection.execute(text("SELECT set_config('dxlink.maintenance', 'on', true)"))


async def _real_assessment(connection: AsyncConnection) -> str | None:
    """What real data the demo's responses and tier snapshots would mix with, if any."""
    round_t = AssessmentRound.__table__
    responses = await connection.scalar(
        select(func.count())
        .select_from(response_t.join(round_t, round_t.c.id == response_t.c.round_id))
        .where(~response_t.c.synthetic, round_t.c.key == demo_assessment.ROUND)
    )
    if responses:
        return f"{responses} real responses to the {demo_assessment.ROUND} round exist"
    snapshots = list(demo_assessment.SNAPSHOTS.values())
    tiers = await connection.scalar(
        select(func.count())
        .select_from(tier_t)
        .where(~tier_t.c.synthetic, tier_t.c.snapshot_on.in_(snapshots))
    )
    if tiers:
        shown = " and ".join(d.isoformat() for d in snapshots)
        return f"{tiers} real tier assignments of the snapshots {shown} exist"
    return None


async def _municipalities(connection: AsyncConnection) -> list[demo.Municipality]:
    m = Municipality.__table__
    p = Prefecture.__table__
    rows = await connection.execute(
        select(m.c.code, m.c.name, m.c.kind)
        .join(p, p.c.id == m.c.prefecture_id)
        .where(p.c.code == PREFECTURE)
        .order_by(m.c.code)
    )
    found = [demo.Municipality(r.code, r.name, r.kind.name) for r in rows]
    if len(found) < demo.REQUESTS:
        raise DemoRefused(
            f"the database holds {len(found)} municipalities of {PREFECTURE}; the demo needs "
            f"{demo.REQUESTS} (dxlink seed loads the 30)"
        )
    return found


async def _real_dependants(connection: AsyncConnection) -> list[str]:
    """Non-synthetic rows that reference synthetic ones, described (table and ids)."""
    demo_programmes = select(programme_t.c.id).where(programme_t.c.synthetic)
    demo_experts = select(expert_t.c.id).where(expert_t.c.synthetic)
    demo_requests = select(request_t.c.id).where(request_t.c.synthetic)
    demo_assignments = select(assignment_t.c.id).where(assignment_t.c.synthetic)
    demo_datasets = select(dataset_t.c.id).where(dataset_t.c.synthetic)
    demo_responses = select(response_t.c.id).where(response_t.c.synthetic)
    demo_answers = select(answer_t.c.id).where(answer_t.c.synthetic)
    checks = (
        (answer_t, answer_t.c.response_id.in_(demo_responses)),
        (publisher_t, publisher_t.c.dataset_id.in_(demo_datasets)),
        (distribution_t, distribution_t.c.dataset_id.in_(demo_datasets)),
        (request_t, request_t.c.programme_id.in_(demo_programmes)),
        (
            assignment_t,
            assignment_t.c.programme_id.in_(demo_programmes)
            | assignment_t.c.expert_id.in_(demo_experts)
            | assignment_t.c.request_id.in_(demo_requests),
        ),
        (visit_t, visit_t.c.assignment_id.in_(demo_assignments)),
    )
    found = []
    # The chosen options have no id of their own: named by their answer.
    answers = list(
        await connection.scalars(
            select(chosen_t.c.answer_id)
            .where(~chosen_t.c.synthetic, chosen_t.c.answer_id.in_(demo_answers))
            .distinct()
            .order_by(chosen_t.c.answer_id)
        )
    )
    if answers:
        shown = ", ".join(map(str, answers[:10])) + (" ..." if len(answers) > 10 else "")
        found.append(f"{chosen_t.name} of assessment_answer {shown}")
    for table, condition in checks:
        ids = list(
            await connection.scalars(
                select(table.c.id).where(~table.c.synthetic, condition).order_by(table.c.id)
            )
        )
        if ids:
            shown = ", ".join(map(str, ids[:10])) + (" ..." if len(ids) > 10 else "")
            found.append(f"{table.name} {shown}")
    return found


async def _write(db: RequestSession, plan: demo.DemoPlan) -> None:
    profiles = ProfileService(db)
    assignments = AssignmentService(db)
    sessions = SessionService(db)
    for service in (profiles, assignments, sessions):
        service.repository = SyntheticRepository(db)
    await _rule(
        profiles.create_programme(
            demo.FISCAL_YEAR,
            ProgrammeRules(
                name=demo.PROGRAMME_NAME,
                starts_on=demo.STARTS_ON,
                ends_on=demo.ENDS_ON,
                themes=list(demo.THEMES),
                sessions_per_month_target=demo.TARGET,
                sessions_per_month_max=demo.MAXIMUM,
                first_session_on_site=True,
                confirmation_required=True,
            ),
        )
    )
    logger.info("demo: programme FY%d (%s)", demo.FISCAL_YEAR, demo.PROGRAMME_NAME)
    experts = []
    for expert in plan.experts:
        profile = ExpertProfile(
            name=expert.name,
            affiliation=expert.affiliation,
            main_job=expert.main_job,
            themes=list(expert.themes),
            skills=list(expert.skills),
            adviser_registrations=list(expert.adviser_registrations),
            contact=expert.contact,
            monthly_capacity=expert.monthly_capacity,
            availability=[Window(w.starts_on, w.ends_on, w.note) for w in expert.availability],
        )
        experts.append(await _rule(profiles.create_expert(profile)))
    logger.info("demo: %d experts", len(experts))
    requests = {}
    for request in plan.requests:
        requests[request] = await _rule(
            profiles.file_request(
                fiscal_year=demo.FISCAL_YEAR,
                municipality_code=request.code,
                theme=request.theme,
                goals=request.goals,
                required_profile=request.required_profile,
            )
        )
        if request.withdrawn:
            await _rule(profiles.withdraw_request(requests[request], 1))
    logger.info("demo: %d requests", len(requests))
    assigned = []
    for assignment in plan.assignments:
        made = await _rule(
            assignments.assign(
                request_id=requests[assignment.request],
                expert_id=experts[assignment.expert],
                starts_on=assignment.starts_on,
                ends_on=assignment.ends_on,
            )
        )
        assigned.append(made.assignment_id)
    logger.info("demo: %d assignments", len(assigned))
    # Planned in time order, as a coordinator would; a cancelled one is called off at once.
    held = []
    for n, session in enumerate(plan.sessions, 1):
        session_id = await _rule(
            sessions.plan(
                assignment_id=assigned[session.assignment],
                starts_at=session.starts_at,
                ends_at=session.ends_at,
                mode=session.mode,
                place=session.place,
                theme=session.topic,
            )
        )
        if session.status is VisitStatus.CANCELLED:
            assert session.cancelled_reason is not None
            await _rule(
                sessions.cancel(session_id=session_id, version=1, reason=session.cancelled_reason)
            )
        elif session.status is VisitStatus.HELD:
            held.append((session_id, session))
        if n % 100 == 0 or n == len(plan.sessions):
            logger.info("demo: sessions planned %d/%d", n, len(plan.sessions))
    for n, (session_id, session) in enumerate(held, 1):
        assert session.report is not None
        await _rule(
            sessions.report(
                session_id=session_id,
                version=1,
                report=session.report,
                next_steps=session.next_steps,
                hours=session.hours,
            )
        )
        if session.confirmed:
            await _rule(sessions.confirm(session_id=session_id, version=2))
        if n % 100 == 0 or n == len(held):
            logger.info("demo: reports of held sessions %d/%d", n, len(held))
    for assignment, assignment_id in zip(plan.assignments, assigned, strict=True):
        if assignment.ended_on is not None:
            assert assignment.ended_reason is not None
            await _rule(
                assignments.end(
                    assignment_id=assignment_id,
                    version=1,
                    reason=assignment.ended_reason,
                    ends_on=assignment.ended_on,
                )
            )


async def _rule(write: Awaitable[T]) -> T:
    """The mutation's result; a user error means the plan broke a rule (a bug of seeds/demo)."""
    try:
        return await write
    except UserErrors as exc:
        raise RuntimeError(f"the demo plan breaks a rule of the mutations: {exc.errors}") from exc
