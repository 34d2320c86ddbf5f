"""The catalog as DCAT-AP 3 JSON-LD: it parses as RDF and conforms to the official DCAT-AP 3.0.1
SHACL shapes (pyshacl) for a catalog page, a dataset with every optional field, a joint dataset
and a dataset with the fewest fields; the fields map to the DCAT terms; paging; and only what
the caller may read (the public sees no draft, a municipality its own)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from pyshacl import validate
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, SKOS, XSD
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from auth import policy
from auth.principal import Role
from auth.tokens import mint_token
from schema.node import encode_global_id
from service.settings import Settings
from tests.auth.bearer import VIEWER
from tests.open_data.catalog_data import (
    HIDDEN,
    KAINAN,
    PUBLISHED,
    SHA256,
    WAKAYAMA,
    make_catalog,
)

SHAPES = Path(__file__).parent / "data" / "dcat-ap-3.0.1-SHACL.ttl"
BASE = "http://test"
SPDX = Namespace("http://spdx.org/rdf/terms#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
PROV = Namespace("http://www.w3.org/ns/prov#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
SH = Namespace("http://www.w3.org/ns/shacl#")

Get = Callable[..., Any]


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return Graph().parse(SHAPES, format="turtle")


@pytest.fixture
async def catalog(connection: AsyncConnection) -> dict[str, int]:
    return await make_catalog(connection)


@pytest.fixture
def get(client: httpx.AsyncClient, connection: AsyncConnection) -> Get:
    async def run(path: str, token: str | None = None, **params: Any) -> httpx.Response:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        response = await client.get(path, params=params, headers=headers)
        # The request assumed the API role in the shared test transaction (see conftest `gql`).
        await connection.execute(text("RESET ROLE"))
        return response

    return run


def staff(settings: Settings, code: str) -> str:
    return mint_token(
        settings, subject=f"staff-{code}", role=Role.municipal_staff, scope={"municipality": code}
    )


def rdf(response: httpx.Response) -> Graph:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/ld+json"
    return Graph().parse(data=response.text, format="json-ld")


def assert_conforms(graph: Graph, shapes: Graph) -> None:
    conforms, _, report = validate(graph, shacl_graph=shapes)
    assert conforms, report


def dataset_iri(dataset_id: int) -> URIRef:
    return URIRef(f"{BASE}/datasets/{encode_global_id('Dataset', dataset_id)}.jsonld")


def identifiers(graph: Graph) -> set[str]:
    return {
        str(o)
        for s in graph.subjects(RDF.type, DCAT.Dataset)
        for o in graph.objects(s, DCTERMS.identifier)
    }


async def test_a_catalog_page_conforms_and_holds_the_published_datasets(
    get: Get, catalog: dict[str, int], shapes: Graph
) -> None:
    graph = rdf(await get("/catalog.jsonld"))
    assert_conforms(graph, shapes)
    root = URIRef(f"{BASE}/catalog.jsonld")
    assert (root, RDF.type, DCAT.Catalog) in graph
    assert set(graph.objects(root, DCTERMS.title)) == {
        Literal("和歌山県オープンデータカタログ", lang="ja"),
        Literal("Wakayama Prefecture Open Data Catalog", lang="en"),
    }
    assert {o.language for o in graph.objects(root, DCTERMS.description)} == {"ja", "en"}
    (publisher,) = graph.objects(root, DCTERMS.publisher)
    assert (publisher, RDF.type, FOAF.Agent) in graph
    assert (publisher, FOAF.name, Literal("和歌山県", lang="ja")) in graph
    assert (publisher, DCTERMS.identifier, Literal("300004")) in graph
    assert (root, FOAF.homepage, URIRef(f"{BASE}/")) in graph
    assert set(graph.objects(root, DCAT.dataset)) == {dataset_iri(catalog[i]) for i in PUBLISHED}
    assert identifiers(graph) == set(PUBLISHED)
    assert graph.value(root, HYDRA.totalItems).toPython() == len(PUBLISHED)


async def test_a_dataset_with_every_field_conforms_and_maps_to_dcat(
    get: Get, catalog: dict[str, int], shapes: Graph
) -> None:
    graph = rdf(
        await get(f"/datasets/{encode_global_id('Dataset', catalog['wakayama-evac'])}.jsonld")
    )
    assert_conforms(graph, shapes)
    d = dataset_iri(catalog["wakayama-evac"])
    assert (d, RDF.type, DCAT.Dataset) in graph
    assert (d, DCTERMS.identifier, Literal("wakayama-evac")) in graph
    assert (d, DCTERMS.title, Literal("指定緊急避難場所一覧", lang="ja")) in graph
    assert graph.value(d, DCTERMS.description).language == "ja"
    assert set(graph.objects(d, DCAT.keyword)) == {
        Literal("防災", lang="ja"),
        Literal("避難", lang="ja"),
    }
    theme = "http://publications.europa.eu/resource/authority/data-theme/"
    assert set(graph.objects(d, DCAT.theme)) == {URIRef(theme + "JUST"), URIRef(theme + "HEAL")}
    assert (URIRef(theme + "HEAL"), RDF.type, SKOS.Concept) in graph
    (publisher,) = graph.objects(d, DCTERMS.publisher)
    assert (publisher, FOAF.name, Literal("和歌山市", lang="ja")) in graph
    assert (publisher, DCTERMS.identifier, Literal(WAKAYAMA)) in graph
    (contact,) = graph.objects(d, DCAT.contactPoint)
    assert (contact, RDF.type, VCARD.Kind) in graph
    assert (contact, VCARD.fn, Literal("和歌山市 危機管理局", lang="ja")) in graph
    assert (contact, VCARD.hasEmail, URIRef("mailto:bousai@example.jp")) in graph
    assert (d, DCTERMS.issued, Literal("2024-04-01", datatype=XSD.date)) in graph
    assert (d, DCTERMS.modified, Literal("2026-05-01", datatype=XSD.date)) in graph
    frequency = URIRef("http://publications.europa.eu/resource/authority/frequency/MONTHLY")
    assert (d, DCTERMS.accrualPeriodicity, frequency) in graph
    (area,) = graph.objects(d, DCTERMS.spatial)
    assert (area, RDF.type, DCTERMS.Location) in graph
    assert (area, DCTERMS.identifier, Literal(WAKAYAMA)) in graph
    (standard,) = graph.objects(d, DCTERMS.conformsTo)
    assert (standard, RDF.type, DCTERMS.Standard) in graph
    assert (standard, DCTERMS.identifier, Literal("A-03")) in graph
    assert (standard, DCTERMS.title, Literal("指定緊急避難場所一覧", lang="ja")) in graph
    assert (d, DCAT.landingPage, URIRef("https://example.jp/opendata/evac")) in graph

    distributions = list(graph.objects(d, DCAT.distribution))
    assert len(distributions) == 2
    (csv,) = [x for x in distributions if graph.value(x, DCAT.downloadURL) is not None]
    assert graph.value(csv, DCAT.accessURL) == URIRef("https://example.jp/opendata/evac")
    assert graph.value(csv, DCAT.downloadURL) == URIRef("https://example.jp/opendata/evac.csv")
    # The media type's parameters are not part of its IANA IRI.
    iana = "https://www.iana.org/assignments/media-types/"
    assert graph.value(csv, DCAT.mediaType) == URIRef(iana + "text/csv")
    file_type = "http://publications.europa.eu/resource/authority/file-type/"
    assert graph.value(csv, DCTERMS["format"]) == URIRef(file_type + "CSV")
    assert graph.value(csv, DCAT.byteSize) == Literal("20480", datatype=XSD.nonNegativeInteger)
    checksum = graph.value(csv, SPDX.checksum)
    assert graph.value(checksum, SPDX.algorithm) == SPDX.checksumAlgorithm_sha256
    assert graph.value(checksum, SPDX.checksumValue) == Literal(
        SHA256.lower(), datatype=XSD.hexBinary
    )
    license_ = URIRef("https://www.digital.go.jp/resources/open_data/public-data-license-v1.0")
    assert graph.value(csv, DCTERMS.license) == license_
    assert (license_, RDF.type, DCTERMS.LicenseDocument) in graph
    (geojson,) = [x for x in distributions if x != csv]
    assert graph.value(geojson, DCTERMS["format"]) == URIRef(file_type + "GEOJSON")
    assert graph.value(geojson, DCAT.mediaType) == URIRef(iana + "application/geo+json")


async def test_a_joint_dataset_names_every_publisher(
    get: Get, catalog: dict[str, int], shapes: Graph
) -> None:
    graph = rdf(
        await get(f"/datasets/{encode_global_id('Dataset', catalog['joint-hazard'])}.jsonld")
    )
    assert_conforms(graph, shapes)
    d = dataset_iri(catalog["joint-hazard"])
    # DCAT-AP allows one dcterms:publisher: the lead; all of them are attributed as publishers.
    (lead,) = graph.objects(d, DCTERMS.publisher)
    assert graph.value(lead, DCTERMS.identifier) == Literal(KAINAN)
    attributed = {
        str(graph.value(graph.value(a, PROV.agent), DCTERMS.identifier))
        for a in graph.objects(d, PROV.qualifiedAttribution)
    }
    assert attributed == {KAINAN, WAKAYAMA}
    assert {str(graph.value(a, DCTERMS.identifier)) for a in graph.objects(d, DCTERMS.spatial)} == {
        KAINAN,
        WAKAYAMA,
    }


async def test_a_dataset_with_the_fewest_fields_conforms(
    get: Get, catalog: dict[str, int], shapes: Graph
) -> None:
    graph = rdf(await get("/datasets/kainan-minimal.jsonld"))
    assert_conforms(graph, shapes)
    d = dataset_iri(catalog["kainan-minimal"])
    # The mandatory description repeats the title when the dataset has none.
    assert graph.value(d, DCTERMS.description) == Literal("公共施設一覧", lang="ja")
    assert list(graph.objects(d, DCAT.distribution)) == []


async def test_an_id_postgresql_cannot_hold_is_no_dataset(get: Get) -> None:
    for key in ("wakayama%00evac", "%ED%A0%80"):
        response = await get(f"/datasets/{key}.jsonld")
        assert response.status_code == 404, response.text


async def test_a_dataset_is_found_by_global_id_or_identifier(
    get: Get, catalog: dict[str, int]
) -> None:
    by_id = await get(f"/datasets/{encode_global_id('Dataset', catalog['pref-roads'])}.jsonld")
    by_identifier = await get("/datasets/pref-roads.jsonld")
    assert by_id.status_code == by_identifier.status_code == 200
    assert by_id.json() == by_identifier.json()
    graph = rdf(by_id)
    (publisher,) = graph.objects(dataset_iri(catalog["pref-roads"]), DCTERMS.publisher)
    assert graph.value(publisher, DCTERMS.identifier) == Literal("300004")


@pytest.mark.parametrize("identifier", HIDDEN)
async def test_the_public_reads_no_unpublished_dataset(
    get: Get, catalog: dict[str, int], identifier: str
) -> None:
    for key in (identifier, encode_global_id("Dataset", catalog[identifier])):
        response = await get(f"/datasets/{key}.jsonld")
        assert response.status_code == 404, response.text
        assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    pages = await get("/catalog.jsonld", pageSize=100)
    assert identifier not in pages.text


async def test_row_level_security_alone_hides_the_drafts(
    get: Get, catalog: dict[str, int], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reads run as the principal under row-level security: without the policy's
    conditions in the query, PostgreSQL alone still hides what the public may not read."""
    monkeypatch.setattr(policy, "QUERY_LAYER", False)
    graph = rdf(await get("/catalog.jsonld"))
    assert identifiers(graph) == set(PUBLISHED)
    assert graph.value(URIRef(f"{BASE}/catalog.jsonld"), HYDRA.totalItems).toPython() == len(
        PUBLISHED
    )
    assert (await get("/datasets/wakayama-draft.jsonld")).status_code == 404
    own = rdf(await get("/datasets/wakayama-draft.jsonld", token=staff(settings, WAKAYAMA)))
    assert len(list(own.subjects(RDF.type, DCAT.Distribution))) == 1


async def test_a_municipality_reads_its_own_drafts(
    get: Get, catalog: dict[str, int], settings: Settings, shapes: Graph
) -> None:
    wakayama, hashimoto = staff(settings, WAKAYAMA), staff(settings, "302031")
    own = await get("/datasets/wakayama-draft.jsonld", token=wakayama)
    assert_conforms(rdf(own), shapes)
    assert (await get("/datasets/wakayama-draft.jsonld", token=hashimoto)).status_code == 404
    # A joint dataset waiting for approval is its co-publishers' to read, not a third one's.
    assert (await get("/datasets/joint-pending.jsonld", token=hashimoto)).status_code == 200
    assert (await get("/datasets/kainan-withdrawn.jsonld", token=wakayama)).status_code == 404
    graph = rdf(await get("/catalog.jsonld", token=wakayama))
    assert identifiers(graph) == {*PUBLISHED, "wakayama-draft", "joint-pending"}
    root = URIRef(f"{BASE}/catalog.jsonld")
    assert graph.value(root, HYDRA.totalItems).toPython() == len(PUBLISHED) + 2


async def test_a_refused_token_is_401_as_on_graphql(
    get: Get, client: httpx.AsyncClient, connection: AsyncConnection, catalog: dict[str, int]
) -> None:
    graphql = await client.post(
        "/graphql", json={"query": VIEWER}, headers={"Authorization": "Bearer not-a-token"}
    )
    await connection.execute(text("RESET ROLE"))
    for path in ("/catalog.jsonld", "/datasets/wakayama-evac.jsonld"):
        response = await get(path, token="not-a-token")
        assert response.status_code == 401
        assert response.json() == graphql.json()
        assert response.headers["www-authenticate"].startswith("Bearer")


async def test_pages_link_to_each_other(get: Get, catalog: dict[str, int]) -> None:
    root = URIRef(f"{BASE}/catalog.jsonld")

    def page(n: int) -> URIRef:
        return URIRef(f"{BASE}/catalog.jsonld?page={n}&pageSize=3")

    seen: list[str] = []
    for n in (1, 2):
        graph = rdf(await get("/catalog.jsonld", page=n, pageSize=3))
        view = graph.value(root, HYDRA.view)
        assert view == page(n)
        assert (view, RDF.type, HYDRA.PartialCollectionView) in graph
        assert graph.value(view, HYDRA.first) == page(1)
        assert graph.value(view, HYDRA.last) == page(2)
        assert graph.value(view, HYDRA.next) == (page(2) if n == 1 else None)
        assert graph.value(view, HYDRA.previous) == (page(1) if n == 2 else None)
        assert graph.value(root, HYDRA.totalItems).toPython() == len(PUBLISHED)
        seen += [str(graph.value(d, DCTERMS.identifier)) for d in graph.objects(root, DCAT.dataset)]
    # Every published dataset exactly once, newest modified first; the one without a date last.
    assert len(seen) == len(set(seen)) == len(PUBLISHED)
    body = (await get("/catalog.jsonld", pageSize=100)).json()
    order = [d["dcterms:identifier"] for d in body["dcat:dataset"]]
    assert order == ["wakayama-evac", "joint-hazard", "pref-roads", "kainan-minimal"]
    assert set(seen) == set(order)


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"page": "0"}, "page"),
        ({"page": "two"}, "page"),
        ({"pageSize": "101"}, "pageSize"),
        ({"pageSize": "-1"}, "pageSize"),
        ({"pageSize": ""}, "pageSize"),
    ],
)
async def test_bad_paging_is_400_naming_the_parameter(
    get: Get, params: dict[str, str], parameter: str
) -> None:
    response = await get("/catalog.jsonld", **params)
    assert response.status_code == 400, response.text
    (error,) = response.json()["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "parameter": parameter}
    assert parameter in error["message"]


async def test_a_page_costs_the_same_statements_whatever_its_size(
    get: Get, catalog: dict[str, int], count_statements: Any
) -> None:
    with count_statements() as one:
        await get("/catalog.jsonld", pageSize=1)
    with count_statements() as many:
        await get("/catalog.jsonld", pageSize=100)
    assert len(many) == len(one), many
    # principal, page, publishers, distributions, standard datasets, licenses, themes, areas,
    # count, the catalog's publisher
    assert len(many) <= 10, many


async def test_other_methods_are_refused_in_json(client: httpx.AsyncClient) -> None:
    response = await client.post("/catalog.jsonld")
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD"}
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d.pop("dcterms:description"), DCTERMS.description),
        # What a joint dataset would be with every publisher as dcterms:publisher.
        (
            lambda d: d.update(
                {"dcterms:publisher": [a["prov:agent"] for a in d["prov:qualifiedAttribution"]]}
            ),
            DCTERMS.publisher,
        ),
        (
            lambda d: d["dcat:distribution"][0].update({"dcat:byteSize": "big"}),
            DCAT.byteSize,
        ),
    ],
)
async def test_the_shapes_refuse_what_dcat_ap_refuses(
    get: Get, catalog: dict[str, int], shapes: Graph, change: Any, path: URIRef
) -> None:
    """The validation above is not vacuous: the same document, broken, fails on that path."""
    body = (await get("/datasets/joint-hazard.jsonld")).json()
    change(body)
    conforms, results, _ = validate(
        Graph().parse(data=json.dumps(body), format="json-ld"), shacl_graph=shapes
    )
    assert not conforms
    failed = {
        results.value(r, SH.resultPath) for r in results.subjects(RDF.type, SH.ValidationResult)
    }
    assert failed == {path}
