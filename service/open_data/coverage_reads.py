"""Reads of the catalog's coverage on the resolver path (the compiled path builds the same
conditions: service/compiler/catalog.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from schema.mapping import SqlType
from service import reads
from service.database import RequestSession
from service.geography.codes import require_valid_code
from service.models import Municipality, Prefecture
from service.models.views import catalog_coverage, catalog_publishers_by_year

municipality_t = Municipality.__table__
prefecture_t = Prefecture.__table__


def checked_prefecture(value: str) -> str:
    return require_valid_code(value.strip(), "prefecture")


def coverage_conditions(prefecture_code: Any) -> list[Any]:
    return [
        catalog_coverage.c.municipality_id.in_(
            select(municipality_t.c.id).where(
                municipality_t.c.prefecture_id.in_(
                    select(prefecture_t.c.id).where(prefecture_t.c.code == prefecture_code)
                )
            )
        )
    ]


def publishers_conditions(prefecture_code: Any) -> list[Any]:
    return [
        catalog_publishers_by_year.c.prefecture_id.in_(
            select(prefecture_t.c.id).where(prefecture_t.c.code == prefecture_code)
        )
    ]


@dataclass(frozen=True)
class CoverageArguments:
    prefecture: str

    def checked_prefecture(self) -> str:
        return checked_prefecture(self.prefecture)


class CoverageService:
    def __init__(self, db: RequestSession) -> None:
        self.db = db

    async def coverage(self, spec: SqlType, arguments: CoverageArguments) -> list[Any]:
        return await reads.fetch_all(
            self.db, spec, coverage_conditions(arguments.checked_prefecture())
        )

    async def publishers_by_year(self, spec: SqlType, arguments: CoverageArguments) -> list[Any]:
        return await reads.fetch_all(
            self.db, spec, publishers_conditions(arguments.checked_prefecture())
        )
