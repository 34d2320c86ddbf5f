"""GraphQL types of the assessment framework: versions, sections, questions, options, rounds."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

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
from service.models import AssessmentRubric as RubricModel
from service.models import AssessmentRubricThreshold as ThresholdModel
from service.models import AssessmentSection as SectionModel
from service.models import Municipality as MunicipalityModel
from service.models import QuestionKind as QuestionKindModel
from service.models import ResponseStatus as ResponseStatusModel
from service.models import SupportTier as TierModel
from service.models.views import score as score_v
from service.models.views import score_point as point_v
from service.models.views import section_score as section_score_v

if TYPE_CHECKING:
    from schema.geography import Municipality
    from schema.tiers import Tier

framework_t = FrameworkModel.__table__
section_t = SectionModel.__table__
question_t = QuestionModel.__table__
option_t = OptionModel.__table__
round_t = RoundModel.__table__
response_t = ResponseModel.__table__
answer_t = AnswerModel.__table__
chosen_t = ChosenModel.__table__
rubric_t = RubricModel.__table__
threshold_t = ThresholdModel.__table__
tier_t = TierModel.__table__
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
        "rubric": ToOne("AssessmentRubric", round_t.c.rubric_id, rubric_t.c.id),
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

    @strawberry.field(
        description="採点基準 / The rubric that scores the round's submitted responses; null "
        "when it has none or the viewer may not read rubrics (see docs/ACCESS.md)."
    )
    async def rubric(self, info: Info) -> AssessmentRubric | None:
        return await info.context.loaders.load_related(self, "rubric")


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
        "score": ToOne("AssessmentScore", response_t.c.id, score_v.c.response_id),
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

    @strawberry.field(
        description="採点 / The score under the round's rubric: null before submission, in a "
        "round without a rubric, or where the viewer may not read it (see docs/ACCESS.md)."
    )
    async def score(self, info: Info) -> AssessmentScore | None:
        return await info.context.loaders.load_related(self, "score")


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


@sql_type(
    threshold_t,
    key=threshold_t.c.level,
    node=False,
    order_by=(threshold_t.c.rubric_id, threshold_t.c.level),
    fields={
        "minimum_total": Column(float_column(threshold_t.c.minimum_total)),
        "tier": ToOne("Tier", threshold_t.c.level, tier_t.c.level),
    },
)
@strawberry.type(description="閾値 / The minimum total a score needs for a tier.")
class AssessmentRubricThreshold:
    sql_row: strawberry.Private[Mapping[str, Any]]
    minimum_total: float = strawberry.field(description="最低合計点 / The minimum total.")

    @strawberry.field
    async def tier(self, info: Info) -> Annotated[Tier, strawberry.lazy("schema.tiers")]:
        return await info.context.loaders.load_related(self, "tier")


@sql_type(
    rubric_t,
    key=rubric_t.c.id,
    node=False,
    order_by=(rubric_t.c.key,),
    fields={
        "key": Column(rubric_t.c.key),
        "version": Column(rubric_t.c.version),
        "title": Column(rubric_t.c.title),
        "synthetic": Column(rubric_t.c.synthetic),
        "framework": ToOne("AssessmentFramework", rubric_t.c.framework_id, framework_t.c.id),
        "thresholds": ToMany(
            "AssessmentRubricThreshold",
            rubric_t.c.id,
            threshold_t.c.rubric_id,
            (threshold_t.c.level,),
        ),
    },
)
@strawberry.type(
    description="採点基準 / A versioned scoring rubric of one framework version: points per "
    "option, weights per section, the minimum total of each tier."
)
class AssessmentRubric:
    sql_row: strawberry.Private[Mapping[str, Any]]
    key: str = strawberry.field(description="Stable key, e.g. 2024-v1.")
    version: str = strawberry.field(description="版 / The rubric's version within its framework.")
    title: str
    synthetic: bool = strawberry.field(
        description="デモデータ / True for demo data (dxlink seed --demo): an invented rubric."
    )

    @strawberry.field
    async def framework(self, info: Info) -> AssessmentFramework:
        return await info.context.loaders.load_related(self, "framework")

    @strawberry.field(description="The tiers' minimum totals, by tier level.")
    async def thresholds(self, info: Info) -> list[AssessmentRubricThreshold]:
        return await info.context.loaders.load_related(self, "thresholds")


@sql_type(
    section_score_v,
    key=section_score_v.c.section_id,
    node=False,
    order_by=(section_score_v.c.response_id, section_score_v.c.position),
    fields={
        "key": Column(section_score_v.c.key),
        "title": Column(section_score_v.c.title),
        "weight": Column(float_column(section_score_v.c.weight)),
        "points": Column(float_column(section_score_v.c.points)),
        "max_points": Column(float_column(section_score_v.c.max_points)),
        "score": Column(float_column(section_score_v.c.score)),
        "max_score": Column(float_column(section_score_v.c.max_score)),
    },
)
@strawberry.type(description="分野別の得点 / One scored section: weight x points of its answers.")
class AssessmentSectionScore:
    sql_row: strawberry.Private[Mapping[str, Any]]
    key: str = strawberry.field(description="The section's key, e.g. step0.")
    title: str = strawberry.field(description="The section's heading.")
    weight: float = strawberry.field(description="重み / The rubric's weight of the section.")
    points: float = strawberry.field(description="素点 / Points of the options chosen in it.")
    max_points: float = strawberry.field(description="The most points its questions can earn.")
    score: float = strawberry.field(description="得点 / weight x points.")
    max_score: float = strawberry.field(description="満点 / weight x maxPoints.")


@sql_type(
    point_v,
    key=point_v.c.option_id,
    node=False,
    order_by=(point_v.c.response_id, point_v.c.question_position, point_v.c.option_position),
    fields={
        "points": Column(float_column(point_v.c.points)),
        "question": ToOne("AssessmentQuestion", point_v.c.question_id, question_t.c.id),
        "option": ToOne("AssessmentOption", point_v.c.option_id, option_t.c.id),
    },
)
@strawberry.type(
    description="配点の内訳 / One chosen option the rubric gives points (in a scored section)."
)
class AssessmentScorePoint:
    sql_row: strawberry.Private[Mapping[str, Any]]
    points: float = strawberry.field(description="The option's points (before the weight).")

    @strawberry.field
    async def question(self, info: Info) -> AssessmentQuestion:
        return await info.context.loaders.load_related(self, "question")

    @strawberry.field
    async def option(self, info: Info) -> AssessmentOption:
        return await info.context.loaders.load_related(self, "option")


@sql_type(
    score_v,
    key=score_v.c.response_id,
    node=False,
    order_by=(score_v.c.response_id,),
    fields={
        "total": Column(float_column(score_v.c.total)),
        "max_total": Column(float_column(score_v.c.max_total)),
        "rubric": ToOne("AssessmentRubric", score_v.c.rubric_id, rubric_t.c.id),
        "computed_tier": ToOne("Tier", score_v.c.computed_level, tier_t.c.level),
        "response": ToOne("AssessmentResponse", score_v.c.response_id, response_t.c.id),
        "sections": ToMany(
            "AssessmentSectionScore",
            score_v.c.response_id,
            section_score_v.c.response_id,
            (section_score_v.c.position,),
        ),
        "explanation": ToMany(
            "AssessmentScorePoint",
            score_v.c.response_id,
            point_v.c.response_id,
            (point_v.c.question_position, point_v.c.option_position),
        ),
    },
)
@strawberry.type(
    description="採点結果 / A submitted response's score under its round's rubric, computed in "
    "the database: the total (sum of the sections' scores), each section, and which chosen "
    "options earned which points."
)
class AssessmentScore:
    sql_row: strawberry.Private[Mapping[str, Any]]
    total: float = strawberry.field(description="合計点 / The sum of the sections' scores.")
    max_total: float = strawberry.field(description="満点 / The most the rubric gives.")

    @strawberry.field
    async def rubric(self, info: Info) -> AssessmentRubric:
        return await info.context.loaders.load_related(self, "rubric")

    @strawberry.field(
        description="算定分類 / The tier the total reaches under the rubric's thresholds (the "
        "highest whose minimum it reaches; 1 関与 below every minimum)."
    )
    async def computed_tier(self, info: Info) -> Annotated[Tier, strawberry.lazy("schema.tiers")]:
        return await info.context.loaders.load_related(self, "computed_tier")

    @strawberry.field
    async def response(self, info: Info) -> AssessmentResponse:
        return await info.context.loaders.load_related(self, "response")

    @strawberry.field(description="Scored sections in questionnaire order.")
    async def sections(self, info: Info) -> list[AssessmentSectionScore]:
        return await info.context.loaders.load_related(self, "sections")

    @strawberry.field(description="Chosen options that earned points, in questionnaire order.")
    async def explanation(self, info: Info) -> list[AssessmentScorePoint]:
        return await info.context.loaders.load_related(self, "explanation")
