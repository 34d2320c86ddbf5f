"""SQL of the catalog's writes. Every statement runs as the request's principal under row-level
security: a dataset the principal may not read is not found, and its publishers and
distributions are read exactly where it is."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Row

from auth.principal import Principal, Role
from service.database import RequestSession
from service.models import (
    Dataset,
    DatasetPublisher,
    DatasetTheme,
    Distribution,
    License,
    Municipality,
    Prefecture,
    StandardDataset,
    StandardDatasetColumn,
)
from service.models.open_data import DatasetStatus
from service.writes import Code, UserError, UserErrors

dataset_t = Dataset.__table__
publisher_t = DatasetPublisher.__table__
distribution_t = Distribution.__table__
municipality_t = Municipality.__table__
prefecture_t = Prefecture.__table__
license_t = License.__table__
theme_t = DatasetTheme.__table__
standard_t = StandardDataset.__table__
standard_column_t = StandardDatasetColumn.__table__

# Advisory lock class (int4) of one dataset: its edits, approvals and publication take turns,
# so that two publishers approving at once both see the other's approval (dispatch has
# 73_064_401 and 73_064_402).
_DATASET_LOCK = 73_064_403

# A dataset in publication: its publishers' approvals decide whether it is public.
IN_PUBLICATION = (DatasetStatus.PUBLISHED, DatasetStatus.PENDING_APPROVAL)


@dataclass(frozen=True)
class Publisher:
    """A publisher row: a municipality, or the prefecture."""

    id: int
    municipality_id: int | None
    prefecture_id: int | None
    approved_version: int | None
    position: int

    @property
    def key(self) -> tuple[str, int]:
        if self.municipality_id is not None:
            return ("municipality", self.municipality_id)
        assert self.prefecture_id is not None
        return ("prefecture", self.prefecture_id)


@dataclass(frozen=True)
class DatasetState:
    """A dataset as the principal reads it, with its publishers and distributions' count."""

    row: Row[Any]
    publishers: tuple[Publisher, ...]
    distributions: int
    next_position: int  # of a new distribution: after the others

    @property
    def id(self) -> int:
        return int(self.row.id)

    @property
    def version(self) -> int:
        return int(self.row.version)

    @property
    def status(self) -> DatasetStatus:
        return DatasetStatus(self.row.status)

    @property
    def municipalities(self) -> frozenset[int]:
        """The municipalities whose dataset it is (`Rows.OWN_DATASET`): the lead and the
        publishing municipalities."""
        ids = {p.municipality_id for p in self.publishers} | {self.row.lead_municipality_id}
        return frozenset(i for i in ids if i is not None)

    def own(self, principal: Principal) -> Publisher | None:
        """The principal's own publisher row: its municipality's, or the prefecture's for the
        prefecture's staff; None when it publishes no part of the dataset."""
        for publisher in self.publishers:
            if principal.role is Role.municipal_staff:
                if publisher.municipality_id == principal.municipality_id:
                    return publisher
            elif principal.role is Role.prefecture_admin and publisher.prefecture_id is not None:
                return publisher
        return None


class CatalogRepository:
    def __init__(self, db: RequestSession) -> None:
        self.db = db

    async def lock(self, dataset_id: int) -> None:
        """Serialise the writes of one dataset; its state is read after this statement (a
        statement's snapshot predates the locks it takes)."""
        await self.db.all(select(func.pg_advisory_xact_lock(_DATASET_LOCK, dataset_id)))

    # --- reads ---------------------------------------------------------------------------

    async def state(self, dataset_id: int) -> DatasetState | None:
        of_dataset = distribution_t.c.dataset_id == dataset_t.c.id
        count = select(func.count()).where(of_dataset).scalar_subquery()
        after = func.coalesce(func.max(distribution_t.c.position) + 1, 0)
        rows = await self.db.all(
            select(
                dataset_t,
                count.label("n_distributions"),
                select(after).where(of_dataset).scalar_subquery().label("next_position"),
            ).where(dataset_t.c.id == dataset_id)
        )
        if not rows:
            return None
        publishers = await self.db.all(
            select(
                publisher_t.c.id,
                publisher_t.c.municipality_id,
                publisher_t.c.prefecture_id,
                publisher_t.c.approved_version,
                publisher_t.c.position,
            )
            .where(publisher_t.c.dataset_id == dataset_id)
            .order_by(publisher_t.c.position, publisher_t.c.id)
        )
        row = rows[0]
        return DatasetState(
            row=row,
            publishers=tuple(Publisher(*p) for p in publishers),
            distributions=int(row.n_distributions),
            next_position=int(row.next_position),
        )

    async def municipalities(self, codes: Iterable[str]) -> dict[str, int]:
        wanted = sorted(set(codes))
        if not wanted:
            return {}
        rows = await self.db.all(
            select(municipality_t.c.code, municipality_t.c.id).where(
                municipality_t.c.code.in_(wanted)
            )
        )
        return {code: int(id_) for code, id_ in rows}

    async def prefectures(self, codes: Iterable[str] | None = None) -> dict[str, int]:
        """Prefectures by code (every prefecture when ``codes`` is None)."""
        statement = select(prefecture_t.c.code, prefecture_t.c.id)
        if codes is not None:
            wanted = sorted(set(codes))
            if not wanted:
                return {}
            statement = statement.where(prefecture_t.c.code.in_(wanted))
        return {code: int(id_) for code, id_ in await self.db.all(statement)}

    async def municipality_code(self, municipality_id: int) -> str | None:
        return await self.db.scalar(
            select(municipality_t.c.code).where(municipality_t.c.id == municipality_id)
        )

    async def licenses(self) -> set[str]:
        return {key for (key,) in await self.db.all(select(license_t.c.key))}

    async def themes(self) -> set[str]:
        return {code for (code,) in await self.db.all(select(theme_t.c.code))}

    async def standard_dataset_id(self, key: str) -> int | None:
        return await self.db.scalar(select(standard_t.c.id).where(standard_t.c.key == key))

    async def required_columns(self, standard_dataset_id: int) -> list[str]:
        """The columns the standard dataset requires, in their order."""
        rows = await self.db.all(
            select(standard_column_t.c.name)
            .where(
                standard_column_t.c.standard_dataset_id == standard_dataset_id,
                standard_column_t.c.required.is_(True),
            )
            .order_by(standard_column_t.c.position)
        )
        return [name for (name,) in rows]

    # --- writes --------------------------------------------------------------------------

    async def insert_dataset(self, values: dict[str, Any]) -> int:
        """Insert a dataset, its id taken first: a municipality's staff may not read the row
        before its publisher rows exist (row-level security), so no ``RETURNING``."""
        dataset_id = int(await self.db.scalar(select(func.nextval("dataset_id_seq"))))
        await self.db.rowcount(insert(dataset_t).values(id=dataset_id, **values))
        return dataset_id

    async def insert_publishers(
        self, dataset_id: int, publishers: Sequence[dict[str, Any]]
    ) -> None:
        if publishers:
            rows = [{"municipality_id": None, "prefecture_id": None, **p} for p in publishers]
            await self.db.rowcount(
                insert(publisher_t).values([{"dataset_id": dataset_id, **p} for p in rows])
            )

    async def delete_publishers(self, ids: Sequence[int]) -> None:
        if ids:
            deleted = await self.db.rowcount(delete(publisher_t).where(publisher_t.c.id.in_(ids)))
            if deleted != len(ids):
                raise _forbidden()

    async def update_publisher(self, publisher_id: int, values: dict[str, Any]) -> None:
        changed = await self.db.rowcount(
            update(publisher_t).where(publisher_t.c.id == publisher_id).values(**values)
        )
        if changed != 1:
            raise _forbidden()  # row-level security skipped it

    async def approve(self, publisher_id: int, version: int, subject: str | None) -> None:
        await self.update_publisher(
            publisher_id,
            {"approved_version": version, "approved_at": func.now(), "approved_by": subject},
        )

    async def update_dataset(
        self,
        dataset_id: int,
        values: dict[str, Any],
        *,
        version: int,
        advance: bool,
        field: tuple[str, ...] = ("input", "id"),
    ) -> None:
        """Update the dataset at ``version``, advancing it when ``advance`` (an edit; an
        approval names the version it approves and leaves it).

        When no row changed, say why, as `DispatchRepository.update` does: not there or not
        visible (`NOT_FOUND`), at another version (`STALE`), or skipped by the write policies
        (`FORBIDDEN`)."""
        statement = (
            update(dataset_t)
            .where(dataset_t.c.id == dataset_id, dataset_t.c.version == version)
            .values(**values, updated_at=func.now())
        )
        if advance:
            statement = statement.values(version=dataset_t.c.version + 1)
        if await self.db.all(statement.returning(dataset_t.c.id)):
            return
        found = await self.db.all(select(dataset_t.c.version).where(dataset_t.c.id == dataset_id))
        if not found:
            raise UserErrors([UserError(field, Code.NOT_FOUND, "no such dataset")])
        if found[0][0] != version:
            raise UserErrors(
                [
                    UserError(
                        ("input", "version"), Code.STALE, f"the dataset is at version {found[0][0]}"
                    )
                ]
            )
        raise _forbidden(field)

    async def insert_distribution(self, values: dict[str, Any]) -> int:
        rows = await self.db.all(
            insert(distribution_t).values(**values).returning(distribution_t.c.id)
        )
        return int(rows[0][0])


def _forbidden(field: tuple[str, ...] = ("input", "id")) -> UserErrors:
    return UserErrors([UserError(field, Code.FORBIDDEN, Code.FORBIDDEN.value)])
