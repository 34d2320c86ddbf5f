"""GraphQL types of the open-data catalog (read side): the standard datasets and their columns,
licenses, data themes, datasets, their publishers and approvals, and distributions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from resolvers.context import Info
from schema.mapping import Column, ToMany, ToOne, sql_type
from schema.node import Node
from schema.pagination import Connection, OrderDirection
from schema.scalars import BigInt
from service.models import Dataset as DatasetModel
from service.models import DatasetPublisher as PublisherModel
from service.models import DatasetTheme as ThemeModel
from service.models import Distribution as DistributionModel
from service.models import License as LicenseModel
from service.models import Municipality as MunicipalityModel
from service.models import Prefecture as PrefectureModel
from service.models import StandardDataset as StandardDatasetModel
from service.models import StandardDatasetColumn as StandardColumnModel
from service.models.open_data import DatasetStatus as DatasetStatusModel
from service.open_data import coverage

if TYPE_CHECKING:
    from schema.geography import Municipality, Prefecture

dataset_t = DatasetModel.__table__
distribution_t = DistributionModel.__table__
publisher_t = PublisherModel.__table__
standard_t = StandardDatasetModel.__table__
standard_column_t = StandardColumnModel.__table__
license_t = LicenseModel.__table__
theme_t = ThemeModel.__table__
municipality_t = MunicipalityModel.__table__
prefecture_t = PrefectureModel.__table__

DatasetStatus = strawberry.enum(
    DatasetStatusModel,
    name="DatasetStatus",
    description="公開状態 / DRAFT (下書き), PENDING_APPROVAL (共同発行者の承認待ち / waiting for "
    "the joint publishers' approval), PUBLISHED (公開), UNPUBLISHED (県が非公開化 / withdrawn by "
    "the prefecture).",
)


@sql_type(
    standard_column_t,
    key=standard_column_t.c.id,
    order_by=(standard_column_t.c.standard_dataset_id, standard_column_t.c.position),
    fields={
        "position": Column(standard_column_t.c.position),
        "name": Column(standard_column_t.c.name),
        "description": Column(standard_column_t.c.description),
        "required": Column(standard_column_t.c.required),
        "format_generation": Column(standard_column_t.c.format_generation),
    },
)
@strawberry.type(
    description="標準データセットの項目 / a column of a standard dataset's table, in order."
)
class StandardDatasetColumn(Node):
    position: int = strawberry.field(description="列の順番 / Position, from 1.")
    name: str = strawberry.field(description="項目名 / Column name, e.g. 名称_カナ.")
    description: str | None = strawberry.field(description="説明 / What the column holds.")
    required: bool | None = strawberry.field(
        description="必須か / Whether the column is required; null where the source does not say."
    )
    format_generation: str = strawberry.field(
        description="様式 / Which format the definition comes from (legacy 推奨データセット ...)."
    )


@sql_type(
    license_t,
    key=license_t.c.key,
    order_by=(license_t.c.position, license_t.c.key),
    fields={
        "key": Column(license_t.c.key),
        "name": Column(license_t.c.name),
        "url": Column(license_t.c.url),
    },
)
@strawberry.type(description="利用規約 / a license datasets may carry (the configured list).")
class License(Node):
    key: str = strawberry.field(description="識別子 / e.g. CC-BY-4.0, PDL-1.0, CC0-1.0.")
    name: str = strawberry.field(description="名称 / Name, e.g. 公共データ利用規約 第1.0版.")
    url: str = strawberry.field(description="本文のURL / Where the license text is.")


@sql_type(
    theme_t,
    key=theme_t.c.code,
    order_by=(theme_t.c.position, theme_t.c.code),
    fields={
        "code": Column(theme_t.c.code),
        "name": Column(theme_t.c.name),
        "label_en": Column(theme_t.c.label_en),
    },
)
@strawberry.type(
    description="分野 / a data theme (the EU data-theme vocabulary DCAT-AP uses for dcat:theme)."
)
class DatasetTheme(Node):
    code: str = strawberry.field(description="コード / e.g. GOVE, HEAL, TRAN.")
    name: str = strawberry.field(description="分野名 / Japanese name, e.g. 健康・医療.")
    label_en: str = strawberry.field(description="English label, e.g. Health.")


@sql_type(
    publisher_t,
    key=publisher_t.c.id,
    order_by=(publisher_t.c.dataset_id, publisher_t.c.position, publisher_t.c.id),
    fields={
        "approved_version": Column(publisher_t.c.approved_version),
        "approved_at": Column(publisher_t.c.approved_at),
        "municipality": ToOne("Municipality", publisher_t.c.municipality_id, municipality_t.c.id),
        "prefecture": ToOne("Prefecture", publisher_t.c.prefecture_id, prefecture_t.c.id),
    },
)
@strawberry.type(
    description="発行者と承認 / a publisher of a dataset (a municipality or the prefecture) and "
    "the version it approved for publication."
)
class DatasetPublisher(Node):
    approved_version: int | None = strawberry.field(
        description="承認した版 / The dataset version this publisher approved; a joint dataset "
        "is public only when every municipal publisher approved the current `version`."
    )
    approved_at: datetime | None = strawberry.field(description="承認日時 / When it approved.")

    @strawberry.field(description="発行する市町村 / The publishing municipality, if it is one.")
    async def municipality(
        self, info: Info
    ) -> Annotated[Municipality, strawberry.lazy("schema.geography")] | None:
        return await info.context.loaders.load_related(self, "municipality")

    @strawberry.field(description="発行する都道府県 / The publishing prefecture, if it is one.")
    async def prefecture(
        self, info: Info
    ) -> Annotated[Prefecture, strawberry.lazy("schema.geography")] | None:
        return await info.context.loaders.load_related(self, "prefecture")


@sql_type(
    standard_t,
    key=standard_t.c.key,
    order_by=(standard_t.c.key,),
    fields={
        "key": Column(standard_t.c.key),
        "name": Column(standard_t.c.name),
        "legacy_number": Column(standard_t.c.legacy_number),
        "columns": ToMany(
            "StandardDatasetColumn",
            standard_t.c.id,
            standard_column_t.c.standard_dataset_id,
            (standard_column_t.c.position,),
        ),
    },
)
@strawberry.type(
    description="自治体標準オープンデータセット / an entry of the national standard open-data "
    "list, e.g. A-03."
)
class StandardDataset(Node):
    key: str = strawberry.field(description="番号 / e.g. A-03.")
    name: str = strawberry.field(description="名称 / e.g. 指定緊急避難場所一覧.")
    legacy_number: str | None = strawberry.field(
        description="推奨データセットの番号 / Number in the older 推奨データセット."
    )

    @strawberry.field(
        description="項目 / The columns of its table, in order (empty where not known)."
    )
    async def columns(self, info: Info) -> list[StandardDatasetColumn]:
        return await info.context.loaders.load_related(self, "columns")


@sql_type(
    dataset_t,
    key=dataset_t.c.id,
    order_by=(dataset_t.c.id,),
    fields={
        "identifier": Column(dataset_t.c.identifier),
        "title": Column(dataset_t.c.title),
        "description": Column(dataset_t.c.description),
        "keywords": Column(dataset_t.c.keywords),
        "status": Column(dataset_t.c.status),
        "license": Column(dataset_t.c.license),
        "update_frequency": Column(dataset_t.c.update_frequency),
        "issued_on": Column(dataset_t.c.issued_on),
        "modified_on": Column(dataset_t.c.modified_on),
        "themes": Column(dataset_t.c.themes),
        "contact_name": Column(dataset_t.c.contact_name),
        "contact_email": Column(dataset_t.c.contact_email),
        "contact_url": Column(dataset_t.c.contact_url),
        "landing_page": Column(dataset_t.c.landing_page),
        "spatial": Column(dataset_t.c.spatial),
        "version": Column(dataset_t.c.version),
        "published_at": Column(dataset_t.c.published_at),
        "unpublished_reason": Column(dataset_t.c.unpublished_reason),
        "synthetic": Column(dataset_t.c.synthetic),
        "next_update_due": Column(coverage.next_update_due()),
        "overdue": Column(coverage.overdue()),
        "license_info": ToOne("License", dataset_t.c.license, license_t.c.key),
        "publisher_approvals": ToMany(
            "DatasetPublisher",
            dataset_t.c.id,
            publisher_t.c.dataset_id,
            (publisher_t.c.position, publisher_t.c.id),
        ),
        "publishing_prefectures": ToMany(
            "Prefecture",
            dataset_t.c.id,
            publisher_t.c.dataset_id,
            (prefecture_t.c.code,),
            through=(publisher_t, publisher_t.c.prefecture_id == prefecture_t.c.id),
        ),
        "standard_dataset": ToOne(
            "StandardDataset", dataset_t.c.standard_dataset_id, standard_t.c.id
        ),
        "distributions": ToMany(
            "Distribution",
            dataset_t.c.id,
            distribution_t.c.dataset_id,
            (distribution_t.c.position, distribution_t.c.id),
        ),
        "publishers": ToMany(
            "Municipality",
            dataset_t.c.id,
            publisher_t.c.dataset_id,
            (municipality_t.c.code,),
            through=(publisher_t, publisher_t.c.municipality_id == municipality_t.c.id),
        ),
    },
)
@strawberry.type(
    description="データセット / an open dataset (DCAT core), published by a municipality, "
    "several municipalities jointly, or the prefecture."
)
class Dataset(Node):
    identifier: str = strawberry.field(description="識別子 / Stable identifier, unique.")
    title: str = strawberry.field(description="タイトル / Title (dcterms:title).")
    description: str | None = strawberry.field(description="説明 / Description.")
    keywords: list[str] = strawberry.field(description="キーワード / Keywords (dcat:keyword).")
    status: DatasetStatus = strawberry.field(description="公開状態 / Publication state.")
    license: str = strawberry.field(
        description="利用規約 / License key from `licenses`, e.g. CC-BY-4.0 (default), PDL-1.0."
    )
    update_frequency: str | None = strawberry.field(
        description="更新頻度 / Update frequency: DAILY, WEEKLY, MONTHLY, QUARTERLY, BIANNUAL, "
        "ANNUAL, IRREGULAR or NEVER (the EU frequency vocabulary)."
    )
    issued_on: date | None = strawberry.field(description="公開日 / Date of first issue.")
    modified_on: date | None = strawberry.field(description="最終更新日 / Last modified.")
    themes: list[str] = strawberry.field(
        description="分野 / Data theme codes (`datasetThemes`, e.g. HEAL, GOVE)."
    )
    contact_name: str | None = strawberry.field(description="問い合わせ先 / Contact point.")
    contact_email: str | None = strawberry.field(description="問い合わせメール / Contact e-mail.")
    contact_url: str | None = strawberry.field(description="問い合わせURL / Contact form or page.")
    landing_page: str | None = strawberry.field(description="紹介ページ / The dataset's web page.")
    spatial: list[str] = strawberry.field(
        description="対象地域 / Spatial coverage: 全国地方公共団体コード of the areas covered."
    )
    version: int = strawberry.field(
        description="版 / The version: a change names the version it read; edits and the "
        "prefecture's withdrawal advance it, approvals name it (`publisherApprovals`)."
    )
    published_at: datetime | None = strawberry.field(
        description="公開日時 / When it was published."
    )
    unpublished_reason: str | None = strawberry.field(
        description="非公開の理由 / The prefecture's reason for withdrawing it."
    )
    synthetic: bool = strawberry.field(
        description="デモデータ / True for synthetic demo data (`dxlink seed --demo`)."
    )
    next_update_due: date | None = strawberry.field(
        description="次回更新期限 / When the next update is due: the declared frequency's "
        "period after the last modification (null without a schedule)."
    )
    overdue: bool = strawberry.field(
        description="更新遅れ / Whether that day has passed (in Japan) without an update."
    )

    @strawberry.field(description="利用規約の詳細 / The license's name and text.")
    async def license_info(self, info: Info) -> License | None:
        return await info.context.loaders.load_related(self, "license_info")

    @strawberry.field(description="準拠する標準データセット / The standard dataset it conforms to.")
    async def standard_dataset(self, info: Info) -> StandardDataset | None:
        return await info.context.loaders.load_related(self, "standard_dataset")

    @strawberry.field(description="配布 / Files and services of the dataset, in order.")
    async def distributions(self, info: Info) -> list[Distribution]:
        return await info.context.loaders.load_related(self, "distributions")

    @strawberry.field(
        description="発行市町村 / Municipalities publishing it (several for a joint dataset)."
    )
    async def publishers(
        self, info: Info
    ) -> list[Annotated[Municipality, strawberry.lazy("schema.geography")]]:
        return await info.context.loaders.load_related(self, "publishers")

    @strawberry.field(description="発行する都道府県 / The prefecture, where it publishes it.")
    async def publishing_prefectures(
        self, info: Info
    ) -> list[Annotated[Prefecture, strawberry.lazy("schema.geography")]]:
        return await info.context.loaders.load_related(self, "publishing_prefectures")

    @strawberry.field(
        description="発行者ごとの承認 / Each publisher and the version it approved (joint "
        "datasets wait for every municipality's approval of the current version)."
    )
    async def publisher_approvals(self, info: Info) -> list[DatasetPublisher]:
        return await info.context.loaders.load_related(self, "publisher_approvals")


@sql_type(
    distribution_t,
    key=distribution_t.c.id,
    order_by=(distribution_t.c.dataset_id, distribution_t.c.position, distribution_t.c.id),
    fields={
        "title": Column(distribution_t.c.title),
        "access_url": Column(distribution_t.c.access_url),
        "media_type": Column(distribution_t.c.media_type),
        "format": Column(distribution_t.c.format),
        "byte_size": Column(distribution_t.c.byte_size),
        "download_url": Column(distribution_t.c.download_url),
        "checksum": Column(distribution_t.c.checksum),
        "checksum_algorithm": Column(distribution_t.c.checksum_algorithm),
        "columns": Column(distribution_t.c.columns),
        "synthetic": Column(distribution_t.c.synthetic),
    },
)
@strawberry.type(description="配布 / one distribution (a file or API) of a dataset.")
class Distribution(Node):
    title: str | None = strawberry.field(description="タイトル / Title.")
    access_url: str = strawberry.field(
        description="アクセスURL / Where to get it (dcat:accessURL)."
    )
    media_type: str | None = strawberry.field(
        description="メディアタイプ / IANA media type, e.g. text/csv."
    )
    format: str | None = strawberry.field(description="形式 / File format, e.g. CSV.")
    byte_size: BigInt | None = strawberry.field(
        description="サイズ / Size in bytes (a 64-bit integer: files can exceed 2 GiB)."
    )
    download_url: str | None = strawberry.field(
        description="ダウンロードURL / The file itself (dcat:downloadURL), if direct."
    )
    checksum: str | None = strawberry.field(description="チェックサム / Checksum, hexadecimal.")
    checksum_algorithm: str | None = strawberry.field(
        description="チェックサムの方式 / sha256, sha1 or md5."
    )
    columns: list[str] = strawberry.field(
        description="列 / Tabular data: the header's column names, in order."
    )
    synthetic: bool = strawberry.field(description="デモデータ / True for synthetic demo data.")


@strawberry.enum(description="データセットの並び順 / What catalog searches can be ordered by.")
class DatasetOrderField(Enum):
    RELEVANCE = "relevance"
    MODIFIED = "modified"
    ISSUED = "issued"
    TITLE = "title"


@strawberry.input(
    description="並び順 / Order of a catalog search: by default relevance (with `search`; "
    "newest modified first without), ties broken by id."
)
class DatasetOrder:
    field: DatasetOrderField = DatasetOrderField.RELEVANCE
    direction: OrderDirection = OrderDirection.DESC


@strawberry.type(description="件数 / one value of a facet and how many datasets have it.")
class FacetCount:
    value: str = strawberry.field(
        description="値 / The filter value (a publisher's code, a theme code, a format, a "
        "license key): pass it to the matching argument of `datasets`."
    )
    label: str | None = strawberry.field(description="表示名 / A name to show, where there is one.")
    count: int = strawberry.field(description="件数 / Datasets of the current filter with it.")


@strawberry.type(
    description="絞り込み候補 / facet counts of the current filter (the 50 most frequent values)."
)
class DatasetFacets:
    publishers: list[FacetCount] = strawberry.field(description="発行者 / By publisher.")
    themes: list[FacetCount] = strawberry.field(description="分野 / By data theme.")
    formats: list[FacetCount] = strawberry.field(description="形式 / By distribution format.")
    licenses: list[FacetCount] = strawberry.field(description="利用規約 / By license.")


@strawberry.type(
    description="データセットの検索結果 / a page of catalog search results, with the total "
    "and the facet counts of the whole result."
)
class DatasetSearchConnection(Connection[Dataset]):
    facet_source: strawberry.Private[Callable[[], Awaitable[dict[str, list[Any]]]] | None] = None

    @strawberry.field(description="絞り込み候補 / Facet counts over all pages of the result.")
    async def facets(self) -> DatasetFacets:
        assert self.facet_source is not None
        found = await self.facet_source()
        return DatasetFacets(
            **{
                name: [FacetCount(value=c.value, label=c.label, count=c.count) for c in counts]
                for name, counts in found.items()
            }
        )
