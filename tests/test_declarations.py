"""Every table-backed GraphQL type and its declaration (`schema.mapping`) agree field by field."""

from __future__ import annotations

import pytest

import resolvers  # noqa: F401  (imports every schema module, filling the registry)
from schema.mapping import REGISTRY, Column

# Fields computed in Python from declared ones; the compiled path declines them.
COMPUTED = {("Municipality", "tier")}


@pytest.mark.parametrize("type_name", sorted(REGISTRY))
def test_graphql_fields_and_declaration_match(type_name: str) -> None:
    spec = REGISTRY[type_name]
    definition = spec.cls.__strawberry_definition__
    graphql_fields = {f.python_name for f in definition.fields} - {"id", "sql_row"}
    declared = set(spec.fields)
    assert graphql_fields - declared <= {f for t, f in COMPUTED if t == type_name}, (
        f"{type_name}: fields without a declaration: {graphql_fields - declared}"
    )
    assert declared <= graphql_fields, (
        f"{type_name}: declared, not in GraphQL: {declared - graphql_fields}"
    )


@pytest.mark.parametrize("type_name", sorted(REGISTRY))
def test_relations_resolve_through_the_loaders(type_name: str) -> None:
    """A relation field must have a resolver (a data field would be read off the row)."""
    spec = REGISTRY[type_name]
    fields = {f.python_name: f for f in spec.cls.__strawberry_definition__.fields}
    fields.pop("sql_row", None)
    for name, mapped in spec.fields.items():
        has_resolver = fields[name].base_resolver is not None
        assert has_resolver is not isinstance(mapped, Column), (type_name, name)
