"""`dxlink`: serve, migrate, seed, export-schema."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from pathlib import Path

from service.settings import REPO_ROOT, Settings, get_settings, writable_data_dir

logger = logging.getLogger("dxlink")
SCHEMA_FILE = REPO_ROOT / "schema" / "schema.graphql"


def resolve_database_url(settings: Settings) -> str:
    """DATABASE_URL when set; otherwise the embedded PostgreSQL in DXLINK_DATA_DIR."""
    if settings.database_url:
        return settings.database_url
    from service.embedded import start_embedded

    started = time.perf_counter()
    url = start_embedded(writable_data_dir(settings))
    logger.info(
        "embedded PostgreSQL ready in %.1fs (data in %s)",
        time.perf_counter() - started,
        settings.data_dir,
    )
    return url


async def prepare_database(url: str, settings: Settings, *, migrate_: bool, seed: bool) -> None:
    from seeds.loader import load_seeds
    from service import migrate
    from service.database import RuntimeLogin, create_engine

    # The owner's login (url) migrates and seeds; the API will connect as the runtime login.
    login = RuntimeLogin.from_settings(settings) if migrate_ else None
    engine = create_engine(url, settings, statement_timeout_ms=0)
    try:
        if login is not None:
            if await migrate.upgrade(engine):
                logger.info("migrated the database to %s", migrate.head_revision())
            else:
                logger.info("database schema is at head (%s)", migrate.head_revision())
            await migrate.provision_runtime_login(engine, login)
            logger.info("the API connects as %s", login.user)
        if seed:
            async with engine.begin() as connection:
                await load_seeds(connection)
    finally:
        await engine.dispose()


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from service.app import create_app

    url = resolve_database_url(settings)
    asyncio.run(
        prepare_database(url, settings, migrate_=settings.auto_migrate, seed=settings.auto_seed)
    )
    host = args.host or settings.host
    port = args.port or settings.port
    logger.info("GraphQL API at http://%s:%d/graphql", host, port)
    uvicorn.run(
        create_app(settings, database_url=url),
        host=host,
        port=port,
        log_config=None,
        access_log=args.access_log,
    )
    return 0


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from service import migrate
    from service.database import RuntimeLogin, create_engine

    url = resolve_database_url(settings)
    provision = args.revision == "head" and not args.downgrade
    login = RuntimeLogin.from_settings(settings) if provision else None

    async def run() -> None:
        engine = create_engine(url, settings, statement_timeout_ms=0)
        try:
            if args.downgrade:
                await migrate.downgrade(engine, args.downgrade)
                logger.info("downgraded to %s", args.downgrade)
            elif await migrate.upgrade(engine, args.revision):
                logger.info("migrated to %s", args.revision)
            else:
                logger.info("already at head, nothing to do")
            if login is not None:
                await migrate.provision_runtime_login(engine, login)
                logger.info("runtime login %s is ready", login.user)
        finally:
            await engine.dispose()

    asyncio.run(run())
    return 0


def cmd_seed(args: argparse.Namespace, settings: Settings) -> int:
    url = resolve_database_url(settings)
    asyncio.run(prepare_database(url, settings, migrate_=True, seed=True))
    return 0


def schema_sdl() -> str:
    from service.graphql import build_schema

    return build_schema(get_settings()).as_str() + "\n"


def cmd_export_schema(args: argparse.Namespace, settings: Settings) -> int:
    sdl = schema_sdl()
    if args.output == "-":
        sys.stdout.write(sdl)
    else:
        Path(args.output).write_text(sdl, encoding="utf-8")
        logger.info("wrote %s", args.output)
    return 0


def cmd_token(args: argparse.Namespace, settings: Settings) -> int:
    from auth.principal import SCOPE_CLAIMS, Role
    from auth.tokens import ConfigurationError, mint_token

    role = Role(args.role)
    scope = {
        claim: value
        for claim, value in (
            ("municipality", args.municipality),
            ("expert", args.expert),
            ("region", args.region),
        )
        if value is not None
    }
    needed = SCOPE_CLAIMS.get(role)
    if needed is not None and needed not in scope:
        print(f"dxlink token: role {role.value} needs --{needed}", file=sys.stderr)
        return 2
    try:
        token = mint_token(
            settings,
            role=role,
            subject=args.subject or f"dev-{role.value}",
            ttl_seconds=args.ttl,
            scope=scope,
        )
    except ConfigurationError as exc:
        print(f"dxlink token: {exc}", file=sys.stderr)
        return 2
    print(f"# development token for role {role.value}, valid {args.ttl} s", file=sys.stderr)
    print(token)
    return 0


def build_parser() -> argparse.ArgumentParser:
    from auth.principal import Role

    parser = argparse.ArgumentParser(prog="dxlink", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="migrate, seed and start the API")
    serve.add_argument("--host", help="bind address (default DXLINK_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default DXLINK_PORT or 8000)")
    serve.add_argument("--access-log", action="store_true", help="log every request")
    serve.set_defaults(func=cmd_serve)

    mig = sub.add_parser("migrate", help="apply database migrations")
    mig.add_argument("--revision", default="head", help="target revision (default head)")
    mig.add_argument("--downgrade", metavar="REVISION", help="downgrade to REVISION (e.g. base)")
    mig.set_defaults(func=cmd_migrate)

    seed = sub.add_parser("seed", help="migrate, then load the reference data (idempotent)")
    seed.set_defaults(func=cmd_seed)

    token = sub.add_parser("token", help="mint a development token (HS256 set-ups only)")
    token.add_argument(
        "--role",
        required=True,
        choices=[r.value for r in Role if r is not Role.public],
        help="the principal's role",
    )
    token.add_argument("--municipality", help="6-digit code (municipal_staff)")
    token.add_argument("--expert", help="expert id (expert)")
    token.add_argument("--region", help="region name, e.g. 海草 (regional_office)")
    token.add_argument("--subject", help="the token's sub (default dev-<role>)")
    token.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds (default 3600)")
    token.set_defaults(func=cmd_token)

    export = sub.add_parser("export-schema", help="print or write the GraphQL SDL")
    export.add_argument("--output", "-o", default=str(SCHEMA_FILE), help="file, or - for stdout")
    export.set_defaults(func=cmd_export_schema)
    return parser


def main(argv: list[str] | None = None) -> int:
    from service.logging import configure_logging

    args = build_parser().parse_args(argv)
    settings = get_settings()
    configure_logging(settings.log_level)
    return int(args.func(args, settings))


if __name__ == "__main__":
    raise SystemExit(main())
