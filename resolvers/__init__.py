"""Root resolvers: one `<Domain>Query` per domain, combined here into the root `Query`."""

from __future__ import annotations

import strawberry

from resolvers.assessments import AssessmentMutation, AssessmentQuery
from resolvers.audit import AuditQuery
from resolvers.dispatch import DispatchMutation, DispatchQuery
from resolvers.dispatch_live import DispatchSubscription
from resolvers.geography import GeographyQuery
from resolvers.node import NodeQuery
from resolvers.open_data import OpenDataMutation, OpenDataQuery
from resolvers.open_data_coverage import OpenDataCoverageQuery
from resolvers.tiers import TierMutation, TierQuery
from resolvers.viewer import ViewerQuery
from resolvers.working_groups import WorkingGroupQuery
from resolvers.working_groups_writes import WorkingGroupMutation


@strawberry.type(description="Everything a client can read.")
class Query(
    ViewerQuery,
    GeographyQuery,
    AssessmentQuery,
    TierQuery,
    DispatchQuery,
    OpenDataQuery,
    OpenDataCoverageQuery,
    WorkingGroupQuery,
    AuditQuery,
    NodeQuery,
):
    pass


@strawberry.type(
    description="Everything a client can change: each mutation takes one `input` and answers "
    'with a payload holding the changed object and `userErrors` (ARCHITECTURE.md, "Writes").'
)
class Mutation(
    DispatchMutation, OpenDataMutation, AssessmentMutation, TierMutation, WorkingGroupMutation
):
    pass


@strawberry.type(
    description="変更の購読 / live changes over WebSocket (graphql-transport-ws; ARCHITECTURE.md, "
    '"Live changes"): each event is what the subscriber may read of a committed change.'
)
class Subscription(DispatchSubscription):
    pass
