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


def has_bad_text(value: Any) -> bool:
    if isinstance(value, str):
        return not is_storable_text(value)
    if isinstance(value, dict):
        return any(has_bad_text(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(has_bad_text(v) for v in value)
    return False


def _literal_has_nul(node: ValueNode | None) -> bool:
    if isinstance(node, StringValueNode):
        return not is_storable_text(node.value)
    if isinstance(node, ListValueNode):
        return any(_literal_has_nul(v) for v in node.values)
    if isinstance(node, ObjectValueNode):
        return any(_literal_has_nul(f.value) for f in node.fields)
    return False


class BadTextFinder(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: ArgumentNode | VariableDefinitionNode | None = None
        self.name = ""

    def enter_argument(self, node: ArgumentNode, *args: Any) -> None:
        if self.found is None and _literal_has_nul(node.value):
            self.found, self.name = node, node.name.value

    def enter_variable_definition(self, node: VariableDefinitionNode, *args: Any) -> None:
        if self.found is None and _literal_has_nul(node.default_value):
            self.found, self.name = node, node.variable.name.value


class RejectNulCharacters(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        error = None
        for name, value in (context.variables or {}).items():
            if has_bad_text(value):
                error = GraphQLError(
                    f"Invalid variable '${name}': text must not contain NUL (U+0000) characters "
                    "or lone surrogates",
                    extensions={"code": "BAD_USER_INPUT", "argument": name},
                )
                break
        if error is None and context.graphql_document is not None:
            finder = BadTextFinder()
            visit(context.graphql_document, finder)
            if finder.found is not None:
                name = finder.name
                error = GraphQLError(
                    f"Invalid argument '{name}': text must not contain NUL (U+0000) characters "
                    "or lone surrogates",
                    nodes=[finder.found],
                    extensions={"code": "BAD_USER_INPUT", "argument": name},
                )
        if error is not None:
            context.result = ExecutionResult(data=None, errors=[error])
        yield
