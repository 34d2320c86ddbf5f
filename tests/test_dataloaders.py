"""Statement counts depend on the query's shape, never on the number of rows.

On the resolver path, nested lists are loaded in batches (one statement per level); the
compiled path answers a whole operation with one statement after the principal's.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import GraphQL, data_of

RESOLVERS = {"X-Dxlink-Executor": "resolvers"}

NESTED = """
query($first: Int!) {
  municipalities(first: $first) {
    totalCount
    edges { node { code region { name prefecture { code }
                   municipalities { code region { shortName } } } } }
  }
}
"""


@pytest.mark.parametrize("first", [5, 30])
async def test_nested_query_costs_a_fixed_number_of_statements(
    gql: GraphQL, count_statements: Any, first: int
) -> None:
    with count_statements() as statements:
        data = data_of(await gql(NESTED, {"first": first}, **RESOLVERS))
    edges = data["municipalities"]["edges"]
    assert len(edges) == first
    assert all(e["node"]["region"]["municipalities"] for e in edges)
    # principal (set_config), page, count, regions, prefectures, municipalities of regions;
    # their regions are the same Region keys, already in the loader's cache.
    assert len(statements) == 6, statements


async def test_statement_count_does_not_grow_with_page_size(
    gql: GraphQL, count_statements: Any
) -> None:
    counts = []
    for first in (5, 30):
        with count_statements() as statements:
            data_of(await gql(NESTED, {"first": first}, **RESOLVERS))
        counts.append(len(statements))
    assert counts[0] == counts[1]


async def test_framework_tree_is_one_statement_per_level(
    gql: GraphQL, count_statements: Any
) -> None:
    query = "{ assessmentFramework { sections { questions { key options { label } } } } }"
    with count_statements() as statements:
        data = data_of(await gql(query, **RESOLVERS))
    sections = data["assessmentFramework"]["sections"]
    assert sum(len(s["questions"]) for s in sections) == 66
    assert len(statements) == 5  # principal, framework, sections, questions, options


@pytest.mark.parametrize("first", [5, 30])
async def test_compiled_path_is_one_statement_whatever_the_page_size(
    gql: GraphQL, count_statements: Any, first: int
) -> None:
    query = NESTED.replace("prefecture { code }", "")
    with count_statements() as statements:
        response = await gql(query, {"first": first}, **{"X-Dxlink-Executor": "compiled-only"})
    assert len(data_of(response)["municipalities"]["edges"]) == first
    compiled = [s for s in statements if "string_agg" in s]
    assert len(compiled) == 1
    # The resolvers' reference answer (the differential check) adds its own statements; the
    # compiled request itself is the principal's statement and the operation's.
    assert statements[0].startswith("SELECT set_config")
    assert statements[1] is compiled[0]
