"""The prefecture's view of the catalog: what is covered, who publishes, what is overdue.

Coverage and publishers per fiscal year are views (migration b9c0d1e2f3a4); a dataset's next
update is due its declared frequency's period after it was last modified
(`vocabulary.FREQUENCIES`), and it is overdue once that day has passed in Japan.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Date, and_, case, cast, false, func, select

from service.models import Dataset, DatasetPublisher, Municipality, Prefecture
from service.models.open_data import DatasetStatus
from service.open_data.vocabulary import FREQUENCIES
from service.pagination import Ordering, SortKey

dataset_t = Dataset.__table__
publisher_t = DatasetPublisher.__table__
municipality_t = Municipality.__table__
prefecture_t = Prefecture.__table__

_PERIOD_DAYS = case(
    {code: f.overdue_after.days for code, f in FREQUENCIES.items() if f.overdue_after},
    value=dataset_t.c.update_frequency,
)


def next_update_due(table: Any = dataset_t) -> Any:
    """The date by which the next update is due (NULL: no schedule, or never modified)."""
    return cast(table.c.modified_on + _PERIOD_DAYS, Date)


def today_in_japan() -> Any:
    return cast(func.timezone("Asia/Tokyo", func.now()), Date)


def overdue(table: Any = dataset_t) -> Any:
    return func.coalesce(next_update_due(table) < today_in_japan(), false())


def overdue_conditions(prefecture_code: Any) -> list[Any]:
    """Published datasets past their next update, of the prefecture's municipalities (or the
    prefecture itself)."""
    prefecture = select(prefecture_t.c.id).where(prefecture_t.c.code == prefecture_code)
    # Two index lookups, as the catalog's publisher filter: an OR of the two was estimated at
    # most of the links (service/open_data/search.py).
    by_municipality = select(publisher_t.c.dataset_id).where(
        publisher_t.c.municipality_id.in_(
            select(municipality_t.c.id).where(municipality_t.c.prefecture_id.in_(prefecture))
        )
    )
    by_prefecture = select(publisher_t.c.dataset_id).where(
        publisher_t.c.prefecture_id.in_(prefecture)
    )
    in_prefecture = dataset_t.c.id.in_(by_municipality.union_all(by_prefecture))
    return [
        and_(dataset_t.c.status == DatasetStatus.PUBLISHED, overdue()),
        in_prefecture,
    ]


# Longest overdue first: the oldest next-update date, then id.
OVERDUE_FIRST = Ordering(
    "datasets:overdue",
    (SortKey(next_update_due()), SortKey(dataset_t.c.id)),
)
