"""The read-only CKAN Action API: CKAN 2.10's envelope and errors, package_search (the catalog's
Japanese search through q, fq filters, paging, sort, facets), package_show, package_list and
the organizations; only what the caller may read; GET and POST alike; and a real CKAN client
(ckanapi) against a running `dxlink serve`."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import ckanapi
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from auth import policy
from auth.principal import Role
from auth.tokens import mint_token
from schema.node import decode_global_id, encode_global_id
from service.cli import prepare_database
from service.database import create_engine
from service.settings import Settings
from tests.database import scratch_database
from tests.dispatch.test_live import Server, _serve
from tests.open_data.catalog_data import (
    HASHIMOTO,
    HIDDEN,
    KAINAN,
    PREFECTURE,
    PUBLISHED,
    WAKAYAMA,
    make_catalog,
)

Call = Callable[..., Any]


@pytest.fixture
async def catalog(connection: AsyncConnection) -> dict[str, int]:
    return await make_catalog(connection)


@pytest.fixture
def call(client: httpx.AsyncClient, connection: AsyncConnection) -> Call:
    """Call an action by GET (query parameters) or POST (JSON); the response."""

    async def run(
        action: str, token: str | None = None, method: str = "GET", **params: Any
    ) -> httpx.Response:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        path = f"/api/3/action/{action}"
        if method == "GET":
            response = await client.get(path, params=params, headers=headers)
        else:
            response = await client.post(path, json=params, headers=headers)
        # The request assumed the API role in the shared test transaction (see conftest `gql`).
        await connection.execute(text("RESET ROLE"))
        return response

    return run


def result(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True, body
    assert body["help"].startswith("http://test/api/3/action/help_show?name=")
    return body["result"]


def names(found: dict[str, Any]) -> list[str]:
    return [p["name"] for p in found["results"]]


def staff(settings: Settings, code: str) -> str:
    return mint_token(
        settings, subject=f"staff-{code}", role=Role.municipal_staff, scope={"municipality": code}
    )


async def test_a_package_has_ckans_shape(call: Call, catalog: dict[str, int]) -> None:
    package = result(await call("package_show", id="wakayama-evac"))
    gid = encode_global_id("Dataset", catalog["wakayama-evac"])
    assert package["id"] == gid
    assert package["name"] == "wakayama-evac"
    assert package["title"] == "指定緊急避難場所一覧"
    assert package["notes"].startswith("和歌山市の指定緊急避難場所")
    assert package["url"] == "https://example.jp/opendata/evac"
    assert (package["license_id"], package["license_url"]) == (
        "PDL-1.0",
        "https://www.digital.go.jp/resources/open_data/public-data-license-v1.0",
    )
    assert package["license_title"] == "公共データ利用規約 第1.0版 (PDL 1.0)"
    assert (package["state"], package["private"], package["type"]) == ("active", False, "dataset")
    # UTC without a zone, as CKAN writes them.
    created = datetime.fromisoformat(package["metadata_created"])
    assert created.tzinfo is None
    assert datetime.fromisoformat(package["metadata_modified"]) >= created
    assert package["organization"]["name"] == WAKAYAMA
    assert package["organization"]["title"] == "和歌山市"
    assert (
        package["owner_org"]
        == package["organization"]["id"]
        == encode_global_id("Municipality", WAKAYAMA)
    )
    assert [t["name"] for t in package["tags"]] == ["防災", "避難"]
    assert package["num_tags"] == 2
    assert package["groups"] == []
    extras = {e["key"]: e["value"] for e in package["extras"]}
    assert extras["theme"] == (
        '["http://publications.europa.eu/resource/authority/data-theme/JUST", '
        '"http://publications.europa.eu/resource/authority/data-theme/HEAL"]'
    )
    assert extras["spatial_code"] == '["302015"]'
    assert extras["spatial_text"] == "和歌山市"
    assert extras["conforms_to"] == '["A-03"]'
    assert (
        extras["frequency"] == "http://publications.europa.eu/resource/authority/frequency/MONTHLY"
    )
    assert package["num_resources"] == 2
    csv, geojson = package["resources"]
    assert csv["package_id"] == gid
    assert decode_global_id(csv["id"])[0].name == "Distribution"
    assert csv["url"] == "https://example.jp/opendata/evac.csv"  # the download, where there is one
    assert (csv["format"], csv["mimetype"], csv["size"], csv["position"]) == (
        "CSV",
        "text/csv; charset=utf-8",
        20480,
        0,
    )
    assert csv["hash"].lower().startswith("9f86d0")
    assert (geojson["url"], geojson["size"], geojson["position"]) == (
        "https://example.jp/opendata/evac.geojson",
        None,
        1,
    )
    # The id form finds the same package.
    assert result(await call("package_show", id=gid)) == package


async def test_a_joint_package_belongs_to_its_lead_and_names_every_publisher(
    call: Call, catalog: dict[str, int]
) -> None:
    package = result(await call("package_show", id="joint-hazard"))
    assert package["organization"]["name"] == KAINAN
    extras = {e["key"]: e["value"] for e in package["extras"]}
    assert extras["publishers"] == f'["{KAINAN}", "{WAKAYAMA}"]'
    # organization: finds a joint dataset through any of its publishers.
    found = result(await call("package_search", fq=f"organization:{WAKAYAMA}"))
    assert set(names(found)) == {"wakayama-evac", "joint-hazard"}


async def test_the_japanese_search_through_q(call: Call, catalog: dict[str, int]) -> None:
    found = result(await call("package_search", q="避難所"))
    # 避難所 is a partial word of 指定緊急避難場所一覧; the draft 避難所の混雑状況 is no one's
    # to read here.
    assert names(found) == ["wakayama-evac"]
    assert found["count"] == 1
    assert names(result(await call("package_search", q="ハザード"))) == ["joint-hazard"]
    assert result(await call("package_search", q="*:*"))["count"] == len(PUBLISHED)


@pytest.mark.parametrize(
    ("fq", "found"),
    [
        (f"organization:{KAINAN}", {"joint-hazard", "kainan-minimal"}),
        (f"organization:{PREFECTURE}", {"pref-roads"}),
        ("tags:防災", {"wakayama-evac", "joint-hazard"}),
        ('tags:"道路"', {"pref-roads"}),
        ("res_format:csv", {"wakayama-evac", "pref-roads"}),
        ("res_format:GeoJSON", {"wakayama-evac"}),
        ("license_id:CC0-1.0", {"pref-roads"}),
        (f"organization:{WAKAYAMA} tags:防災", {"wakayama-evac", "joint-hazard"}),
        (f"organization:{WAKAYAMA} AND res_format:ZIP", {"joint-hazard"}),
        (f"+organization:{KAINAN} +license_id:PDL-1.0", {"kainan-minimal"}),
        ("tags:防災 tags:避難", {"wakayama-evac"}),
        (f"organization:{HASHIMOTO}", set()),
        ("+dataset_type:dataset tags:道路", {"pref-roads"}),
        ("dataset_type:harvest", set()),
    ],
)
async def test_fq_filters(call: Call, catalog: dict[str, int], fq: str, found: set[str]) -> None:
    searched = result(await call("package_search", fq=fq))
    assert set(names(searched)) == found
    assert searched["count"] == len(found)


async def test_rows_start_and_sort(call: Call, catalog: dict[str, int]) -> None:
    by_title = result(await call("package_search", sort="title_string asc", rows=2))
    assert by_title["count"] == len(PUBLISHED)
    assert by_title["sort"] == "title_string asc"
    all_by_title = result(await call("package_search", sort="title_string asc", rows=100))
    everything = names(all_by_title)
    titles = [p["title"] for p in all_by_title["results"]]
    assert titles == sorted(titles)  # code-point order, as the catalog's title order
    assert names(by_title) == everything[:2]
    rest = result(await call("package_search", sort="title_string asc", rows=2, start=2))
    assert names(rest) == everything[2:4]
    assert names(result(await call("package_search", sort="name desc"))) == sorted(
        PUBLISHED, reverse=True
    )
    # A count alone.
    counted = result(await call("package_search", rows=0))
    assert (counted["count"], counted["results"]) == (len(PUBLISHED), [])
    # More than CKAN's maximum is cut to it, as CKAN does.
    assert result(await call("package_search", rows=5000))["count"] == len(PUBLISHED)


async def test_facets(call: Call, catalog: dict[str, int]) -> None:
    found = result(
        await call(
            "package_search",
            **{"facet.field": '["organization", "tags", "res_format", "license_id"]'},
        )
    )
    assert found["facets"]["organization"] == {WAKAYAMA: 2, KAINAN: 2, PREFECTURE: 1}
    assert found["facets"]["tags"] == {"防災": 2, "避難": 1, "道路": 1}
    assert found["facets"]["res_format"] == {"CSV": 2, "GEOJSON": 1, "ZIP": 1}
    assert found["facets"]["license_id"] == {"PDL-1.0": 2, "CC-BY-4.0": 1, "CC0-1.0": 1}
    organizations = found["search_facets"]["organization"]
    assert organizations["title"] == "organization"
    assert {"name": PREFECTURE, "display_name": "和歌山県", "count": 1} in organizations["items"]


async def test_the_public_reads_no_draft_anywhere(call: Call, catalog: dict[str, int]) -> None:
    listed = result(await call("package_list"))
    assert listed == sorted(PUBLISHED)
    everything = result(await call("package_search", rows=100, q="避難"))
    assert not set(names(everything)) & set(HIDDEN)
    assert result(await call("package_search"))["count"] == len(PUBLISHED)
    for identifier in HIDDEN:
        for key in (identifier, encode_global_id("Dataset", catalog[identifier])):
            response = await call("package_show", id=key)
            assert response.status_code == 404
            assert response.json()["error"] == {"__type": "Not Found Error", "message": "Not found"}
    organizations = result(await call("organization_list", all_fields="true"))
    counts = {o["name"]: o["package_count"] for o in organizations}
    assert (counts[WAKAYAMA], counts[HASHIMOTO]) == (2, 0)
    shown = result(await call("organization_show", id=WAKAYAMA, include_datasets="true"))
    assert shown["package_count"] == 2
    assert {p["name"] for p in shown["packages"]} == {"wakayama-evac", "joint-hazard"}


@pytest.mark.parametrize("query_layer", [True, False], ids=["policy", "rls-alone"])
async def test_row_level_security_alone_hides_the_drafts(
    call: Call,
    catalog: dict[str, int],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    query_layer: bool,
) -> None:
    """The reads run as the principal under row-level security: without the policy's
    conditions in the query, PostgreSQL alone still answers the same."""
    monkeypatch.setattr(policy, "QUERY_LAYER", query_layer)
    assert result(await call("package_list")) == sorted(PUBLISHED)
    found = result(await call("package_search", q="避難所", **{"facet.field": '["tags"]'}))
    assert (names(found), found["facets"]["tags"]) == (["wakayama-evac"], {"防災": 1, "避難": 1})
    assert (await call("package_show", id="wakayama-draft")).status_code == 404
    own = result(await call("package_show", staff(settings, WAKAYAMA), id="wakayama-draft"))
    assert own["resources"][0]["url"] == "https://example.jp/draft.csv"
    counts = {
        o["name"]: o["package_count"]
        for o in result(await call("organization_list", all_fields=True))
    }
    assert counts[WAKAYAMA] == 2


async def test_a_municipality_reads_its_own_drafts(
    call: Call, catalog: dict[str, int], settings: Settings
) -> None:
    token = staff(settings, WAKAYAMA)
    draft = result(await call("package_show", token, id="wakayama-draft"))
    assert draft["private"] is True
    assert {e["key"]: e["value"] for e in draft["extras"]}["status"] == "DRAFT"
    found = result(await call("package_search", token, q="避難所"))
    assert set(names(found)) == {"wakayama-evac", "wakayama-draft", "joint-pending"}
    assert found["count"] == 3
    assert set(result(await call("package_list", token))) == {
        *PUBLISHED,
        "wakayama-draft",
        "joint-pending",
    }
    counts = {
        o["name"]: o["package_count"]
        for o in result(await call("organization_list", token, all_fields=True))
    }
    assert counts[WAKAYAMA] == 4
    # Another municipality's draft stays unseen.
    other = staff(settings, HASHIMOTO)
    assert (await call("package_show", other, id="wakayama-draft")).status_code == 404


async def test_get_and_post_answer_alike(call: Call, catalog: dict[str, int]) -> None:
    for action, params in [
        ("package_search", {"q": "避難所", "fq": "tags:防災", "rows": 5}),
        ("package_show", {"id": "joint-hazard"}),
        ("package_list", {}),
        ("organization_list", {"all_fields": True, "limit": 3}),
        ("organization_show", {"id": KAINAN}),
    ]:
        by_get = await call(action, **params)
        by_post = await call(action, method="POST", **params)
        assert by_get.status_code == by_post.status_code == 200, by_post.text
        assert by_get.json() == by_post.json()


async def test_organizations(call: Call, catalog: dict[str, int]) -> None:
    listed = result(await call("organization_list", sort="name asc"))
    assert len(listed) == 31  # the prefecture and its 30 municipalities
    assert listed[:2] == [PREFECTURE, WAKAYAMA]
    shown = result(await call("organization_show", id=encode_global_id("Municipality", KAINAN)))
    assert (shown["name"], shown["title"], shown["package_count"]) == (KAINAN, "海南市", 2)
    assert "packages" not in shown
    by_count = result(await call("organization_list", sort="package_count desc", limit=2))
    assert set(by_count) == {WAKAYAMA, KAINAN}


@pytest.mark.parametrize(
    ("action", "params", "parameter"),
    [
        ("package_show", {}, "id"),
        ("package_search", {"rows": "many"}, "rows"),
        ("package_search", {"start": "-1"}, "start"),
        ("package_search", {"sort": "popularity desc"}, "sort"),
        ("package_search", {"fq": "groups:x"}, "fq"),
        ("package_search", {"fq": "organization:302016"}, "fq"),  # fails the check digit
        ("package_search", {"fq": "(tags:a OR tags:b)"}, "fq"),
        ("package_search", {"facet.field": '["maintainer"]'}, "facet.field"),
        ("package_search", {"q": "あ" * 201}, "q"),
        ("package_search", {"fq": " ".join(["tags:a"] * 21)}, "fq"),
        ("package_search", {"q": "避難\x00"}, "q"),
        ("package_show", {"id": "wakayama-evac\x00"}, "id"),
        ("organization_list", {"sort": "created asc"}, "sort"),
    ],
)
async def test_validation_errors_are_409_as_in_ckan(
    call: Call, action: str, params: dict[str, Any], parameter: str
) -> None:
    response = await call(action, **params)
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["success"] is False
    error = body["error"]
    assert error["__type"] == "Validation Error"
    assert error["message"].startswith(f"{parameter}: ")
    assert error[parameter] == [error["message"].removeprefix(f"{parameter}: ")]


async def test_not_found_and_unknown_actions(call: Call, catalog: dict[str, int]) -> None:
    for action, params in [("package_show", {"id": "nothing"}), ("organization_show", {"id": "1"})]:
        response = await call(action, **params)
        assert response.status_code == 404
        assert response.json() == {
            "help": f"http://test/api/3/action/help_show?name={action}",
            "success": False,
            "error": {"__type": "Not Found Error", "message": "Not found"},
        }
    # Writes are not served: CKAN's answer to an action it does not have.
    response = await call("package_create", method="POST", name="x")
    assert response.status_code == 400
    assert response.json() == "Bad request - Action name not known: package_create"
    assert "rows" in result(await call("help_show", name="package_search"))


async def test_a_refused_token_is_401(call: Call) -> None:
    response = await call("package_list", "not-a-token")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    error = response.json()["error"]
    assert error["__type"] == "Authorization Error"
    assert error["message"].startswith("Unauthenticated: ")


# --- a real CKAN client against a real server -------------------------------------------------


@dataclass
class Live:
    server: Server
    settings: Settings

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"


@pytest.fixture(scope="module")
async def live(pg_server: str, settings: Settings) -> AsyncIterator[Live]:
    folder = Path(tempfile.mkdtemp(prefix="dxlink-test-ckan-"))
    async with scratch_database(pg_server, "ckan") as url:
        owner = create_engine(url, settings)
        server: Server | None = None
        try:
            await prepare_database(url, settings, migrate_=True, seed=True)
            async with owner.begin() as connection:
                await make_catalog(connection)
            server = await asyncio.to_thread(_serve, url, settings, folder)
            yield Live(server, settings)
        finally:
            if server is not None:
                server.stop()
            await owner.dispose()
            shutil.rmtree(folder, ignore_errors=True)


def _ckanapi_session(live: Live, token: str | None, get_only: bool) -> dict[str, Any]:
    """What ckanapi answers, by POST (its default) or GET; tokens go as `apikey`, which ckanapi
    sends as the Authorization header."""
    apikey = None if token is None else f"Bearer {token}"
    with ckanapi.RemoteCKAN(live.url, apikey=apikey, get_only=get_only) as remote:
        found = remote.action.package_search(q="避難所", fq="tags:防災", rows=10)
        shown = remote.action.package_show(id="wakayama-evac")
        try:
            remote.action.package_show(id="wakayama-draft")
            draft: Any = "shown"
        except ckanapi.NotFound:
            draft = "not found"
        try:
            remote.action.package_search(rows="many")
            invalid: Any = None
        except ckanapi.ValidationError as exc:
            invalid = exc.error_dict
    return {"found": found, "shown": shown, "draft": draft, "invalid": invalid}


@pytest.mark.parametrize("get_only", [False, True], ids=["POST", "GET"])
async def test_ckanapi_reads_the_catalog_of_a_running_server(live: Live, get_only: bool) -> None:
    public = await asyncio.to_thread(_ckanapi_session, live, None, get_only)
    assert [p["name"] for p in public["found"]["results"]] == ["wakayama-evac"]
    assert public["found"]["count"] == 1
    assert public["shown"]["title"] == "指定緊急避難場所一覧"
    assert public["shown"]["organization"]["name"] == WAKAYAMA
    assert public["shown"]["resources"][0]["url"] == "https://example.jp/opendata/evac.csv"
    assert public["draft"] == "not found"
    assert public["invalid"]["__type"] == "Validation Error"
    assert public["invalid"]["rows"] == ["Invalid integer"]

    token = mint_token(
        live.settings,
        subject="staff-302015",
        role=Role.municipal_staff,
        scope={"municipality": WAKAYAMA},
    )
    own = await asyncio.to_thread(_ckanapi_session, live, token, get_only)
    # Its draft, and the joint dataset it co-publishes that waits for approval.
    assert {p["name"] for p in own["found"]["results"]} == {
        "wakayama-evac",
        "wakayama-draft",
        "joint-pending",
    }
    assert own["draft"] == "shown"
