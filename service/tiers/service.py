"""Rules of the tier domain (reference reads so far)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Date, cast, func, select
from sqlalchemy.dialects.postgresql import DOUBLE_PRECISION

from schema.mapping import SqlType
from schema.scalars import float_column
from service import reads
from service.aggregates import anonymise
from service.database import RequestSession
from service.dispatch.service import month_bounds
from service.errors import InvalidArgument
from service.models import PublishedStatistic, Region


@dataclass
class Distribution:
    snapshot_on: date | None
    counts: dict[int, int | None]  # tier level -> municipalities (None: suppressed)
    total: int | None
    suppressed: bool


@dataclass
class KpiFigures:
    municipalities: int
    assessed: int | None  # None: withheld
    in_target: int | None
    share: str | None  # as PostgreSQL writes the float8 (`float_column`)
    suppressed: bool


@dataclass
class Kpi:
    month: str | None  # YYYY-MM
    overall: KpiFigures
    regions: list[tuple[int, KpiFigures]]  # region id, in the regions' order


@dataclass
class Transitions:
    counts: dict[tuple[int, int], int | None]  # (from level, to level) -> municipalities
    suppressed: bool


class TierService:
    def __init__(self, db: RequestSession) -> None:
        self.db = db

    async def tiers(self, spec: SqlType) -> list[Any]:
        return await reads.fetch_all(self.db, spec)

    async def regions(self, spec: SqlType) -> list[Any]:
        return await reads.fetch_all(self.db, spec)

    async def published_statistics(
        self, spec: SqlType, survey: str | None, subject: str | None
    ) -> list[Any]:
        table = PublishedStatistic.__table__
        where = []
        if survey is not None:
            where.append(table.c.survey == survey)
        if subject is not None:
            where.append(table.c.subject == subject)
        return await reads.fetch_all(self.db, spec, where)

    async def distribution(
        self,
        snapshot_on: date | None,
        *,
        exact: bool,
        threshold: int,
        month: str | None = None,
    ) -> Distribution:
        """Municipalities per tier at a snapshot: the one of ``snapshot_on``, the latest within
        ``month`` (`YYYY-MM`; none there: no date, every count zero), or the latest of all.

        Counted over all municipalities whatever the viewer may read row by row (a database
        function does the counting); unless ``exact``, the counts are withheld when a non-empty
        group is smaller than ``threshold``, so that no municipality can be singled out.
        """
        if month is not None:
            if snapshot_on is not None:
                raise InvalidArgument("snapshot", "give either snapshot or snapshotOn, not both")
            first, _ = month_bounds(month, "snapshot")
            snapshot_on = await self.db.scalar(
                select(func.dxlink_latest_tier_snapshot_in(first, type_=Date))
            )
        elif snapshot_on is None:
            snapshot_on = await self.db.scalar(select(func.dxlink_latest_tier_snapshot(type_=Date)))
        counts_of = func.dxlink_tier_counts(cast(snapshot_on, Date)).table_valued(
            "level", "municipalities"
        )
        rows = await self.db.all(select(counts_of.c.level, counts_of.c.municipalities))
        counts = {int(row.level): int(row.municipalities) for row in rows}
        shown = anonymise(counts, exact_for_viewer=exact, threshold=threshold)
        return Distribution(snapshot_on, shown.counts, sum(counts.values()), shown.suppressed)

    async def transitions(
        self, from_month: str, to_month: str, *, exact: bool, threshold: int
    ) -> Transitions:
        """Municipalities per pair of tiers between the snapshots of two months (`YYYY-MM`).

        Every pair of tiers is listed, in order of the first tier then the second; a
        municipality counts when it has a snapshot in both months (its latest in each). Counted
        over all municipalities by a database function; withheld as the distribution is.
        """
        first, _ = month_bounds(from_month, "from")
        second, _ = month_bounds(to_month, "to")
        counts_of = func.dxlink_tier_transitions(first, second).table_valued(
            "from_level", "to_level", "municipalities"
        )
        rows = await self.db.all(
            select(counts_of.c.from_level, counts_of.c.to_level, counts_of.c.municipalities)
        )
        counts = {(int(r.from_level), int(r.to_level)): int(r.municipalities) for r in rows}
        shown = anonymise(counts, exact_for_viewer=exact, threshold=threshold)
        return Transitions(shown.counts, shown.suppressed)

    async def kpi(self, month: str | None, *, exact: bool, threshold: int) -> Kpi:
        """Progress towards the KPI (every municipality in a tier whose ``kpi_target`` is set:
        協働 or 共創) in a month's snapshot (`YYYY-MM`; default the latest snapshot's month),
        each municipality by its latest tier within the month, prefecture-wide and per region.

        Counted over all municipalities by a database function. Unless ``exact``, the
        prefecture-wide figures are withheld when the municipalities in, or outside, the KPI's
        tiers are fewer than ``threshold`` but not none; the regions' figures all together when
        that holds in any region (withholding one region alone, the others and the prefecture's
        total would give it away).
        """
        if month is not None:
            first: date | None = month_bounds(month, "snapshot")[0]
        else:
            latest = await self.db.scalar(select(func.dxlink_latest_tier_snapshot(type_=Date)))
            first = None if latest is None else latest.replace(day=1)
        k = func.dxlink_kpi_by_region(cast(first, Date)).table_valued(
            "region_id", "municipalities", "assessed", "in_target"
        )
        region_t = Region.__table__
        share = float_column(
            cast(k.c.in_target, DOUBLE_PRECISION) / func.nullif(k.c.municipalities, 0)
        )
        rows = await self.db.all(
            select(k.c.region_id, k.c.municipalities, k.c.assessed, k.c.in_target, share)
            .select_from(k.outerjoin(region_t, region_t.c.id == k.c.region_id))
            # The regions' order (prefecture, position), then the id: the positions repeat
            # from one prefecture to the next.
            .order_by(region_t.c.prefecture_id, region_t.c.position, region_t.c.id)
        )

        def small(n: int) -> bool:
            return 0 < n < threshold

        def hidden(group: list[Any]) -> bool:
            return not exact and any(
                small(r.in_target) or small(r.assessed - r.in_target) for r in group
            )

        def figures(row: Any, withheld: bool) -> KpiFigures:
            if withheld:
                return KpiFigures(int(row.municipalities), None, None, None, True)
            return KpiFigures(
                int(row.municipalities), int(row.assessed), int(row.in_target), row[4], False
            )

        overall = [r for r in rows if r.region_id is None]
        regional = [r for r in rows if r.region_id is not None]
        regions_hidden = hidden(regional)
        return Kpi(
            month=None if first is None else first.strftime("%Y-%m"),
            overall=figures(overall[0], hidden(overall)),
            regions=[(int(r.region_id), figures(r, regions_hidden)) for r in regional],
        )
