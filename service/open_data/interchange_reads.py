"""Reads of the catalog for the interchange endpoints (DCAT-AP JSON-LD, the CKAN Action API).

A page of datasets is read with everything the two formats show (publishers, distributions,
the standard dataset, the license, theme labels, the names of the areas covered) in a fixed
number of statements, whatever the page size: one for the page, then one batch per relation
(`WHERE ... IN (...)`). Every statement is a select of a declared type built by
`service.reads.select_type`, so it carries the policy's row condition and hidden fields for the
request's principal, and runs in the principal's `RequestSession` (row-level security as
`dxlink_api`), exactly like the GraphQL resolvers' reads.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, literal, or_, select, union_all

from auth import policy
from schema.mapping import KEY, REGISTRY
from schema.node import decode_global_id, encode_global_id
from service import reads
from service.database import RequestSession
from service.errors import InvalidArgument
from service.models import (
    Dataset,
    DatasetPublisher,
    DatasetTheme,
    Distribution,
    License,
    Municipality,
    Prefecture,
    StandardDataset,
)
from service.models.open_data import DatasetStatus

dataset_t = Dataset.__table__
publisher_t = DatasetPublisher.__table__
distribution_t = Distribution.__table__
municipality_t = Municipality.__table__
prefecture_t = Prefecture.__table__
standard_t = StandardDataset.__table__
license_t = License.__table__
theme_t = DatasetTheme.__table__

_CREATED, _UPDATED, _PARENT, _MATCH = "__created_at", "__updated_at", "__dataset_id", "__match"


@dataclass(frozen=True)
class Agent:
    """A publisher: a municipality or a prefecture, named by its 全国地方公共団体コード."""

    code: str
    name: str
    romaji: str | None
    kind: str  # "Municipality" or "Prefecture": the GraphQL type of its global id

    @property
    def global_id(self) -> str:
        return encode_global_id(self.kind, self.code)


@dataclass(frozen=True)
class DistributionRecord:
    global_id: str
    title: str | None
    access_url: str
    download_url: str | None
    media_type: str | None
    format: str | None
    byte_size: int | None
    checksum: str | None
    checksum_algorithm: str | None
    created_at: datetime | None


@dataclass(frozen=True)
class LicenseRecord:
    key: str
    name: str
    url: str


@dataclass(frozen=True)
class StandardRecord:
    key: str
    name: str


@dataclass(frozen=True)
class Label:
    """A code with its Japanese and (where there is one) English name."""

    code: str
    name: str | None  # None: a code the platform does not know
    label_en: str | None = None


@dataclass
class DatasetRecord:
    id: int
    identifier: str
    title: str
    description: str | None
    keywords: list[str]
    status: DatasetStatus
    license_key: str
    update_frequency: str | None
    issued_on: date | None
    modified_on: date | None
    contact_name: str | None
    contact_email: str | None
    contact_url: str | None
    landing_page: str | None
    created_at: datetime | None
    updated_at: datetime | None
    theme_codes: list[str]
    spatial_codes: list[str]
    standard_id: int | None
    license: LicenseRecord | None = None
    standard: StandardRecord | None = None
    themes: list[Label] = field(default_factory=list)
    spatial: list[Label] = field(default_factory=list)
    publishers: list[Agent] = field(default_factory=list)
    distributions: list[DistributionRecord] = field(default_factory=list)

    @property
    def global_id(self) -> str:
        return encode_global_id("Dataset", self.id)


def _spec(name: str) -> Any:
    return REGISTRY[name]


def visible_conditions(db: RequestSession) -> list[ColumnElement[bool]]:
    """The policy's condition on datasets for the request's principal (for counts, facets)."""
    condition = policy.row_condition("Dataset", db.principal)
    return [] if condition is None else [condition]


def _datasets(db: RequestSession) -> Any:
    return reads.select_type(
        db,
        _spec("Dataset"),
        dataset_t.c.created_at.label(_CREATED),
        dataset_t.c.updated_at.label(_UPDATED),
    )


async def page(
    db: RequestSession,
    *,
    where: Sequence[ColumnElement[bool]] = (),
    order_by: Sequence[ColumnElement[Any]],
    limit: int,
    offset: int = 0,
) -> list[DatasetRecord]:
    """The datasets the principal reads that satisfy ``where``, in order, with their relations."""
    statement = _datasets(db).where(*where).order_by(*order_by).limit(limit).offset(offset)
    rows = await db.all(statement)
    return await _complete(db, [_record(row._mapping) for row in rows])


async def count(db: RequestSession, where: Sequence[ColumnElement[bool]] = ()) -> int:
    return await reads.count(db, _spec("Dataset"), where)


async def one(db: RequestSession, key: str) -> DatasetRecord | None:
    """A dataset by its GraphQL global id or its identifier; None when the principal cannot
    read it (or there is none)."""
    conditions = [dataset_t.c.identifier == key]
    dataset_id = _dataset_id(key)
    if dataset_id is not None:
        conditions.append(dataset_t.c.id == dataset_id)
    # Both forms in one statement; an id match wins over an identifier that looks like an id.
    preferred = case((dataset_t.c.identifier == key, 1), else_=0)
    statement = _datasets(db).where(or_(*conditions)).order_by(preferred).limit(1)
    rows = await db.all(statement)
    if not rows:
        return None
    (record,) = await _complete(db, [_record(rows[0]._mapping)])
    return record


def _dataset_id(key: str) -> int | None:
    try:
        spec, value = decode_global_id(key)
    except InvalidArgument:
        return None
    return int(value) if spec.name == "Dataset" else None


async def names(db: RequestSession, *, limit: int | None, offset: int) -> list[str]:
    """Identifiers of the datasets the principal reads, in code-point order."""
    statement = (
        select(dataset_t.c.identifier)
        .where(*visible_conditions(db))
        .order_by(dataset_t.c.identifier.collate("C"))
        .offset(offset)
    )
    if limit is not None:
        statement = statement.limit(limit)
    return [row.identifier for row in await db.all(statement)]


def _record(row: Mapping[str, Any]) -> DatasetRecord:
    return DatasetRecord(
        id=row[KEY],
        identifier=row["identifier"],
        title=row["title"],
        description=row["description"],
        keywords=list(row["keywords"] or []),
        status=row["status"],
        license_key=row["license"],
        update_frequency=row["update_frequency"],
        issued_on=row["issued_on"],
        modified_on=row["modified_on"],
        contact_name=row["contact_name"],
        contact_email=row["contact_email"],
        contact_url=row["contact_url"],
        landing_page=row["landing_page"],
        created_at=row[_CREATED],
        updated_at=row[_UPDATED],
        theme_codes=list(row["themes"] or []),
        spatial_codes=list(row["spatial"] or []),
        standard_id=row[_spec("Dataset").reference_label(dataset_t.c.standard_dataset_id)],
    )


async def _complete(db: RequestSession, records: list[DatasetRecord]) -> list[DatasetRecord]:
    """Attach every relation to ``records``: one statement per relation, none when empty."""
    if not records:
        return records
    ids = [r.id for r in records]
    publishers = await _publishers(db, ids)
    distributions = await _distributions(db, ids)
    standard_ids = {r.standard_id for r in records if r.standard_id is not None}
    standards = await _reference(db, "StandardDataset", standard_t.c.id, standard_ids)
    licenses = await _reference(db, "License", license_t.c.key, {r.license_key for r in records})
    theme_codes = {c for r in records for c in r.theme_codes}
    themes = await _reference(db, "DatasetTheme", theme_t.c.code, theme_codes)
    places = await agents(db, {c for r in records for c in r.spatial_codes})
    for record in records:
        record.publishers = publishers.get(record.id, [])
        record.distributions = distributions.get(record.id, [])
        standard = standards.get(record.standard_id)
        record.standard = (
            None if standard is None else StandardRecord(standard["key"], standard["name"])
        )
        license_ = licenses.get(record.license_key)
        record.license = (
            None
            if license_ is None
            else LicenseRecord(license_["key"], license_["name"], license_["url"])
        )
        record.themes = [
            Label(code, themes[code]["name"], themes[code]["label_en"])
            if code in themes
            else Label(code, None)
            for code in record.theme_codes
        ]
        record.spatial = [
            Label(code, places[code].name, places[code].romaji)
            if code in places
            else Label(code, None)
            for code in record.spatial_codes
        ]
    return records


async def _publishers(db: RequestSession, ids: list[int]) -> dict[int, list[Agent]]:
    """Each dataset's publishers in their order (position, then id): the first one leads."""
    statement = (
        reads.select_type(
            db,
            _spec("DatasetPublisher"),
            publisher_t.c.dataset_id.label(_PARENT),
            func.coalesce(municipality_t.c.code, prefecture_t.c.code).label("__code"),
            func.coalesce(municipality_t.c.name, prefecture_t.c.name).label("__name"),
            func.coalesce(municipality_t.c.romaji, prefecture_t.c.romaji).label("__romaji"),
            case(
                (publisher_t.c.municipality_id.is_not(None), literal("Municipality")),
                else_=literal("Prefecture"),
            ).label("__kind"),
        )
        .outerjoin(municipality_t, municipality_t.c.id == publisher_t.c.municipality_id)
        .outerjoin(prefecture_t, prefecture_t.c.id == publisher_t.c.prefecture_id)
        .where(publisher_t.c.dataset_id.in_(ids))
        .order_by(publisher_t.c.dataset_id, publisher_t.c.position, publisher_t.c.id)
    )
    out: dict[int, list[Agent]] = defaultdict(list)
    for row in await db.all(statement):
        m = row._mapping
        out[m[_PARENT]].append(Agent(m["__code"], m["__name"], m["__romaji"], m["__kind"]))
    return out


async def _distributions(db: RequestSession, ids: list[int]) -> dict[int, list[DistributionRecord]]:
    statement = (
        reads.select_type(
            db,
            _spec("Distribution"),
            distribution_t.c.dataset_id.label(_PARENT),
            distribution_t.c.created_at.label(_CREATED),
        )
        .where(distribution_t.c.dataset_id.in_(ids))
        .order_by(distribution_t.c.dataset_id, distribution_t.c.position, distribution_t.c.id)
    )
    out: dict[int, list[DistributionRecord]] = defaultdict(list)
    for row in await db.all(statement):
        m = row._mapping
        out[m[_PARENT]].append(
            DistributionRecord(
                global_id=encode_global_id("Distribution", m[KEY]),
                title=m["title"],
                access_url=m["access_url"],
                download_url=m["download_url"],
                media_type=m["media_type"],
                format=m["format"],
                byte_size=m["byte_size"],
                checksum=m["checksum"],
                checksum_algorithm=m["checksum_algorithm"],
                created_at=m[_CREATED],
            )
        )
    return out


async def _reference(
    db: RequestSession, type_name: str, column: ColumnElement[Any], values: set[Any]
) -> dict[Any, Mapping[str, Any]]:
    """Rows of a reference type whose ``column`` is one of ``values``, by that value."""
    if not values:
        return {}
    statement = reads.select_type(db, _spec(type_name), column.label(_MATCH)).where(
        column.in_(sorted(values))
    )
    return {row._mapping[_MATCH]: row._mapping for row in await db.all(statement)}


async def agents(db: RequestSession, codes: set[str] | None = None) -> dict[str, Agent]:
    """The municipalities and prefectures of these codes (all of them for None), by code."""
    if codes is not None and not codes:
        return {}
    municipalities = reads.select_type(db, _spec("Municipality")).with_only_columns(
        municipality_t.c.code,
        municipality_t.c.name,
        municipality_t.c.romaji,
        literal("Municipality").label("kind"),
    )
    prefectures = reads.select_type(db, _spec("Prefecture")).with_only_columns(
        prefecture_t.c.code,
        prefecture_t.c.name,
        prefecture_t.c.romaji,
        literal("Prefecture").label("kind"),
    )
    if codes is not None:
        wanted = sorted(codes)
        municipalities = municipalities.where(municipality_t.c.code.in_(wanted))
        prefectures = prefectures.where(prefecture_t.c.code.in_(wanted))
    rows = await db.all(union_all(prefectures, municipalities))
    return {row.code: Agent(row.code, row.name, row.romaji, row.kind) for row in rows}


async def package_counts(db: RequestSession) -> dict[str, int]:
    """How many datasets the principal reads each publisher (by code) publishes or co-publishes."""
    code = func.coalesce(municipality_t.c.code, prefecture_t.c.code)
    publisher_condition = policy.row_condition("DatasetPublisher", db.principal)
    statement = (
        select(code.label("code"), func.count(func.distinct(publisher_t.c.dataset_id)).label("n"))
        .select_from(publisher_t)
        .join(dataset_t, dataset_t.c.id == publisher_t.c.dataset_id)
        .outerjoin(municipality_t, municipality_t.c.id == publisher_t.c.municipality_id)
        .outerjoin(prefecture_t, prefecture_t.c.id == publisher_t.c.prefecture_id)
        .where(
            *visible_conditions(db),
            *([] if publisher_condition is None else [publisher_condition]),
        )
        .group_by(code)
    )
    return {row.code: int(row.n) for row in await db.all(statement)}
