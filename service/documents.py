"""GraphQL documents parsed and validated once, off the event loop, for both executors.

A document's text is parsed with hard bounds (length, lexical tokens, comments), measured
against the operation limits (`service.limits`, one linear pass), and only then validated by
the rules of the specification (and strawberry's). The outcome, the document or its errors, is
kept by the text: the compiled path and strawberry's executor read the same entry, so a
document is validated once however it is answered.

Parsing and validating cost about 7 µs per token and more (graphql-core is pure Python):
a first sight of a large document would hold the event loop for tens of milliseconds. So a
document not seen before is prepared on one worker thread; the event loop only waits for it,
and other requests go on (the GIL is handed over every few milliseconds). Identical documents
arriving together share one preparation.

Every error carries a stable `extensions.code`: `DOCUMENT_TOO_LARGE` (a bound of the parser,
with `limit` and `maximum`), `GRAPHQL_PARSE_FAILED`, `QUERY_TOO_COMPLEX` (an operation limit)
or `GRAPHQL_VALIDATION_FAILED`.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    parse,
    specified_rules,
    validate,
)
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from service import limits
from service.settings import Settings

T = TypeVar("T")


@dataclass(frozen=True)
class Prepared:
    """A document ready to execute (``errors`` empty), or why it is refused."""

    document: DocumentNode | None
    errors: tuple[GraphQLError, ...]

    @property
    def ok(self) -> bool:
        return not self.errors

    def operation(self, name: str | None) -> OperationDefinitionNode | None:
        """The operation a request names, as the specification chooses it: the only one when
        no name is given (strawberry would take the first of several)."""
        operations = [
            d
            for d in (self.document.definitions if self.document else ())
            if isinstance(d, OperationDefinitionNode)
        ]
        if name is None:
            return operations[0] if len(operations) == 1 else None
        return next((o for o in operations if o.name and o.name.value == name), None)


def coded(error: GraphQLError, code: str, **extensions: Any) -> GraphQLError:
    """``error`` with ``code`` (and more) in its extensions."""
    return GraphQLError(
        error.message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=error.original_error,
        extensions={**(error.extensions or {}), "code": code, **extensions},
    )


# The parser's own bounds, by the start of its message.
_PARSER_LIMITS = (
    ("Syntax Error: Document contains more than", "tokens", "maxDocumentTokens"),
    ("Syntax Error: Document contains more than", "comments", "maxDocumentComments"),
    ("Syntax Error: Source contains more than", "code points", "maxDocumentLength"),
)


def validation_rules(settings: Settings) -> tuple[type[ASTValidationRule], ...]:
    """The rules of the specification and strawberry's, as strawberry runs them."""
    return (*specified_rules, MaybeNullValidationRule, OneOfInputValidationRule)


class Documents:
    def __init__(self, schema: GraphQLSchema, settings: Settings, cache_size: int = 1000) -> None:
        self.schema = schema
        self.rules = validation_rules(settings)
        self.limits = limits.Limits(
            max_depth=settings.max_query_depth,
            max_aliases=settings.max_aliases,
            max_list_nesting=settings.max_list_nesting,
            max_fields=settings.max_fields,
            max_field_repeats=settings.max_field_repeats,
        )
        self.max_length = settings.max_document_length
        self.max_tokens = settings.max_document_tokens
        self.max_comments = settings.max_document_comments
        self._cache: OrderedDict[str, Prepared] = OrderedDict()
        self._cache_size = cache_size
        self._pending: dict[str, asyncio.Future[Prepared]] = {}
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dxlink-documents")

    def cached(self, text: str) -> Prepared | None:
        found = self._cache.get(text)
        if found is not None:
            self._cache.move_to_end(text)
        return found

    def _keep(self, text: str, prepared: Prepared) -> None:
        self._cache[text] = prepared
        self._cache.move_to_end(text)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    async def prepare(self, text: str) -> Prepared:
        """The prepared document of ``text``: from the cache, or made on the worker thread."""
        found = self.cached(text)
        if found is not None:
            return found
        if len(text) > self.max_length:
            # Refused before anything reads it; not kept (the cache would hold the text).
            return self._too_large("maxDocumentLength", self.max_length, "code points")
        pending = self._pending.get(text)
        if pending is None:
            loop = asyncio.get_running_loop()
            pending = asyncio.ensure_future(loop.run_in_executor(self._worker, self.parse, text))
            self._pending[text] = pending
            pending.add_done_callback(lambda _: self._pending.pop(text, None))
        # A cancelled request must not cancel the preparation others may be waiting for.
        prepared = await asyncio.shield(pending)
        self._keep(text, prepared)
        return prepared

    async def in_worker(self, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)`` on the worker thread: CPU-bound work of a request (compiling
        a new operation) that must not hold the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self._worker, function, *args)

    def prepare_now(self, text: str) -> Prepared:
        """The same, on the calling thread (strawberry's extension, if the entry was evicted)."""
        found = self.cached(text)
        if found is None:
            found = self.parse(text)
            self._keep(text, found)
        return found

    def parse(self, text: str) -> Prepared:
        """Parse, measure and validate ``text`` (any thread; no shared state is touched)."""
        try:
            document = parse(
                text,
                max_source_length=self.max_length,
                max_lexical_tokens=self.max_tokens,
                max_comments=self.max_comments,
            )
        except GraphQLError as error:
            for prefix, unit, limit in _PARSER_LIMITS:
                if error.message.startswith(prefix) and unit in error.message:
                    maximum = {
                        "maxDocumentTokens": self.max_tokens,
                        "maxDocumentComments": self.max_comments,
                        "maxDocumentLength": self.max_length,
                    }[limit]
                    return self._too_large(limit, maximum, unit)
            return Prepared(None, (coded(error, "GRAPHQL_PARSE_FAILED"),))
        too_complex = limits.check(self.schema, document, self.limits)
        if too_complex:
            return Prepared(document, tuple(too_complex))
        errors = validate(self.schema, document, self.rules)
        return Prepared(
            document if not errors else None,
            tuple(coded(e, "GRAPHQL_VALIDATION_FAILED") for e in errors),
        )

    @staticmethod
    def _too_large(limit: str, maximum: int, unit: str) -> Prepared:
        error = GraphQLError(
            f"The document is too large: more than {maximum} {unit} ({limit}).",
            extensions={"code": "DOCUMENT_TOO_LARGE", "limit": limit, "maximum": maximum},
        )
        return Prepared(None, (error,))

    def close(self) -> None:
        self._worker.shutdown(wait=False, cancel_futures=True)


def error_codes(errors: Sequence[GraphQLError]) -> list[str | None]:
    return [(e.extensions or {}).get("code") for e in errors]
