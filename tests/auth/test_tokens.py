"""Bearer tokens: every rejection is a 401 with UNAUTHENTICATED naming the failed check."""

from __future__ import annotations

import base64
import http.server
import json
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jose import jwt
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker

from auth.principal import Role
from auth.tokens import ConfigurationError, mint_token
from service.app import create_app
from service.cli import main as cli_main
from service.database import Database
from service.settings import Settings

VIEWER = "{ viewer { role subject municipality { code } expert { id } region { name } } }"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def pem_private(key: Any) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def pem_public(key: Any) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def claims(settings: Settings, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "sub": "user-1",
        "role": "prefecture_admin",
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + 600,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


ClientFor = Callable[[Settings], Any]


@pytest.fixture
def client_for(
    connection: AsyncConnection, engine: AsyncEngine
) -> Callable[[Settings], AsyncIterator[httpx.AsyncClient]]:
    """An API client on the test transaction, for an app built with other settings."""

    def make(settings: Settings) -> httpx.AsyncClient:
        sessionmaker = async_sessionmaker(
            bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        app = create_app(settings, database=Database(engine, sessionmaker))
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")

    return make  # type: ignore[return-value]


async def ask(client: httpx.AsyncClient, token: str | None) -> httpx.Response:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    return await client.post("/graphql", json={"query": VIEWER}, headers=headers)


def assert_refused(response: httpx.Response, reason: str) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")
    body = response.json()
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert reason in error["extensions"]["reason"], error
    assert reason in error["message"]


def unsigned(payload: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(payload)}."


SECRET = "test-secret-of-at-least-32-bytes-length"


async def test_no_token_is_public(client: httpx.AsyncClient) -> None:
    response = await ask(client, None)
    assert response.status_code == 200
    assert response.json()["data"]["viewer"] == {
        "role": "public",
        "subject": None,
        "municipality": None,
        "expert": None,
        "region": None,
    }


async def test_valid_dev_token_names_the_viewer(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    token = mint_token(
        settings, role=Role.municipal_staff, subject="s-1", scope={"municipality": "302015"}
    )
    viewer = (await ask(client, token)).json()["data"]["viewer"]
    assert viewer["role"] == "municipal_staff"
    assert viewer["subject"] == "s-1"
    assert viewer["municipality"] == {"code": "302015"}


async def test_regional_office_token(client: httpx.AsyncClient, settings: Settings) -> None:
    token = mint_token(settings, role=Role.regional_office, subject="r", scope={"region": "日高"})
    viewer = (await ask(client, token)).json()["data"]["viewer"]
    assert viewer["region"] == {"name": "日高振興局"}


@pytest.mark.parametrize(
    ("make_token", "reason"),
    [
        (lambda s: unsigned(claims(s)), "alg none"),
        (lambda s: jwt.encode(claims(s), SECRET, algorithm="HS512"), "algorithm HS512"),
        (lambda s: jwt.encode(claims(s, exp=int(time.time()) - 120), SECRET), "expired"),
        (lambda s: jwt.encode(claims(s, nbf=int(time.time()) + 600), SECRET), "not yet valid"),
        (lambda s: jwt.encode(claims(s, iss="someone-else"), SECRET), "wrong issuer"),
        (lambda s: jwt.encode(claims(s, aud="another-api"), SECRET), "wrong audience"),
        (lambda s: jwt.encode(claims(s, exp=None), SECRET), "missing a required claim"),
        (lambda s: jwt.encode(claims(s, sub=None), SECRET), "missing a required claim"),
        (lambda s: jwt.encode(claims(s, role=None), SECRET), "missing a required claim (role)"),
        (
            lambda s: jwt.encode(claims(s, role="municipal_staff"), SECRET),
            "missing a required claim (municipality",
        ),
        (lambda s: jwt.encode(claims(s), "a-different-secret-of-32-bytes!!"), "signature"),
        (lambda s: jwt.encode(claims(s, role="superuser"), SECRET), "unknown role"),
        (lambda s: "not-a-jwt", "malformed token"),
    ],
)
async def test_rejections(
    client: httpx.AsyncClient, settings: Settings, make_token: Any, reason: str
) -> None:
    assert_refused(await ask(client, make_token(settings)), reason)


@pytest.mark.parametrize(
    ("scope", "reason"),
    [
        ({"role": "municipal_staff", "municipality": "131016"}, "does not exist"),  # 千代田区
        ({"role": "municipal_staff", "municipality": "302016"}, "does not exist"),  # bad digit
        ({"role": "expert", "expert": "999999"}, "does not exist"),
        ({"role": "regional_office", "region": "紀北"}, "does not exist"),
    ],
)
async def test_scope_must_exist(
    client: httpx.AsyncClient, settings: Settings, scope: dict[str, str], reason: str
) -> None:
    token = jwt.encode(claims(settings, **scope), SECRET)
    assert_refused(await ask(client, token), reason)


async def test_authorization_header_must_be_bearer(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": VIEWER}, headers={"Authorization": "Basic dXNlcjpwdw=="}
    )
    assert_refused(response, "Bearer")


def rs_settings(settings: Settings, **overrides: Any) -> Settings:
    values = {"jwt_algorithms": "RS256", "jwt_public_key": pem_public(RSA_KEY), "jwt_secret": None}
    values.update(overrides)
    return settings.model_copy(update=values)


async def test_rs256_token_accepted(client_for: Any, settings: Settings) -> None:
    production = rs_settings(settings)
    token = jwt.encode(claims(production), pem_private(RSA_KEY), algorithm="RS256")
    async with client_for(production) as client:
        response = await ask(client, token)
    assert response.status_code == 200
    assert response.json()["data"]["viewer"]["role"] == "prefecture_admin"


async def test_hs256_token_signed_with_the_public_key_is_refused(
    client_for: Any, settings: Settings
) -> None:
    """The python-jose confusion: a DER public key used as an HMAC secret."""
    production = rs_settings(settings)
    der = RSA_KEY.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    forged = jwt.encode(claims(production), der, algorithm="HS256")
    async with client_for(production) as client:
        assert_refused(await ask(client, forged), "algorithm HS256 is not accepted")

    # Accepting both families still never checks an HS256 token with the public key.
    mixed = rs_settings(settings, jwt_algorithms="RS256,HS256", jwt_secret=SecretStr(SECRET))
    async with client_for(mixed) as client:
        assert_refused(await ask(client, forged), "signature")


async def test_rs256_token_with_another_key_is_refused(client_for: Any, settings: Settings) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    production = rs_settings(settings)
    token = jwt.encode(claims(production), pem_private(other), algorithm="RS256")
    async with client_for(production) as client:
        assert_refused(await ask(client, token), "signature")


async def test_es256_token_from_a_jwks_file(
    client_for: Any, settings: Settings, tmp_path: Any
) -> None:
    public = EC_KEY.public_key().public_numbers()

    def b64(n: int) -> str:
        return base64.urlsafe_b64encode(n.to_bytes(32, "big")).decode().rstrip("=")

    jwks = {
        "keys": [
            {
                "kty": "EC",
                "crv": "P-256",
                "kid": "k1",
                "alg": "ES256",
                "x": b64(public.x),
                "y": b64(public.y),
            }
        ]
    }
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(jwks))
    production = settings.model_copy(
        update={"jwt_algorithms": "ES256", "jwt_jwks": str(path), "jwt_secret": None}
    )
    token = jwt.encode(
        claims(production), pem_private(EC_KEY), algorithm="ES256", headers={"kid": "k1"}
    )
    wrong_kid = jwt.encode(
        claims(production), pem_private(EC_KEY), algorithm="ES256", headers={"kid": "k2"}
    )
    async with client_for(production) as client:
        assert (await ask(client, token)).status_code == 200
        assert_refused(await ask(client, wrong_kid), "no key")


def test_dev_tokens_are_refused_for_asymmetric_setups(settings: Settings) -> None:
    with pytest.raises(ConfigurationError, match="asymmetric"):
        mint_token(rs_settings(settings), role=Role.prefecture_admin, subject="x")


def test_token_command_prints_the_token_last(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    monkeypatch.setenv("DXLINK_JWT_SECRET", SECRET)
    monkeypatch.setenv("DXLINK_JWT_ALGORITHMS", "HS256")
    from service.settings import get_settings

    get_settings.cache_clear()
    try:
        code = cli_main(["token", "--role", "expert", "--expert", "7", "--ttl", "60"])
        out = capsys.readouterr().out.strip().splitlines()
        assert code == 0
        decoded = jwt.decode(out[-1], SECRET, audience=settings.jwt_audience)
        assert decoded["role"] == "expert"
        assert decoded["expert"] == "7"
        assert decoded["exp"] - decoded["iat"] == 60

        monkeypatch.setenv("DXLINK_JWT_ALGORITHMS", "RS256")
        monkeypatch.setenv("DXLINK_JWT_PUBLIC_KEY", pem_public(RSA_KEY))
        get_settings.cache_clear()
        assert cli_main(["token", "--role", "prefecture_admin"]) == 2
        assert "asymmetric" in capsys.readouterr().err
    finally:
        get_settings.cache_clear()


async def test_jwks_from_a_url(client_for: Any, settings: Settings) -> None:
    """Keys fetched at start-up from an https/http JWK Set URL (here a loopback server)."""
    public = RSA_KEY.public_key().public_numbers()

    def b64(n: int) -> str:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    document = json.dumps(
        {
            "keys": [
                {"kty": "RSA", "kid": "r1", "alg": "RS256", "n": b64(public.n), "e": b64(public.e)}
            ]
        }
    ).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
        production = settings.model_copy(
            update={"jwt_algorithms": "RS256", "jwt_jwks": url, "jwt_secret": None}
        )
        token = jwt.encode(
            claims(production), pem_private(RSA_KEY), algorithm="RS256", headers={"kid": "r1"}
        )
        async with client_for(production) as client:
            assert (await ask(client, token)).status_code == 200
    finally:
        server.shutdown()
        server.server_close()
