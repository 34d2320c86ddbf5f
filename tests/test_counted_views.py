"""The counting views (sessions by month, a programme's progress) count what the viewer may
read, and nothing else: a municipality's staff never learns, through an expert's monthly figures
or the programme's progress, what the expert does for another municipality.

One expert works for three municipalities in November 2026: 和歌山市 and 海南市 (region 海草)
and 北山村 (東牟婁).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from auth.principal import Role
from auth.tokens import mint_token
from service.settings import Settings
from tests import factories as f
from tests.conftest import GraphQL, data_of

WAKAYAMA, KAINAN, KITAYAMA = "302015", "302023", "304271"

# (municipality, day of November, mode, status) of every session.
SESSIONS = [
    (WAKAYAMA, 5, "ON_SITE", "HELD"),
    (WAKAYAMA, 20, "ONLINE", "PLANNED"),
    (KAINAN, 6, "ON_SITE", "HELD"),
    (KAINAN, 13, "ONLINE", "HELD"),
    (KAINAN, 27, "ONLINE", "PLANNED"),
    (KAINAN, 28, "ON_SITE", "CANCELLED"),
    (KITAYAMA, 10, "ON_SITE", "HELD"),
]

QUERY = """
query($code: String!) {
  dispatchProgramme(fiscalYear: 2026) {
    progress { requests matched open sessionsPlanned sessionsHeld sessionsHeldOnSite onSiteShare }
  }
  experts(first: 5) { nodes { name sessionsByMonth { month planned held onSite target } } }
  municipality(code: $code) { dispatchSessionsByMonth { month planned held onSite assignments } }
}
"""


@pytest.fixture
async def expert(connection: AsyncConnection) -> int:
    programme = await f.create_programme(connection)
    expert = await f.create_expert(connection, name="三市町村の専門家", monthly_capacity=12)
    assignments = {}
    for code in (WAKAYAMA, KAINAN, KITAYAMA):
        municipality = await f.municipality_id(connection, code)
        request = await f.create_request(
            connection, programme_id=programme, municipality_id=municipality, status="MATCHED"
        )
        assignments[code] = await f.create_assignment(
            connection,
            expert_id=expert,
            municipality_id=municipality,
            request_id=request,
            programme_id=programme,
            starts_on=date(2026, 11, 1),
            ends_on=date(2027, 2, 28),
        )
    # A request still open, of 海南市.
    await f.create_request(
        connection,
        programme_id=programme,
        municipality_id=await f.municipality_id(connection, KAINAN),
        theme="DX推進計画",
    )
    for code, day, mode, status in SESSIONS:
        starts = datetime(2026, 11, day, 1, 0, tzinfo=UTC)  # 10:00 in Japan
        await f.create_visit(
            connection,
            assignment_id=assignments[code],
            starts_at=starts,
            ends_at=starts.replace(hour=3),
            mode=mode,
            status=status,
        )
    return expert


def token(settings: Settings, who: str, expert: int) -> str | None:
    role, _, scope = who.partition(":")
    claims: dict[str, Any] = {}
    if role == "municipal_staff":
        claims = {"municipality": scope}
    elif role == "regional_office":
        claims = {"region": scope}
    elif role == "expert":
        claims = {"expert": str(expert)}
    if role == "public":
        return None
    return mint_token(settings, role=Role(role), subject=who, scope=claims)


NOVEMBER = "2026-11-01"
# The months of the assignments' period: every one is listed, sessions or not.
PERIOD = [NOVEMBER, "2026-12-01", "2027-01-01", "2027-02-01"]
# What each viewer counts: (planned, held, on site, target) of the expert's November, and the
# programme's (requests, matched, open, planned, held, held on site, on-site share).
EXPECTED: dict[str, tuple[tuple[int, int, int, int] | None, tuple[Any, ...] | None]] = {
    "dispatch_coordinator": ((2, 4, 3, 12), (4, 3, 1, 2, 4, 3, 0.75)),
    "prefecture_admin": ((2, 4, 3, 12), (4, 3, 1, 2, 4, 3, 0.75)),
    "expert": ((2, 4, 3, 12), (0, 0, 0, 2, 4, 3, 0.75)),
    "regional_office:海草": ((2, 3, 2, 8), (3, 2, 1, 2, 3, 2, 2 / 3)),
    "municipal_staff:302015": ((1, 1, 1, 4), (1, 1, 0, 1, 1, 1, 1.0)),
    "municipal_staff:302023": ((1, 2, 1, 4), (2, 1, 1, 1, 2, 1, 0.5)),
    "public": (None, None),
}


@pytest.mark.parametrize("who", list(EXPECTED))
async def test_counts_are_of_what_the_viewer_may_read(
    gql: GraphQL, settings: Settings, expert: int, who: str
) -> None:
    month, progress = EXPECTED[who]
    data = data_of(await gql(QUERY, {"code": WAKAYAMA}, token=token(settings, who, expert)))
    experts = data["experts"]["nodes"]
    if month is None:
        assert experts == []
    else:
        (seen,) = [e for e in experts if e["name"] == "三市町村の専門家"]
        months = {m.pop("month"): m for m in seen["sessionsByMonth"]}
        assert list(months) == PERIOD
        assert months[NOVEMBER] == dict(
            zip(("planned", "held", "onSite", "target"), month, strict=True)
        )
    got = data["dispatchProgramme"]["progress"]
    if progress is None:
        assert got is None
    else:
        names = "requests matched open sessionsPlanned sessionsHeld sessionsHeldOnSite"
        assert got == {
            **dict(zip(names.split(), progress[:6], strict=True)),
            "onSiteShare": pytest.approx(progress[6]),
        }


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("municipal_staff:302015", [(1, 1, 1, 1)]),
        ("municipal_staff:302023", []),
        ("regional_office:海草", [(1, 1, 1, 1)]),
        ("dispatch_coordinator", [(1, 1, 1, 1)]),
        ("public", []),
    ],
)
async def test_a_municipalitys_months_are_its_own_business(
    gql: GraphQL, settings: Settings, expert: int, who: str, expected: list[tuple[int, ...]]
) -> None:
    data = data_of(await gql(QUERY, {"code": WAKAYAMA}, token=token(settings, who, expert)))
    months = data["municipality"]["dispatchSessionsByMonth"]
    assert [m["month"] for m in months] == (PERIOD if expected else [])
    names = ("planned", "held", "onSite", "assignments")
    assert [{k: m[k] for k in names} for m in months[:1]] == [
        dict(zip(names, row, strict=True)) for row in expected
    ]
