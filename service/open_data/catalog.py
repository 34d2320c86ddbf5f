"""Reads of the catalog on the resolver path: the search connection, its facets, one dataset.

Arguments are checked here (`CatalogArguments.checked`) with the helpers the compiled path
calls too (service/compiler/catalog.py), so both refuse the same input with the same words.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import exists, select

from auth import policy
from schema.mapping import SqlType
from service import reads
from service.database import RequestSession
from service.errors import InvalidArgument
from service.geography.codes import require_valid_code
from service.open_data import search
from service.settings import Settings

_MAX_VALUE = 100


def checked_text(argument: str) -> Callable[[str], str]:
    """A filter's text value, stripped and bounded."""

    def check(value: str) -> str:
        value = value.strip()
        if not value or len(value) > _MAX_VALUE:
            raise InvalidArgument(argument, f"must be 1 to {_MAX_VALUE} characters")
        return value

    return check


def checked_publisher(value: str) -> str:
    return require_valid_code(value.strip(), "publisher")


@dataclass(frozen=True)
class CatalogArguments:
    """The arguments of `datasets(...)` as the user gave them (None: not given)."""

    search: str | None = None
    publisher: str | None = None
    region: str | None = None
    theme: str | None = None
    standard_dataset: str | None = None
    format: str | None = None
    license: str | None = None
    modified_since: date | None = None
    order_field: str = "relevance"
    descending: bool = True

    def conditions(self) -> tuple[list[Any], search.Query | None]:
        query = search.parse(self.search) if self.search is not None else None
        where = search.dataset_conditions(
            terms=search.term_values(query) if query else None,
            grams=query.grams if query else None,
            publisher=None if self.publisher is None else checked_publisher(self.publisher),
            region=None if self.region is None else checked_text("region")(self.region),
            theme=None if self.theme is None else checked_text("theme")(self.theme),
            standard_dataset=None
            if self.standard_dataset is None
            else checked_text("standardDataset")(self.standard_dataset),
            format=None if self.format is None else checked_text("format")(self.format),
            license=None if self.license is None else checked_text("license")(self.license),
            modified_since=self.modified_since,
        )
        return where, query


class CatalogService:
    def __init__(self, db: RequestSession, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    async def search(
        self, spec: SqlType, arguments: CatalogArguments, *, first: int | None, after: str | None
    ) -> tuple[reads.Page, Callable[[], Awaitable[int]], Callable[[], Awaitable[Any]]]:
        where, query = arguments.conditions()
        if arguments.region is not None:
            name = arguments.region.strip()
            if not await self.db.scalar(select(exists(search.region_named(name)))):
                raise InvalidArgument("region", f"no region is called {name!r}")
        ordering = search.dataset_ordering(
            arguments.order_field,
            arguments.descending,
            (search.term_values(query), query.whole) if query else None,
        )
        page, count = await reads.paginate(
            self.db,
            spec,
            where=where,
            ordering=ordering,
            first=first,
            after=after,
            default=self.settings.default_page_size,
            maximum=self.settings.max_page_size,
        )

        async def facets() -> dict[str, list[search.FacetCount]]:
            return await self.facets(where)

        return page, count, facets

    async def facets(self, where: list[Any]) -> dict[str, list[search.FacetCount]]:
        """Every facet's counts over the datasets the principal reads that match ``where``."""
        condition = policy.row_condition("Dataset", self.db.principal)
        conditions = [*where, *([] if condition is None else [condition])]
        out: dict[str, list[search.FacetCount]] = {}
        for name in search.FACETS:
            rows = await self.db.all(search.facet(name, search.dataset_t, conditions))
            out[name] = [search.FacetCount(r.value, r.label, r.count) for r in rows]
        return out
