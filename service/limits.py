"""Validation rule bounding how deeply lists nest in one operation.

Depth alone does not bound a response: `prefectures { municipalities { prefecture {
municipalities ... } } }` multiplies by the list sizes at every level and, well under any depth
limit, builds hundreds of megabytes. Counting nested list fields (fragments included) bounds
the product of page sizes a client can ask for.
"""

from __future__ import annotations

from typing import Any

from graphql import (
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
    ValidationRule,
    get_named_type,
)


def _nesting(
    schema: GraphQLSchema,
    selection_set: SelectionSetNode | None,
    parent: Any,
    fragments: dict[str, FragmentDefinitionNode],
    seen: frozenset[str],
) -> int:
    if selection_set is None or not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        return 0
    deepest = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            field = parent.fields.get(selection.name.value)
            if field is None:
                continue
            field_type = field.type
            if isinstance(field_type, GraphQLNonNull):
                field_type = field_type.of_type
            inner = _nesting(
                schema, selection.selection_set, get_named_type(field_type), fragments, seen
            )
            deepest = max(deepest, inner + isinstance(field_type, GraphQLList))
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            target = schema.get_type(condition.name.value) if condition else parent
            deepest = max(
                deepest, _nesting(schema, selection.selection_set, target, fragments, seen)
            )
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is None or name in seen:
                continue
            target = schema.get_type(fragment.type_condition.name.value)
            deepest = max(
                deepest,
                _nesting(schema, fragment.selection_set, target, fragments, seen | {name}),
            )
    return deepest


def max_list_nesting(maximum: int) -> type[ValidationRule]:
    class MaxListNesting(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            context = self.context
            schema = context.schema
            root = schema.get_root_type(node.operation)
            fragments = {
                d.name.value: d
                for d in context.document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }
            found = _nesting(schema, node.selection_set, root, fragments, frozenset())
            if found > maximum:
                context.report_error(
                    GraphQLError(
                        f"Lists nest {found} deep in this operation; at most {maximum} "
                        "are allowed (paginate, or split the query).",
                        node,
                        extensions={"code": "QUERY_TOO_COMPLEX"},
                    )
                )

    return MaxListNesting
