"""Serving a request through the compiled read path (`service.compiler`), or declining it.

Parsing and validation use graphql-core with the schema's own validation rules (cached by the
document's text), so an operation reaches the compiler only if the resolver path would accept
it; anything invalid, or anything the compiler declines, returns None and goes to strawberry.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from functools import lru_cache
from typing import Any

import orjson
import strawberry
from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    parse,
    specified_rules,
    validate,
    visit,
)
from graphql.execution.values import get_variable_values
from starlette.responses import Response
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from auth.principal import Principal
from service.compiler import DriverStatement, NotCompilable, compile_operation, driver_statement
from service.database import Database
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
    def __init__(self, schema: strawberry.Schema, settings: Settings, database: Database) -> None:
        self.schema: GraphQLSchema = schema._schema  # type: ignore[attr-defined]
        self.settings = settings
        self.database = database
        rules = [
            *specified_rules,
            MaybeNullValidationRule,
            OneOfInputValidationRule,
            *getattr(schema, "validation_rules", ()),
        ]
        # Built statements by document, operation, variables and principal, bounded by the
        # size of their SQL; request bodies point at those keys, bounded by their own size.
        self._plans = _Lru(maxsize=_PLANS_BYTES)
        self._bodies = _Lru(maxsize=_BODIES_BYTES)
        self._document = lru_cache(maxsize=1000)(lambda text: self._parse(text, rules))

    def _parse(self, text: str, rules: list[Any]) -> DocumentNode | None:
        try:
            document = parse(text)
        except GraphQLError:
            return None
        if validate(self.schema, document, rules):
            return None
        finder = BadTextFinder()
        visit(document, finder)
        return None if finder.found is not None else document

    async def respond(self, body: bytes, principal: Principal) -> Response | None:
        try:
            statement = self._statement(body, principal)
        except Exception:
            # Whatever the compiled path cannot take (even deeply nested variables that exhaust
            # the recursion limit) goes to the resolvers, which answer it properly.
            logger.debug("resolver path: unexpected input", exc_info=True)
            return None
        if statement is None:
            return None
        sql, args = statement
        try:
            text = await self.database.read_json(principal, current_request_id(), sql, args)
        except Exception:
            logger.exception("compiled statement failed; answering through the resolvers")
            return None
        return Response(
            text.encode(), media_type="application/json", headers={EXECUTOR_HEADER: "compiled"}
        )

    def _statement(self, body: bytes, principal: Principal) -> DriverStatement | None:
        """The statement answering this request body, or None for the resolver path.

        The same body from the same principal always gets the same answer from here: the
        first lookup is by the raw bytes, before any parsing."""
        if len(body) <= _BODY_CACHE_LIMIT:
            key = self._bodies.get((body, principal), None)
            if key is not None:
                statement = self._plans.get(key, _MISSING)
                if statement is not _MISSING:
                    return statement  # type: ignore[no-any-return]
        key, statement = self._parse_and_compile(body, principal)
        if key is not None and len(body) <= _BODY_CACHE_LIMIT:
            self._bodies.put((body, principal), key, weight=len(body))
        return statement

    def _parse_and_compile(
        self, body: bytes, principal: Principal
    ) -> tuple[Any, DriverStatement | None]:
        """The plan key and statement of this body; (None, None) for the resolver path."""
        request = orjson.loads(body)
        if not isinstance(request, dict) or not isinstance(request.get("query"), str):
            return _DECLINED
        variables = request.get("variables")
        operation_name = request.get("operationName")
        if variables is None:
            variables = {}
        if not isinstance(variables, dict) or has_bad_text(variables):
            return _DECLINED
        extensions = request.get("extensions")
        if extensions is not None and not isinstance(extensions, dict):
            return _DECLINED
        if operation_name is not None and not isinstance(operation_name, str):
            return _DECLINED
        document = self._document(request["query"])
        if document is None:
            return _DECLINED
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        chosen = [
            o
            for o in operations
            if operation_name is None or (o.name is not None and o.name.value == operation_name)
        ]
        if len(chosen) != 1:
            return _DECLINED
        coerced = get_variable_values(self.schema, chosen[0].variable_definitions or (), variables)
        if isinstance(coerced, list):  # variable errors: the resolver path words them
            return _DECLINED
        # Building the statement costs far more than running it: keep it per document,
        # operation, variables and principal (SQLAlchemy then reuses its compiled form).
        key = (
            request["query"],
            operation_name,
            orjson.dumps(variables, option=orjson.OPT_SORT_KEYS),
            principal,
        )
        statement = self._plans.get(key, _MISSING)
        if statement is _MISSING:
            try:
                statement = driver_statement(
                    compile_operation(
                        self.schema, document, operation_name, coerced.coerced, principal,
                        self.settings,
                    )
                )  # fmt: skip
            except NotCompilable as reason:
                logger.debug("resolver path: %s", reason)
                statement = None
            self._plans.put(key, statement, weight=1 if statement is None else len(statement[0]))
        return key, statement
