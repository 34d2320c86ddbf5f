"""GraphQL types of the assessment framework: versions, sections, questions, options, rounds."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from resolvers.context import Info
from schema.mapping import Column, ToMany, ToOne, sql_type
from schema.node import Node
from schema.scalars import float_column
from service.models import AssessmentAnswer as AnswerModel
from service.models import AssessmentAnswerOption as ChosenModel
from service.models import AssessmentFramework as FrameworkModel
from service.models import AssessmentOption as OptionModel
from service.models import AssessmentQuestion as QuestionModel
from service.models import AssessmentResponse as ResponseModel
from service.models import AssessmentRound as RoundModel
from service.models import AssessmentSection as SectionModel
from service.models import Municipality as MunicipalityModel
from service.models import QuestionKind as QuestionKindModel
from service.models import ResponseStatus as ResponseStatusModel

if TYPE_CHECKING:
    from schema.geography import Municipality

framework_t = FrameworkModel.__table__
section_t = SectionModel.__table__
question_t = QuestionModel.__table__
option_t = OptionModel.__table__
round_t = RoundModel.__table__
response_t = ResponseModel.__table__
answer_t = AnswerModel.__table__
chosen_t = ChosenModel.__table__
municipality_t = MunicipalityModel.__table__

QuestionKind = strawberry.enum(
    QuestionKindModel,
    name="QuestionKind",
    description="How a question is answered: one option, several options, free text, a number.",
)

ResponseStatus = strawberry.enum(
    ResponseStatusModel, name="ResponseStatus", description="DRAFT, SUBMITTED or REOPENED."
)


@sql_type(
    framework_t,
    key=framework_t.c.version,
    order_by=(framework_t.c.version,),
    fields={
        "version": Column(framework_t.c.version),
        "title": Column(framework_t.c.title),
        "description": Column(framework_t.c.description),
        "published_on": Column(framework_t.c.published_on),
        "sections": ToMany(
            "AssessmentSection", framework_t.c.id, section_t.c.framework_id, (section_t.c.position,)
        ),
        "questions": ToMany(
            "AssessmentQuestion",
            framework_t.c.id,
            question_t.c.framework_id,
            (question_t.c.position,),
        ),
        "rounds": ToMany(
            "AssessmentRound", framework_t.c.id, round_t.c.framework_id, (round_t.c.key,)
        ),
    },
)
@strawberry.type(
    description="One version of the assessment's questions (questions change by year)."
)
class AssessmentFramework(Node):
    version: str = strawberry.field(description="Version key, e.g. 2024.")
    title: str
    description: str | None
    published_on: date | None

    @strawberry.field(description="Sections in questionnaire order.")
    async def sections(self, info: Info) -> list[AssessmentSection]:
        return await info.context.loaders.load_related(self, "sections")

    @strawberry.field(description="All questions in questionnaire order.")
    async def questions(self, info: Info) -> list[AssessmentQuestion]:
        return await info.context.loaders.load_related(self, "questions")

    @strawberry.field(description="Rounds (runs of the assessment) that used this version.")
    async def rounds(self, info: Info) -> list[AssessmentRound]:
        return await info.context.loaders.load_related(self, "rounds")


@sql_type(
    section_t,
    key=section_t.c.id,
    order_by=(section_t.c.framework_id, section_t.c.position),
    fields={
        "key": Column(section_t.c.key),
        "label": Column(section_t.c.label),
        "position": Column(section_t.c.position),
        "questions": ToMany(
            "AssessmentQuestion", section_t.c.id, question_t.c.section_id, (question_t.c.position,)
        ),
    },
)
@strawberry.type(
    description="A section: a step of 自治体DX全体手順書, a focus area, or respondent info."
)
class AssessmentSection(Node):
    key: str = strawberry.field(description="Stable key, e.g. step0, focus_people.")
    label: str = strawberry.field(
        description="Heading as printed, e.g. Step0：DXの認識共有・機運醸成."
    )
    position: int

    @strawberry.field(description="Questions of the section in questionnaire order.")
    async def questions(self, info: Info) -> list[AssessmentQuestion]:
        return await info.context.loaders.load_related(self, "questions")


@sql_type(
    question_t,
    key=question_t.c.id,
    order_by=(question_t.c.framework_id, question_t.c.position),
    fields={
        "key": Column(question_t.c.key),
        "kind": Column(question_t.c.kind),
        "text": Column(question_t.c.text),
        "position": Column(question_t.c.position),
        "section": ToOne("AssessmentSection", question_t.c.section_id, section_t.c.id),
        "follow_up_of": ToOne("AssessmentQuestion", question_t.c.follow_up_of_id, question_t.c.id),
        "options": ToMany(
            "AssessmentOption", question_t.c.id, option_t.c.question_id, (option_t.c.position,)
        ),
    },
)
@strawberry.type(
    description="A question of the assessment, e.g. 3-4 AI(生成AIを含む)を活用していますか？"
)
class AssessmentQuestion(Node):
    key: str = strawberry.field(description="Question id as printed, e.g. 3-4.")
    kind: QuestionKind  # type: ignore[valid-type]
    text: str
    position: int

    @strawberry.field
    async def section(self, info: Info) -> AssessmentSection:
        return await info.context.loaders.load_related(self, "section")

    @strawberry.field(description="The question this one follows up; asked only after it.")
    async def follow_up_of(self, info: Info) -> AssessmentQuestion | None:
        return await info.context.loaders.load_related(self, "follow_up_of")

    @strawberry.field(
        description="Answer options, in order; empty where the report did not publish them."
    )
    async def options(self, info: Info) -> list[AssessmentOption]:
        return await info.context.loaders.load_related(self, "options")


@sql_type(
    option_t,
    key=option_t.c.id,
    order_by=(option_t.c.question_id, option_t.c.position),
    fields={"label": Column(option_t.c.label), "position": Column(option_t.c.position)},
)
@strawberry.type(description="An answer option of a choice question.")
class AssessmentOption(Node):
    label: str
    position: int


@sql_type(
    round_t,
    key=round_t.c.key,
    order_by=(round_t.c.key,),
    fields={
        "key": Column(round_t.c.key),
        "title": Column(round_t.c.title),
        "opens_on": Column(round_t.c.opens_on),
        "closes_on": Column(round_t.c.closes_on),
        "framework": ToOne("AssessmentFramework", round_t.c.framework_id, framework_t.c.id),
        "rechecks": ToOne("AssessmentRound", round_t.c.rechecks_round_id, round_t.c.id),
    },
)
@strawberry.type(description="One run of the assessment, e.g. 2024-04 (answered April 22 – May 7).")
class AssessmentRound(Node):
    key: str
    title: str
    opens_on: date | None
    closes_on: date | None

    @strawberry.field
    async def framework(self, info: Info) -> AssessmentFramework:
        return await info.context.loaders.load_related(self, "framework")

    @strawberry.field(
        description="再確認 / The round this one re-checks (e.g. 2024-11 re-checks 2024-04): a "
        "response here starts from a copy of the municipality's submission there; null for a "
        "round of its own."
    )
    async def rechecks(self, info: Info) -> AssessmentRound | None:
        return await info.context.loaders.load_related(self, "rechecks")


@sql_type(
    response_t,
    key=response_t.c.id,
    order_by=(response_t.c.round_id, response_t.c.id),
    fields={
        "status": Column(response_t.c.status),
        "version": Column(response_t.c.version),
        "submitted_at": Column(response_t.c.submitted_at),
        "updated_at": Column(response_t.c.updated_at),
        "synthetic": Column(response_t.c.synthetic),
        "round": ToOne("AssessmentRound", response_t.c.round_id, round_t.c.id),
        "municipality": ToOne("Municipality", response_t.c.municipality_id, municipality_t.c.id),
        "answers": ToMany(
            "AssessmentAnswer",
            response_t.c.id,
            answer_t.c.response_id,
            (answer_t.c.question_id,),
        ),
    },
)
@strawberry.type(description="A municipality's answers in one assessment round.")
class AssessmentResponse(Node):
    status: ResponseStatus  # type: ignore[valid-type]
    version: int = strawberry.field(description="Increases with every change (optimistic lock).")
    submitted_at: datetime | None
    updated_at: datetime
    synthetic: bool = strawberry.field(
        description="デモデータ / True for demo data (dxlink seed --demo): invented answers."
    )

    @strawberry.field
    async def round(self, info: Info) -> AssessmentRound:
        return await info.context.loaders.load_related(self, "round")

    @strawberry.field
    async def municipality(
        self, info: Info
    ) -> Annotated[Municipality, strawberry.lazy("schema.geography")]:
        return await info.context.loaders.load_related(self, "municipality")

    @strawberry.field(description="Answers in question order.")
    async def answers(self, info: Info) -> list[AssessmentAnswer]:
        return await info.context.loaders.load_related(self, "answers")


@sql_type(
    answer_t,
    key=answer_t.c.id,
    order_by=(answer_t.c.response_id, answer_t.c.question_id),
    fields={
        "text_value": Column(answer_t.c.text_value),
        "number_value": Column(float_column(answer_t.c.number_value)),
        "synthetic": Column(answer_t.c.synthetic),
        "question": ToOne("AssessmentQuestion", answer_t.c.question_id, question_t.c.id),
        "options": ToMany(
            "AssessmentOption",
            answer_t.c.id,
            chosen_t.c.answer_id,
            (option_t.c.position,),
            through=(chosen_t, chosen_t.c.option_id == option_t.c.id),
        ),
    },
)
@strawberry.type(
    description="回答 / The answer to one question: its chosen options, free text or number."
)
class AssessmentAnswer(Node):
    text_value: str | None = strawberry.field(description="自由記述 / A free-text answer.")
    number_value: float | None = strawberry.field(description="数値 / A number answer.")
    synthetic: bool = strawberry.field(
        description="デモデータ / True for demo data (dxlink seed --demo): an invented answer."
    )

    @strawberry.field
    async def question(self, info: Info) -> AssessmentQuestion:
        return await info.context.loaders.load_related(self, "question")

    @strawberry.field(
        description="選択肢 / The options chosen (a choice question), in the question's order."
    )
    async def options(self, info: Info) -> list[AssessmentOption]:
        return await info.context.loaders.load_related(self, "options")


@strawberry.type(description="Municipalities that chose one option.")
class AnswerCount:
    option: AssessmentOption
    count: int | None = strawberry.field(
        description="Null when withheld: a non-empty group smaller than the threshold."
    )


@strawberry.type(
    description="How many municipalities chose each option of a question in a round "
    "(submitted responses). Outside the prefecture's staff, counts are shown only when every "
    "non-empty group holds at least the threshold (3 by default)."
)
class AnswerDistribution:
    round: str
    question: AssessmentQuestion
    suppressed: bool
    counts: list[AnswerCount]


@strawberry.type(
    description="選択肢別の集計 / Municipalities that chose one option of a question in a round "
    "(submitted responses)."
)
class AssessmentAggregateCount:
    option: str = strawberry.field(description="選択肢 / The option's label, e.g. 大いに期待する.")
    count: int | None = strawberry.field(
        description="団体数 / Municipalities; null when withheld: outside the prefecture's staff, "
        "when a non-empty group is smaller than the threshold (3 by default)."
    )
