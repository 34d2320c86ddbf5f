"""DataLoaders, created fresh for every request, one per declared relation.

Each batch is one SQL statement for all parents of a list (`service.reads.fetch_related`), so a
nested list costs one statement per level, however many parents the page holds.

A loader's future is shared by every resolver that asks for the same key, and graphql-core
cancels the sibling resolvers of a field whose error nulls their parent. A waiter therefore
awaits its future through `asyncio.shield`: cancelling one waiter must not cancel the future
(the others would receive a `CancelledError`) nor, once all waiters are gone, the batch in the
middle of its statement (strawberry cancels a batch whose futures are all cancelled).
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable, Sequence
from typing import Any

from strawberry.dataloader import DataLoader

from schema.mapping import REGISTRY, SqlType, ToMany, sql_type_of
from service import reads
from service.database import RequestSession


class Loaders:
    def __init__(self, db: RequestSession) -> None:
        self._db = db
        self._by_relation: dict[tuple[str, str, int | None], DataLoader[Hashable, Any]] = {}

    def related(
        self, parent: SqlType, field: str, limit: int | None = None
    ) -> DataLoader[Hashable, Any]:
        loader = self._by_relation.get((parent.name, field, limit))
        if loader is None:
            relation = parent.relation(field)
            target = REGISTRY[relation.target]

            async def batch(keys: Sequence[Hashable]) -> list[Any]:
                return await reads.fetch_related(self._db, target, relation, keys, limit)

            loader = DataLoader(load_fn=batch)
            self._by_relation[(parent.name, field, limit)] = loader
        return loader

    async def load_related(self, obj: Any, field: str, limit: int | None = None) -> Any:
        """The object or list behind relation ``field`` of a declared object (a list: its
        first ``limit`` items)."""
        spec = sql_type_of(obj)
        relation = spec.relation(field)
        key = obj.sql_row[spec.reference_label(relation.local)]
        if key is None:
            return [] if isinstance(relation, ToMany) else None
        return await asyncio.shield(self.related(spec, field, limit).load(key))
