"""Refuse text PostgreSQL cannot hold (NUL, lone surrogates) before a resolver sees it.

Without this check such an argument would reach the database and fail there as an internal
error. The check covers variables, their defaults and literal arguments in the document, and
names the argument or variable at fault.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    ArgumentNode,
    GraphQLError,
    StringValueNode,
    ValueNode,
    VariableDefinitionNode,
    visit,
)
from graphql.language import ListValueNode, ObjectValueNode, Visitor
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult

from service.pagination import is_storable_text


def bad_text_path(value: Any, path: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    """Where in ``value`` (keys and list indexes) the first text PostgreSQL cannot hold is."""
    if isinstance(value, str):
        return None if is_storable_text(value) else path
    items: Any = ()
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    for key, item in items:
        found = bad_text_path(item, (*path, str(key)))
        if found is not None:
            return found
    return None


def has_bad_text(value: Any) -> bool:
    return bad_text_path(value) is not None


def _literal_bad_path(node: ValueNode | None, path: tuple[str, ...]) -> tuple[str, ...] | None:
    if isinstance(node, StringValueNode):
        return None if is_storable_text(node.value) else path
    children: list[tuple[str, ValueNode]] = []
    if isinstance(node, ListValueNode):
        children = [(str(i), v) for i, v in enumerate(node.values)]
    elif isinstance(node, ObjectValueNode):
        children = [(f.name.value, f.value) for f in node.fields]
    for key, child in children:
        found = _literal_bad_path(child, (*path, key))
        if found is not None:
            return found
    return None


class BadTextFinder(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: ArgumentNode | VariableDefinitionNode | None = None
        self.name = ""
        self.path: tuple[str, ...] = ()

    def enter_argument(self, node: ArgumentNode, *args: Any) -> None:
        if self.found is None:
            path = _literal_bad_path(node.value, (node.name.value,))
            if path is not None:
                self.found, self.name, self.path = node, node.name.value, path

    def enter_variable_definition(self, node: VariableDefinitionNode, *args: Any) -> None:
        if self.found is None:
            path = _literal_bad_path(node.default_value, (node.variable.name.value,))
            if path is not None:
                self.found, self.name, self.path = node, node.variable.name.value, path


class RejectNulCharacters(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        error = None
        for name, value in (context.variables or {}).items():
            path = bad_text_path(value, (name,))
            if path is not None:
                error = GraphQLError(
                    f"Invalid variable '${name}'{_at(path)}: text must not contain NUL (U+0000) "
                    "characters or lone surrogates",
                    extensions={"code": "BAD_USER_INPUT", "argument": name, "field": list(path)},
                )
                break
        if error is None and context.graphql_document is not None:
            finder = BadTextFinder()
            visit(context.graphql_document, finder)
            if finder.found is not None:
                name = finder.name
                error = GraphQLError(
                    f"Invalid argument '{name}'{_at(finder.path)}: text must not contain NUL "
                    "(U+0000) characters or lone surrogates",
                    nodes=[finder.found],
                    extensions={
                        "code": "BAD_USER_INPUT",
                        "argument": name,
                        "field": list(finder.path),
                    },
                )
        if error is not None:
            context.result = ExecutionResult(data=None, errors=[error])
        yield


def _at(path: tuple[str, ...]) -> str:
    """ " at 'input.name'" for a value inside an input object or list; nothing at the top."""
    return f" at '{'.'.join(path)}'" if len(path) > 1 else ""
