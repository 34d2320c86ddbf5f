"""Generic reads of declared GraphQL types (`schema.mapping`) through SQLAlchemy Core.

This is the resolver path's repository: the selects it builds come from the same declaration the
compiled path uses. Every select is scoped by the access policy (`auth.policy`) for the request's
principal: rows the principal may not read are filtered out, hidden fields come out NULL. Domain
repositories add their own conditions and orderings on top.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select

from auth import policy
from schema.mapping import SqlType, ToMany, ToOne
from service.database import RequestSession
from service.pagination import Ordering, check_page_size

PARENT = "__parent"
RANK = "__rank"


def _scope(
    db: RequestSession, spec: SqlType
) -> tuple[list[ColumnElement[Any]], list[ColumnElement[bool]]]:
    """The columns and conditions of ``spec`` for the request's principal."""
    principal = db.principal
    columns = spec.select_columns(policy.hidden_fields(spec.name, principal))
    condition = policy.row_condition(spec.name, principal)
    return columns, [] if condition is None else [condition]


def select_type(db: RequestSession, spec: SqlType, *extra: ColumnElement[Any]) -> Select[Any]:
    columns, conditions = _scope(db, spec)
    return select(*columns, *extra).select_from(spec.table).where(*conditions)


async def fetch_all(
    db: RequestSession,
    spec: SqlType,
    where: Sequence[ColumnElement[bool]] = (),
    order_by: Sequence[ColumnElement[Any]] | None = None,
) -> list[Any]:
    statement = select_type(db, spec).where(*where).order_by(*(order_by or spec.order_by))
    return [spec.build(row._mapping) for row in await db.all(statement)]


async def fetch_one(
    db: RequestSession, spec: SqlType, where: Sequence[ColumnElement[bool]]
) -> Any | None:
    rows = await db.all(select_type(db, spec).where(*where).limit(2))
    if len(rows) > 1:
        raise LookupError(f"{spec.name}: more than one row for {where}")
    return spec.build(rows[0]._mapping) if rows else None


async def count(db: RequestSession, spec: SqlType, where: Sequence[ColumnElement[bool]]) -> int:
    _, conditions = _scope(db, spec)
    statement = select(func.count()).select_from(spec.table).where(*conditions, *where)
    return int(await db.scalar(statement))


@dataclass
class Page:
    nodes: list[Any]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool


async def fetch_page(
    db: RequestSession,
    spec: SqlType,
    *,
    where: Sequence[ColumnElement[bool]],
    ordering: Ordering,
    first: int,
    after: str | None,
) -> Page:
    """One page in ``ordering``, starting after the cursor; reads one extra row to know if more."""
    conditions = list(where)
    if after is not None:
        conditions.append(ordering.after(ordering.decode_cursor(after)))
    statement = (
        select_type(db, spec, *ordering.sort_columns())
        .where(*conditions)
        .order_by(*ordering.order_by())
        .limit(first + 1)
    )
    # Even `first: 0` reads one row, to answer hasNextPage truthfully.
    rows = list(await db.all(statement))
    labels = ordering.labels()
    page_rows = rows[:first]
    return Page(
        nodes=[spec.build(row._mapping) for row in page_rows],
        cursors=[ordering.encode_cursor([row._mapping[x] for x in labels]) for row in page_rows],
        has_next_page=len(rows) > first,
        has_previous_page=after is not None,
    )


async def fetch_related(
    db: RequestSession,
    target: SqlType,
    relation: ToOne | ToMany,
    keys: Sequence[Hashable],
    limit: int | None = None,
) -> list[Any]:
    """Batch for a DataLoader: for each key, the related object (ToOne) or list (ToMany).

    ``limit`` keeps the first rows of each parent's list (one statement for all parents).
    """
    wanted = [k for k in set(keys) if k is not None]
    statement = select_type(db, target, relation.remote.label(PARENT)).where(
        relation.remote.in_(wanted)
    )
    if isinstance(relation, ToMany) and relation.through is not None:
        association, on = relation.through
        statement = statement.join_from(target.table, association, on)
    if isinstance(relation, ToOne):
        found: dict[Hashable, Any] = {}
        if wanted and relation.order_by:
            # The first of each parent's rows in that order.
            ranked = statement.add_columns(
                func.row_number()
                .over(partition_by=relation.remote, order_by=relation.order_by)
                .label(RANK)
            ).subquery()
            statement = select(ranked).where(ranked.c[RANK] == 1)
        if wanted:
            for row in await db.all(statement):
                found[row._mapping[PARENT]] = target.build(row._mapping)
        return [found.get(k) for k in keys]
    grouped: dict[Hashable, list[Any]] = defaultdict(list)
    order = relation.order_by or target.order_by
    if wanted and limit is not None:
        ranked = statement.add_columns(
            func.row_number().over(partition_by=relation.remote, order_by=order).label(RANK)
        ).subquery()
        statement = (
            select(ranked).where(ranked.c[RANK] <= limit).order_by(ranked.c[PARENT], ranked.c[RANK])
        )
    elif wanted:
        statement = statement.order_by(relation.remote, *order)
    if wanted:
        for row in await db.all(statement):
            grouped[row._mapping[PARENT]].append(target.build(row._mapping))
    return [grouped.get(k, []) for k in keys]


async def paginate(
    db: RequestSession,
    spec: SqlType,
    *,
    where: Sequence[ColumnElement[bool]],
    ordering: Ordering,
    first: int | None,
    after: str | None,
    default: int,
    maximum: int,
) -> tuple[Page, Callable[[], Awaitable[int]]]:
    """A checked page of a connection, and the count of all its items (run only if asked)."""
    page = await fetch_page(
        db,
        spec,
        where=where,
        ordering=ordering,
        first=check_page_size(first, default=default, maximum=maximum),
        after=after,
    )

    async def count_total() -> int:
        return await count(db, spec, where)

    return page, count_total
