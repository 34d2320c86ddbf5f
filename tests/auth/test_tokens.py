"""Bearer tokens: every rejection is a 401 with UNAUTHENTICATED naming the failed check."""

from __future__ import annotations

import base64
import http.server
import json
import stat
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jose import jwt
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker

from auth.authenticate import Authenticator
from auth.principal import Role
from auth.tokens import (
    AuthenticationError,
    ConfigurationError,
    TokenVerifier,
    dev_secret,
    mint_token,
)
from service.app import create_app
from service.cli import main as cli_main
from service.settings import Settings, get_settings
from tests.auth.bearer import SECRET, VIEWER, ask, assert_refused, b64, claims, unsigned

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


def _segment(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("make_token", "reason"),
    [
        (lambda s: jwt.encode(claims(s), SECRET, headers={"kid": ["k1"]}), "kid header must be"),
        (lambda s: jwt.encode(claims(s), SECRET, headers={"kid": 7}), "kid header must be"),
        (
            lambda s: f"{_segment({'alg': ['HS256']})}.{_segment(claims(s))}.c2ln",
            "the alg header must be a string",
        ),
        (
            lambda s: jwt.encode(claims(s), SECRET, headers={"crit": ["exp"], "exp": 1}),
            "the crit header is not accepted",
        ),
        (lambda s: f"{_segment([1])}.{_segment(claims(s))}.c2ln", "malformed token"),
        (lambda s: f"{_segment('a string')}.e30.c2ln", "malformed token"),
        (lambda s: f"{b64(b'[' * 1500 + b']' * 1500)}.e30.c2ln", "malformed token"),  # deep
        (lambda s: f"{'W' * 2000}.e30.c2ln", "malformed token"),
        (lambda s: "a b.c.d", "malformed token"),
        (lambda s: "a.b.c.d", "malformed token"),
        (lambda s: "a+/.b.c", "malformed token"),
    ],
)
async def test_header_oddities_are_refused(
    client: httpx.AsyncClient, settings: Settings, make_token: Any, reason: str
) -> None:
    assert_refused(await ask(client, make_token(settings)), reason)


async def test_a_hostile_algorithm_name_is_not_echoed_at_length(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    token = f"{_segment({'alg': 'X' * 5000})}.{_segment(claims(settings))}.c2ln"
    response = await ask(client, token)
    assert_refused(response, "is not accepted")
    assert len(response.json()["errors"][0]["extensions"]["reason"]) < 80


async def test_tokens_longer_than_the_cap_are_refused_before_decoding(
    client: httpx.AsyncClient, client_for: Any, settings: Settings
) -> None:
    cap = settings.jwt_max_token_bytes
    assert cap == 8192  # the documented default
    # A real token with a claim that pads it to just under the cap is still accepted...
    padding = "x" * (cap * 3 // 4 - 400)
    token = jwt.encode(claims(settings, padding=padding), SECRET)
    assert len(token) <= cap
    assert (await ask(client, token)).status_code == 200
    # ...and one byte past the cap is refused, whatever it holds.
    assert_refused(await ask(client, token + "x" * (cap + 1 - len(token))), "longer than 8192")
    smaller = settings.model_copy(update={"jwt_max_token_bytes": 2048})
    async with client_for(smaller) as other:
        assert_refused(await ask(other, token), "token is longer than 2048 bytes")


async def test_two_authorization_headers_are_refused(
    connection: AsyncConnection, settings: Settings
) -> None:
    """The header's values as a list (Headers.getlist): two are refused, not one of them picked."""
    authenticator = Authenticator(TokenVerifier(settings), async_sessionmaker(bind=connection))
    admin = f"Bearer {jwt.encode(claims(settings), SECRET)}"
    with pytest.raises(AuthenticationError, match="more than one Authorization header"):
        await authenticator.principal([admin, admin])
    assert (await authenticator.principal([admin])).role is Role.prefecture_admin
    assert (await authenticator.principal([])).role is Role.public
    assert (await authenticator.principal(admin)).role is Role.prefecture_admin


@pytest.mark.parametrize(
    ("algorithms", "secret", "needed"),
    [
        ("HS256", "x", 32),  # the example
        ("HS256", "", 32),
        ("HS256", "a" * 31, 32),
        ("HS256", "秘" * 10, 32),  # 30 bytes: bytes count, not characters
        ("HS384", SECRET, 48),  # 39 bytes
        ("HS256,HS512", "a" * 63, 64),  # the strongest accepted algorithm decides
        ("RS256,HS256", "short", 32),
    ],
)
def test_a_short_secret_stops_the_app_at_start(
    settings: Settings, algorithms: str, secret: str, needed: int
) -> None:
    weak = settings.model_copy(
        update={
            "jwt_algorithms": algorithms,
            "jwt_secret": SecretStr(secret),
            "jwt_public_key": pem_public(RSA_KEY),
        }
    )
    with pytest.raises(ConfigurationError, match=f"DXLINK_JWT_SECRET .* at least {needed}"):
        create_app(weak, database_url="postgresql://127.0.0.1:1/never-connected")


@pytest.mark.parametrize("secret", ["a" * 32, "秘" * 11])
def test_a_secret_of_32_bytes_is_enough_for_hs256(settings: Settings, secret: str) -> None:
    enough = settings.model_copy(update={"jwt_secret": SecretStr(secret)})
    token = mint_token(enough, role=Role.prefecture_admin, subject="a")
    assert TokenVerifier(enough).verify(token)["sub"] == "a"


def test_a_verified_token_is_refused_once_it_expires(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Verified tokens are kept by their text (auth/tokens.py VERIFIED_CACHE_SIZE), but the
    clock is checked on every use: a token accepted a moment ago is refused after its exp."""
    strict = settings.model_copy(update={"jwt_leeway_seconds": 0})
    verifier = TokenVerifier(strict)
    now = time.time()
    token = jwt.encode(claims(strict, iat=int(now), exp=int(now) + 5), SECRET)
    first = verifier.verify(token)
    first["role"] = "expert"  # the caller's copy: the kept claims are not changed by it
    assert verifier.verify(token)["role"] == "prefecture_admin"
    monkeypatch.setattr("auth.tokens.time.time", lambda: now + 10)
    for _ in range(2):
        with pytest.raises(AuthenticationError, match="expired"):
            verifier.verify(token)
    # A changed signature is another text: verified again, and refused.
    with pytest.raises(AuthenticationError, match="signature"):
        verifier.verify(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))


def test_the_kept_tokens_are_bounded(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("auth.tokens.VERIFIED_CACHE_SIZE", 3)
    verifier = TokenVerifier(settings)
    tokens = [mint_token(settings, role=Role.prefecture_admin, subject=f"s-{i}") for i in range(5)]
    for i, token in enumerate(tokens):
        assert verifier.verify(token)["sub"] == f"s-{i}"
    assert len(verifier._verified) == 3
    assert [verifier.verify(t)["sub"] for t in tokens] == [f"s-{i}" for i in range(5)]


@pytest.mark.parametrize("content", ["", "\n", "short-secret"])
def test_a_short_stored_secret_stops_the_app_at_start(
    settings: Settings, tmp_path: Path, content: str
) -> None:
    (tmp_path / "jwt-secret").write_text(content)
    stored = settings.model_copy(update={"jwt_secret": None, "data_dir": tmp_path})
    with pytest.raises(ConfigurationError, match="delete the file") as refused:
        create_app(stored, database_url="postgresql://127.0.0.1:1/never-connected")
    assert str(tmp_path / "jwt-secret") in str(refused.value)


def test_the_stored_secret_is_made_once_long_and_private(
    settings: Settings, tmp_path: Path
) -> None:
    """Processes starting together (serve, token) all read the one complete secret."""
    stored = settings.model_copy(
        update={"jwt_secret": None, "data_dir": tmp_path / "data", "jwt_algorithms": "HS512"}
    )
    barrier = threading.Barrier(12)

    def read() -> str:
        barrier.wait()
        return dev_secret(stored)

    with ThreadPoolExecutor(max_workers=12) as pool:
        secrets = set(pool.map(lambda _: read(), range(12)))
    (secret,) = secrets
    assert len(secret.encode()) >= 64  # enough for HS512
    path = tmp_path / "data" / "jwt-secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["jwt-secret"]  # no temporary left


def test_serve_with_a_short_secret_stops_with_a_message(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A database nothing answers at: the check comes before the database is touched.
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    monkeypatch.setenv("DXLINK_JWT_SECRET", "x")
    monkeypatch.setenv("DXLINK_JWT_ALGORITHMS", "HS256")
    get_settings.cache_clear()
    try:
        # An address nothing can bind: should the secret pass, uvicorn fails instead of serving.
        assert cli_main(["serve", "--host", "0.0.0.256"]) == 2
    finally:
        get_settings.cache_clear()
    err = capsys.readouterr().err
    assert "dxlink: DXLINK_JWT_SECRET is 1 byte long; HS256 needs at least 32" in err
    assert "Traceback" not in err


def _rsa_jwk(key: Any, kid: str) -> dict[str, str]:
    numbers = key.public_key().public_numbers()

    def number(n: int) -> str:
        return b64(n.to_bytes((n.bit_length() + 7) // 8, "big"))

    return {
        "kty": "RSA",
        "kid": kid,
        "alg": "RS256",
        "n": number(numbers.n),
        "e": number(numbers.e),
    }


def test_weak_rsa_keys_stop_the_app_at_start(settings: Settings, tmp_path: Path) -> None:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(ConfigurationError, match="DXLINK_JWT_PUBLIC_KEY: the RSA key has 1024"):
        TokenVerifier(rs_settings(settings, jwt_public_key=pem_public(weak)))
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [_rsa_jwk(RSA_KEY, "strong"), _rsa_jwk(weak, "weak")]}))
    with pytest.raises(ConfigurationError, match="DXLINK_JWT_JWKS: the RSA key 'weak' has 1024"):
        TokenVerifier(rs_settings(settings, jwt_public_key=None, jwt_jwks=str(path)))


async def test_a_jwk_set_cannot_add_hmac_keys(
    client_for: Any, settings: Settings, tmp_path: Path
) -> None:
    """Only DXLINK_JWT_SECRET signs HS* tokens: an `oct` key in the JWK Set is never used."""
    weak = b"weak"
    path = tmp_path / "jwks.json"
    oct_key = {
        "kty": "oct",
        "kid": "w",
        "alg": "HS256",
        "k": base64.urlsafe_b64encode(weak).decode(),
    }
    path.write_text(json.dumps({"keys": [oct_key, _rsa_jwk(RSA_KEY, "r")]}))
    mixed = rs_settings(
        settings,
        jwt_algorithms="RS256,HS256",
        jwt_secret=SecretStr(SECRET),
        jwt_public_key=None,
        jwt_jwks=str(path),
    )
    forged = jwt.encode(claims(mixed), weak, algorithm="HS256", headers={"kid": "w"})
    async with client_for(mixed) as client:
        assert_refused(await ask(client, forged), "signature verification failed")
        genuine = jwt.encode(claims(mixed), SECRET, algorithm="HS256")
        assert (await ask(client, genuine)).status_code == 200


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"jwt_public_key": "/nonexistent/key.pem"}, "DXLINK_JWT_PUBLIC_KEY: cannot read"),
        ({"jwt_public_key": None, "jwt_jwks": "/nonexistent/jwks.json"}, "DXLINK_JWT_JWKS"),
        ({"jwt_public_key": None, "jwt_jwks": "http://127.0.0.1:1/jwks"}, "DXLINK_JWT_JWKS"),
        ({"jwt_public_key": None, "jwt_jwks": '{"keys": 1}'}, "DXLINK_JWT_JWKS: the JWK Set"),
        ({"jwt_algorithms": "RS256,HS999"}, "DXLINK_JWT_ALGORITHMS: unsupported"),
    ],
)
def test_unusable_key_settings_stop_the_app_with_the_setting_named(
    settings: Settings, overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        TokenVerifier(rs_settings(settings, **overrides))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"ttl_seconds": 86_401}, "outside 1 to 86400 s"),
        ({"ttl_seconds": 0}, "outside 1 to 86400 s"),
        ({"subject": "a\nb"}, "would refuse this token: claim sub contains control"),
        ({"scope": {"region": ["日高"]}}, "would refuse this token: claim region"),
    ],
)
def test_mint_token_refuses_what_the_service_would_refuse(
    settings: Settings, options: dict[str, Any], message: str
) -> None:
    role = Role.regional_office if "scope" in options else Role.prefecture_admin
    arguments: dict[str, Any] = {"role": role, "subject": "a", **options}
    with pytest.raises(ValueError, match=message):
        mint_token(settings, **arguments)


async def test_two_authorization_headers_over_http_are_a_401(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    admin = f"Bearer {jwt.encode(claims(settings), SECRET)}"
    response = await client.post(
        "/graphql",
        json={"query": "{ viewer { role } }"},
        headers=[("authorization", admin), ("authorization", admin)],
    )
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"] == {
        "code": "UNAUTHENTICATED",
        "reason": "more than one Authorization header",
    }
