"""ORM models, one module per aggregate; importing this package registers every table."""

from service.models.access import WriteRule
from service.models.assessment import (
    AssessmentAnswer,
    AssessmentAnswerOption,
    AssessmentFollowUpOption,
    AssessmentFramework,
    AssessmentOption,
    AssessmentQuestion,
    AssessmentResponse,
    AssessmentRound,
    AssessmentRubric,
    AssessmentRubricOption,
    AssessmentRubricSection,
    AssessmentRubricThreshold,
    AssessmentSection,
    QuestionKind,
    ResponseStatus,
)
from service.models.audit import AuditRecord
from service.models.base import Base
from service.models.dispatch import (
    DispatchAssignment,
    DispatchProgramme,
    DispatchRequest,
    DispatchVisit,
    Expert,
    ExpertAvailability,
    RequestStatus,
)
from service.models.geography import Municipality, MunicipalityKind, Prefecture, Region
from service.models.idempotency import IdempotencyKey
from service.models.open_data import (
    Dataset,
    DatasetPublisher,
    DatasetTheme,
    Distribution,
    License,
    StandardDataset,
    StandardDatasetColumn,
)
from service.models.statistics import PublishedStatistic
from service.models.tier import SupportTier, TierAssignment
from service.models.working_group import WorkingGroup, WorkingGroupMembership

__all__ = [
    "AssessmentAnswer",
    "AssessmentAnswerOption",
    "AssessmentFollowUpOption",
    "AssessmentFramework",
    "AssessmentOption",
    "AssessmentQuestion",
    "AssessmentResponse",
    "AssessmentRound",
    "AssessmentRubric",
    "AssessmentRubricOption",
    "AssessmentRubricSection",
    "AssessmentRubricThreshold",
    "AssessmentSection",
    "AuditRecord",
    "Base",
    "Dataset",
    "DatasetPublisher",
    "DatasetTheme",
    "DispatchAssignment",
    "DispatchProgramme",
    "DispatchRequest",
    "DispatchVisit",
    "Distribution",
    "Expert",
    "ExpertAvailability",
    "IdempotencyKey",
    "License",
    "Municipality",
    "MunicipalityKind",
    "Prefecture",
    "PublishedStatistic",
    "QuestionKind",
    "Region",
    "RequestStatus",
    "ResponseStatus",
    "StandardDataset",
    "StandardDatasetColumn",
    "SupportTier",
    "TierAssignment",
    "WorkingGroup",
    "WorkingGroupMembership",
    "WriteRule",
]
