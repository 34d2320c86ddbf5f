"""GraphQL types of the geography domain: prefectures, regional offices, municipalities."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from sqlalchemy import String, case, type_coerce

from resolvers.context import Info
from schema.mapping import Column, ToMany, ToOne, sql_type
from schema.node import Node
from schema.pagination import OrderDirection
from service.models import AssessmentResponse as ResponseModel
from service.models import Dataset as DatasetModel
from service.models import DatasetPublisher as PublisherModel
from service.models import DispatchAssignment as DispatchAssignmentModel
from service.models import DispatchRequest as DispatchRequestModel
from service.models import Municipality as MunicipalityModel
from service.models import MunicipalityKind as MunicipalityKindModel
from service.models import Prefecture as PrefectureModel
from service.models import Region as RegionModel
from service.models import TierAssignment as TierAssignmentModel
from service.models import WorkingGroup as WorkingGroupModel
from service.models.views import municipality_month
from service.models.views import score as score_v
from service.pagination import check_page_size
from service.working_groups.reads import MUNICIPALITY_GROUP_LINK

if TYPE_CHECKING:
    from schema.assessments import AssessmentResponse, AssessmentScore
    from schema.dispatch import DispatchAssignment, DispatchRequest, MunicipalityMonth
    from schema.open_data import Dataset
    from schema.tiers import TierAssignment
    from schema.working_groups import WorkingGroup

prefecture_t = PrefectureModel.__table__
region_t = RegionModel.__table__
municipality_t = MunicipalityModel.__table__
tier_assignment_t = TierAssignmentModel.__table__
response_t = ResponseModel.__table__
dispatch_assignment_t = DispatchAssignmentModel.__table__
request_t = DispatchRequestModel.__table__
dataset_t = DatasetModel.__table__
publisher_t = PublisherModel.__table__
working_group_t = WorkingGroupModel.__table__

MunicipalityKind = strawberry.enum(
    MunicipalityKindModel,
    name="MunicipalityKind",
    description="Kind of municipality: CITY 市, TOWN 町, VILLAGE 村, WARD 区 (Tokyo).",
)


@strawberry.enum(description="What municipalities can be ordered by.")
class MunicipalityOrderField(Enum):
    CODE = "code"
    KANA = "kana"
    POPULATION = "population"


@strawberry.input(description="Order of a municipality list; ties are broken by code.")
class MunicipalityOrder:
    field: MunicipalityOrderField = MunicipalityOrderField.CODE
    direction: OrderDirection = OrderDirection.ASC


@sql_type(
    prefecture_t,
    key=prefecture_t.c.code,
    fields={
        "code": Column(prefecture_t.c.code),
        "name": Column(prefecture_t.c.name),
        "kana": Column(prefecture_t.c.kana),
        "romaji": Column(prefecture_t.c.romaji),
        "regions": ToMany(
            "Region", prefecture_t.c.id, region_t.c.prefecture_id, (region_t.c.position,)
        ),
        "municipalities": ToMany(
            "Municipality",
            prefecture_t.c.id,
            municipality_t.c.prefecture_id,
            (municipality_t.c.code,),
        ),
    },
)
@strawberry.type(description="A prefecture (都道府県), identified by its 6-digit code.")
class Prefecture(Node):
    code: str = strawberry.field(description="全国地方公共団体コード, e.g. 300004 for 和歌山県.")
    name: str
    kana: str = strawberry.field(description="Reading in hiragana.")
    romaji: str

    @strawberry.field(description="Regional offices (振興局) in the prefecture's own order.")
    async def regions(self, info: Info) -> list[Region]:
        return await info.context.loaders.load_related(self, "regions")

    @strawberry.field(description="Municipalities of the prefecture, by code.")
    async def municipalities(self, info: Info) -> list[Municipality]:
        return await info.context.loaders.load_related(self, "municipalities")


@sql_type(
    region_t,
    key=region_t.c.id,
    order_by=(region_t.c.prefecture_id, region_t.c.position),
    fields={
        "name": Column(region_t.c.name),
        "short_name": Column(region_t.c.short_name),
        "kana": Column(region_t.c.kana),
        "romaji": Column(region_t.c.romaji),
        "prefecture": ToOne("Prefecture", region_t.c.prefecture_id, prefecture_t.c.id),
        "municipalities": ToMany(
            "Municipality", region_t.c.id, municipality_t.c.region_id, (municipality_t.c.code,)
        ),
    },
)
@strawberry.type(description="A regional office (振興局) and the municipalities it covers.")
class Region(Node):
    name: str = strawberry.field(description="Full name, e.g. 海草振興局.")
    short_name: str = strawberry.field(description="Name without 振興局, e.g. 海草.")
    kana: str = strawberry.field(description="Reading of the short name in hiragana.")
    romaji: str

    @strawberry.field
    async def prefecture(self, info: Info) -> Prefecture:
        return await info.context.loaders.load_related(self, "prefecture")

    @strawberry.field(description="Municipalities of the region, by code.")
    async def municipalities(self, info: Info) -> list[Municipality]:
        return await info.context.loaders.load_related(self, "municipalities")


# Newest first: the first is the current tier.
TIER_HISTORY_ORDER = (tier_assignment_t.c.snapshot_on.desc(), tier_assignment_t.c.id)

KIND_LABEL = case(
    {kind.name: kind.value for kind in MunicipalityKindModel},
    value=type_coerce(municipality_t.c.kind, String),
)


@sql_type(
    municipality_t,
    key=municipality_t.c.code,
    fields={
        "code": Column(municipality_t.c.code),
        "name": Column(municipality_t.c.name),
        "kana": Column(municipality_t.c.kana),
        "romaji": Column(municipality_t.c.romaji),
        "kind": Column(municipality_t.c.kind),
        "kind_label": Column(KIND_LABEL),
        "population": Column(municipality_t.c.population),
        "population_year": Column(municipality_t.c.population_year),
        "region": ToOne("Region", municipality_t.c.region_id, region_t.c.id),
        "prefecture": ToOne("Prefecture", municipality_t.c.prefecture_id, prefecture_t.c.id),
        "tier": ToOne(
            "TierAssignment",
            municipality_t.c.id,
            tier_assignment_t.c.municipality_id,
            order_by=TIER_HISTORY_ORDER,
        ),
        "tier_history": ToMany(
            "TierAssignment",
            municipality_t.c.id,
            tier_assignment_t.c.municipality_id,
            TIER_HISTORY_ORDER,
        ),
        # The score of the latest submitted response the viewer may read.
        "latest_score": ToOne(
            "AssessmentScore",
            municipality_t.c.id,
            score_v.c.municipality_id,
            order_by=(score_v.c.submitted_at.desc().nulls_last(), score_v.c.response_id.desc()),
        ),
        "assessment_responses": ToMany(
            "AssessmentResponse",
            municipality_t.c.id,
            response_t.c.municipality_id,
            (response_t.c.round_id.desc(), response_t.c.id),
        ),
        "dispatch_assignments": ToMany(
            "DispatchAssignment",
            municipality_t.c.id,
            dispatch_assignment_t.c.municipality_id,
            (dispatch_assignment_t.c.starts_on, dispatch_assignment_t.c.id),
        ),
        "dispatch_sessions_by_month": ToMany(
            "MunicipalityMonth",
            municipality_t.c.id,
            municipality_month.c.municipality_id,
            (municipality_month.c.month,),
        ),
        "dispatch_requests": ToMany(
            "DispatchRequest",
            municipality_t.c.id,
            request_t.c.municipality_id,
            (request_t.c.created_at.desc(), request_t.c.id.desc()),
        ),
        "datasets": ToMany(
            "Dataset",
            municipality_t.c.id,
            publisher_t.c.municipality_id,
            # The order key copied onto the link, served by ix_dataset_publisher_newest.
            (publisher_t.c.dataset_modified_on.desc().nulls_last(), publisher_t.c.dataset_id),
            through=(publisher_t, publisher_t.c.dataset_id == dataset_t.c.id),
        ),
        # Groups it is an active member of or leads (schema/working_groups.py).
        "working_groups": ToMany(
            "WorkingGroup",
            municipality_t.c.id,
            MUNICIPALITY_GROUP_LINK.c.municipality_id,
            (working_group_t.c.slug,),
            through=(
                MUNICIPALITY_GROUP_LINK,
                MUNICIPALITY_GROUP_LINK.c.working_group_id == working_group_t.c.id,
            ),
        ),
    },
)
@strawberry.type(description="A municipality (市町村), identified by its 6-digit code.")
class Municipality(Node):
    code: str = strawberry.field(
        description="全国地方公共団体コード: 5 digits and a check digit, e.g. 302015."
    )
    name: str = strawberry.field(description="Official name, e.g. 和歌山市.")
    kana: str = strawberry.field(description="Reading in hiragana, e.g. わかやまし.")
    romaji: str = strawberry.field(description="Romanised name, e.g. Wakayama-shi.")
    kind: MunicipalityKind  # type: ignore[valid-type]
    kind_label: str = strawberry.field(description="The kind in Japanese: 市, 町, 村 or 区.")
    population: int | None = strawberry.field(
        description="Census population (see populationYear); null where no source was found."
    )
    population_year: int | None = strawberry.field(description="Census year of `population`.")

    @strawberry.field(description="The regional office (振興局) covering the municipality.")
    async def region(self, info: Info) -> Region | None:
        return await info.context.loaders.load_related(self, "region")

    @strawberry.field
    async def prefecture(self, info: Info) -> Prefecture:
        return await info.context.loaders.load_related(self, "prefecture")

    @strawberry.field(
        description="The latest support tier; null where there is none or the viewer may not "
        "see it (see docs/ACCESS.md)."
    )
    async def tier(
        self, info: Info
    ) -> Annotated[TierAssignment, strawberry.lazy("schema.tiers")] | None:
        return await info.context.loaders.load_related(self, "tier")

    @strawberry.field(description="Support tiers over time, newest first, as far as visible.")
    async def tier_history(
        self, info: Info
    ) -> list[Annotated[TierAssignment, strawberry.lazy("schema.tiers")]]:
        return await info.context.loaders.load_related(self, "tier_history")

    @strawberry.field(
        description="最新の採点 / The score of the latest submitted response (by submission "
        "time) that has one, as far as the viewer may read it (see docs/ACCESS.md)."
    )
    async def latest_score(
        self, info: Info
    ) -> Annotated[AssessmentScore, strawberry.lazy("schema.assessments")] | None:
        return await info.context.loaders.load_related(self, "latest_score")

    @strawberry.field(description="Assessment responses, newest round first, as far as visible.")
    async def assessment_responses(
        self, info: Info
    ) -> list[Annotated[AssessmentResponse, strawberry.lazy("schema.assessments")]]:
        return await info.context.loaders.load_related(self, "assessment_responses")

    @strawberry.field(
        description="Open datasets the municipality publishes (alone or jointly), newest "
        "first: published ones for everyone, drafts for their publishers and the prefecture."
    )
    async def datasets(
        self, info: Info, first: int = 10
    ) -> list[Annotated[Dataset, strawberry.lazy("schema.open_data")]]:
        size = check_page_size(first, default=10, maximum=info.context.settings.max_page_size)
        return await info.context.loaders.load_related(self, "datasets", size)

    @strawberry.field(description="Expert assignments, as far as visible.")
    async def dispatch_assignments(
        self, info: Info
    ) -> list[Annotated[DispatchAssignment, strawberry.lazy("schema.dispatch")]]:
        return await info.context.loaders.load_related(self, "dispatch_assignments")

    @strawberry.field(
        description="派遣要望 / requests for experts, newest first, as far as visible."
    )
    async def dispatch_requests(
        self, info: Info
    ) -> list[Annotated[DispatchRequest, strawberry.lazy("schema.dispatch")]]:
        return await info.context.loaders.load_related(self, "dispatch_requests")

    @strawberry.field(
        description="Dispatch sessions by month against the target, as far as visible."
    )
    async def dispatch_sessions_by_month(
        self, info: Info
    ) -> list[Annotated[MunicipalityMonth, strawberry.lazy("schema.dispatch")]]:
        return await info.context.loaders.load_related(self, "dispatch_sessions_by_month")

    @strawberry.field(
        description="ワーキンググループ / Working groups the municipality is an active member "
        "of or leads, by slug, as far as visible."
    )
    async def working_groups(
        self, info: Info
    ) -> list[Annotated[WorkingGroup, strawberry.lazy("schema.working_groups")]]:
        return await info.context.loaders.load_related(self, "working_groups")
