"""The assessment framework (versions, sections, questions, options), rounds, and answers.

Questions and options change between years, so every question belongs to one framework version
and old answers keep pointing at the question they answered. Natural keys: a framework's
``version`` and a question's ``key`` within it (``3-4``).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.models.base import (
    Base,
    created_at_column,
    str_enum,
    synthetic_column,
    updated_at_column,
)


class QuestionKind(enum.Enum):
    SINGLE = "single"
    MULTIPLE = "multi"
    TEXT = "text"
    NUMBER = "number"


class ResponseStatus(enum.Enum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    REOPENED = "reopened"


class AssessmentFramework(Base):
    __tablename__ = "assessment_framework"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    published_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class AssessmentSection(Base):
    __tablename__ = "assessment_section"

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(
        ForeignKey("assessment_framework.id", ondelete="CASCADE")
    )
    key: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)

    __table_args__ = (UniqueConstraint("framework_id", "key"),)


class AssessmentQuestion(Base):
    __tablename__ = "assessment_question"

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(
        ForeignKey("assessment_framework.id", ondelete="CASCADE")
    )
    section_id: Mapped[int] = mapped_column(
        ForeignKey("assessment_section.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(10))
    kind: Mapped[QuestionKind] = mapped_column(str_enum(QuestionKind, "question_kind", 10))
    text: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer)
    # A follow-up question is asked only after an answer to this one (0-2 after 0-1 ...).
    follow_up_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("assessment_question.id", ondelete="SET NULL")
    )
    # Submission needs an answer (a follow-up's only when its condition is met).
    required: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)
    # Bounds of a number question's answer, where it has them.
    number_min: Mapped[float | None] = mapped_column(Numeric)
    number_max: Mapped[float | None] = mapped_column(Numeric)

    __table_args__ = (
        UniqueConstraint("framework_id", "key"),
        CheckConstraint("key ~ '^[0-9]+-[0-9]+$'", name="key_format"),
    )


class AssessmentOption(Base):
    __tablename__ = "assessment_option"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("assessment_question.id", ondelete="CASCADE")
    )
    label: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)

    __table_args__ = (UniqueConstraint("question_id", "label"),)


class AssessmentFollowUpOption(Base):
    """An option of the question followed up that opens a follow-up question (0-2 is asked
    when 0-1 is 定義している). A follow-up without such rows opens with any answer."""

    __tablename__ = "assessment_follow_up_option"

    question_id: Mapped[int] = mapped_column(
        ForeignKey("assessment_question.id", ondelete="CASCADE"), primary_key=True
    )
    option_id: Mapped[int] = mapped_column(
        ForeignKey("assessment_option.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class AssessmentRound(Base):
    """One run of the assessment (``2024-04``), or a re-check, on one framework version."""

    __tablename__ = "assessment_round"

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(
        ForeignKey("assessment_framework.id", ondelete="RESTRICT"), index=True
    )
    key: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    opens_on: Mapped[date | None] = mapped_column(Date)
    closes_on: Mapped[date | None] = mapped_column(Date)
    # A re-check round names the round it re-checks: a municipality's response there starts
    # as a copy of its submission to that round (`service/assessments/responses.py`).
    rechecks_round_id: Mapped[int | None] = mapped_column(
        ForeignKey("assessment_round.id", ondelete="RESTRICT")
    )
    # The rubric that scores the round's submitted responses: one of the round's framework
    # (the foreign key names both), or none (not scored).
    rubric_id: Mapped[int | None] = mapped_column(Integer, index=True)
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        CheckConstraint(
            "closes_on IS NULL OR opens_on IS NULL OR closes_on >= opens_on", name="period_ordered"
        ),
        CheckConstraint("rechecks_round_id <> id", name="rechecks_another_round"),
        ForeignKeyConstraint(
            ["rubric_id", "framework_id"],
            ["assessment_rubric.id", "assessment_rubric.framework_id"],
            ondelete="RESTRICT",
        ),
    )


class AssessmentResponse(Base):
    """A municipality's answers in one round; optimistic concurrency through ``version``."""

    __tablename__ = "assessment_response"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("assessment_round.id", ondelete="RESTRICT"))
    municipality_id: Mapped[int] = mapped_column(
        ForeignKey("municipality.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[ResponseStatus] = mapped_column(
        str_enum(ResponseStatus, "response_status", 20),
        default=ResponseStatus.DRAFT,
    )
    version: Mapped[int] = mapped_column(Integer, default=1)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Why the prefecture reopened a submitted response (reopenAssessmentResponse).
    reopened_reason: Mapped[str | None] = mapped_column(Text)
    synthetic: Mapped[bool] = synthetic_column()
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    answers: Mapped[list[AssessmentAnswer]] = relationship(lazy="raise")

    __table_args__ = (UniqueConstraint("round_id", "municipality_id"),)
    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": version}


class AssessmentAnswer(Base):
    __tablename__ = "assessment_answer"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(
        ForeignKey("assessment_response.id", ondelete="CASCADE")
    )
    question_id: Mapped[int] = mapped_column(
        ForeignKey("assessment_question.id", ondelete="RESTRICT"), index=True
    )
    text_value: Mapped[str | None] = mapped_column(Text)
    number_value: Mapped[float | None] = mapped_column(Numeric)
    synthetic: Mapped[bool] = synthetic_column()
    updated_at: Mapped[datetime] = updated_at_column()

    __table_args__ = (UniqueConstraint("response_id", "question_id"),)


class AssessmentAnswerOption(Base):
    """The option(s) chosen in a single- or multiple-choice answer."""

    __tablename__ = "assessment_answer_option"

    answer_id: Mapped[int] = mapped_column(
        ForeignKey("assessment_answer.id", ondelete="CASCADE"), primary_key=True
    )
    option_id: Mapped[int] = mapped_column(
        ForeignKey("assessment_option.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    synthetic: Mapped[bool] = synthetic_column()


class AssessmentRubric(Base):
    """A versioned scoring rubric of one framework version: points per option
    (`AssessmentRubricOption`), weights per section (`AssessmentRubricSection`) and the
    minimum total of each tier (`AssessmentRubricThreshold`). A round names the rubric that
    scores it; scores are computed in SQL (views ``assessment_score*``, migration
    a5b6c7d8e9f0)."""

    __tablename__ = "assessment_rubric"

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(
        ForeignKey("assessment_framework.id", ondelete="RESTRICT")
    )
    version: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    synthetic: Mapped[bool] = synthetic_column()
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        UniqueConstraint("framework_id", "version"),
        # The target of the rounds' (rubric, framework) foreign key.
        UniqueConstraint("id", "framework_id", name="uq_assessment_rubric_id_framework_id"),
    )


class AssessmentRubricSection(Base):
    """A section the rubric scores and its weight: the section's score is the weight times
    the points of the options chosen in it; sections without a row are not scored."""

    __tablename__ = "assessment_rubric_section"

    rubric_id: Mapped[int] = mapped_column(
        ForeignKey("assessment_rubric.id", ondelete="CASCADE"), primary_key=True
    )
    section_id: Mapped[int] = mapped_column(
        ForeignKey("assessment_section.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    weight: Mapped[float] = mapped_column(Numeric(6, 2))

    __table_args__ = (CheckConstraint("weight >= 0", name="weight_not_negative"),)


class AssessmentRubricOption(Base):
    """The points a chosen option earns under the rubric (options without a row earn none)."""

    __tablename__ = "assessment_rubric_option"

    rubric_id: Mapped[int] = mapped_column(
        ForeignKey("assessment_rubric.id", ondelete="CASCADE"), primary_key=True
    )
    option_id: Mapped[int] = mapped_column(
        ForeignKey("assessment_option.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    points: Mapped[float] = mapped_column(Numeric(6, 2))


class AssessmentRubricThreshold(Base):
    """The minimum total for a tier: a score's computed tier is the highest level whose
    minimum it reaches (below every minimum: 1 関与)."""

    __tablename__ = "assessment_rubric_threshold"

    rubric_id: Mapped[int] = mapped_column(
        ForeignKey("assessment_rubric.id", ondelete="CASCADE"), primary_key=True
    )
    level: Mapped[int] = mapped_column(
        SmallInteger, ForeignKey("support_tier.level", ondelete="RESTRICT"), primary_key=True
    )
    minimum_total: Mapped[float] = mapped_column(Numeric(8, 2))
