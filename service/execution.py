"""graphql-core's execution, as the resolver path runs it, with dxlink's leaf serialisation.

graphql-core allows no second `Float` scalar, so the built-in one is written here the way
PostgreSQL writes a float8 (schema/scalars.py `float_fragment`): the compiled path writes it in
SQL, and both executors send the same bytes.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLFloat, GraphQLLeafType
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.scalars import float_fragment


class DxlinkExecutionContext(StrawberryGraphQLCoreExecutionContext):
    @staticmethod
    def complete_leaf_value(return_type: GraphQLLeafType, result: Any) -> Any:
        if return_type is GraphQLFloat:
            return float_fragment(result)
        return StrawberryGraphQLCoreExecutionContext.complete_leaf_value(return_type, result)
