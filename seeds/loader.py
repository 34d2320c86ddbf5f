"""Idempotent loader of the reference data: upsert by natural key, in one transaction.

Running it again changes nothing (no duplicate rows, and rows whose data did not change keep
their ``updated_at``); running it after the CSV files change updates the changed rows only.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Table,
    delete,
    func,
    or_,
    select,
    text,
    true,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from seeds import reference
from service.models import (
    AssessmentFollowUpOption,
    AssessmentFramework,
    AssessmentOption,
    AssessmentQuestion,
    AssessmentRound,
    AssessmentSection,
    DatasetTheme,
    License,
    Municipality,
    MunicipalityKind,
    Prefecture,
    PublishedStatistic,
    QuestionKind,
    Region,
    StandardDataset,
    StandardDatasetColumn,
    SupportTier,
)

logger = logging.getLogger(__name__)
DATA_DIR = Path(__file__).resolve().parent / "data"
_LOCK_KEY = 7_306_440_042  # arbitrary, fixed: "dxlink seeds"


def read_csv(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@dataclass
class SeedReport:
    written: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        return ", ".join(f"{table} {n}" for table, n in self.written.items())


async def upsert(
    conn: AsyncConnection,
    model: type[Any],
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
    report: SeedReport,
) -> dict[tuple[Any, ...], Any]:
    """Insert or update ``rows`` by the natural key ``keys``; return natural key -> primary key.

    Only rows whose values differ are updated, so unchanged rows keep their ``updated_at``.
    """
    table: Table = model.__table__
    if rows:
        statement = insert(table).values(list(rows))
        updated = [c for c in rows[0] if c not in keys]
        changes: dict[str, Any] = {c: statement.excluded[c] for c in updated}
        if "updated_at" in table.c:
            changes["updated_at"] = func.now()
        statement = (
            statement.on_conflict_do_update(
                index_elements=list(keys),
                set_=changes,
                where=or_(*(table.c[c].is_distinct_from(statement.excluded[c]) for c in updated)),
            )
            if updated
            else statement.on_conflict_do_nothing(index_elements=list(keys))
        )
        result = await conn.execute(statement.returning(table.primary_key.columns[0]))
        report.written[table.name] = len(result.all())
    primary = table.primary_key.columns[0]
    found = await conn.execute(select(primary, *(table.c[k] for k in keys)))
    return {tuple(row[1:]): row[0] for row in found}


async def prune(
    conn: AsyncConnection,
    model: type[Any],
    keep: dict[tuple[Any, ...], Any],
    keys: Sequence[str],
    report: SeedReport,
    scope: ColumnElement[bool] | None = None,
) -> None:
    """Delete rows (within ``scope``) whose natural key is no longer in the source data.

    Rows still referenced elsewhere (an option somebody answered) make the seed fail with a
    foreign-key error instead of vanishing silently.
    """
    table: Table = model.__table__
    key = tuple_(*(table.c[k] for k in keys))
    statement = delete(table).where(key.not_in(list(keep)) if keep else true())
    if scope is not None:
        statement = statement.where(scope)
    result = await conn.execute(statement)
    if result.rowcount:
        report.written[f"{table.name} (removed)"] = result.rowcount


async def load_seeds(conn: AsyncConnection) -> SeedReport:
    """Load all reference data on ``conn`` (the caller owns the transaction)."""
    await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    # The owner is held by row-level security outside maintenance (migration e6f7a8b9c0d1).
    await conn.execute(text("SELECT set_config('dxlink.maintenance', 'on', true)"))
    report = SeedReport()
    prefectures = await upsert(conn, Prefecture, [reference.PREFECTURE], ["code"], report)
    prefecture_id = prefectures[(reference.PREFECTURE["code"],)]

    regions = await upsert(
        conn,
        Region,
        [
            {
                "prefecture_id": prefecture_id,
                "name": f"{short}振興局",
                "short_name": short,
                "kana": kana,
                "romaji": romaji,
                "position": i,
            }
            for i, (short, kana, romaji) in enumerate(reference.REGIONS, start=1)
        ],
        ["prefecture_id", "name"],
        report,
    )
    await upsert(
        conn,
        Municipality,
        [
            {
                "code": row["code"],
                "prefecture_id": prefecture_id,
                "region_id": regions[(prefecture_id, f"{row['region']}振興局")],
                "name": row["name"],
                "kana": row["kana"],
                "romaji": row["romaji"],
                "kind": MunicipalityKind(row["kind"]).name,
                "population": int(row["population_2020"]) if row["population_2020"] else None,
                "population_year": reference.POPULATION_YEAR if row["population_2020"] else None,
            }
            for row in read_csv("municipalities.csv")
        ],
        ["code"],
        report,
    )
    await _load_framework(conn, report)
    await upsert(
        conn,
        SupportTier,
        [
            {
                "level": level,
                "name": name,
                "label_en": label,
                "description": description,
                "kpi_target": kpi,
            }
            for level, name, label, description, kpi in reference.TIERS
        ],
        ["level"],
        report,
    )
    statistics = await upsert(
        conn,
        PublishedStatistic,
        [
            {
                "survey": row["survey"],
                "subject": row["question_id"],
                "category": row["option"],
                "value": int(row["count"]),
                "note": row["note"] or None,
                # A figure the report left blank, implied by the others (see its note).
                "derived": row["derived"] == "yes",
                "position": i,
            }
            for i, row in enumerate(read_csv("published_results.csv"), start=1)
        ],
        ["survey", "subject", "category"],
        report,
    )
    await prune(conn, PublishedStatistic, statistics, ["survey", "subject", "category"], report)
    await upsert(
        conn,
        StandardDataset,
        [
            {
                "key": row["id"],
                "number": row["number"],
                "name": row["name"],
                "file_name_convention": row["file_name_convention"] or None,
                "legacy_number": row["legacy_recommended_dataset_no"] or None,
            }
            for row in read_csv("standard_datasets.csv")
        ],
        ["key"],
        report,
    )
    await _load_catalog_reference(conn, report)
    logger.info("seeded reference data; rows written: %s", report or "none (all up to date)")
    return report


async def _load_catalog_reference(conn: AsyncConnection, report: SeedReport) -> None:
    """The configured licenses, the data themes and the standard datasets' columns."""
    licenses = await upsert(
        conn,
        License,
        [
            {"key": row["key"], "name": row["name"], "url": row["url"], "position": i}
            for i, row in enumerate(read_csv("licenses.csv"), start=1)
        ],
        ["key"],
        report,
    )
    await prune(conn, License, licenses, ["key"], report)
    await upsert(
        conn,
        DatasetTheme,
        [
            {"code": r["code"], "name": r["name"], "label_en": r["label_en"], "position": i}
            for i, r in enumerate(read_csv("dataset_themes.csv"), start=1)
        ],
        ["code"],
        report,
    )
    standards = {
        name: id_
        for id_, name in (await conn.execute(select(StandardDataset.id, StandardDataset.name)))
    }
    columns = [
        {
            "standard_dataset_id": standards[row["dataset"]],
            "position": int(row["order"]),
            "name": row["column"],
            "description": row["description"] or None,
            # The current format's header row says nothing of what is required.
            "required": {"Required": True, "Optional": False}.get(row["required"]),
            "format_generation": row["format_generation"],
        }
        for row in read_csv("standard_dataset_columns.csv")
    ]
    kept = await upsert(
        conn, StandardDatasetColumn, columns, ["standard_dataset_id", "name"], report
    )
    await prune(conn, StandardDatasetColumn, kept, ["standard_dataset_id", "name"], report)


async def _load_framework(conn: AsyncConnection, report: SeedReport) -> None:
    frameworks = await upsert(conn, AssessmentFramework, [reference.FRAMEWORK], ["version"], report)
    framework_id = frameworks[(reference.FRAMEWORK["version"],)]
    # Rounds re-checking another after it, so that the other's id is known.
    rounds: dict[tuple[Any, ...], Any] = {}
    written = 0
    for rechecking in (False, True):
        rows = [
            {
                **{k: v for k, v in r.items() if k != "rechecks"},
                "framework_id": framework_id,
                "rechecks_round_id": rounds[(r["rechecks"],)] if rechecking else None,
            }
            for r in reference.ROUNDS
            if (r["rechecks"] is not None) == rechecking
        ]
        rounds = await upsert(conn, AssessmentRound, rows, ["key"], report)
        written += report.written.get("assessment_round", 0) if rows else 0
    report.written["assessment_round"] = written
    questions = read_csv("assessment_questions.csv")
    section_rows: dict[str, dict[str, Any]] = {}
    for row in questions:
        section_rows.setdefault(
            row["section"],
            {
                "framework_id": framework_id,
                "key": row["section"],
                "label": row["section_label"],
                "position": len(section_rows) + 1,
            },
        )
    sections = await upsert(
        conn, AssessmentSection, list(section_rows.values()), ["framework_id", "key"], report
    )

    ids = await upsert(
        conn,
        AssessmentQuestion,
        [
            {
                "framework_id": framework_id,
                "section_id": sections[(framework_id, row["section"])],
                "key": row["question_id"],
                "kind": QuestionKind(row["kind"]).name,
                "text": row["text"],
                "position": position,
                "required": row["question_id"] in reference.REQUIRED,
                "number_min": reference.NUMBER_BOUNDS.get(row["question_id"], (None, None))[0],
                "number_max": reference.NUMBER_BOUNDS.get(row["question_id"], (None, None))[1],
            }
            for position, row in enumerate(questions, start=1)
        ],
        ["framework_id", "key"],
        report,
    )
    # Follow-ups refer to other questions, so they are set once every question has its id.
    table = AssessmentQuestion.__table__
    for child, parent in reference.FOLLOW_UPS.items():
        parent_id = ids[(framework_id, parent)]
        await conn.execute(
            update(table)
            .where(table.c.id == ids[(framework_id, child)])
            .where(table.c.follow_up_of_id.is_distinct_from(parent_id))
            .values(follow_up_of_id=parent_id)
        )
    await upsert(
        conn,
        AssessmentOption,
        [
            {
                "question_id": ids[(framework_id, row["question_id"])],
                "label": label,
                "position": position,
            }
            for row in questions
            if row["published_options"]
            for position, label in enumerate(row["published_options"].split("|"), start=1)
        ],
        ["question_id", "label"],
        report,
    )
    await _follow_up_options(conn, framework_id, ids, report)
    # What the source no longer has goes too: options, then questions, then sections.
    this_framework = table.c.framework_id == framework_id
    in_framework = AssessmentOption.question_id.in_(select(table.c.id).where(this_framework))
    wanted_options = {
        (ids[(framework_id, row["question_id"])], label): None
        for row in questions
        if row["published_options"]
        for label in row["published_options"].split("|")
    }
    await prune(
        conn, AssessmentOption, wanted_options, ["question_id", "label"], report, in_framework
    )
    wanted_questions = {(framework_id, row["question_id"]): None for row in questions}
    await prune(
        conn, AssessmentQuestion, wanted_questions, ["framework_id", "key"], report, this_framework
    )
    await prune(
        conn,
        AssessmentSection,
        {(framework_id, k): None for k in section_rows},
        ["framework_id", "key"],
        report,
        AssessmentSection.framework_id == framework_id,
    )
    await conn.execute(
        update(table)
        .where(this_framework, table.c.follow_up_of_id.is_not(None))
        .where(table.c.key.not_in(list(reference.FOLLOW_UPS)))
        .values(follow_up_of_id=None)
    )


async def _follow_up_options(
    conn: AsyncConnection, framework_id: int, ids: dict[tuple[Any, ...], Any], report: SeedReport
) -> None:
    """The options of a question followed up that open its follow-up (reference.py)."""
    option_t = AssessmentOption.__table__
    options = {
        (row.question_id, row.label): row.id
        for row in await conn.execute(
            select(option_t.c.id, option_t.c.question_id, option_t.c.label)
        )
    }
    wanted = {
        (
            ids[(framework_id, child)],
            options[(ids[(framework_id, reference.FOLLOW_UPS[child])], label)],
        ): None
        for child, labels in reference.FOLLOW_UP_OPTIONS.items()
        for label in labels
    }
    await upsert(
        conn,
        AssessmentFollowUpOption,
        [{"question_id": q, "option_id": o} for q, o in wanted],
        ["question_id", "option_id"],
        report,
    )
    question_t = AssessmentQuestion.__table__
    in_framework = AssessmentFollowUpOption.question_id.in_(
        select(question_t.c.id).where(question_t.c.framework_id == framework_id)
    )
    await prune(
        conn,
        AssessmentFollowUpOption,
        wanted,
        ["question_id", "option_id"],
        report,
        in_framework,
    )
