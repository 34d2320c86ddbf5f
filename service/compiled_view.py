"""Serving a request through the compiled read path (`service.compiler`), or declining it.

The HTTP view hands over requests whose document `service.documents` found valid (the same
parse and validation strawberry reads), so an operation reaches the compiler only if the
resolver path would accept it; anything the compiler declines returns None and goes to
strawberry.
"""

from __future__ import annotations

import logging
from collections import Counter, OrderedDict
from typing import Any

import orjson
from graphql import GraphQLSchema, visit
from graphql.execution.values import get_variable_values
from starlette.responses import Response

from auth.principal import Principal
from service.availability import is_unavailable, unavailable_response
from service.compiler import DriverStatement, NotCompilable, compile_operation, driver_statement
from service.database import Database, ReadPoolUnavailable
from service.documents import Documents, Prepared
from service.input_guard import BadTextFinder, has_bad_text
from service.logging import current_request_id
from service.settings import Settings

logger = logging.getLogger("dxlink.compiled")
EXECUTOR_HEADER = "X-Dxlink-Executor"


_MISSING = object()
_DECLINED: tuple[Any, None] = (None, None)
# Bodies up to this size are remembered by their bytes (to their plan's key), up to 8 MiB of
# them; built statements up to 64 MiB of SQL.
_BODY_CACHE_LIMIT = 8192
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


class CompiledReads:
    """The compiled path of the HTTP view: statements by request body, fallbacks counted.

    `stats` counts what happened to every request offered: `compiled` (answered here),
    `declined: <reason>` (the resolvers answer it: `NotCompilable`'s reason) and
    `failed: <exception>` (the statement failed in PostgreSQL, a bug: the resolvers answer,
    and the test suite fails on any such count).
    """

    def __init__(self, schema: Any, settings: Settings, database: Database) -> None:
        self.schema: GraphQLSchema = schema._schema
        self.documents: Documents = schema.documents
        self.settings = settings
        self.database = database
        # Built statements by document, operation, variables and principal, bounded by the
        # size of their SQL; request bodies point at those keys, bounded by their own size.
        self._plans = _Lru(maxsize=_PLANS_BYTES)
        self._bodies = _Lru(maxsize=_BODIES_BYTES)
        self.stats: Counter[str] = Counter()

    async def respond_known(self, body: bytes, principal: Principal) -> Response | None:
        """The answer to a request body seen before from this principal, found by its bytes
        before any decoding or parsing; None when unknown (or known to go to the resolvers)."""
        if len(body) > _BODY_CACHE_LIMIT:
            return None
        key = self._bodies.get((body, principal), None)
        if key is None:
            return None
        statement = self._plans.get(key, _MISSING)
        if not isinstance(statement, tuple):
            return None  # forgotten, or declined (a str: the reason)
        return await self._run(statement, principal)

    async def respond(
        self, body: bytes, payload: dict[str, Any], prepared: Prepared, principal: Principal
    ) -> Response | None:
        """The compiled answer to a decoded request whose document is valid, or None."""
        try:
            key, statement = await self._plan(payload, prepared, principal)
        except Exception as exc:
            # Whatever the compiler cannot take goes to the resolvers, which answer it properly.
            logger.debug("resolver path: unexpected input", exc_info=True)
            self.stats[f"declined: {type(exc).__name__}"] += 1
            return None
        if key is not None and len(body) <= _BODY_CACHE_LIMIT:
            self._bodies.put((body, principal), key, weight=len(body))
        if statement is None:
            return None
        return await self._run(statement, principal)

    async def _run(self, statement: DriverStatement, principal: Principal) -> Response | None:
        sql, args = statement
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
        self.stats["compiled"] += 1
        return Response(
            text.encode(), media_type="application/json", headers={EXECUTOR_HEADER: "compiled"}
        )

    async def _plan(
        self, request: dict[str, Any], prepared: Prepared, principal: Principal
    ) -> tuple[Any, DriverStatement | None]:
        """The plan key and statement of this request; (key, None) for the resolver path."""
        variables = request.get("variables") or {}
        operation_name = request.get("operationName")
        document = prepared.document
        operation = prepared.operation(operation_name)
        # Both checked by the view before it offers the request.
        assert document is not None
        assert operation is not None
        if has_bad_text(variables):
            self.stats["declined: text PostgreSQL cannot hold"] += 1
            return _DECLINED
        finder = BadTextFinder()
        visit(document, finder)
        if finder.found is not None:
            self.stats["declined: text PostgreSQL cannot hold"] += 1
            return _DECLINED
        coerced = get_variable_values(self.schema, operation.variable_definitions or (), variables)
        if isinstance(coerced, list):  # variable errors: the resolver path words them
            self.stats["declined: variable errors"] += 1
            return _DECLINED
        # Building the statement costs far more than running it: keep it per document,
        # operation, variables and principal (SQLAlchemy then reuses its compiled form).
        key = (
            request["query"],
            operation_name,
            orjson.dumps(variables, option=orjson.OPT_SORT_KEYS),
            principal,
        )
        plan = self._plans.get(key, _MISSING)
        if plan is _MISSING:
            # Milliseconds of CPU for a large operation: on the documents' worker thread, like
            # parsing, so that the event loop goes on serving other requests.
            plan = await self.documents.in_worker(
                self._build, document, operation_name, coerced.coerced, principal
            )
            self._plans.put(key, plan, weight=len(plan[0]) if isinstance(plan, tuple) else 1)
        if isinstance(plan, str):
            self.stats[f"declined: {plan}"] += 1
            return key, None
        return key, plan

    def _build(
        self,
        document: Any,
        operation_name: str | None,
        variables: dict[str, Any],
        principal: Principal,
    ) -> DriverStatement | str:
        """The statement, or the reason the compiler declines (any thread)."""
        try:
            return driver_statement(
                compile_operation(
                    self.schema, document, operation_name, variables, principal, self.settings
                )
            )
        except NotCompilable as reason:
            logger.debug("resolver path: %s", reason)
            return reason.category  # the decline is remembered too, by its reason
