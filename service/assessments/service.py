"""Rules of the assessment domain (reads of the framework so far)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from schema.mapping import KEY, SqlType
from service import reads
from service.aggregates import anonymise
from service.database import RequestSession
from service.errors import InvalidArgument
from service.models import AssessmentOption, AssessmentQuestion, AssessmentRound


@dataclass
class AnswerCounts:
    question: Any
    options: list[Any]
    counts: dict[int, int | None]  # option id -> municipalities (None: withheld)
    suppressed: bool


class AssessmentService:
    def __init__(self, db: RequestSession) -> None:
        self.db = db

    async def framework(self, spec: SqlType, version: str | None) -> Any | None:
        """The framework of ``version``, or the newest one when no version is given."""
        if version is None:
            frameworks = await reads.fetch_all(self.db, spec, order_by=[spec.key.desc()])
            return frameworks[0] if frameworks else None
        if not version.strip() or len(version) > 20:
            raise InvalidArgument("version", "must be a framework version such as 2024")
        return await reads.fetch_one(self.db, spec, [spec.key == version.strip()])

    async def frameworks(self, spec: SqlType) -> list[Any]:
        return await reads.fetch_all(self.db, spec)

    async def answer_counts(
        self,
        question_spec: SqlType,
        option_spec: SqlType,
        *,
        round_key: str,
        question_key: str,
        exact: bool,
        threshold: int,
        question_argument: str = "question",
    ) -> AnswerCounts | None:
        """Municipalities per option of a choice question in a round; None if either is unknown.

        Counted over every submitted response (a database function does the counting, so the
        viewer's row access does not matter); small groups are withheld unless ``exact``.
        """
        for argument, value in (("round", round_key), (question_argument, question_key)):
            if not value.strip() or len(value) > 20:
                raise InvalidArgument(argument, "must be a key such as 2024-04 or 3-4")
        round_t, question_t = AssessmentRound.__table__, AssessmentQuestion.__table__
        framework = select(round_t.c.framework_id).where(round_t.c.key == round_key)
        question = await reads.fetch_one(
            self.db,
            question_spec,
            [question_t.c.key == question_key, question_t.c.framework_id.in_(framework)],
        )
        if question is None:
            return None
        options = await reads.fetch_all(
            self.db,
            option_spec,
            [AssessmentOption.__table__.c.question_id == question.sql_row[KEY]],
        )
        counted = func.dxlink_answer_counts(round_key, question_key).table_valued(
            "option_id", "municipalities"
        )
        rows = await self.db.all(select(counted.c.option_id, counted.c.municipalities))
        exact_counts = {int(r.option_id): int(r.municipalities) for r in rows}
        shown = anonymise(exact_counts, exact_for_viewer=exact, threshold=threshold)
        return AnswerCounts(question, options, shown.counts, shown.suppressed)
