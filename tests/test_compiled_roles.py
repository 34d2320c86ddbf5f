"""Every root field the compiled path covers, as every kind of principal, with both layers and
with row-level security alone: compiled (never declined) and byte for byte the resolvers'."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from auth import policy
from auth.tokens import mint_token
from service.settings import Settings
from tests import conftest
from tests import factories as f
from tests.auth.world import PRINCIPAL_NAMES, World, build_world, token_claims
from tests.conftest import GraphQL, data_of

SCOPED_MUNICIPALITY = (
    "code tier { snapshotOn score reason decidedBy tier { level } } "
    "tierHistory { snapshotOn snapshot overridden reason tier { level } computedTier { level } } "
    "assessmentResponses { status version answers { numberValue textValue question { key } } } "
    "datasets { title status keywords distributions { byteSize format } publishers { code } } "
    "dispatchAssignments { theme status endedReason expert { name monthlyCapacity } "
    "visits { status place report } }"
)

# The month of the world's sessions (a week ago, in Japan's calendar).
SESSIONS_MONTH = f"{f.jst_today() - timedelta(days=7):%Y-%m}"

QUERIES = {
    "viewer": "{ viewer { role subject municipality { code name tier { tier { level } } } "
    "expert { name monthlyCapacity assignments { theme status municipality { code } "
    "visits { place report } } } region { name municipalities { code } } } }",
    "experts": "{ experts { totalCount nodes { name affiliation themes monthlyCapacity "
    "contact skills availability { startsOn } sessionsByMonth { month planned held } "
    "assignments { theme endedReason municipality { code } } } } }",
    "requests": "{ dispatchRequests { totalCount nodes { theme status goals "
    "municipality { code } programme { fiscalYear } assignments { theme } } } }",
    "assignments (connection)": '{ assignments(month: "2026-12", status: ACTIVE) { totalCount '
    "edges { cursor node { theme version synthetic expert { name } municipality { code } "
    "request { theme } programme { name } sessionsByMonth { month planned held target "
    "maximum } visits { status hours nextSteps } } } pageInfo { hasNextPage endCursor } } }",
    "programme": "{ dispatchProgramme { fiscalYear name themes sessionsPerMonthMax "
    "progress { requests matched open sessionsPlanned sessionsHeld onSiteShare } } "
    "dispatchProgrammes { fiscalYear } }",
    "municipality months": '{ municipality(code: "302015") { dispatchSessionsByMonth { month '
    "planned held onSite target assignments } dispatchRequests { theme status } } }",
    "assignments": "{ dispatchAssignments { theme status endedReason expert { name } "
    "municipality { code tier { reason tier { name } } } visits { status report } } }",
    "dispatch calendar": '{ assignments(month: "2026-11", first: 20) { totalCount nodes { '
    "theme status expert { name } municipality { code name } sessions { startsAt endsAt mode "
    "status place report } sessionsByMonth { month planned held } } } }",
    "an assignment's sessions of a month": "{ assignments(first: 20) { nodes { theme "
    f'this: sessions(month: "{SESSIONS_MONTH}") {{ startsAt status }} '
    'before: sessions(month: "2000-01") { startsAt } all: sessions { startsAt } } } }',
    "assignments of one municipality": "query($c: String) { dispatchAssignments("
    "municipalityCode: $c) { theme municipality { code } } }",
    "audit log": "{ auditLog(first: 5) { totalCount edges { cursor node { id action entity "
    "entityKey before after actorRole } } pageInfo { hasNextPage endCursor } } }",
    "tier distribution": "{ tierDistribution { snapshotOn total suppressed count "
    "tier { level name } } }",
    "tier distribution of a month": '{ tierDistribution(snapshot: "2024-11") { snapshotOn '
    "suppressed count tier { level } } }",
    "KPI progress": "{ kpiProgress { snapshot municipalities assessed inTarget share suppressed "
    "regions { region { name } municipalities assessed inTarget share suppressed } } }",
    "KPI progress of a month": '{ kpiProgress(snapshot: "2023-11") { snapshot inTarget share '
    "regions { share } } }",
    "tier transitions": '{ tierTransitions(from: "2023-11", to: "2024-11") { count '
    "from { level name } to { level label } } }",
    "a municipality's answers": '{ municipality(code: "302015") { assessmentResponses { '
    "status version submittedAt round { key rechecks { key title } } answers { "
    "numberValue textValue "
    "question { key kind } options { label position } } } } }",
    "answer counts": '{ assessmentAnswerCounts(round: "2024-04", question: "3-4") { round '
    "suppressed question { key text } counts { count option { label } } } }",
    "assessment aggregate": '{ assessmentAggregate(round: "2024-04", questionId: "4-1") '
    "{ option count } }",
    "municipalities of a region": '{ municipalities(first: 5, region: "海草") { totalCount '
    f"nodes {{ {SCOPED_MUNICIPALITY} }} }} }}",
    "one municipality": f'{{ municipality(code: "304271") {{ {SCOPED_MUNICIPALITY} }} }}',
    # The latest tier read with the history it is the first of (one sub-select for both,
    # service/compiler/objects.py `_first_and_list`): after it, with fields between, twice.
    "latest tier and history": "{ municipalities(first: 30) { nodes { "
    "tierHistory { snapshot reason tier { level } } name kana "
    "tier { snapshot overridden tier { name } } code again: tier { score } "
    "older: tierHistory { snapshotOn } } } }",
    "node": "query($id: ID!) { node(id: $id) { id ... on Municipality { code tier { score } } } }",
    "catalog search": '{ datasets(search: "AED", first: 3) { totalCount facets { publishers '
    "{ value label count } themes { value count } formats { value count } licenses { value "
    "label count } } edges { cursor node { identifier status version publishers { code } "
    "publisherApprovals { approvedVersion municipality { code } prefecture { code } } "
    "distributions { format columns checksum } licenseInfo { name } } } "
    "pageInfo { hasNextPage endCursor } } }",
    "catalog browse": "{ datasets(first: 3, orderBy: {field: TITLE, direction: ASC}) { "
    "totalCount facets { publishers { value count } } nodes { identifier overdue "
    "nextUpdateDue standardDataset { key columns { name required } } } } }",
    "catalog filters": '{ datasets(publisher: "302015", format: "CSV", first: 5) { totalCount '
    "nodes { identifier status } } }",
    "one dataset": "query($ds: ID!) { dataset(id: $ds) { identifier status publishers { code } "
    "distributions { accessUrl } } }",
    "scores and rubrics": '{ municipality(code: "302015") { latestScore { total maxTotal '
    "rubric { key version title synthetic thresholds { minimumTotal tier { level } } "
    "framework { version } } computedTier { level name } response { status } "
    "sections { key title weight points maxPoints score maxScore } "
    "explanation { points question { key } option { label } } } "
    "assessmentResponses { score { total sections { key score } } round { rubric { key } } } "
    "tierHistory { version round { key } } } }",
    "scores of every municipality": "{ municipalities(first: 30) { nodes { code "
    "latestScore { total computedTier { level } } } } }",
    "catalog coverage": "{ openDataCoverage { datasets municipality { code } standardDataset "
    "{ key } } openDataPublishersByYear { fiscalYear municipalities newMunicipalities } "
    "overdueDatasets(first: 5) { totalCount nodes { identifier } } }",
}


@pytest.fixture
async def world(connection: AsyncConnection) -> World:
    world = await build_world(connection)
    # A rubric scoring 2024-04 and a scored answer in each of the world's responses.
    await f.create_rubric(
        connection,
        weights={"step0": 1.5, "step1": 1},
        points={("0-1", "定義している"): 2, ("1-1", "策定済み"): 3},
        thresholds={1: 0, 2: 2, 3: 4},
    )
    responses = await connection.scalars(text("SELECT id FROM assessment_response ORDER BY id"))
    for response in responses.all():
        await f.create_choice_answer(
            connection, response_id=response, question_key="0-1", labels=["定義している"]
        )
    return world


@pytest.mark.parametrize("layer", ["query+rls", "rls-only"])
@pytest.mark.parametrize("who", PRINCIPAL_NAMES)
@pytest.mark.parametrize("shape", list(QUERIES))
async def test_compiled_as_every_principal(
    gql: GraphQL,
    world: World,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    shape: str,
    who: str,
    layer: str,
) -> None:
    if layer == "rls-only":
        monkeypatch.setattr(policy, "QUERY_LAYER", False)
    principal = world.principals[who]
    token = None
    if principal.subject is not None:
        token = mint_token(
            settings, role=principal.role, subject=principal.subject, scope=token_claims(principal)
        )
    # A draft of the own municipality: null for everyone but its publisher and the prefecture.
    draft = next(r.global_id for r in world.rows["Dataset"] if not r.published)
    variables = {"c": "302015", "id": "TXVuaWNpcGFsaXR5OjMwMjAxNQ", "ds": draft}
    before = len(conftest.executors_compared)
    data_of(await gql(QUERIES[shape], variables, token=token))
    assert len(conftest.executors_compared) == before + 1, f"{shape} was not compiled"
