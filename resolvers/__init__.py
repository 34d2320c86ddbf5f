"""Root resolvers: one `<Domain>Query` per domain, combined here into the root `Query`."""

from __future__ import annotations

import strawberry

from resolvers.assessments import AssessmentQuery
from resolvers.geography import GeographyQuery
from resolvers.node import NodeQuery
from resolvers.tiers import TierQuery


@strawberry.type(description="Everything a client can read.")
class Query(GeographyQuery, AssessmentQuery, TierQuery, NodeQuery):
    pass
