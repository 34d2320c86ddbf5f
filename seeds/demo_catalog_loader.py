"""Writes the demo catalog (seeds/demo_catalog.py) through the catalog's services, each
dataset as its own municipality's staff (and the partners' approvals as theirs, the
withdrawal as the prefecture's), so the mutations' rules, row-level security and the audit
judge them as they judge the API's. The repository flags every row it inserts ``synthetic``."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker

from auth.principal import Principal, Role
from seeds import demo_catalog
from service.database import RequestSession
from service.models import Municipality, StandardDataset, StandardDatasetColumn
from service.open_data.datasets import DatasetService
from service.open_data.fields import DatasetFields, DistributionFields
from service.open_data.publication import PublicationService
from service.open_data.repository import CatalogRepository
from service.writes import UserErrors

logger = logging.getLogger(__name__)
SUBJECT = "dxlink-seed-demo"
T = TypeVar("T")


class SyntheticCatalogRepository(CatalogRepository):
    """The catalog's repository, flagging what it inserts as demo data."""

    async def insert_dataset(self, values: dict[str, Any]) -> int:
        return await super().insert_dataset({**values, "synthetic": True})

    async def insert_publishers(self, dataset_id: int, publishers: Any) -> None:
        await super().insert_publishers(dataset_id, [{**p, "synthetic": True} for p in publishers])

    async def insert_distribution(self, values: dict[str, Any]) -> int:
        return await super().insert_distribution({**values, "synthetic": True})


async def write_catalog(connection: AsyncConnection, sessionmaker: async_sessionmaker[Any]) -> None:
    names: dict[str, str] = {
        code: name
        for code, name in await connection.execute(select(Municipality.code, Municipality.name))
    }
    standards: dict[str, str] = {
        key: name
        for key, name in await connection.execute(select(StandardDataset.key, StandardDataset.name))
    }
    known: dict[str, list[str]] = {}
    rows = await connection.execute(
        select(StandardDataset.key, StandardDatasetColumn.name)
        .join(
            StandardDatasetColumn, StandardDatasetColumn.standard_dataset_id == StandardDataset.id
        )
        .order_by(StandardDataset.key, StandardDatasetColumn.position)
    )
    for key, column in rows:
        known.setdefault(key, []).append(column)
    municipality_ids: dict[str, int] = {
        code: id_
        for code, id_ in await connection.execute(select(Municipality.code, Municipality.id))
    }
    plan = demo_catalog.build_catalog(names, standards)

    async def as_staff(code: str, write: Callable[[RequestSession], Awaitable[T]]) -> T:
        principal = Principal(
            Role.municipal_staff,
            subject=f"{SUBJECT}-{code}",
            municipality_id=municipality_ids[code],
            municipality_code=code,
        )
        return await _as(sessionmaker, principal, write)

    for n, item in enumerate(plan, 1):

        async def create(db: RequestSession, item: demo_catalog.DemoDataset = item) -> int:
            datasets = DatasetService(db)
            datasets.repository = SyntheticCatalogRepository(db)
            dataset_id = await _rule(
                datasets.create(
                    DatasetFields(
                        identifier=f"{item.lead}-demo-{item.key.lower()}",
                        title=item.title,
                        description=item.description,
                        keywords=item.keywords,
                        themes=item.themes,
                        license=item.license,
                        update_frequency=item.frequency,
                        issued_on=item.issued_on,
                        modified_on=item.modified_on,
                        contact_name=f"{names[item.lead]} デジタル推進課（デモ）",
                        contact_email=f"opendata-{item.lead}@example.jp",
                        landing_page=f"{item.url_stem}/",
                        spatial=[item.lead, *item.partners],
                        standard_dataset=item.standard,
                        joint_publishers=item.partners or None,
                    )
                )
            )
            columns = demo_catalog.columns_for(item.standard, known)
            body = ",".join(columns).encode()
            await _rule(
                datasets.add_distribution(
                    dataset_id,
                    1,
                    DistributionFields(
                        access_url=f"{item.url_stem}/data.csv",
                        download_url=f"{item.url_stem}/data.csv",
                        title=f"{item.title} CSV",
                        media_type="text/csv",
                        format="CSV",
                        byte_size=len(body) * 40,
                        checksum=hashlib.sha256(body).hexdigest(),
                        checksum_algorithm="sha256",
                        columns=columns,
                    ),
                )
            )
            if item.publish:
                await _rule(PublicationService(db).publish(dataset_id, 2))
            return dataset_id

        dataset_id = await as_staff(item.lead, create)
        for partner in item.approved_by:
            await as_staff(
                partner,
                lambda db, d=dataset_id: _rule(PublicationService(db).approve(d, 2)),
            )
        if item.unpublish_reason is not None:
            admin = Principal(Role.prefecture_admin, subject=SUBJECT)
            reason = item.unpublish_reason
            await _as(
                sessionmaker,
                admin,
                lambda db, d=dataset_id, r=reason: _rule(PublicationService(db).unpublish(d, 2, r)),
            )
        if n % 10 == 0 or n == len(plan):
            logger.info("demo: catalog datasets %d/%d", n, len(plan))


async def _as(
    sessionmaker: async_sessionmaker[Any],
    principal: Principal,
    write: Callable[[RequestSession], Awaitable[T]],
) -> T:
    db = RequestSession(sessionmaker, principal, "demo")
    try:
        result = await write(db)
    except BaseException:
        await db.finish(commit=False)
        raise
    await db.finish(commit=True)
    return result


async def _rule(write: Awaitable[T]) -> T:
    try:
        return await write
    except UserErrors as exc:
        raise RuntimeError(
            f"the demo catalog breaks a rule of the mutations: {exc.errors}"
        ) from exc
