"""SQL of the geography domain: filters and orderings over the declared types."""

from __future__ import annotations

import unicodedata
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select

from service.database import RequestSession
from service.models import Municipality, MunicipalityKind, Region
from service.pagination import Ordering, SortKey

municipality_t = Municipality.__table__
region_t = Region.__table__

_ORDER_KEYS: dict[str, ColumnElement[Any]] = {
    "code": municipality_t.c.code,
    "kana": municipality_t.c.kana,
    # NULL populations sort as the smallest, so they come last in descending order.
    "population": func.coalesce(municipality_t.c.population, -1),
}


def municipality_ordering(field: str, descending: bool) -> Ordering:
    keys = [SortKey(_ORDER_KEYS[field], descending)]
    if field != "code":
        keys.append(SortKey(municipality_t.c.code, descending))
    return Ordering(
        name=f"municipality:{field}:{'desc' if descending else 'asc'}", keys=tuple(keys)
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def like_pattern(text: str) -> str:
    """``text`` anywhere (LIKE ... ESCAPE '\\')."""
    return f"%{_escape_like(text)}%"


def like_prefix(text: str) -> str:
    """``text`` at the start (LIKE ... ESCAPE '\\')."""
    return f"{_escape_like(text)}%"


def normalise_search(text: str) -> str:
    """NFKC (full-width to half-width, etc.) and katakana to hiragana, to match kana readings."""
    folded = unicodedata.normalize("NFKC", text).strip()
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in folded)


def search_condition(pattern: Any, prefix: Any) -> ColumnElement[bool]:
    """Name, kana or romaji containing the search, or a code starting with it (the patterns of
    `like_pattern` and `like_prefix`, as values or bind parameters)."""
    return or_(
        municipality_t.c.name.ilike(pattern, escape="\\"),
        municipality_t.c.kana.ilike(pattern, escape="\\"),
        municipality_t.c.romaji.ilike(pattern, escape="\\"),
        municipality_t.c.code.like(prefix, escape="\\"),
    )


class GeographyRepository:
    def __init__(self, db: RequestSession) -> None:
        self.db = db

    async def region_ids(self, name: str) -> list[int]:
        """Regions called ``name`` (full name 海草振興局 or short name 海草)."""
        statement = select(region_t.c.id).where(
            or_(region_t.c.name == name, region_t.c.short_name == name)
        )
        return [row.id for row in await self.db.all(statement)]

    @staticmethod
    def municipality_filters(
        *, region_ids: list[int] | None, kind: MunicipalityKind | None, search: str | None
    ) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if region_ids is not None:
            conditions.append(municipality_t.c.region_id.in_(region_ids))
        if kind is not None:
            conditions.append(municipality_t.c.kind == kind)
        if search:
            normalised = normalise_search(search)
            conditions.append(search_condition(like_pattern(normalised), like_prefix(normalised)))
        return conditions
