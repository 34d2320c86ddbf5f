"""Serving a request through the compiled read path (`service.compiler`), or declining it.

The HTTP view hands over requests whose document `service.documents` found valid (the same
parse and validation strawberry reads), so an operation reaches the compiler only if the
resolver path would accept it; anything the compiler declines returns None and goes to
strawberry.
"""

from __future__ import annotations

import logging
from collections import Counter, OrderedDict
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLSchema, visit
from graphql.execution.values import get_variable_values
from starlette.responses import Response

from auth.principal import Principal
from service.availability import is_unavailable, unavailable_response
from service.compiler import Decline, Inputs, NotCompilable, Plan, compile_plan
from service.compiler.binding import serves
from service.database import Database, ReadPoolUnavailable
from service.documents import Documents, Prepared
from service.input_guard import BadTextFinder, has_bad_text
from service.live import ChangeHub, Watcher
from service.logging import current_request_id
from service.result_cache import CHANNEL, ResultCache
from service.settings import Settings

logger = logging.getLogger("dxlink.compiled")
EXECUTOR_HEADER = "X-Dxlink-Executor"
CACHE_HEADER = "X-Dxlink-Cache"  # hit or miss, on a cacheable compiled answer


# SQL, arguments, and the tables a cached answer depends on (None: not cached).
DriverStatement = tuple[str, tuple[Any, ...], frozenset[str] | None]
# Bodies up to this size are remembered by their bytes (to their plan's key), up to 8 MiB of
# them; built statements up to 64 MiB of SQL.
BODY_CACHE_LIMIT = 8192
_BODIES_BYTES = 8 << 20
_PLANS_BYTES = 64 << 20


class _Lru:
    """A small least-recently-used map (functools.lru_cache wants hashable arguments only),
    bounded by its entries' total weight (1 each unless told)."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._items: OrderedDict[Any, tuple[Any, int]] = OrderedDict()
        self._weight = 0

    def get(self, key: Any, default: Any) -> Any:
        if key not in self._items:
            return default
        self._items.move_to_end(key)
        return self._items[key][0]

    def put(self, key: Any, value: Any, weight: int = 1) -> None:
        if key in self._items:
            self._weight -= self._items.pop(key)[1]
        self._items[key] = (value, weight)
        self._weight += weight
        while self._weight > self.maxsize and self._items:
            self._weight -= self._items.popitem(last=False)[1][1]


@dataclass(frozen=True)
class _Declined:
    """A variant the compiler declined, for the decisions it had taken: requests that take the
    same go to the resolvers without another attempt."""

    reason: str
    guards: tuple[Any, ...]

    def serves(self, inputs: Inputs) -> bool:
        return serves(self.guards, inputs)


_MAX_VARIANTS = 16  # per document, operation and role

# The only reasons a read goes to the resolvers (the test suite fails on any other): errors,
# which the resolvers word, and introspection, which is strawberry's.
EXPECTED_DECLINES = frozenset(
    {
        "argument error",  # a value fails its check (page size, code, cursor, unknown region)
        "variable errors",  # a variable of the wrong type
        "text PostgreSQL cannot hold",  # NUL or a lone surrogate, refused by name
        "introspection",  # __schema and __type
        "read pool unavailable",  # no connection: the resolvers' own pool may still work
    }
)


class CompiledReads:
    """The compiled path of the HTTP view: plans by document and role, fallbacks counted.

    A plan serves every request of its document, operation and role whose values take the same
    decisions (`service.compiler.binding`); a document has a few variants at most (with or
    without a cursor, by ordering, ...). Request bodies seen before from the same principal go
    straight to their plan and arguments, before any decoding.

    `stats` counts what happened to every request offered: `compiled` (answered here),
    `declined: <reason>` (the resolvers answer it: `NotCompilable`'s reason) and
    `failed: <exception>` (the statement failed in PostgreSQL, a bug: the resolvers answer,
    and the test suite fails on any such count).
    """

    def __init__(
        self, schema: Any, settings: Settings, database: Database, hub: ChangeHub | None = None
    ) -> None:
        self.schema: GraphQLSchema = schema._schema
        self.documents: Documents = schema.documents
        self.settings = settings
        self.database = database
        # Variants by (document, operation, role), bounded by the size of their SQL; request
        # bodies point at a plan and its arguments, bounded by their own size.
        self._plans = _Lru(maxsize=_PLANS_BYTES)
        self._bodies = _Lru(maxsize=_BODIES_BYTES)
        self.stats: Counter[str] = Counter()
        # Aggregate answers kept until their tables change (service/result_cache.py), told of
        # changes by the process's listener.
        self.cache = ResultCache(settings.result_cache_size)
        self.hub = hub
        if hub is not None and self.cache.size > 0:
            hub.watch(Watcher(CHANNEL, self.cache.notified, self.cache.listening))

    async def respond_known(self, body: bytes, principal: Principal) -> Response | None:
        """The answer to a request body seen before from this principal, found by its bytes
        before any decoding or parsing; None when unknown (or known to go to the resolvers)."""
        if len(body) > BODY_CACHE_LIMIT:
            return None
        known = self._bodies.get((body, principal), None)
        if known is None:
            return None
        return await self._run(known, principal)

    async def respond(
        self, body: bytes, payload: dict[str, Any], prepared: Prepared, principal: Principal
    ) -> Response | None:
        """The compiled answer to a decoded request whose document is valid, or None."""
        try:
            statement = await self._statement(payload, prepared, principal)
        except Exception as exc:
            # Whatever the compiler cannot take goes to the resolvers, which answer it properly.
            logger.debug("resolver path: unexpected input", exc_info=True)
            self.stats[f"declined: {type(exc).__name__}"] += 1
            return None
        if statement is None:
            return None
        if len(body) <= BODY_CACHE_LIMIT:
            self._bodies.put((body, principal), statement, weight=len(body))
        return await self._run(statement, principal)

    async def _run(self, statement: DriverStatement, principal: Principal) -> Response | None:
        sql, args, tables = statement
        cache = self.cache
        cached = cache.key(sql, args, principal, tables)
        if cached is None and tables is not None and cache.size > 0 and self.hub is not None:
            self.hub.start()  # bypassed until the listener listens: connect it
        epoch = cache.epoch
        if cached is not None:
            body = cache.get(cached)
            if body is not None:
                self.stats["compiled"] += 1
                return Response(
                    body,
                    media_type="application/json",
                    headers={EXECUTOR_HEADER: "compiled", CACHE_HEADER: "hit"},
                )
        try:
            text = await self.database.read_json(principal, current_request_id(), sql, args)
        except ReadPoolUnavailable as exc:
            # The resolvers' own pool may still work (and words a real outage as 503 itself).
            logger.warning("compiled read declined: %s", exc)
            self.stats["declined: read pool unavailable"] += 1
            return None
        except Exception as exc:
            if is_unavailable(exc):
                # The resolvers could not do better: answer 503 now, without a second wait.
                logger.warning("database unavailable for a compiled read: %s", exc)
                self.stats["unavailable"] += 1
                return unavailable_response()
            logger.exception("compiled statement failed; answering through the resolvers")
            self.stats[f"failed: {type(exc).__name__}"] += 1
            return None
        if text is None:
            # A value the statement checked in the database (a region that does not exist):
            # the resolvers word the error.
            self.stats["declined: argument error"] += 1
            return None
        self.stats["compiled"] += 1
        body = text.encode()
        headers = {EXECUTOR_HEADER: "compiled"}
        if cached is not None:
            cache.put(cached, body, tables or frozenset(), epoch)
            headers[CACHE_HEADER] = "miss"
        return Response(body, media_type="application/json", headers=headers)

    async def _statement(
        self, request: dict[str, Any], prepared: Prepared, principal: Principal
    ) -> DriverStatement | None:
        """The SQL and arguments answering this request; None for the resolver path."""
        variables = request.get("variables") or {}
        operation_name = request.get("operationName")
        document = prepared.document
        operation = prepared.operation(operation_name)
        # Both checked by the view before it offers the request.
        assert document is not None
        assert operation is not None
        if has_bad_text(variables):
            self.stats["declined: text PostgreSQL cannot hold"] += 1
            return None
        finder = BadTextFinder()
        visit(document, finder)
        if finder.found is not None:
            self.stats["declined: text PostgreSQL cannot hold"] += 1
            return None
        coerced = get_variable_values(self.schema, operation.variable_definitions or (), variables)
        if isinstance(coerced, list):  # variable errors: the resolver path words them
            self.stats["declined: variable errors"] += 1
            return None
        inputs = Inputs(coerced.coerced, principal)
        key = (request["query"], operation_name, principal.role)
        variants: list[Plan | _Declined] = self._plans.get(key, None) or []
        variant = next((v for v in variants if v.serves(inputs)), None)
        if variant is None:
            # Milliseconds of CPU for a large operation: on the documents' worker thread, like
            # parsing, so that the event loop goes on serving other requests.
            variant = await self.documents.in_worker(
                self._build, document, operation_name, coerced.coerced, principal
            )
            if variant is None:  # an argument's value failed a check: nothing to keep
                self.stats["declined: argument error"] += 1
                return None
            variants = [*variants[-(_MAX_VARIANTS - 1) :], variant]
            weight = sum(len(v.sql) if isinstance(v, Plan) else 1 for v in variants)
            self._plans.put(key, variants, weight=weight)
        if isinstance(variant, _Declined):
            self.stats[f"declined: {variant.reason}"] += 1
            return None
        try:
            return variant.sql, variant.arguments(inputs), variant.tables
        except Decline:
            self.stats["declined: argument error"] += 1
            return None

    def _build(
        self,
        document: Any,
        operation_name: str | None,
        variables: dict[str, Any],
        principal: Principal,
    ) -> Plan | _Declined | None:
        """The plan for this request, the reason the compiler declines its shape, or None when
        one of its values failed a check (any thread)."""
        try:
            return compile_plan(
                self.schema, document, operation_name, variables, principal, self.settings
            )
        except NotCompilable as reason:
            logger.debug("resolver path: %s", reason)
            if reason.category == "argument error" or reason.guards is None:
                return None
            return _Declined(reason.category, reason.guards)
