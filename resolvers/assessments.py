"""Queries of the assessment domain."""

from __future__ import annotations

import strawberry

from resolvers.context import Info
from schema.assessments import AssessmentFramework
from schema.mapping import sql_type_of
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
