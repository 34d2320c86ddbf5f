"""Rules of the geography domain: argument checks, then reads through the repository."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from schema.mapping import SqlType
from service import reads
from service.database import RequestSession
from service.errors import InvalidArgument
from service.geography.codes import require_valid_code
from service.geography.repository import GeographyRepository, municipality_ordering
from service.models import MunicipalityKind
from service.settings import Settings


class GeographyService:
    def __init__(self, db: RequestSession, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.repository = GeographyRepository(db)

    async def municipality_page(
        self,
        spec: SqlType,
        *,
        first: int | None,
        after: str | None,
        region: str | None,
        kind: MunicipalityKind | None,
        search: str | None,
        order_field: str,
        descending: bool,
    ) -> tuple[reads.Page, Callable[[], Awaitable[int]]]:
        if search is not None and len(search) > 100:
            raise InvalidArgument("search", "must be at most 100 characters")
        region_ids = None
        if region is not None:
            region_ids = await self.repository.region_ids(region.strip())
            if not region_ids:
                raise InvalidArgument("region", f"no region is called {region!r}")
        where = self.repository.municipality_filters(
            region_ids=region_ids, kind=kind, search=search
        )
        return await reads.paginate(
            self.db,
            spec,
            where=where,
            ordering=municipality_ordering(order_field, descending),
            first=first,
            after=after,
            default=self.settings.default_page_size,
            maximum=self.settings.max_page_size,
        )

    async def by_code(self, spec: SqlType, code: str) -> Any | None:
        """The municipality or prefecture (``spec``) of a local government code, or None."""
        code = require_valid_code(code.strip())
        return await reads.fetch_one(self.db, spec, [spec.key == code])

    async def all(self, spec: SqlType) -> list[Any]:
        return await reads.fetch_all(self.db, spec)
