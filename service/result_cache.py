"""The compiled path's result cache: aggregate reads answered again without recounting.

An aggregate (`tierDistribution`, `kpiProgress`, ...) is counted by a SECURITY DEFINER function
over every row, most of a request's cost; its answer changes only when one of the tables it
reads does. So a compiled response whose root fields all declare the tables they depend on
(`service.compiler.roots.ROOT_TABLES`), and whose statement reads no other table than those and
public reference data, is kept here by its SQL, its arguments and the principal's settings that
row-level security and suppression read (`principal_key`), and served again until one of its
tables changes.

Invalidation:
- across processes, statement-level triggers on every table of `WATCHED_TABLES` (migration
  c6d7e8f9a0b1) NOTIFY `CHANNEL` with the table's name when the writing transaction commits
  (never for one rolled back); the process's listener (`service.live.ChangeHub`) drops the
  entries depending on it;
- in this process, a committed mutation flushes everything before its response is sent
  (`service.graphql`), so a client reading after its own write never sees the old answer.

While the listener is not connected (before it first connects, after a lost connection) the
cache is bypassed, since changes would go unnoticed; it is flushed when the listener connects.
A read that started before an invalidation does not store its answer (`epoch`).
"""

from __future__ import annotations

import logging
from collections import Counter, OrderedDict
from collections.abc import Collection, Hashable
from functools import cache
from typing import Any

from auth.policy import PUBLIC_TYPES
from schema.mapping import REGISTRY

logger = logging.getLogger("dxlink.result_cache")

CHANNEL = "dxlink_table_changed"  # migrations/versions/20261201_c6d7e8f9a0b1_result_cache.py


@cache
def public_tables() -> frozenset[str]:
    """Tables every role reads in full (the policy's reference data): a cached statement may
    read them directly, since no principal's rows differ and their read policy reads no other
    table. (A function: the declarations are registered when `schema` is imported.)"""
    return frozenset(REGISTRY[name].table.name for name in PUBLIC_TYPES)


CacheKey = tuple[Hashable, ...]


def principal_key(principal: Any) -> tuple[str, ...]:
    """What of the principal a cached statement's answer may depend on: the role (suppression,
    row-level security) and its scope (municipality, expert, region, producer), as the read pool
    sets them
    (`service.database.principal_values`). The subject and the request id are left out: no
    policy of a table a cached statement reads consults them (only the idempotency keys' and the
    audit trigger do), so principals of one role and scope share entries."""
    return (
        principal.role.value,
        "" if principal.municipality_id is None else str(principal.municipality_id),
        "" if principal.expert_id is None else str(principal.expert_id),
        "" if principal.region_id is None else str(principal.region_id),
        "" if principal.producer_id is None else str(principal.producer_id),
    )


class ResultCache:
    """Response bodies by statement, arguments and principal; at most ``size`` of them, least
    recently used first out (0: off)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[CacheKey, tuple[bytes, frozenset[str]]] = OrderedDict()
        self._by_table: dict[str, set[CacheKey]] = {}
        self.connected = False  # the listener's state (`listening`)
        self.epoch = 0  # advanced by every invalidation
        self.stats: Counter[str] = Counter()

    def __len__(self) -> int:
        return len(self._entries)

    def key(
        self, sql: str, args: tuple[Any, ...], principal: Any, tables: frozenset[str] | None
    ) -> CacheKey | None:
        """The entry's key for this statement, or None when it is not to be cached (the plan
        declares no tables, the cache is off, or the listener is not connected)."""
        if tables is None or self.size <= 0:
            return None
        if not self.connected:
            self.stats["bypassed"] += 1
            return None
        key = (sql, args, principal_key(principal))
        try:
            hash(key)
        except TypeError:  # an argument asyncpg takes that is not hashable (a list)
            return None
        return key

    def get(self, key: CacheKey) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            self.stats["misses"] += 1
            logger.debug("result cache miss (%d entries)", len(self._entries))
            return None
        self._entries.move_to_end(key)
        self.stats["hits"] += 1
        logger.debug("result cache hit")
        return entry[0]

    def put(self, key: CacheKey, body: bytes, tables: frozenset[str], epoch: int) -> None:
        """Keep ``body``, unless something was invalidated since the read began (``epoch``):
        its answer may predate the change."""
        if epoch != self.epoch or not self.connected:
            return
        self._drop(key)
        self._entries[key] = (body, tables)
        for table in tables:
            self._by_table.setdefault(table, set()).add(key)
        while len(self._entries) > self.size:
            self._drop(next(iter(self._entries)))
            self.stats["evicted"] += 1

    def _drop(self, key: CacheKey) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        for table in entry[1]:
            keys = self._by_table.get(table)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_table[table]

    def invalidate(self, tables: Collection[str]) -> None:
        """Drop every entry depending on one of ``tables``."""
        self.epoch += 1
        dropped = 0
        for table in tables:
            for key in list(self._by_table.get(table, ())):
                self._drop(key)
                dropped += 1
        self.stats["invalidated"] += dropped
        logger.debug("result cache: %s changed, %d entries dropped", ",".join(tables), dropped)

    def flush(self) -> None:
        """Drop everything (a committed mutation of this process, a listener (re)connected)."""
        self.epoch += 1
        self.stats["flushed"] += len(self._entries)
        self._entries.clear()
        self._by_table.clear()

    # The listener's callbacks (`service.live.ChangeHub.watch`).

    def notified(self, payload: str) -> None:
        self.invalidate((payload,))

    def listening(self, connected: bool) -> None:
        """The listener connected (flush: changes may have been missed) or lost its
        connection (bypass until it is back)."""
        self.flush()
        self.connected = connected
        if connected:
            self.stats["listener connected"] += 1
        logger.info("result cache %s", "in use" if connected else "bypassed: no listener")
