"""A signed token's claims: each of the wrong JSON type or shape, out of time or living too long
is refused with a 401 naming the check, never accepted and never a 500."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from jose import jwt
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from service.models import Producer
from service.settings import Settings
from tests import factories as f
from tests.auth.bearer import SECRET, ask, assert_refused, claims, signed_text, with_raw_claim

# JSON values no time claim may hold, written as they travel: python-jose passed the string,
# the NaN and (as 1) the boolean, and answered the rest with a 500.
NOT_TIMES = [
    '"4102444800"',  # a string, even of digits
    "true",
    "null",
    "[1]",
    "{}",
    "NaN",
    "Infinity",
    "-Infinity",
    "1e400",  # parsed as infinity
    "100000000000000000000",  # 10^20, the example: after the year 9999
    "-1",
]


@pytest.mark.parametrize("raw", NOT_TIMES)
@pytest.mark.parametrize("name", ["exp", "iat", "nbf"])
async def test_time_claims_must_be_numbers_of_seconds(
    client: httpx.AsyncClient, settings: Settings, name: str, raw: str
) -> None:
    assert_refused(await ask(client, with_raw_claim(settings, name, raw)), f"claim {name}")


async def test_fractional_times_are_numeric_dates(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    """RFC 7519 allows non-integer NumericDates; they are times like any other."""
    now = time.time()
    token = jwt.encode(claims(settings, iat=now - 0.5, exp=now + 599.5, nbf=now - 1.25), SECRET)
    assert (await ask(client, token)).status_code == 200


async def test_lifetime_is_at_most_the_maximum(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    maximum = settings.jwt_max_lifetime_seconds
    assert maximum == 86_400  # the documented default
    now = int(time.time())
    longest = jwt.encode(claims(settings, iat=now, exp=now + maximum), SECRET)
    assert (await ask(client, longest)).status_code == 200

    too_long = jwt.encode(claims(settings, iat=now, exp=now + maximum + 1), SECRET)
    assert_refused(await ask(client, too_long), f"exceeds the maximum of {maximum} s")
    # A backdated iat does not make a long-lived token acceptable: exp - iat is what counts.
    backdated = jwt.encode(claims(settings, iat=now - maximum, exp=now + 60), SECRET)
    assert_refused(await ask(client, backdated), "token lifetime (exp - iat)")


async def test_a_lower_maximum_lifetime_is_honoured(client_for: Any, settings: Settings) -> None:
    strict = settings.model_copy(update={"jwt_max_lifetime_seconds": 300})
    now = int(time.time())
    async with client_for(strict) as client:
        token = jwt.encode(claims(strict, iat=now, exp=now + 301), SECRET)
        assert_refused(await ask(client, token), "exceeds the maximum of 300 s")
        token = jwt.encode(claims(strict, iat=now, exp=now + 300), SECRET)
        assert (await ask(client, token)).status_code == 200


async def test_iat_in_the_future_is_refused_beyond_the_leeway(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    leeway = settings.jwt_leeway_seconds
    now = int(time.time())
    skewed = jwt.encode(claims(settings, iat=now + leeway - 10, exp=now + 600), SECRET)
    assert (await ask(client, skewed)).status_code == 200

    future = jwt.encode(claims(settings, iat=now + leeway + 60, exp=now + 600), SECRET)
    assert_refused(await ask(client, future), "issued in the future (iat)")


async def test_exp_must_come_after_iat(client: httpx.AsyncClient, settings: Settings) -> None:
    now = int(time.time())
    token = jwt.encode(claims(settings, iat=now + 20, exp=now + 10), SECRET)
    assert_refused(await ask(client, token), "claim exp is not after iat")


STAFF = {"role": "municipal_staff"}
EXPERT = {"role": "expert"}
OFFICE = {"role": "regional_office"}
PRODUCER = {"role": "producer"}


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"sub": 5}, "claim sub must be a non-empty string"),
        ({"sub": ["user-1"]}, "claim sub must be a non-empty string"),
        ({"sub": "   "}, "claim sub must be a non-empty string"),
        ({"sub": "user\x00-1"}, "claim sub contains control characters"),
        ({"sub": "a" * 201}, "claim sub is longer than 200 characters"),  # audit_log column
        ({"role": ["prefecture_admin"]}, "claim role must be a string, not a list"),
        ({"role": 1}, "claim role must be a string, not a number"),
        ({"iss": ["dxlink"]}, "wrong issuer"),
        ({"aud": {"dxlink-api": True}}, "wrong audience"),
        ({"aud": [1, 2]}, "wrong audience"),
        ({"aud": []}, "wrong audience"),
        ({**STAFF, "municipality": 302015}, "claim municipality must be a 6-digit"),
        ({**STAFF, "municipality": ["302015"]}, "claim municipality must be a 6-digit"),
        ({**STAFF, "municipality": "30201５"}, "claim municipality must be a 6-digit"),
        ({**STAFF, "municipality": "3020150"}, "claim municipality must be a 6-digit"),
        ({**EXPERT, "expert": 1.0}, "claim expert must be an expert id"),
        ({**EXPERT, "expert": True}, "claim expert must be an expert id"),
        ({**EXPERT, "expert": "007"}, "claim expert must be an expert id"),
        ({**EXPERT, "expert": "²"}, "claim expert must be an expert id"),  # was a 500
        ({**EXPERT, "expert": "７"}, "claim expert must be an expert id"),
        ({**EXPERT, "expert": "1.5"}, "claim expert must be an expert id"),
        ({**EXPERT, "expert": -1}, "claim expert must be an expert id"),
        ({**EXPERT, "expert": 2**31}, "claim expert must be an expert id"),
        ({**EXPERT, "expert": [1]}, "claim expert must be an expert id"),
        ({**PRODUCER, "producer": "007"}, "claim producer must be a producer id"),
        ({**PRODUCER, "producer": True}, "claim producer must be a producer id"),
        ({**PRODUCER, "producer": 2**31}, "claim producer must be a producer id"),
        ({**PRODUCER, "producer": "７"}, "claim producer must be a producer id"),
        (PRODUCER, "missing a required claim (producer, needed by role producer)"),
        ({**OFFICE, "region": ["日高"]}, "claim region must be a non-empty string"),
        ({**OFFICE, "region": "日\x00高"}, "claim region contains control characters"),  # a 500
        ({**OFFICE, "region": "日" * 101}, "claim region is longer than 100 characters"),
    ],
)
async def test_claims_of_the_wrong_type_or_shape_are_refused(
    client: httpx.AsyncClient, settings: Settings, overrides: dict[str, Any], reason: str
) -> None:
    assert_refused(await ask(client, jwt.encode(claims(settings, **overrides), SECRET)), reason)


async def test_a_lone_surrogate_is_no_subject(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    """JSON may escape half of a UTF-16 pair; PostgreSQL (UTF-8) could not store the result."""
    token = with_raw_claim(settings, "sub", '"\\ud800"')
    assert_refused(await ask(client, token), "claim sub contains control characters or invalid")


async def test_an_expert_id_may_be_a_json_integer(
    client: httpx.AsyncClient, settings: Settings, connection: AsyncConnection
) -> None:
    expert_id = await f.create_expert(connection)
    for value in (expert_id, str(expert_id)):
        token = jwt.encode(claims(settings, role="expert", expert=value), SECRET)
        response = await ask(client, token)
        assert response.status_code == 200, response.text
        assert response.json()["data"]["viewer"]["expert"] is not None


async def test_a_producer_token_names_an_existing_producer(
    client: httpx.AsyncClient, settings: Settings, connection: AsyncConnection
) -> None:
    """The scope lookup asks dxlink_producer_exists (producers are not the public's to read)."""
    producer = (
        await connection.execute(
            insert(Producer.__table__)
            .values(name="総括 花子", kind="GENERAL")
            .returning(Producer.__table__.c.id)
        )
    ).scalar_one()
    for value in (producer, str(producer)):
        token = jwt.encode(claims(settings, role="producer", producer=value), SECRET)
        response = await ask(client, token)
        assert response.status_code == 200, response.text
        assert response.json()["data"]["viewer"]["role"] == "producer"
    token = jwt.encode(claims(settings, role="producer", producer=producer + 1000), SECRET)
    assert_refused(await ask(client, token), "does not exist")


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ("[1, 2]", "the payload is not a JSON object"),
        ('"claims"', "the payload is not a JSON object"),
        ("{not json", "the payload is not JSON"),
        ("[" * 1500 + "]" * 1500, "the payload is not JSON"),  # deeper than the decoder goes
    ],
)
async def test_a_signed_payload_must_be_a_json_object(
    client: httpx.AsyncClient, payload: str, reason: str
) -> None:
    assert_refused(await ask(client, signed_text(payload)), reason)
