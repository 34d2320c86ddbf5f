"""Open-data catalog: the national standard datasets, datasets, publishers, distributions."""

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

from service.models.base import Base, created_at_column, str_enum, updated_at_column


class DatasetStatus(enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    UNPUBLISHED = "unpublished"


class StandardDataset(Base):
    """An entry of the Digital Agency's 自治体標準オープンデータセット (A-01 公共施設一覧 ...)."""

    __tablename__ = "standard_dataset"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(10), unique=True)
    number: Mapped[str] = mapped_column(String(4))
    name: Mapped[str] = mapped_column(String(200))
    file_name_convention: Mapped[str | None] = mapped_column(String(200))
    legacy_number: Mapped[str | None] = mapped_column(String(4))


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
    license: Mapped[str] = mapped_column(String(200), default="PDL-1.0")
    update_frequency: Mapped[str | None] = mapped_column(String(40))
    issued_on: Mapped[date | None] = mapped_column(Date)
    modified_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


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
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

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
    position: Mapped[int] = mapped_column(default=0)
    dataset_published: Mapped[bool] = mapped_column(Boolean, server_default=false())  # see above
    created_at: Mapped[datetime] = created_at_column()
