"""`dxlink token` mints only tokens the service accepts: scopes that exist in the database, a
lifetime within the maximum, claims of the right shape; anything else is a sentence, exit 2."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from jose import jwt
from sqlalchemy import delete

from auth.tokens import TokenVerifier
from seeds.loader import load_seeds
from service import migrate
from service.cli import main as cli_main
from service.database import create_engine
from service.models import Expert
from service.settings import Settings, get_settings
from tests import factories as f
from tests.auth.bearer import SECRET
from tests.database import scratch_database

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture(scope="module")
async def cli_database(pg_server: str, settings: Settings) -> AsyncIterator[str]:
    """A migrated, seeded database of its own: the command commits nothing, but this module
    commits experts, which the suite's shared database must not see."""
    async with scratch_database(pg_server, "cli_token") as url:
        engine = create_engine(url, settings)
        try:
            await migrate.upgrade(engine)
            async with engine.begin() as connection:
                await load_seeds(connection)
        finally:
            await engine.dispose()
        yield url


@pytest.fixture
def run(
    cli_database: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Run:
    """`dxlink token ...` in this process, on the module's database; (exit code, out, err)."""
    monkeypatch.setenv("DATABASE_URL", cli_database)
    monkeypatch.setenv("DXLINK_JWT_SECRET", SECRET)
    monkeypatch.setenv("DXLINK_JWT_ALGORITHMS", "HS256")

    def invoke(*argv: str) -> tuple[int, str, str]:
        get_settings.cache_clear()
        try:
            code = cli_main(["token", *argv])
        finally:
            get_settings.cache_clear()
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err
        return code, captured.out, captured.err

    return invoke


def minted(out: str, settings: Settings) -> dict[str, object]:
    """The claims of the printed token, verified as the service verifies them."""
    return TokenVerifier(settings).verify(out.strip().splitlines()[-1])  # the same SECRET


def commit_expert(url: str, settings: Settings) -> int:
    async def insert() -> int:
        engine = create_engine(url, settings)
        try:
            async with engine.begin() as connection:
                return await f.create_expert(connection, name="紀州 花子")
        finally:
            await engine.dispose()

    return asyncio.run(insert())


def remove_experts(url: str, settings: Settings) -> None:
    async def remove() -> None:
        engine = create_engine(url, settings)
        try:
            async with engine.begin() as connection:
                await connection.execute(delete(Expert))
        finally:
            await engine.dispose()

    asyncio.run(remove())


def test_the_token_is_printed_last_and_accepted(run: Run, settings: Settings) -> None:
    code, out, err = run("--role", "municipal_staff", "--municipality", "302015", "--ttl", "60")
    assert code == 0, err
    claims = minted(out, settings)
    assert claims["municipality"] == "302015"
    assert claims["exp"] - claims["iat"] == 60  # type: ignore[operator]
    assert "valid 60 s" in err


def test_an_expert_must_exist(run: Run, settings: Settings, cli_database: str) -> None:
    code, out, err = run("--role", "expert", "--expert", "1")
    assert (code, out) == (2, "")
    assert "there is no expert 1; the database has no experts" in err

    expert_id = commit_expert(cli_database, settings)
    try:
        code, out, err = run("--role", "expert", "--expert", str(expert_id))
        assert code == 0, err
        assert minted(out, settings)["expert"] == str(expert_id)

        code, out, err = run("--role", "expert", "--expert", str(expert_id + 1000))
        assert (code, out) == (2, "")
        assert (
            f"there is no expert {expert_id + 1000}; the experts are: {expert_id} 紀州 花子" in err
        )
    finally:
        remove_experts(cli_database, settings)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "--municipality 'abc' is not a 6-digit local government code"),
        ("3020150", "is not a 6-digit local government code"),
        ("999999", "999999 fails the check digit"),  # the example
        ("302016", "(a code starting 30201 ends in 5)"),
        ("131016", "there is no municipality 131016; the database has: 302015 和歌山市,"),
    ],
)
def test_a_municipality_must_exist(run: Run, value: str, message: str) -> None:
    code, out, err = run("--role", "municipal_staff", "--municipality", value)
    assert (code, out) == (2, "")
    assert message in err


def test_a_region_must_exist_and_the_regions_are_named(run: Run, settings: Settings) -> None:
    code, out, err = run("--role", "regional_office", "--region", "紀北")
    assert (code, out) == (2, "")
    assert "there is no regional office '紀北'; they are: 海草 (海草振興局), " in err
    assert "東牟婁 (東牟婁振興局)" in err
    for name in ("日高", "日高振興局"):
        code, out, err = run("--role", "regional_office", "--region", name)
        assert code == 0, err
        assert minted(out, settings)["region"] == name


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--role", "expert", "--expert", "1.5"], "--expert '1.5' is not an expert id"),
        (["--role", "expert", "--expert", "007"], "--expert '007' is not an expert id"),
        (["--role", "expert"], "role expert needs --expert"),
        (["--role", "producer"], "role producer needs --producer"),
        (["--role", "producer", "--producer", "x1"], "--producer 'x1' is not a producer id"),
        (
            ["--role", "expert", "--expert", "1", "--producer", "1"],
            "--producer is for role producer, not expert",
        ),
        (["--role", "producer", "--producer", "1"], "there is no producer 1; the database has no"),
        (
            ["--role", "prefecture_admin", "--municipality", "302015"],
            "--municipality is for role municipal_staff, not prefecture_admin",
        ),
        (
            ["--role", "expert", "--expert", "1", "--region", "日高"],
            "--region is for role regional_office, not expert",
        ),
        (["--role", "prefecture_admin", "--subject", "a" * 201], "claim sub is longer than 200"),
    ],
)
def test_arguments_the_service_would_refuse(run: Run, argv: list[str], message: str) -> None:
    code, out, err = run(*argv)
    assert (code, out) == (2, "")
    assert message in err


def test_the_lifetime_is_bounded_by_the_maximum(
    run: Run, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run("--role", "prefecture_admin", "--ttl", "86401")
    assert (code, out) == (2, "")
    assert "--ttl 86401 is outside 1 to 86400 s" in err
    assert "DXLINK_JWT_MAX_LIFETIME_SECONDS" in err
    assert run("--role", "prefecture_admin", "--ttl", "0")[0] == 2

    monkeypatch.setenv("DXLINK_JWT_MAX_LIFETIME_SECONDS", "600")
    assert "outside 1 to 600 s" in run("--role", "prefecture_admin", "--ttl", "601")[2]
    code, out, err = run("--role", "prefecture_admin", "--ttl", "600")
    assert code == 0, err
    claims = jwt.decode(out.strip().splitlines()[-1], SECRET, audience=settings.jwt_audience)
    assert claims["exp"] - claims["iat"] == 600


def test_asymmetric_setups_mint_nothing(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    pem = key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    monkeypatch.setenv("DXLINK_JWT_ALGORITHMS", "ES256")
    monkeypatch.setenv("DXLINK_JWT_PUBLIC_KEY", pem)
    code, out, err = run("--role", "prefecture_admin")
    assert (code, out) == (2, "")
    assert "asymmetric" in err


def test_a_short_secret_is_refused_before_minting(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DXLINK_JWT_SECRET", "x")
    code, out, err = run("--role", "prefecture_admin")
    assert (code, out) == (2, "")
    assert "DXLINK_JWT_SECRET is 1 byte long" in err
