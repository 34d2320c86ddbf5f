"""Writes the demo's assessment data (seeds/demo_assessment.py): the 2024-04 responses through
the assessment services (service/assessments/responses.py), each as its own municipality's
staff, so the answers' rules, the follow-up conditions, the required questions, row-level
security and the audit judge them as they judge the API's; then the tier snapshots.

The round closed on 2024-05-07, so today every save is refused (ROUND_CLOSED). The demo does
not lift that rule for itself: its repository answers the service's question "what day is it in
Japan" with the day the plan says the municipality answered (within the round), and stamps the
submission (``submitted_at``) with that moment; ``created_at`` and ``updated_at`` stay the
records' own, the time the demo was written. Every other rule runs as it does for a request;
every row the repository inserts is flagged ``synthetic``.

The demo rubric (`demo_assessment.rubric`, flagged ``synthetic``) is written as the owner (no
mutation writes rubrics) and scores the rounds 2024-04 and 2024-11, so the demo responses have
scores (the views of migration a5b6c7d8e9f0). The tier snapshots 2023-11 and 2024-11 reproduce
the published distributions; classifyTiers would set their tiers from the rubric's scores
instead, so they are inserted as the owner, under the demo's subject for the audit, each flagged
``synthetic``: computed and final tier the same, not overridden, with invented scores (not the
rubric's: the report published tiers, not how they were computed).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker

from auth.principal import Principal, Role
from seeds import demo_assessment
from seeds.demo_catalog_loader import _as
from service.assessments.answers import Given
from service.assessments.repository import Answer, ResponseRepository, Round, answer_t, chosen_t
from service.assessments.responses import ResponseService
from service.database import RequestSession
from service.models import (
    AssessmentOption,
    AssessmentQuestion,
    AssessmentResponse,
    AssessmentRound,
    AssessmentRubric,
    AssessmentRubricOption,
    AssessmentRubricSection,
    AssessmentRubricThreshold,
    AssessmentSection,
    Municipality,
    Prefecture,
    TierAssignment,
)
from service.models.assessment import ResponseStatus
from service.writes import UserErrors

logger = logging.getLogger(__name__)
SUBJECT = "dxlink-seed-demo"
PREFECTURE = "300004"
response_t = AssessmentResponse.__table__
tier_t = TierAssignment.__table__


class SyntheticResponseRepository(ResponseRepository):
    """The responses' repository, flagging what it inserts as demo data, on the day (in Japan)
    the plan says the municipality answered."""

    def __init__(self, db: RequestSession, answered_at: datetime) -> None:
        super().__init__(db)
        self.answered_at = answered_at

    async def round(self, key: str) -> Round | None:
        found = await super().round(key)
        return None if found is None else replace(found, today=self.answered_at.date())

    async def insert_response(
        self, round_id: int, municipality_id: int, *, synthetic: bool = True
    ) -> int:
        rows = await self.db.all(
            insert(response_t)
            .values(
                round_id=round_id,
                municipality_id=municipality_id,
                status=ResponseStatus.DRAFT,
                version=1,
                synthetic=True,
            )
            .returning(response_t.c.id)
        )
        return int(rows[0][0])

    async def update_response(self, response_id: int, version: int, values: dict[str, Any]) -> None:
        if "submitted_at" in values:
            values = {**values, "submitted_at": self.answered_at}
        await super().update_response(response_id, version, values)

    async def write_answer(self, response_id: int, stored: Answer | None, new: Answer) -> None:
        if stored is not None and stored.id is not None:
            raise RuntimeError("the demo answers each question once")
        rows = await self.db.all(
            insert(answer_t)
            .values(
                response_id=response_id,
                question_id=new.question_id,
                text_value=new.text,
                number_value=new.number,
                synthetic=True,
            )
            .returning(answer_t.c.id)
        )
        await self.insert_options(int(rows[0][0]), new.options)

    async def insert_options(
        self, answer_id: int, options: Iterable[int], *, synthetic: bool = True
    ) -> None:
        values = [{"answer_id": answer_id, "option_id": o, "synthetic": True} for o in options]
        if values:
            await self.db.rowcount(insert(chosen_t).values(values))


async def write_assessments(
    connection: AsyncConnection, sessionmaker: async_sessionmaker[Any]
) -> None:
    m = Municipality.__table__
    p = Prefecture.__table__
    municipalities = {
        r.code: r
        for r in await connection.execute(
            select(m.c.id, m.c.code, m.c.kind, m.c.population)
            .join(p, p.c.id == m.c.prefecture_id)
            .where(p.c.code == PREFECTURE)
        )
    }
    rows = demo_assessment.published()
    plan = demo_assessment.responses(list(municipalities), rows)
    for n, response in enumerate(plan, 1):
        found = municipalities[response.code]
        staff = Principal(
            Role.municipal_staff,
            subject=f"{SUBJECT}-{response.code}",
            municipality_id=found.id,
            municipality_code=response.code,
        )

        async def answer(db: RequestSession, response: demo_assessment.Response = response) -> int:
            service = ResponseService(db)
            service.repository = SyntheticResponseRepository(db, response.submitted_at)
            given = [Given(q, options=list(o)) for q, o in response.answers.items()]
            response_id = await _rule(service.save(demo_assessment.ROUND, None, None, given))
            await _rule(service.submit(demo_assessment.ROUND, None, 1))
            return response_id

        await _as(sessionmaker, staff, answer)
        if n % 10 == 0 or n == len(plan):
            logger.info("demo: assessment responses %d/%d", n, len(plan))
    await write_rubric(connection)
    ranked = [
        demo_assessment.Municipality(r.code, r.kind.name, r.population or 0)
        for r in municipalities.values()
    ]
    tiers = demo_assessment.tiers(ranked, rows)
    # The owner writes them (no mutation does yet), audited under the demo's subject.
    await connection.execute(text("RESET ROLE"))
    await connection.execute(
        text(
            "SELECT set_config('dxlink.role', 'prefecture_admin', true), "
            "set_config('dxlink.subject', :subject, true), "
            "set_config('dxlink.request_id', 'demo-tiers', true)"
        ),
        {"subject": SUBJECT},
    )
    await connection.execute(
        insert(tier_t),
        [
            {
                "municipality_id": municipalities[t.code].id,
                "snapshot_on": t.snapshot_on,
                "score": t.score,
                "computed_level": t.level,
                "level": t.level,
                "overridden": False,
                "decided_by": SUBJECT,
                "synthetic": True,
            }
            for t in tiers
        ],
    )
    logger.info(
        "demo: %d tier assignments (snapshots %s)",
        len(tiers),
        ", ".join(d.isoformat() for d in demo_assessment.SNAPSHOTS.values()),
    )


async def write_rubric(connection: AsyncConnection) -> None:
    """The demo rubric of the demo round's framework, scoring its rounds (as the owner,
    audited under the demo's subject)."""
    await connection.execute(text("RESET ROLE"))
    await connection.execute(
        text(
            "SELECT set_config('dxlink.role', 'prefecture_admin', true), "
            "set_config('dxlink.subject', :subject, true), "
            "set_config('dxlink.request_id', 'demo-rubric', true)"
        ),
        {"subject": SUBJECT},
    )
    round_t = AssessmentRound.__table__
    framework_id = await connection.scalar(
        select(round_t.c.framework_id).where(round_t.c.key == demo_assessment.ROUND)
    )
    q, o, s = AssessmentQuestion.__table__, AssessmentOption.__table__, AssessmentSection.__table__
    rows = await connection.execute(
        select(
            q.c.key, q.c.kind, s.c.key.label("section"), q.c.id, o.c.id.label("option"), o.c.label
        )
        .join(s, s.c.id == q.c.section_id)
        .join(o, o.c.question_id == q.c.id)
        .where(q.c.framework_id == framework_id, q.c.key.in_(demo_assessment.RUBRIC_QUESTIONS))
        .order_by(q.c.key, o.c.position)
    )
    found = rows.all()
    questions: dict[str, demo_assessment.Question] = {}
    for r in found:
        before = questions.get(r.key)
        labels = (*before.labels, r.label) if before else (r.label,)
        questions[r.key] = demo_assessment.Question(r.section, r.kind.name, labels)
    plan = demo_assessment.rubric(questions)
    rubric_t = AssessmentRubric.__table__
    rubric_id = await connection.scalar(
        insert(rubric_t)
        .values(
            framework_id=framework_id,
            version="demo-1",
            key=demo_assessment.RUBRIC_KEY,
            title=demo_assessment.RUBRIC_TITLE,
            synthetic=True,
        )
        .returning(rubric_t.c.id)
    )
    sections = {
        r.key: r.id
        for r in await connection.execute(
            select(s.c.key, s.c.id).where(s.c.framework_id == framework_id)
        )
    }
    await connection.execute(
        insert(AssessmentRubricSection.__table__),
        [
            {"rubric_id": rubric_id, "section_id": sections[key], "weight": weight}
            for key, weight in plan.weights.items()
        ],
    )
    option_of = {(r.key, r.label): r.option for r in found}
    await connection.execute(
        insert(AssessmentRubricOption.__table__),
        [
            {"rubric_id": rubric_id, "option_id": option_of[choice], "points": points}
            for choice, points in plan.points.items()
        ],
    )
    await connection.execute(
        insert(AssessmentRubricThreshold.__table__),
        [
            {"rubric_id": rubric_id, "level": level, "minimum_total": minimum}
            for level, minimum in plan.thresholds.items()
        ],
    )
    await connection.execute(
        round_t.update()
        .where(round_t.c.key.in_(demo_assessment.RUBRIC_ROUNDS))
        .values(rubric_id=rubric_id)
    )
    logger.info(
        "demo: rubric %s scoring %s",
        demo_assessment.RUBRIC_KEY,
        ", ".join(demo_assessment.RUBRIC_ROUNDS),
    )


async def _rule(write: Any) -> Any:
    try:
        return await write
    except UserErrors as exc:
        raise RuntimeError(
            f"the demo assessment breaks a rule of the mutations: {exc.errors}"
        ) from exc
