"""The catalog as DCAT-AP 3 in JSON-LD: `GET /catalog.jsonld` and `GET /datasets/{id}.jsonld`.

The documents conform to the official DCAT-AP 3.0.1 SHACL shapes (tests/open_data/
test_jsonld.py validates them with pyshacl). Where the data and the profile differ:

- **Joint datasets.** DCAT-AP allows one ``dcterms:publisher`` per dataset: it is the first
  publisher (by position, the lead); every publisher, the first included, is also a
  ``prov:qualifiedAttribution`` with the role *publisher*, so a joint dataset names all of them.
- **Description.** ``dcterms:description`` is mandatory in DCAT-AP 3; a dataset without one
  repeats its title there.
- **Paging.** The catalog is a ``hydra:Collection`` as well: ``hydra:totalItems`` counts the
  datasets the caller may read, ``hydra:view`` is a ``hydra:PartialCollectionView`` with first,
  previous, next and last pages (``?page=1&pageSize=50``, at most 100), newest modified first.
- **Identifiers.** A dataset's IRI is its document, ``<base>/datasets/<global id>.jsonld``
  (the GraphQL global id); its distributions are fragments of it. Publishers, areas and the
  standard dataset are blank nodes named by their codes (the same node wherever it recurs in
  a document); themes, frequencies, file types, media types and licenses are the IRIs of
  their vocabularies.

Every read is the principal's (`service.open_data.interchange_reads`): the public gets published
datasets only, a token reads what it reads over GraphQL.
"""

from __future__ import annotations

import math
import re
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from auth.principal import Principal
from service.availability import unavailable_response
from service.database import RequestSession
from service.http_body import error_response, unauthenticated_response
from service.open_data import interchange_reads as reads
from service.open_data import search
from service.open_data.interchange_http import Reader, Refusals, base_url, storable
from service.open_data.interchange_reads import Agent, DatasetRecord, DistributionRecord
from service.open_data.vocabulary import (
    CHECKSUM_ALGORITHMS,
    EU_FILE_TYPE,
    EU_THEME,
    FREQUENCIES,
)

MEDIA_TYPE = "application/ld+json"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
_MAX_PAGE = 1_000_000

CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dcterms": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "hydra": "http://www.w3.org/ns/hydra/core#",
    "prov": "http://www.w3.org/ns/prov#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "spdx": "http://spdx.org/rdf/terms#",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}

CATALOG_TITLE = {
    "ja": "和歌山県オープンデータカタログ",
    "en": "Wakayama Prefecture Open Data Catalog",
}
CATALOG_DESCRIPTION = {
    "ja": "和歌山県と県内市町村が公開するオープンデータの一覧です。",
    "en": "Open data published by Wakayama Prefecture and its municipalities.",
}
# The catalog's publisher: 和歌山県 (seeds/reference.py), read from the prefecture table.
CATALOG_PUBLISHER = "300004"

EU_THEME_SCHEME = EU_THEME.rstrip("/")
EU_LANGUAGE_JAPANESE = "http://publications.europa.eu/resource/authority/language/JPN"
IANA_MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"
SPDX_ALGORITHM = "http://spdx.org/rdf/terms#checksumAlgorithm_"
# ISO 19115 role codes as INSPIRE publishes them (the role of a qualified attribution).
PUBLISHER_ROLE = "http://inspire.ec.europa.eu/metadata-codelist/ResponsiblePartyRole/publisher"
# The ADMS publisher types DCAT-AP recommends for dcterms:type of an agent.
PUBLISHER_TYPES = {
    "Municipality": ("http://purl.org/adms/publishertype/LocalAuthority", "Local Authority"),
    "Prefecture": ("http://purl.org/adms/publishertype/RegionalAuthority", "Regional Authority"),
}

_MEDIA_TYPE = re.compile(r"[a-z]+/[a-z0-9][a-z0-9!#$&^_.+-]*")
_FILE_TYPE = re.compile(r"[A-Z0-9][A-Z0-9_]*")
_HEX = re.compile(r"[0-9a-fA-F]+")


# --- the documents ---------------------------------------------------------------------------


def catalog_iri(base: str) -> str:
    return f"{base}/catalog.jsonld"


def dataset_iri(base: str, global_id: str) -> str:
    return f"{base}/datasets/{global_id}.jsonld"


def catalog_document(
    base: str,
    records: list[DatasetRecord],
    *,
    publisher: Agent | None,
    total: int,
    page: int,
    page_size: int,
) -> dict[str, Any]:
    iri = catalog_iri(base)
    last = max(1, math.ceil(total / page_size))

    def page_ref(number: int) -> dict[str, str]:
        return {"@id": f"{iri}?page={number}&pageSize={page_size}"}

    view: dict[str, Any] = {
        **page_ref(page),
        "@type": "hydra:PartialCollectionView",
        "hydra:first": page_ref(1),
        "hydra:last": page_ref(last),
    }
    if page > 1:
        view["hydra:previous"] = page_ref(min(page - 1, last))
    if page < last:
        view["hydra:next"] = page_ref(page + 1)
    homepage = {"@id": f"{base}/", "@type": "foaf:Document"}
    catalog: dict[str, Any] = {
        "@context": CONTEXT,
        "@id": iri,
        "@type": ["dcat:Catalog", "hydra:Collection"],
        "dcterms:title": _texts(CATALOG_TITLE),
        "dcterms:description": _texts(CATALOG_DESCRIPTION),
        "foaf:homepage": homepage,
        "dcat:landingPage": homepage,
        "dcterms:language": {"@id": EU_LANGUAGE_JAPANESE, "@type": "dcterms:LinguisticSystem"},
        "dcat:themeTaxonomy": {
            "@id": EU_THEME_SCHEME,
            "@type": "skos:ConceptScheme",
            "dcterms:title": {"@value": "Data theme", "@language": "en"},
        },
        "hydra:totalItems": total,
        "hydra:view": view,
        "dcat:dataset": [dataset_node(base, record) for record in records],
    }
    if publisher is not None:
        catalog["dcterms:publisher"] = _agent(publisher)
    return catalog


def dataset_document(base: str, record: DatasetRecord) -> dict[str, Any]:
    return {"@context": CONTEXT, **dataset_node(base, record)}


def dataset_node(base: str, record: DatasetRecord) -> dict[str, Any]:
    iri = dataset_iri(base, record.global_id)
    node: dict[str, Any] = {
        "@id": iri,
        "@type": "dcat:Dataset",
        "dcterms:identifier": record.identifier,
        "dcterms:title": _ja(record.title),
        # Mandatory in DCAT-AP 3: the title stands in for a missing description.
        "dcterms:description": _ja(record.description or record.title),
    }
    if record.keywords:
        node["dcat:keyword"] = [_ja(keyword) for keyword in record.keywords]
    if record.themes:
        node["dcat:theme"] = [_theme(theme) for theme in record.themes]
    if record.publishers:
        node["dcterms:publisher"] = _agent(record.publishers[0])
    if len(record.publishers) > 1:
        node["prov:qualifiedAttribution"] = [
            {
                "@type": "prov:Attribution",
                "prov:agent": _agent(agent),
                "dcat:hadRole": {"@id": PUBLISHER_ROLE},
            }
            for agent in record.publishers
        ]
    contact = _contact(record)
    if contact is not None:
        node["dcat:contactPoint"] = contact
    if record.issued_on is not None:
        node["dcterms:issued"] = _date(record.issued_on.isoformat())
    if record.modified_on is not None:
        node["dcterms:modified"] = _date(record.modified_on.isoformat())
    frequency = FREQUENCIES.get(record.update_frequency or "")
    if frequency is not None:
        node["dcterms:accrualPeriodicity"] = {
            "@id": frequency.uri,
            "@type": "dcterms:Frequency",
            "skos:prefLabel": _texts({"ja": frequency.name, "en": frequency.label_en}),
        }
    if record.spatial:
        node["dcterms:spatial"] = [_area(area) for area in record.spatial]
    if record.standard is not None:
        node["dcterms:conformsTo"] = {
            "@id": f"_:standard-{record.standard.key}",
            "@type": "dcterms:Standard",
            "dcterms:identifier": record.standard.key,
            "dcterms:title": _ja(record.standard.name),
        }
    if record.landing_page:
        node["dcat:landingPage"] = {"@id": record.landing_page, "@type": "foaf:Document"}
    license_ = _license(record)
    if license_ is not None:
        node["dcterms:license"] = license_
    if record.distributions:
        node["dcat:distribution"] = [
            _distribution(iri, distribution, license_) for distribution in record.distributions
        ]
    return node


def _distribution(
    dataset: str, distribution: DistributionRecord, license_: dict[str, Any] | None
) -> dict[str, Any]:
    node: dict[str, Any] = {
        "@id": f"{dataset}#{distribution.global_id}",
        "@type": "dcat:Distribution",
        "dcat:accessURL": {"@id": distribution.access_url},
    }
    if distribution.title:
        node["dcterms:title"] = _ja(distribution.title)
    if distribution.download_url:
        node["dcat:downloadURL"] = {"@id": distribution.download_url}
    media_type = iana_media_type(distribution.media_type)
    if media_type is not None:
        node["dcat:mediaType"] = {"@id": media_type, "@type": "dcterms:MediaType"}
    file_type = eu_file_type(distribution.format)
    if file_type is not None:
        node["dcterms:format"] = {"@id": file_type, "@type": "dcterms:MediaTypeOrExtent"}
    if distribution.byte_size is not None and distribution.byte_size >= 0:
        node["dcat:byteSize"] = {
            "@value": str(distribution.byte_size),
            "@type": "xsd:nonNegativeInteger",
        }
    checksum = _checksum(distribution)
    if checksum is not None:
        node["spdx:checksum"] = checksum
    if license_ is not None:
        node["dcterms:license"] = license_
    return node


def iana_media_type(media_type: str | None) -> str | None:
    """The IANA registry's IRI of a media type (its parameters dropped), or None."""
    if not media_type:
        return None
    essence = media_type.split(";", 1)[0].strip().lower()
    return IANA_MEDIA_TYPES + essence if _MEDIA_TYPE.fullmatch(essence) else None


def eu_file_type(format_: str | None) -> str | None:
    """The EU file-type authority's IRI for a format name (CSV, GeoJSON, JSON-LD, RDF/XML ...),
    whose codes are the names in capitals with ``_`` for separators; None for no format."""
    if not format_:
        return None
    code = re.sub(r"[\s/-]+", "_", format_.strip().upper())
    return EU_FILE_TYPE + code if _FILE_TYPE.fullmatch(code) else None


def _checksum(distribution: DistributionRecord) -> dict[str, Any] | None:
    algorithm, value = distribution.checksum_algorithm, distribution.checksum
    if not value or algorithm not in CHECKSUM_ALGORITHMS or not _HEX.fullmatch(value):
        return None
    return {
        "@type": "spdx:Checksum",
        "spdx:algorithm": {"@id": SPDX_ALGORITHM + algorithm, "@type": "spdx:ChecksumAlgorithm"},
        # DCAT-AP asks for lower-case hexadecimal.
        "spdx:checksumValue": {"@value": value.lower(), "@type": "xsd:hexBinary"},
    }


def _license(record: DatasetRecord) -> dict[str, Any] | None:
    if record.license is None:
        return None
    return {
        "@id": record.license.url,
        "@type": "dcterms:LicenseDocument",
        "dcterms:identifier": record.license.key,
        "dcterms:title": _ja(record.license.name),
    }


def _contact(record: DatasetRecord) -> dict[str, Any] | None:
    if not (record.contact_name or record.contact_email or record.contact_url):
        return None
    contact: dict[str, Any] = {"@type": "vcard:Kind"}
    if record.contact_name:
        contact["vcard:fn"] = _ja(record.contact_name)
    if record.contact_email:
        contact["vcard:hasEmail"] = {"@id": f"mailto:{record.contact_email}"}
    if record.contact_url:
        contact["vcard:hasURL"] = {"@id": record.contact_url}
    return contact


def _agent(agent: Agent) -> dict[str, Any]:
    names = [_ja(agent.name)]
    if agent.romaji:
        names.append({"@value": agent.romaji, "@language": "ja-Latn"})
    node: dict[str, Any] = {
        "@id": f"_:agent-{agent.code}",
        "@type": "foaf:Agent",
        "foaf:name": names,
        "dcterms:identifier": agent.code,
    }
    publisher_type = PUBLISHER_TYPES.get(agent.kind)
    if publisher_type is not None:
        node["dcterms:type"] = {
            "@id": publisher_type[0],
            "@type": "skos:Concept",
            "skos:prefLabel": {"@value": publisher_type[1], "@language": "en"},
        }
    return node


def _theme(theme: reads.Label) -> dict[str, Any]:
    labels = {"ja": theme.name or theme.code, "en": theme.label_en}
    return {
        "@id": EU_THEME + theme.code,
        "@type": "skos:Concept",
        "skos:prefLabel": _texts(labels),
        "skos:inScheme": {"@id": EU_THEME_SCHEME},
    }


def _area(area: reads.Label) -> dict[str, Any]:
    node: dict[str, Any] = {
        "@id": f"_:area-{area.code}",
        "@type": "dcterms:Location",
        "dcterms:identifier": area.code,
    }
    if area.name:
        node["skos:prefLabel"] = _ja(area.name)
    return node


def _ja(value: str) -> dict[str, str]:
    return {"@value": value, "@language": "ja"}


def _texts(by_language: dict[str, str | None]) -> list[dict[str, str]]:
    return [
        {"@value": text, "@language": language} for language, text in by_language.items() if text
    ]


def _date(value: str) -> dict[str, str]:
    return {"@value": value, "@type": "xsd:date"}


# --- the endpoints ---------------------------------------------------------------------------


class BadParameter(Exception):
    def __init__(self, parameter: str, reason: str) -> None:
        super().__init__(f"Invalid parameter '{parameter}': {reason}")
        self.parameter = parameter


def page_parameter(request: Request, name: str, default: int, maximum: int) -> int:
    """A positive integer query parameter, at most ``maximum``; `BadParameter` otherwise."""
    given = request.query_params.getlist(name)
    if not given:
        return default
    if len(given) > 1:
        raise BadParameter(name, "given more than once")
    raw = given[0]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9 or int(raw) < 1:
        raise BadParameter(name, "must be a positive integer")
    if int(raw) > maximum:
        raise BadParameter(name, f"must be at most {maximum}")
    return int(raw)


def jsonld_response(document: dict[str, Any], status: int = 200) -> Response:
    return Response(orjson.dumps(document), status_code=status, media_type=MEDIA_TYPE)


_REFUSALS = Refusals(unauthenticated=unauthenticated_response, unavailable=unavailable_response)


class JsonLdEndpoints:
    """`GET /catalog.jsonld` and `GET /datasets/{id}.jsonld`."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader

    async def catalog(self, request: Request) -> Response:
        try:
            page = page_parameter(request, "page", 1, _MAX_PAGE)
            page_size = page_parameter(request, "pageSize", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        except BadParameter as exc:
            return error_response(
                str(exc), status=400, code="BAD_USER_INPUT", parameter=exc.parameter
            )
        base = base_url(request)

        async def work(db: RequestSession, principal: Principal) -> Response:
            ordering = search.dataset_ordering("modified", True, None)
            records = await reads.page(
                db,
                order_by=ordering.order_by(),
                limit=page_size,
                offset=(page - 1) * page_size,
            )
            total = await reads.count(db)
            publisher = (await reads.agents(db, {CATALOG_PUBLISHER})).get(CATALOG_PUBLISHER)
            document = catalog_document(
                base, records, publisher=publisher, total=total, page=page, page_size=page_size
            )
            return jsonld_response(document)

        return await self.reader.run(request, _REFUSALS, work)

    async def dataset(self, request: Request) -> Response:
        key = request.path_params["id"]
        base = base_url(request)

        async def work(db: RequestSession, principal: Principal) -> Response:
            # No dataset is called by text PostgreSQL cannot hold (a NUL, a lone surrogate).
            record = await reads.one(db, key) if storable(key) else None
            if record is None:
                return error_response(f"No dataset {key!r}.", status=404, code="NOT_FOUND")
            return jsonld_response(dataset_document(base, record))

        return await self.reader.run(request, _REFUSALS, work)
