"""The catalog's publication workflow through the API: drafts, edits, single and joint
publication, the approval an edit asks again, the prefecture's withdrawal, and what the public
sees of each (`node(id:)` and `municipality { datasets }`, on both executors)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from schema.node import decode_global_id
from tests.conftest import data_of
from tests.open_data.conftest import (
    KAINAN,
    KITAYAMA,
    PREFECTURE,
    WAKAYAMA,
    Catalog,
    codes,
    mutation,
)

NODE = "query($id: ID!) { node(id: $id) { ... on Dataset { id status version } } }"
LISTED = "query($code: String!) { municipality(code: $code) { datasets { id } } }"


async def public_sees(
    catalog: Catalog, dataset: dict[str, Any], *, token: str | None = None
) -> bool:
    """Whether the public (or ``token``'s holder) reads the dataset by id and in the lists of
    each of its publishing municipalities; both must agree."""
    node = data_of(await catalog.gql(NODE, {"id": dataset["id"]}, token=token))["node"]
    listed = []
    for publisher in dataset["publishers"]:
        body = await catalog.gql(LISTED, {"code": publisher["code"]}, token=token)
        ids = [d["id"] for d in data_of(body)["municipality"]["datasets"]]
        listed.append(dataset["id"] in ids)
    assert all(x == (node is not None) for x in listed), (node, listed)
    return node is not None


def approvals(dataset: dict[str, Any]) -> dict[str, int | None]:
    return {
        (a["municipality"] or a["prefecture"])["code"]: a["approvedVersion"]
        for a in dataset["publisherApprovals"]
    }


async def test_a_municipality_creates_edits_and_publishes_its_dataset(catalog: Catalog) -> None:
    wakayama = catalog.staff(WAKAYAMA)
    created = await catalog.ok(
        "createDataset",
        wakayama,
        title="AED設置箇所一覧",
        keywords=["AED", "防災"],
        themes=["HEAL"],
        updateFrequency="ANNUAL",
        issuedOn="2026-04-01",
        spatial=[WAKAYAMA],
        standardDataset="A-08",
    )
    assert created["status"] == "DRAFT"
    assert created["version"] == 1
    assert created["license"] == "CC-BY-4.0"
    assert created["publishers"] == [{"code": WAKAYAMA}]
    assert created["standardDataset"] == {"key": "A-08"}
    assert re.fullmatch(rf"{WAKAYAMA}-[0-9a-f]{{32}}", created["identifier"])
    assert not await public_sees(catalog, created)
    assert not await public_sees(catalog, created, token=catalog.staff(KITAYAMA))

    edited = await catalog.ok(
        "updateDataset",
        wakayama,
        id=created["id"],
        version=1,
        description="市内の公共施設に設置されたAED",
        contactEmail="bosai@city.wakayama.example.jp",
    )
    assert edited["version"] == 2
    assert edited["title"] == "AED設置箇所一覧", "fields left out stay as they are"
    assert edited["keywords"] == ["AED", "防災"]
    payload = await catalog.call(
        "addDistribution",
        wakayama,
        datasetId=created["id"],
        version=2,
        title="AED一覧 (CSV)",
        accessUrl="https://example.jp/opendata/aed.csv",
        mediaType="text/csv",
        byteSize=3_000_000_000,
        columns=["名称", "名称_カナ", "住所", "設置位置"],
    )
    assert payload["userErrors"] == []
    assert payload["distribution"]["title"] == "AED一覧 (CSV)"
    dataset = payload["dataset"]
    assert dataset["version"] == 3, "a new distribution is an edit"
    assert dataset["distributions"][0]["byteSize"] == 3_000_000_000

    published = await catalog.ok("publishDataset", wakayama, id=created["id"], version=3)
    assert published["status"] == "PUBLISHED"
    assert published["publishedAt"] is not None
    assert published["version"] == 3, "an approval names the version, it does not change it"
    assert approvals(published) == {WAKAYAMA: 3}
    assert await public_sees(catalog, published)

    # An edit of a dataset one municipality publishes keeps it public, at the new version.
    again = await catalog.ok(
        "updateDataset", wakayama, id=created["id"], version=3, modifiedOn="2026-05-01"
    )
    assert (again["status"], again["version"]) == ("PUBLISHED", 4)
    assert approvals(again) == {WAKAYAMA: 4}
    assert await public_sees(catalog, again)


async def joint(catalog: Catalog) -> dict[str, Any]:
    """和歌山市's dataset published jointly with 海南市, both approving version 2."""
    draft = await catalog.draft(catalog.staff(WAKAYAMA), jointPublishers=[KAINAN])
    await catalog.ok("publishDataset", catalog.staff(WAKAYAMA), id=draft["id"], version=2)
    return await catalog.ok("approveJointDataset", catalog.staff(KAINAN), id=draft["id"], version=2)


async def test_a_joint_dataset_is_public_once_every_publisher_approved(catalog: Catalog) -> None:
    wakayama, kainan = catalog.staff(WAKAYAMA), catalog.staff(KAINAN)
    draft = await catalog.draft(wakayama, jointPublishers=[KAINAN])
    assert draft["publishers"] == [{"code": WAKAYAMA}, {"code": KAINAN}]
    assert await public_sees(catalog, draft, token=kainan), "a partner reads the draft"

    asked = await catalog.ok("publishDataset", wakayama, id=draft["id"], version=2)
    assert asked["status"] == "PENDING_APPROVAL"
    assert approvals(asked) == {WAKAYAMA: 2, KAINAN: None}
    assert asked["publishedAt"] is None
    assert not await public_sees(catalog, asked)
    again = await catalog.call("publishDataset", wakayama, id=draft["id"], version=2)
    assert codes(again) == ["ALREADY_APPROVED"]

    approved = await catalog.ok("approveJointDataset", kainan, id=draft["id"], version=2)
    assert approved["status"] == "PUBLISHED"
    assert approvals(approved) == {WAKAYAMA: 2, KAINAN: 2}
    assert await public_sees(catalog, approved)
    twice = await catalog.call("approveJointDataset", kainan, id=draft["id"], version=2)
    assert codes(twice) == ["ALREADY_PUBLISHED"]


async def test_an_edit_after_approval_asks_again(catalog: Catalog) -> None:
    wakayama, kainan = catalog.staff(WAKAYAMA), catalog.staff(KAINAN)
    dataset = await joint(catalog)
    assert await public_sees(catalog, dataset)

    edited = await catalog.ok("updateDataset", kainan, id=dataset["id"], version=2, title="改訂")
    assert (edited["status"], edited["version"]) == ("PENDING_APPROVAL", 3)
    assert approvals(edited) == {WAKAYAMA: 2, KAINAN: 3}, "the editor's approval moves with it"
    assert not await public_sees(catalog, edited)
    approved = await catalog.ok("approveJointDataset", wakayama, id=dataset["id"], version=3)
    assert approved["status"] == "PUBLISHED"
    assert await public_sees(catalog, approved)

    # A new distribution is an edit too.
    payload = await catalog.call(
        "addDistribution",
        wakayama,
        datasetId=dataset["id"],
        version=3,
        accessUrl="https://example.jp/opendata/aed.json",
    )
    assert (payload["dataset"]["status"], payload["dataset"]["version"]) == ("PENDING_APPROVAL", 4)
    assert approvals(payload["dataset"]) == {WAKAYAMA: 4, KAINAN: 3}
    assert not await public_sees(catalog, payload["dataset"])
    stale = await catalog.call("approveJointDataset", kainan, id=dataset["id"], version=3)
    assert codes(stale) == ["STALE"], "an approval names the version it approves"
    assert (await catalog.ok("approveJointDataset", kainan, id=dataset["id"], version=4))[
        "status"
    ] == "PUBLISHED"


async def test_the_prefecture_unpublishes_with_a_reason(
    catalog: Catalog, connection: AsyncConnection
) -> None:
    wakayama, kainan = catalog.staff(WAKAYAMA), catalog.staff(KAINAN)
    dataset = await joint(catalog)
    refused = await catalog.call(
        "unpublishDataset", wakayama, id=dataset["id"], version=2, reason="誤り"
    )
    assert codes(refused) == ["FORBIDDEN"], "a municipality may not unpublish"
    no_reason = await catalog.call(
        "unpublishDataset", catalog.admin, id=dataset["id"], version=2, reason="  "
    )
    assert no_reason["userErrors"] == [
        {"field": ["input", "reason"], "code": "REQUIRED", "message": "why it is withdrawn"}
    ]

    withdrawn = await catalog.ok(
        "unpublishDataset", catalog.admin, id=dataset["id"], version=2, reason="個人情報の掲載"
    )
    assert withdrawn["status"] == "UNPUBLISHED"
    assert withdrawn["unpublishedReason"] == "個人情報の掲載"
    assert withdrawn["version"] == 3
    assert not await public_sees(catalog, withdrawn)
    # Its publishers still read it, with the reason.
    seen = data_of(
        await catalog.gql(
            "query($id: ID!) { node(id: $id) { ... on Dataset { unpublishedReason } } }",
            {"id": dataset["id"]},
            token=kainan,
        )
    )
    assert seen["node"] == {"unpublishedReason": "個人情報の掲載"}
    twice = await catalog.call(
        "unpublishDataset", catalog.admin, id=dataset["id"], version=3, reason="再度"
    )
    assert codes(twice) == ["NOT_PUBLISHED"]

    # Publishing it again takes every publisher's approval of the version after the withdrawal.
    asked = await catalog.ok("publishDataset", wakayama, id=dataset["id"], version=3)
    assert (asked["status"], asked["unpublishedReason"]) == ("PENDING_APPROVAL", None)
    assert not await public_sees(catalog, asked)
    back = await catalog.ok("approveJointDataset", kainan, id=dataset["id"], version=3)
    assert back["status"] == "PUBLISHED"
    assert await public_sees(catalog, back)
    reasons = await connection.scalars(
        text(
            "SELECT after ->> 'unpublished_reason' FROM audit_log WHERE entity = 'dataset' "
            "AND after ->> 'status' = 'UNPUBLISHED'"
        )
    )
    assert list(reasons) == ["個人情報の掲載"], "the audit log keeps the withdrawal"


async def test_a_municipality_cannot_edit_another_municipalitys_dataset(
    catalog: Catalog, connection: AsyncConnection
) -> None:
    wakayama, kitayama = catalog.staff(WAKAYAMA), catalog.staff(KITAYAMA)
    draft = await catalog.draft(wakayama)
    hidden = await catalog.call("updateDataset", kitayama, id=draft["id"], version=2, title="x")
    assert codes(hidden) == ["NOT_FOUND"], "another municipality's draft does not exist for it"
    published = await catalog.ok("publishDataset", wakayama, id=draft["id"], version=2)
    for name, values in (
        ("updateDataset", {"id": draft["id"], "version": 2, "title": "乗っ取り"}),
        (
            "addDistribution",
            {"datasetId": draft["id"], "version": 2, "accessUrl": "https://evil.example/x"},
        ),
        ("publishDataset", {"id": draft["id"], "version": 2}),
        ("approveJointDataset", {"id": draft["id"], "version": 2}),
    ):
        payload = await catalog.call(name, kitayama, **values)
        assert codes(payload) == ["FORBIDDEN"], name
    again = data_of(await catalog.gql(NODE, {"id": draft["id"]}))["node"]
    assert again == {"id": draft["id"], "status": "PUBLISHED", "version": published["version"]}
    distributions = text("SELECT count(*) FROM distribution WHERE dataset_id = :d")
    assert await connection.scalar(distributions, {"d": decode_global_id(draft["id"])[1]}) == 1


async def test_a_stale_version_is_refused_and_nothing_is_written(catalog: Catalog) -> None:
    wakayama = catalog.staff(WAKAYAMA)
    draft = await catalog.draft(wakayama)
    assert draft["version"] == 2
    for name, values in (
        ("updateDataset", {"id": draft["id"], "version": 1, "title": "古い版から"}),
        ("addDistribution", {"datasetId": draft["id"], "version": 1, "accessUrl": "https://a.jp"}),
        ("publishDataset", {"id": draft["id"], "version": 1}),
    ):
        payload = await catalog.call(name, wakayama, **values)
        assert payload["userErrors"] == [
            {
                "field": ["input", "version"],
                "code": "STALE",
                "message": "the dataset is at version 2",
            }
        ], name
    seen = data_of(await catalog.gql(NODE, {"id": draft["id"]}, token=wakayama))["node"]
    assert seen == {"id": draft["id"], "status": "DRAFT", "version": 2}


async def test_publication_needs_a_description_and_a_distribution(catalog: Catalog) -> None:
    wakayama = catalog.staff(WAKAYAMA)
    bare = await catalog.ok("createDataset", wakayama, title="説明のない一覧")
    payload = await catalog.call("publishDataset", wakayama, id=bare["id"], version=1)
    assert sorted(codes(payload)) == ["DESCRIPTION_MISSING", "NO_DISTRIBUTION"]
    assert payload["dataset"] is None
    published = await catalog.draft(wakayama, identifier="302015-described")
    published = await catalog.ok("publishDataset", wakayama, id=published["id"], version=2)
    cleared = await catalog.call(
        "updateDataset", wakayama, id=published["id"], version=2, description=None
    )
    assert codes(cleared) == ["DESCRIPTION_MISSING"], "a public dataset keeps its description"
    pending = await catalog.call("approveJointDataset", wakayama, id=bare["id"], version=1)
    assert codes(pending) == ["NOT_PENDING_APPROVAL"]


async def test_the_prefecture_publishes_its_own_and_joint_datasets(catalog: Catalog) -> None:
    own = await catalog.draft(catalog.admin, title="県の統計データ")
    assert own["publishers"] == []
    assert own["publishingPrefectures"] == [{"code": PREFECTURE}]
    assert own["identifier"].startswith(f"{PREFECTURE}-")
    published = await catalog.ok("publishDataset", catalog.admin, id=own["id"], version=2)
    assert published["status"] == "PUBLISHED", "the prefecture waits for no municipality"
    assert approvals(published) == {PREFECTURE: 2}

    regional = await catalog.draft(
        catalog.admin, title="Evacuation sites", jointPublishers=[PREFECTURE, KAINAN, KITAYAMA]
    )
    assert regional["identifier"] == f"{PREFECTURE}-evacuation-sites"
    assert [p["code"] for p in regional["publishers"]] == [KAINAN, KITAYAMA]
    asked = await catalog.ok("publishDataset", catalog.admin, id=regional["id"], version=2)
    assert asked["status"] == "PENDING_APPROVAL"
    for code in (KAINAN, KITAYAMA):
        last = await catalog.ok(
            "approveJointDataset", catalog.staff(code), id=regional["id"], version=2
        )
    assert last["status"] == "PUBLISHED"
    assert approvals(last) == {PREFECTURE: 2, KAINAN: 2, KITAYAMA: 2}


async def test_the_partner_list_is_replaced(catalog: Catalog) -> None:
    wakayama, kainan = catalog.staff(WAKAYAMA), catalog.staff(KAINAN)
    draft = await catalog.draft(wakayama, jointPublishers=[KAINAN])
    moved = await catalog.ok(
        "updateDataset", wakayama, id=draft["id"], version=2, jointPublishers=[KITAYAMA]
    )
    assert moved["publishers"] == [{"code": WAKAYAMA}, {"code": KITAYAMA}]
    assert data_of(await catalog.gql(NODE, {"id": draft["id"]}, token=kainan))["node"] is None
    seen = data_of(await catalog.gql(NODE, {"id": draft["id"]}, token=catalog.staff(KITAYAMA)))
    assert seen["node"]["version"] == 3
    own = await catalog.call(
        "updateDataset", catalog.staff(KITAYAMA), id=draft["id"], version=3, jointPublishers=[]
    )
    assert codes(own) == ["INVALID"], "a partner does not take itself off"
    alone = await catalog.ok(
        "updateDataset", wakayama, id=draft["id"], version=3, jointPublishers=[]
    )
    assert alone["publishers"] == [{"code": WAKAYAMA}], "the lead always publishes"


async def test_a_retried_create_writes_once(
    catalog: Catalog, client: httpx.AsyncClient, connection: AsyncConnection
) -> None:
    """Idempotency-Key works for the catalog as for every mutation (service/idempotency.py)."""
    body = orjson.dumps(
        {
            "query": mutation("createDataset", "dataset { id }"),
            "variables": {"input": {"title": "再送"}},
        }
    )
    headers = {
        "Authorization": f"Bearer {catalog.staff(WAKAYAMA)}",
        "Content-Type": "application/json",
        "Idempotency-Key": "create-0001",
    }
    first = await client.post("/graphql", content=body, headers=headers)
    await connection.execute(text("RESET ROLE"))
    again = await client.post("/graphql", content=body, headers=headers)
    await connection.execute(text("RESET ROLE"))
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert await connection.scalar(text("SELECT count(*) FROM dataset WHERE title = '再送'")) == 1


async def test_each_change_is_audited_with_its_principal(
    catalog: Catalog, connection: AsyncConnection
) -> None:
    dataset = await joint(catalog)
    rows = await connection.execute(
        text(
            "SELECT entity, action, actor_subject FROM audit_log "
            "WHERE entity IN ('dataset', 'dataset_publisher', 'distribution') "
            "AND actor_role = 'municipal_staff' ORDER BY id"
        )
    )
    seen = {(entity, action, subject) for entity, action, subject in rows}
    wakayama, kainan = f"municipal_staff-{WAKAYAMA}", f"municipal_staff-{KAINAN}"
    assert {
        ("dataset", "insert", wakayama),
        ("dataset_publisher", "insert", wakayama),
        ("distribution", "insert", wakayama),
        ("dataset", "update", wakayama),
        ("dataset_publisher", "update", kainan),
        ("dataset", "update", kainan),
    } <= seen
    approved_by = await connection.scalars(
        text("SELECT approved_by FROM dataset_publisher WHERE dataset_id = :d ORDER BY position"),
        {"d": decode_global_id(dataset["id"])[1]},
    )
    assert list(approved_by) == [wakayama, kainan]
