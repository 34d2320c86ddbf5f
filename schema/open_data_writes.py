"""Inputs and payloads of the open-data catalog's mutations (ARCHITECTURE.md, "Writes")."""

from __future__ import annotations

from datetime import date

import strawberry

from schema.errors import UserError
from schema.open_data import Dataset, Distribution
from schema.scalars import BigInt

_VERSION = "読み取った版 / The version read: a stale one is refused (STALE)."
_JOINT = (
    "共同発行者 / Publishing municipalities besides the lead (全国地方公共団体コード): a joint "
    "regional dataset is public only when each of them approved its current version. The "
    "prefecture's staff may name the prefecture's code too."
)


@strawberry.input(
    description="データセットの作成 / a new dataset, as a draft. A municipality's staff create "
    "one of their own municipality (its lead publisher); the prefecture's staff one published "
    "by the prefecture (by default) or by the municipalities they name."
)
class CreateDatasetInput:
    title: str = strawberry.field(description="タイトル / Title, up to 300 characters.")
    identifier: str | None = strawberry.field(
        default=None,
        description="識別子 / Unique identifier (letters, digits, `.`, `_`, `-`) starting with "
        "the lead publisher's code and `-` (each publisher's own namespace); by default "
        "`<publisher's code>-<the title's ASCII words, or a UUID>`.",
    )
    description: str | None = strawberry.field(
        default=None, description="説明 / Description: needed to publish (DCAT-AP)."
    )
    keywords: list[str] = strawberry.field(
        default_factory=list, description="キーワード / Keywords, up to 100 characters each."
    )
    themes: list[str] = strawberry.field(
        default_factory=list, description="分野 / Data theme codes of `datasetThemes`, e.g. HEAL."
    )
    license: str | None = strawberry.field(
        default=None, description="利用規約 / A key of `licenses`; by default CC-BY-4.0."
    )
    update_frequency: str | None = strawberry.field(
        default=None,
        description="更新頻度 / DAILY, WEEKLY, MONTHLY, QUARTERLY, BIANNUAL, ANNUAL, IRREGULAR "
        "or NEVER.",
    )
    issued_on: date | None = strawberry.field(default=None, description="公開日 / First issued.")
    modified_on: date | None = strawberry.field(
        default=None, description="最終更新日 / Last modified: not before `issuedOn`."
    )
    contact_name: str | None = strawberry.field(default=None, description="問い合わせ先 / Contact.")
    contact_email: str | None = strawberry.field(
        default=None, description="問い合わせメール / Contact e-mail address."
    )
    contact_url: str | None = strawberry.field(
        default=None, description="問い合わせURL / An http(s) URL."
    )
    landing_page: str | None = strawberry.field(
        default=None, description="紹介ページ / An http(s) URL."
    )
    spatial: list[str] = strawberry.field(
        default_factory=list,
        description="対象地域 / Codes of the municipalities or the prefecture covered.",
    )
    standard_dataset: str | None = strawberry.field(
        default=None,
        description="準拠する標準データセット / The key of a standard dataset, e.g. A-08.",
    )
    joint_publishers: list[str] = strawberry.field(default_factory=list, description=_JOINT)


@strawberry.input(
    description="データセットの更新 / changes to a dataset; fields left out stay as they are. "
    "An edit advances the version; a published joint dataset waits again for its other "
    "publishers' approval of the new version."
)
class UpdateDatasetInput:
    id: strawberry.ID
    version: int = strawberry.field(description=_VERSION)
    title: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    keywords: list[str] | None = strawberry.UNSET
    themes: list[str] | None = strawberry.UNSET
    license: str | None = strawberry.UNSET
    update_frequency: str | None = strawberry.UNSET
    issued_on: date | None = strawberry.UNSET
    modified_on: date | None = strawberry.UNSET
    contact_name: str | None = strawberry.UNSET
    contact_email: str | None = strawberry.UNSET
    contact_url: str | None = strawberry.UNSET
    landing_page: str | None = strawberry.UNSET
    spatial: list[str] | None = strawberry.UNSET
    standard_dataset: str | None = strawberry.UNSET
    joint_publishers: list[str] | None = strawberry.field(
        default=strawberry.UNSET,
        description=_JOINT + " When given, the list replaces the publishers besides the lead.",
    )


@strawberry.type(
    description="データセットの変更結果 / The dataset after the change, or why nothing changed."
)
class DatasetPayload:
    dataset: Dataset | None
    user_errors: list[UserError]


@strawberry.input(
    description="配布の追加 / add a distribution (a file or API) to a dataset: an edit, which "
    "advances its version."
)
class AddDistributionInput:
    dataset_id: strawberry.ID
    version: int = strawberry.field(description=_VERSION)
    access_url: str = strawberry.field(description="アクセスURL / An http(s) URL (dcat:accessURL).")
    title: str | None = None
    download_url: str | None = strawberry.field(
        default=None, description="ダウンロードURL / The file itself, an http(s) URL."
    )
    media_type: str | None = strawberry.field(
        default=None, description="メディアタイプ / IANA media type, e.g. text/csv."
    )
    format: str | None = strawberry.field(default=None, description="形式 / e.g. CSV.")
    byte_size: BigInt | None = strawberry.field(
        default=None, description="サイズ / Size in bytes, at least 0."
    )
    checksum: str | None = strawberry.field(
        default=None, description="チェックサム / Hexadecimal, with `checksumAlgorithm`."
    )
    checksum_algorithm: str | None = strawberry.field(
        default=None, description="チェックサムの方式 / sha256, sha1 or md5."
    )
    columns: list[str] | None = strawberry.field(
        default=None,
        description="列 / The header's column names: for a dataset of a standard dataset, "
        "each column it requires must be there.",
    )


@strawberry.type(
    description="配布の追加結果 / The new distribution and its dataset (at its new version), "
    "or why nothing changed."
)
class AddDistributionPayload:
    distribution: Distribution | None
    dataset: Dataset | None
    user_errors: list[UserError]


@strawberry.input(
    description="公開の申請 / a publisher approves the current version and asks for "
    "publication: the dataset is published once every publishing municipality approved it."
)
class PublishDatasetInput:
    id: strawberry.ID
    version: int = strawberry.field(description="承認する版 / The version approved.")


@strawberry.input(
    description="共同発行の承認 / another publisher of a dataset waiting for approval approves "
    "its current version."
)
class ApproveJointDatasetInput:
    id: strawberry.ID
    version: int = strawberry.field(description="承認する版 / The version approved.")


@strawberry.input(
    description="非公開化 / the prefecture withdraws a dataset from publication, with a reason."
)
class UnpublishDatasetInput:
    id: strawberry.ID
    version: int = strawberry.field(description=_VERSION)
    reason: str = strawberry.field(description="理由 / Why, shown with the dataset.")
