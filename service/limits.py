"""Limits on the shape of an operation, checked in one linear pass before full validation.

Depth alone does not bound a response: `prefectures { municipalities { prefecture {
municipalities ... } } }` multiplies by the list sizes at every level, well under any depth
limit. Nor does the document's size bound the work: fragments that spread each other twice
(`fragment F0 on Query { ...F1 ...F1 }`, `F1 { ...F2 ...F2 }`, ...) make a 300-byte document
expand to millions of fields, and the same field repeated in one selection set makes
graphql-core's OverlappingFieldsCanBeMerged rule quadratic (2,000 repeats: about a second).

So each operation is measured as it would execute, with every fragment spread expanded, but
each fragment is summarised once (memoised by name), so the pass is linear in the document
whatever the expansion. Counts saturate instead of growing without bound. Operations over a
limit are refused with `QUERY_TOO_COMPLEX`, naming the limit, before the (costlier) rules of
the GraphQL specification run at all (`service.documents`).

The limits: depth (introspection fields `__*` not counted, as strawberry's QueryDepthLimiter
did), aliases, how deeply list fields nest, selected fields in all (expanded), and how often one
response key repeats in one selection set.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
)

_CAP = 1 << 40  # counts saturate here: a fragment bomb's expansion needs no exact figure


def _add(a: int, b: int) -> int:
    return min(a + b, _CAP)


def _times(a: int, n: int) -> int:
    return min(a * n, _CAP)


@dataclass(frozen=True)
class Limits:
    max_depth: int
    max_aliases: int
    max_list_nesting: int
    max_fields: int
    max_field_repeats: int


@dataclass
class _Shape:
    """What a selection set costs once every spread in it is expanded."""

    depth: int = 0
    list_nesting: int = 0
    fields: int = 0
    aliases: int = 0
    repeats: int = 0  # the most often one response key appears in one selection set
    # Response keys at this level, with multiplicity (spreads included): for `repeats`.
    keys: Counter[str] = field(default_factory=Counter)

    def merge(self, other: _Shape, times: int = 1) -> None:
        self.depth = max(self.depth, other.depth)
        self.list_nesting = max(self.list_nesting, other.list_nesting)
        self.fields = _add(self.fields, _times(other.fields, times))
        self.aliases = _add(self.aliases, _times(other.aliases, times))
        self.repeats = max(self.repeats, other.repeats)
        for key, count in other.keys.items():
            self.keys[key] = _add(self.keys[key], _times(count, times))


class _Measure:
    def __init__(self, schema: GraphQLSchema, document: DocumentNode) -> None:
        self.schema = schema
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self._memo: dict[str, _Shape] = {}
        self._active: set[str] = set()  # fragment cycles are a validation error of their own

    def fragment(self, name: str) -> _Shape:
        memo = self._memo.get(name)
        if memo is not None:
            return memo
        definition = self.fragments.get(name)
        if definition is None or name in self._active:
            return _Shape()
        self._active.add(name)
        parent = self.schema.get_type(definition.type_condition.name.value)
        shape = self.selection_set(definition.selection_set, parent)
        self._active.discard(name)
        self._memo[name] = shape
        return shape

    def selection_set(self, selection_set: SelectionSetNode | None, parent: Any) -> _Shape:
        """The shape of one selection set of type ``parent`` (None when unknown)."""
        shape = _Shape()
        if selection_set is None:
            return shape
        composite = isinstance(parent, GraphQLObjectType | GraphQLInterfaceType)
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                name = selection.name.value
                shape.fields = _add(shape.fields, 1)
                shape.keys[(selection.alias or selection.name).value] += 1
                if selection.alias is not None:
                    shape.aliases = _add(shape.aliases, 1)
                definition = parent.fields.get(name) if composite else None
                field_type = definition.type if definition is not None else None
                if isinstance(field_type, GraphQLNonNull):
                    field_type = field_type.of_type
                inner = self.selection_set(
                    selection.selection_set,
                    get_named_type(field_type) if field_type is not None else None,
                )
                is_list = isinstance(field_type, GraphQLList)
                counted = not name.startswith("__") and selection.selection_set is not None
                shape.depth = max(shape.depth, inner.depth + 1 if counted else 0)
                shape.list_nesting = max(shape.list_nesting, inner.list_nesting + is_list)
                shape.fields = _add(shape.fields, inner.fields)
                shape.aliases = _add(shape.aliases, inner.aliases)
                shape.repeats = max(shape.repeats, inner.repeats)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                shape.merge(self.selection_set(selection.selection_set, target))
            elif isinstance(selection, FragmentSpreadNode):
                shape.merge(self.fragment(selection.name.value))
        shape.repeats = max(shape.repeats, max(shape.keys.values(), default=0))
        return shape


def _error(node: OperationDefinitionNode, limit: str, found: int, maximum: int, what: str) -> Any:
    name = node.name.value if node.name else "anonymous"
    count = str(found) if found < _CAP else "without bound"
    return GraphQLError(
        f"Operation '{name}' {what.format(found=count, maximum=maximum)} ({limit}): select "
        "less, paginate, or split the operation.",
        node,
        extensions={"code": "QUERY_TOO_COMPLEX", "limit": limit, "maximum": maximum},
    )


def check(schema: GraphQLSchema, document: DocumentNode, limits: Limits) -> list[GraphQLError]:
    """The limit errors of every operation of ``document`` (empty when within the limits)."""
    measure = _Measure(schema, document)
    errors = []
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        shape = measure.selection_set(
            definition.selection_set, schema.get_root_type(definition.operation)
        )
        checks = (
            (
                "maxQueryDepth",
                shape.depth,
                limits.max_depth,
                "nests fields {found} deep; at most {maximum} levels are allowed",
            ),
            (
                "maxAliases",
                shape.aliases,
                limits.max_aliases,
                "uses {found} aliases; at most {maximum} are allowed",
            ),
            (
                "maxListNesting",
                shape.list_nesting,
                limits.max_list_nesting,
                "nests lists {found} deep; at most {maximum} are allowed",
            ),
            (
                "maxFields",
                shape.fields,
                limits.max_fields,
                "selects {found} fields with its fragments expanded; at most {maximum} are allowed",
            ),
            (
                "maxFieldRepeats",
                shape.repeats,
                limits.max_field_repeats,
                "repeats one field {found} times in a selection set; at most {maximum} are allowed",
            ),
        )
        for limit, found, maximum, what in checks:
            if found > maximum:
                errors.append(_error(definition, limit, found, maximum, what))
    return errors
