"""Queries of the assessment domain."""

from __future__ import annotations

import strawberry

from resolvers.context import Info
from schema.assessments import (
    AnswerCount,
    AnswerDistribution,
    AssessmentFramework,
    AssessmentOption,
    AssessmentQuestion,
)
from schema.mapping import KEY, sql_type_of
from service.assessments.service import AssessmentService


@strawberry.type
class AssessmentQuery:
    @strawberry.field(
        description="The assessment framework of `version` (default: the newest), with its "
        "sections, questions and options; null for an unknown version."
    )
    async def assessment_framework(
        self, info: Info, version: str | None = None
    ) -> AssessmentFramework | None:
        return await AssessmentService(info.context.db).framework(
            sql_type_of(AssessmentFramework), version
        )

    @strawberry.field(description="Every framework version, oldest first.")
    async def assessment_frameworks(self, info: Info) -> list[AssessmentFramework]:
        return await AssessmentService(info.context.db).frameworks(sql_type_of(AssessmentFramework))

    @strawberry.field(
        description="Anonymised counts of municipalities per answer option of a choice "
        'question in a round, e.g. round: "2024-04", question: "3-4"; null for an '
        "unknown round or question."
    )
    async def assessment_answer_counts(
        self, info: Info, round: str, question: str
    ) -> AnswerDistribution | None:
        context = info.context
        result = await AssessmentService(context.db).answer_counts(
            sql_type_of(AssessmentQuestion),
            sql_type_of(AssessmentOption),
            round_key=round.strip(),
            question_key=question.strip(),
            exact=context.principal.is_staff,
            threshold=context.settings.aggregate_threshold,
        )
        if result is None:
            return None
        return AnswerDistribution(
            round=round.strip(),
            question=result.question,
            suppressed=result.suppressed,
            counts=[
                AnswerCount(option=o, count=result.counts.get(o.sql_row[KEY]))
                for o in result.options
            ],
        )
