"""CKAN's dictionaries of the catalog: a dataset as a package, a publisher as an organization
(CKAN 2.10's field names; see service/open_data/ckan.py for the mapping)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from service.models.open_data import DatasetStatus
from service.open_data.interchange_reads import Agent, DatasetRecord
from service.open_data.vocabulary import EU_THEME, FREQUENCIES


def _timestamp(value: datetime | None) -> str | None:
    """CKAN writes UTC timestamps without a zone."""
    return None if value is None else value.astimezone(UTC).replace(tzinfo=None).isoformat()


def organization_dict(
    agent: Agent, package_count: int | None = None, *, full: bool = False
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": agent.global_id,
        "name": agent.code,
        "title": agent.name,
        "type": "organization",
        "description": "",
        "image_url": "",
        "created": None,
        "is_organization": True,
        "approval_status": "approved",
        "state": "active",
    }
    if full:
        out["display_name"] = agent.name
        out["package_count"] = package_count or 0
    return out


def package_dict(record: DatasetRecord) -> dict[str, Any]:
    lead = record.publishers[0] if record.publishers else None
    organization = None if lead is None else organization_dict(lead)
    extras: dict[str, str] = {"status": record.status.name}
    if record.themes:
        extras["theme"] = json.dumps([EU_THEME + t.code for t in record.themes])
    if record.publishers:
        extras["publishers"] = json.dumps([p.code for p in record.publishers])
    if record.spatial:
        extras["spatial_code"] = json.dumps([a.code for a in record.spatial])
        extras["spatial_text"] = "、".join(a.name or a.code for a in record.spatial)
    if record.standard is not None:
        extras["conforms_to"] = json.dumps([record.standard.key])
        extras["conforms_to_title"] = record.standard.name
    frequency = FREQUENCIES.get(record.update_frequency or "")
    if frequency is not None:
        extras["frequency"] = frequency.uri
    if record.issued_on is not None:
        extras["issued"] = record.issued_on.isoformat()
    if record.modified_on is not None:
        extras["modified"] = record.modified_on.isoformat()
    if record.contact_url:
        extras["contact_url"] = record.contact_url
    resources = [
        {
            "id": d.global_id,
            "package_id": record.global_id,
            "name": d.title or d.format or "",
            "description": "",
            # CKAN's url is the file: the direct download where there is one.
            "url": d.download_url or d.access_url,
            "access_url": d.access_url,
            "download_url": d.download_url,
            "format": d.format or "",
            "mimetype": d.media_type,
            "size": d.byte_size,
            "hash": d.checksum or "",
            "hash_algorithm": d.checksum_algorithm,
            "position": position,
            "state": "active",
            "created": _timestamp(d.created_at),
            "last_modified": None,
            "url_type": None,
            "resource_type": None,
        }
        for position, d in enumerate(record.distributions)
    ]
    tags = [
        {"name": k, "display_name": k, "state": "active", "vocabulary_id": None}
        for k in record.keywords
    ]
    return {
        "id": record.global_id,
        "name": record.identifier,
        "title": record.title,
        "notes": record.description or "",
        "url": record.landing_page or "",
        "version": None,
        "author": None,
        "author_email": None,
        "maintainer": record.contact_name,
        "maintainer_email": record.contact_email,
        "license_id": record.license_key,
        "license_title": record.license.name if record.license else None,
        "license_url": record.license.url if record.license else None,
        "metadata_created": _timestamp(record.created_at),
        "metadata_modified": _timestamp(record.updated_at),
        "state": "active",
        # CKAN's private datasets are the ones only their organization reads: the drafts.
        "private": record.status is not DatasetStatus.PUBLISHED,
        "type": "dataset",
        "owner_org": None if lead is None else lead.global_id,
        "organization": organization,
        "tags": tags,
        "num_tags": len(tags),
        "groups": [],
        "extras": [{"key": k, "value": v} for k, v in sorted(extras.items())],
        "resources": resources,
        "num_resources": len(resources),
        "relationships_as_object": [],
        "relationships_as_subject": [],
    }
