"""Open-data catalog: the national standard datasets and their columns, licenses, datasets,
publishers (with their approvals) and distributions."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import (
    Base,
    created_at_column,
    str_enum,
    synthetic_column,
    updated_at_column,
    version_column,
)


class DatasetStatus(enum.Enum):
    DRAFT = "draft"
    # Publication asked for; a joint dataset waits for every publishing municipality's approval.
    PENDING_APPROVAL = "pending approval"
    PUBLISHED = "published"
    UNPUBLISHED = "unpublished"


class License(Base):
    """A license datasets may carry: the configured list (seeds/data/licenses.csv)."""

    __tablename__ = "license"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(default=0)


class StandardDataset(Base):
    """An entry of the Digital Agency's 自治体標準オープンデータセット (A-01 公共施設一覧 ...)."""

    __tablename__ = "standard_dataset"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(10), unique=True)
    number: Mapped[str] = mapped_column(String(4))
    name: Mapped[str] = mapped_column(String(200))
    file_name_convention: Mapped[str | None] = mapped_column(String(200))
    legacy_number: Mapped[str | None] = mapped_column(String(4))


class StandardDatasetColumn(Base):
    """A column of a standard dataset's table (standard_dataset_columns.csv)."""

    __tablename__ = "standard_dataset_column"

    id: Mapped[int] = mapped_column(primary_key=True)
    standard_dataset_id: Mapped[int] = mapped_column(
        ForeignKey("standard_dataset.id", ondelete="CASCADE")
    )
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    # None: the source does not say (the current format's header row).
    required: Mapped[bool | None] = mapped_column(Boolean)
    format_generation: Mapped[str] = mapped_column(String(100))

    __table_args__ = (UniqueConstraint("standard_dataset_id", "name"),)


class DatasetTheme(Base):
    """An EU data theme (the DCAT-AP vocabulary of dcat:theme), seeds/data/dataset_themes.csv."""

    __tablename__ = "dataset_theme"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    label_en: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(default=0)


# EU data themes (the DCAT-AP controlled vocabulary), by their authority codes.
DATASET_THEMES = (
    "AGRI", "ECON", "EDUC", "ENER", "ENVI", "GOVE", "HEAL", "INTR", "JUST", "OP_DATPRO",
    "REGI", "SOCI", "TECH", "TRAN",
)  # fmt: skip


class Dataset(Base):
    __tablename__ = "dataset"

    id: Mapped[int] = mapped_column(primary_key=True)
    identifier: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    keywords: Mapped[list[str]] = mapped_column(ARRAY(String(100)), default=list)
    status: Mapped[DatasetStatus] = mapped_column(str_enum(DatasetStatus, "dataset_status", 20))
    standard_dataset_id: Mapped[int | None] = mapped_column(
        ForeignKey("standard_dataset.id"), index=True
    )
    license: Mapped[str] = mapped_column(
        String(40), ForeignKey("license.key"), default="CC-BY-4.0", server_default="CC-BY-4.0"
    )
    update_frequency: Mapped[str | None] = mapped_column(String(40))
    issued_on: Mapped[date | None] = mapped_column(Date)
    modified_on: Mapped[date | None] = mapped_column(Date)
    themes: Mapped[list[str]] = mapped_column(
        ARRAY(String(20)), default=list, server_default=text("'{}'")
    )
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(200))
    contact_url: Mapped[str | None] = mapped_column(Text)
    landing_page: Mapped[str | None] = mapped_column(Text)
    # Spatial coverage: 全国地方公共団体コード of the municipalities (or the prefecture) covered.
    spatial: Mapped[list[str]] = mapped_column(
        ARRAY(String(6)), default=list, server_default=text("'{}'")
    )
    # The municipality that created it (None: the prefecture); its write scope until it has
    # publishers.
    lead_municipality_id: Mapped[int | None] = mapped_column(ForeignKey("municipality.id"))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    unpublished_reason: Mapped[str | None] = mapped_column(Text)
    # Search: text normalised by dxlink_search_normalize (NFKC, lower case, katakana as
    # hiragana) and its characters and character pairs, kept by a trigger (migration
    # b9c0d1e2f3a4) so that every writer, on every server, indexes the same way.
    search_title: Mapped[str] = mapped_column(Text, server_default="")
    search_text: Mapped[str] = mapped_column(Text, server_default="")
    search_grams: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    # Copies of its publishers' codes and its distributions' formats (upper case), kept by
    # triggers: a search counts its facets from the matching rows alone.
    publisher_codes: Mapped[list[str]] = mapped_column(
        ARRAY(String(6)), server_default=text("'{}'")
    )
    formats: Mapped[list[str]] = mapped_column(ARRAY(String(40)), server_default=text("'{}'"))
    version: Mapped[int] = version_column()
    synthetic: Mapped[bool] = synthetic_column()
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    __table_args__ = (
        CheckConstraint(
            "themes <@ ARRAY['" + "','".join(DATASET_THEMES) + "']::varchar[]",
            name="themes_known",
        ),
        Index("ix_dataset_search_grams", "search_grams", postgresql_using="gin"),
        Index("ix_dataset_modified", text("modified_on DESC NULLS LAST"), "id"),
    )


class DatasetPublisher(Base):
    """A publisher of a dataset: a municipality, or the prefecture (joint datasets have several)."""

    __tablename__ = "dataset_publisher"

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"))
    municipality_id: Mapped[int | None] = mapped_column(ForeignKey("municipality.id"), index=True)
    prefecture_id: Mapped[int | None] = mapped_column(ForeignKey("prefecture.id"))
    # A copy of "the dataset is published", kept by triggers, so that row-level security can
    # decide on this row without looking the dataset up for every row.
    dataset_published: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # The dataset's modified_on, kept the same way: "a municipality's newest datasets" is then
    # one index range (ix_dataset_publisher_newest) instead of a sort of all its datasets.
    dataset_modified_on: Mapped[date | None] = mapped_column(Date)
    # The dataset version this publisher approved for publication (joint datasets: every
    # municipal publisher approves the current version); an edit asks again.
    approved_version: Mapped[int | None] = mapped_column()
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    approved_by: Mapped[str | None] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=0, server_default="0")
    synthetic: Mapped[bool] = synthetic_column()

    __table_args__ = (
        # One of the two publisher columns is always NULL: NULLs must count as equal here.
        UniqueConstraint(
            "dataset_id", "municipality_id", "prefecture_id", postgresql_nulls_not_distinct=True
        ),
        CheckConstraint(
            "(municipality_id IS NULL) <> (prefecture_id IS NULL)", name="one_publisher"
        ),
        Index(
            "ix_dataset_publisher_newest",
            "municipality_id",
            text("dataset_modified_on DESC NULLS LAST"),
            "dataset_id",
        ),
    )


class Distribution(Base):
    __tablename__ = "distribution"

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("dataset.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str | None] = mapped_column(String(300))
    access_url: Mapped[str] = mapped_column(Text)
    media_type: Mapped[str | None] = mapped_column(String(100))
    format: Mapped[str | None] = mapped_column(String(40))
    byte_size: Mapped[int | None] = mapped_column(BigInteger)
    checksum: Mapped[str | None] = mapped_column(String(200))
    # The checksum's algorithm (spdx: checksumAlgorithm_sha256 ...): "sha256", "sha1", "md5".
    checksum_algorithm: Mapped[str | None] = mapped_column(String(20))
    # Tabular data: the header's column names, in order.
    columns: Mapped[list[str]] = mapped_column(
        ARRAY(String(100)), default=list, server_default=text("'{}'")
    )
    download_url: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(default=0)
    dataset_published: Mapped[bool] = mapped_column(Boolean, server_default=false())  # see above
    synthetic: Mapped[bool] = synthetic_column()
    created_at: Mapped[datetime] = created_at_column()
