"""Queries and mutations of the assessment domain: thin, they read the input, call the
domain service, and answer with the response as the caller may read it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import strawberry

from resolvers.context import Info
from schema.assessments import (
    AnswerCount,
    AnswerDistribution,
    AssessmentAggregateCount,
    AssessmentFramework,
    AssessmentOption,
    AssessmentQuestion,
    AssessmentResponse,
)
from schema.assessments_writes import (
    AssessmentResponsePayload,
    ImportAssessmentCsvInput,
    ImportAssessmentCsvPayload,
    ReopenAssessmentResponseInput,
    SaveAssessmentAnswersInput,
    SubmitAssessmentResponseInput,
)
from schema.errors import user_errors
from schema.mapping import KEY, sql_type_of
from service import reads
from service.assessments.answers import Given
from service.assessments.csv_import import AssessmentCsvService, ImportRefused, Problem
from service.assessments.responses import ResponseService
from service.assessments.service import AssessmentService
from service.writes import Code, UserError, UserErrors


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

    @strawberry.field(
        description="回答の集計 / Anonymised counts of municipalities per option of a choice "
        'question in a round (submitted responses), e.g. round: "2024-04", questionId: "4-1", '
        "in the question's order; null for an unknown round or question. Exact for the "
        "prefecture's staff; for everyone else, every count is withheld (null) when a "
        "non-empty group is smaller than the threshold."
    )
    async def assessment_aggregate(
        self, info: Info, round: str, question_id: str
    ) -> list[AssessmentAggregateCount] | None:
        context = info.context
        result = await AssessmentService(context.db).answer_counts(
            sql_type_of(AssessmentQuestion),
            sql_type_of(AssessmentOption),
            round_key=round.strip(),
            question_key=question_id.strip(),
            exact=context.principal.is_staff,
            threshold=context.settings.aggregate_threshold,
            question_argument="questionId",
        )
        if result is None:
            return None
        return [
            AssessmentAggregateCount(option=o.label, count=result.counts.get(o.sql_row[KEY]))
            for o in result.options
        ]


@strawberry.type
class AssessmentMutation:
    @strawberry.mutation(
        description="回答の保存 / save answers to a round's response as a draft (municipal "
        "staff for their own municipality, the prefecture for any)."
    )
    async def save_assessment_answers(
        self, info: Info, input: SaveAssessmentAnswersInput
    ) -> AssessmentResponsePayload:
        given = [
            Given(question=a.question, options=a.options, text=a.text, number=a.number)
            for a in input.answers
        ]
        service = ResponseService(info.context.db)
        return await _response(
            info, lambda: service.save(input.round, input.municipality, input.version, given)
        )

    @strawberry.mutation(description="回答の提出 / submit a round's response.")
    async def submit_assessment_response(
        self, info: Info, input: SubmitAssessmentResponseInput
    ) -> AssessmentResponsePayload:
        service = ResponseService(info.context.db)
        return await _response(
            info, lambda: service.submit(input.round, input.municipality, input.version)
        )

    @strawberry.mutation(
        description="回答の差し戻し / the prefecture reopens a submitted response, with a reason."
    )
    async def reopen_assessment_response(
        self, info: Info, input: ReopenAssessmentResponseInput
    ) -> AssessmentResponsePayload:
        service = ResponseService(info.context.db)
        return await _response(
            info,
            lambda: service.reopen(input.round, input.municipality, input.version, input.reason),
        )

    @strawberry.mutation(
        description="調査票CSVの取り込み / the prefecture imports the web form's CSV into a "
        "round: every row or none (see ImportAssessmentCsvInput)."
    )
    async def import_assessment_csv(
        self, info: Info, input: ImportAssessmentCsvInput
    ) -> ImportAssessmentCsvPayload:
        data = await _uploaded(input.file)
        try:
            if data is None:
                raise ImportRefused(
                    [Problem(None, None, None, Code.INVALID, "send the file as a multipart upload")]
                )
            imported = await AssessmentCsvService(info.context.db).import_csv(
                input.round, data, replace=bool(input.replace)
            )
        except ImportRefused as refused:
            errors = [UserError(p.field(), p.code, p.sentence()) for p in refused.problems]
            return ImportAssessmentCsvPayload(rows=0, answers=0, user_errors=user_errors(errors))
        return ImportAssessmentCsvPayload(
            rows=imported.rows, answers=imported.answers, user_errors=[]
        )


async def _uploaded(file: object) -> bytes | None:
    """The bytes of an upload (service/uploads.py puts them in the variables); None for
    anything else, e.g. a string sent in the file's place."""
    return file if isinstance(file, bytes) else None


async def _response(info: Info, write: Callable[[], Awaitable[int]]) -> AssessmentResponsePayload:
    """Run a write; read the response back as the caller may read it."""
    try:
        key = await write()
    except UserErrors as refused:
        return AssessmentResponsePayload(response=None, user_errors=user_errors(refused.errors))
    spec = sql_type_of(AssessmentResponse)
    response = await reads.fetch_one(info.context.db, spec, [spec.table.c.id == key])
    return AssessmentResponsePayload(response=response, user_errors=[])
