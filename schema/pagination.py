"""Relay-style cursor connections shared by every paginated list."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Any, Generic, TypeVar

import strawberry

T = TypeVar("T")


@strawberry.enum(description="Sort direction.")
class OrderDirection(Enum):
    ASC = "asc"
    DESC = "desc"


@strawberry.type(description="Where a page sits in the whole list.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    count_total: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="The nodes of this page, without cursors.")
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]

    @strawberry.field(description="Number of items matching the filters, over all pages.")
    async def total_count(self) -> int:
        # Counted only when asked for: a COUNT over a large filtered list is not free.
        return await self.count_total()

    @classmethod
    def from_page(cls, page: Any, count_total: Callable[[], Awaitable[int]]) -> Connection[T]:
        """From a `service.reads.Page`."""
        return cls.of(
            page.nodes,
            page.cursors,
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            count_total=count_total,
        )

    @classmethod
    def of(
        cls,
        nodes: list[T],
        cursors: list[str],
        *,
        has_next_page: bool,
        has_previous_page: bool,
        count_total: Callable[[], Awaitable[int]],
    ) -> Connection[T]:
        return cls(
            edges=[Edge(cursor=c, node=n) for c, n in zip(cursors, nodes, strict=True)],
            page_info=PageInfo(
                has_next_page=has_next_page,
                has_previous_page=has_previous_page,
                start_cursor=cursors[0] if cursors else None,
                end_cursor=cursors[-1] if cursors else None,
            ),
            count_total=count_total,
        )
