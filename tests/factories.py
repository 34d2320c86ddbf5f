"""Factories: plain async functions that insert one row (as the owner) and return its id."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from service.models import (
    AssessmentAnswer,
    AssessmentAnswerOption,
    AssessmentOption,
    AssessmentQuestion,
    AssessmentResponse,
    AssessmentRound,
    AssessmentRubric,
    AssessmentRubricOption,
    AssessmentRubricSection,
    AssessmentRubricThreshold,
    AssessmentSection,
    AuditRecord,
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
    TierAssignment,
)


def jst_today() -> date:
    return datetime.now(ZoneInfo("Asia/Tokyo")).date()


async def _insert(connection: AsyncConnection, model: Any, values: dict[str, Any]) -> int:
    table = model.__table__
    result = await connection.execute(insert(table).values(**values).returning(table.c.id))
    return int(result.scalar_one())


async def municipality_id(connection: AsyncConnection, code: str) -> int:
    found = await connection.scalar(select(Municipality.id).where(Municipality.code == code))
    assert found is not None, code
    return int(found)


async def create_expert(connection: AsyncConnection, **overrides: Any) -> int:
    values = {
        "name": "専門 太郎",
        "affiliation": "株式会社サンプル",
        "main_job": "ITコンサルタント",
        "themes": ["生成AI", "DX推進計画"],
        "contact": "senmon@example.jp",
        "monthly_capacity": 4,
        **overrides,
    }
    return await _insert(connection, Expert, values)


async def create_assignment(
    connection: AsyncConnection, *, expert_id: int, municipality_id: int, **overrides: Any
) -> int:
    today = jst_today()
    values = {
        "expert_id": expert_id,
        "municipality_id": municipality_id,
        "theme": "生成AI",
        "starts_on": today - timedelta(days=30),
        "ends_on": today + timedelta(days=120),
        "status": "ACTIVE",
        "ended_reason": "n/a",
        **overrides,
    }
    return await _insert(connection, DispatchAssignment, values)


async def create_visit(connection: AsyncConnection, *, assignment_id: int, **overrides: Any) -> int:
    starts = datetime.now(UTC).replace(microsecond=0) - timedelta(days=7)
    values = {
        "assignment_id": assignment_id,
        "starts_at": starts,
        "ends_at": starts + timedelta(hours=2),
        "mode": "ON_SITE",
        "status": "HELD",
        "place": "本庁舎 会議室",
        "theme": "生成AIの業務利用",
        "report": "利用ガイドラインの骨子を確認した。",
        "next_steps": "庁内説明会の資料を準備する。",
        "hours": 2,
        **overrides,
    }
    return await _insert(connection, DispatchVisit, values)


async def create_tier_assignment(
    connection: AsyncConnection, *, municipality_id: int, **overrides: Any
) -> int:
    values = {
        "municipality_id": municipality_id,
        "snapshot_on": date(2024, 11, 30),
        "score": 61.5,
        "computed_level": 2,
        "level": 3,
        "overridden": True,
        "reason": "再確認で体制整備を確認",
        "decided_by": "県DX推進課",
        **overrides,
    }
    return await _insert(connection, TierAssignment, values)


async def create_response(
    connection: AsyncConnection, *, municipality_id: int, **overrides: Any
) -> int:
    round_id = await connection.scalar(
        select(AssessmentRound.id).where(AssessmentRound.key == "2024-04")
    )
    values = {
        "round_id": round_id,
        "municipality_id": municipality_id,
        "status": "SUBMITTED",
        "version": 1,
        **overrides,
    }
    return await _insert(connection, AssessmentResponse, values)


async def create_answer(
    connection: AsyncConnection, *, response_id: int, question_key: str = "7-3", **overrides: Any
) -> int:
    question_id = await connection.scalar(
        select(AssessmentQuestion.id).where(AssessmentQuestion.key == question_key)
    )
    values = {
        "response_id": response_id,
        "question_id": question_id,
        "number_value": 12,
        **overrides,
    }
    return await _insert(connection, AssessmentAnswer, values)


async def create_audit_record(connection: AsyncConnection, **overrides: Any) -> int:
    values = {
        "actor_subject": "admin@pref.wakayama",
        "actor_role": "prefecture_admin",
        "action": "update",
        "entity": "municipality",
        "entity_key": "1",
        "before": {"name": "x"},
        "after": {"name": "y"},
        **overrides,
    }
    return await _insert(connection, AuditRecord, values)


async def create_choice_answer(
    connection: AsyncConnection, *, response_id: int, question_key: str, labels: list[str]
) -> int:
    """An answer choosing the options ``labels`` of question ``question_key``."""
    answer_id = await create_answer(
        connection, response_id=response_id, question_key=question_key, number_value=None
    )
    for label in labels:
        option_id = await connection.scalar(
            select(AssessmentOption.id)
            .join(AssessmentQuestion, AssessmentQuestion.id == AssessmentOption.question_id)
            .where(AssessmentQuestion.key == question_key, AssessmentOption.label == label)
        )
        await connection.execute(
            insert(AssessmentAnswerOption.__table__).values(
                answer_id=answer_id, option_id=option_id
            )
        )
    return answer_id


async def create_open_round(
    connection: AsyncConnection, key: str = "2099-04", **overrides: Any
) -> int:
    """A round of the framework of 2024-04, open from yesterday to a month from today (in
    Japan)."""
    today = datetime.now(ZoneInfo("Asia/Tokyo")).date()
    framework_id = await connection.scalar(
        select(AssessmentRound.framework_id).where(AssessmentRound.key == "2024-04")
    )
    values = {
        "framework_id": framework_id,
        "key": key,
        "title": "2024年度 再確認",
        "opens_on": today - timedelta(days=1),
        "closes_on": today + timedelta(days=30),
        **overrides,
    }
    return await _insert(connection, AssessmentRound, values)


# Answers to every required question of the 2024 framework that are asked (2-3 as 設置する予定は
# ない does not ask 2-4): a response that can be submitted.
COMPLETE = {
    "0-1": ["定義していない"],
    "1-1": ["策定済み"],
    "2-3": ["設置する予定はない"],
    "3-4": ["活用している"],
    "3-9": ["実施する予定はない"],
    "3-12": ["推進している"],
    "4-1": ["大いに期待する"],
    "4-2": ["DXの取り組みの進捗管理", "全てのシステムの共同調達"],
}


async def create_complete_answers(connection: AsyncConnection, *, response_id: int) -> None:
    for key, labels in COMPLETE.items():
        await create_choice_answer(
            connection, response_id=response_id, question_key=key, labels=labels
        )


async def create_dataset(
    connection: AsyncConnection,
    *,
    publishers: list[int],
    identifier: str = "302015-aed",
    **overrides: Any,
) -> int:
    values = {
        "identifier": identifier,
        "title": "AED設置箇所一覧",
        "keywords": ["AED", "防災"],
        "status": "PUBLISHED",
        "license": "PDL-1.0",
        "modified_on": date(2026, 4, 1),
        **overrides,
    }
    dataset_id = await _insert(connection, Dataset, values)
    for municipality in publishers:
        await connection.execute(
            insert(DatasetPublisher.__table__).values(
                dataset_id=dataset_id, municipality_id=municipality
            )
        )
    return dataset_id


async def create_distribution(
    connection: AsyncConnection, *, dataset_id: int, **overrides: Any
) -> int:
    values = {
        "dataset_id": dataset_id,
        "title": "CSV",
        "access_url": "https://example.jp/opendata/aed.csv",
        "media_type": "text/csv",
        "format": "CSV",
        "byte_size": 20480,
        **overrides,
    }
    return await _insert(connection, Distribution, values)


async def create_programme(connection: AsyncConnection, **overrides: Any) -> int:
    """The FY2026 pilot's programme, unless told otherwise."""
    values = {
        "fiscal_year": 2026,
        "name": "デジタル専門人材派遣 (FY2026)",
        "starts_on": date(2026, 6, 1),
        "ends_on": date(2027, 2, 28),
        "themes": ["DX推進計画", "生成AI", "情報システム標準化"],
        "sessions_per_month_target": 4,
        "sessions_per_month_max": 6,
        **overrides,
    }
    return await _insert(connection, DispatchProgramme, values)


async def create_request(
    connection: AsyncConnection, *, programme_id: int, municipality_id: int, **overrides: Any
) -> int:
    values = {
        "programme_id": programme_id,
        "municipality_id": municipality_id,
        "theme": "生成AI",
        "goals": "生成AIの業務利用ガイドラインを策定する",
        "status": "OPEN",
        **overrides,
    }
    return await _insert(connection, DispatchRequest, values)


async def create_availability(
    connection: AsyncConnection, *, expert_id: int, **overrides: Any
) -> int:
    values = {
        "expert_id": expert_id,
        "starts_on": date(2026, 6, 1),
        "ends_on": date(2027, 2, 28),
        "note": "平日夜間・土曜",
        **overrides,
    }
    return await _insert(connection, ExpertAvailability, values)


async def create_rubric(
    connection: AsyncConnection,
    *,
    weights: dict[str, float],
    points: dict[tuple[str, str], float],
    thresholds: dict[int, float],
    round_key: str | None = "2024-04",
    key: str = "test-v1",
    version: str = "1",
) -> int:
    """A rubric of the framework of 2024-04: section key -> weight, (question key, option
    label) -> points, tier level -> minimum total; the round ``round_key`` is scored by it."""
    framework_id = await connection.scalar(
        select(AssessmentRound.framework_id).where(AssessmentRound.key == "2024-04")
    )
    rubric_id = await _insert(
        connection,
        AssessmentRubric,
        {"framework_id": framework_id, "key": key, "version": version, "title": f"採点 {key}"},
    )
    for section_key, weight in weights.items():
        section_id = await connection.scalar(
            select(AssessmentSection.id).where(
                AssessmentSection.framework_id == framework_id, AssessmentSection.key == section_key
            )
        )
        assert section_id is not None, section_key
        await connection.execute(
            insert(AssessmentRubricSection.__table__).values(
                rubric_id=rubric_id, section_id=section_id, weight=weight
            )
        )
    for (question_key, label), value in points.items():
        option_id = await connection.scalar(
            select(AssessmentOption.id)
            .join(AssessmentQuestion, AssessmentQuestion.id == AssessmentOption.question_id)
            .where(
                AssessmentQuestion.framework_id == framework_id,
                AssessmentQuestion.key == question_key,
                AssessmentOption.label == label,
            )
        )
        assert option_id is not None, (question_key, label)
        await connection.execute(
            insert(AssessmentRubricOption.__table__).values(
                rubric_id=rubric_id, option_id=option_id, points=value
            )
        )
    for level, minimum in thresholds.items():
        await connection.execute(
            insert(AssessmentRubricThreshold.__table__).values(
                rubric_id=rubric_id, level=level, minimum_total=minimum
            )
        )
    if round_key is not None:
        await connection.execute(
            update(AssessmentRound.__table__)
            .where(AssessmentRound.key == round_key)
            .values(rubric_id=rubric_id)
        )
    return rubric_id
