"""The compiled read path: a whole GraphQL read operation as one SQL statement.

The statement's single text value *is* the response body, byte for byte what the resolver path
(strawberry + DataLoaders) would send. It is built from the same declarations
(`schema.mapping`) and scoped by the same access policy (`auth.policy`: row conditions and
hidden fields), under the same row-level security, so the two executors cannot disagree about
who sees what; `tests/conftest.py` runs every read query of the suite through both and compares
the bytes.

A statement is compiled for a document, operation and role, and serves every request with
them (`binding`: variables and the principal's ids are bind parameters). What it does not cover
(mutations, introspection, directives, a field without a SQL mapping, a value that fails its
checks) it declines with `NotCompilable` or, at run time, `Decline`, and the request goes to
the ordinary resolvers, unchanged.

Modules: `binding` (arguments, bind parameters, plans), `text` (JSON text in SQL), `objects`
(objects, relations, lists, connections of declared types), `roots` (the root fields).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
)
from sqlalchemy import ColumnElement, Select, Table, and_, case, select
from sqlalchemy.sql import visitors

from auth.principal import Principal
from service.compiler.binding import Context, Decline, Inputs, NotCompilable, Plan, render
from service.compiler.objects import arguments, fields
from service.compiler.roots import ROOT_TABLES, ROOTS
from service.compiler.text import concat, key
from service.settings import Settings

__all__ = ["Decline", "Inputs", "NotCompilable", "Plan", "compile_plan"]


def compile_plan(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any],
    principal: Principal,
    settings: Settings,
) -> Plan:
    """The plan of one statement whose single text column is the response body, built for
    this request and fit for every request of the same role whose values take the same
    decisions (`Plan.serves`); or NotCompilable."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if len(operations) != 1 or operations[0].operation is not OperationType.QUERY:
        declined = NotCompilable("not a single query")
        declined.guards = ()
        raise declined
    operation = operations[0]
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    context = Context(schema, fragments, settings, Inputs(variables, principal))
    query_type = schema.query_type
    assert query_type is not None
    try:
        return _compile(operation, query_type, context)
    except NotCompilable as declined:
        declined.guards = tuple(context.guards)
        raise


def _compile(operation: OperationDefinitionNode, query_type: Any, context: Context) -> Plan:
    parts: list[ColumnElement[Any] | str] = []
    # The tables the answer depends on (a cacheable plan), None once a root declares none.
    depends: frozenset[str] | None = frozenset()
    for node in fields(operation.selection_set, "Query", context):
        name = node.name.value
        if depends is not None and name != "__typename":
            declared = ROOT_TABLES.get(name)
            depends = None if declared is None else depends | declared
        opening = '{"data":' if not parts else ""
        parts.append(opening + key((node.alias or node.name).value, not parts))
        if name == "__typename":
            parts.append('"Query"')
            continue
        if name in ("__schema", "__type"):
            raise NotCompilable("introspection")
        builder = ROOTS.get(name)
        if builder is None:
            raise NotCompilable(f"root field {name}")
        parts.append(builder(node, arguments(node, query_type.fields[name]), context))
    if not parts:
        raise NotCompilable("empty operation")
    parts.append("}}")
    body: ColumnElement[Any] = concat(*parts)
    if context.requirements:
        body = case((and_(*context.requirements), body), else_=None)
    statement = select(body.label("body"))
    plan = render(statement, context)
    if depends is not None:
        plan = dataclasses.replace(plan, tables=_cacheable(statement, depends))
    return plan


def _cacheable(statement: Select[Any], depends: frozenset[str]) -> frozenset[str] | None:
    """The tables a cached answer of ``statement`` depends on: the roots' declared ones and
    those it reads itself; None (not cached) when it reads a table other than public reference
    data, whose rows could differ by principal in ways the cache key does not hold (an expert's
    rows follow their assignments)."""
    # Local import: service.result_cache reads the declarations, which import the compiler.
    from service.result_cache import public_tables

    read = {
        element.name
        for element in visitors.iterate(statement, {"column_collections": False})
        if isinstance(element, Table)
    }
    if not read <= public_tables():
        return None
    return depends | read
