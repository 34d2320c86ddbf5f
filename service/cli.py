"""`dxlink`: serve, migrate, seed, export-schema, token, import-assessment, export-assessment."""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import sys
import time
from pathlib import Path
from typing import Any

from pydantic import ValidationError

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

    from auth.tokens import TokenVerifier
    from service.app import create_app

    # Key settings that cannot work stop the command before the database starts.
    verifier = TokenVerifier(settings)
    url = resolve_database_url(settings)
    asyncio.run(
        prepare_database(url, settings, migrate_=settings.auto_migrate, seed=settings.auto_seed)
    )
    if args.demo and asyncio.run(demo_data(url, settings, remove=False)):
        return 1
    host = args.host or settings.host
    port = args.port or settings.port
    logger.info("GraphQL API at http://%s:%d/graphql", host, port)
    uvicorn.run(
        create_app(settings, database_url=url, verifier=verifier),
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
    if args.remove and not args.demo:
        print("dxlink seed: --remove removes the demo data: give --demo too", file=sys.stderr)
        return 2
    url = resolve_database_url(settings)
    asyncio.run(prepare_database(url, settings, migrate_=True, seed=True))
    if args.demo:
        return asyncio.run(demo_data(url, settings, remove=args.remove))
    return 0


async def demo_data(url: str, settings: Settings, *, remove: bool) -> int:
    """Write (or remove) the synthetic dispatch demo (seeds/demo.py); 1 when refused."""
    from seeds.demo_loader import DemoRefused, remove_demo, seed_demo
    from service.database import create_engine

    engine = create_engine(url, settings, statement_timeout_ms=0)
    try:
        async with engine.begin() as connection:
            await (remove_demo(connection) if remove else seed_demo(connection))
    except DemoRefused as exc:
        print(f"dxlink: the demo data: {exc}", file=sys.stderr)
        return 1
    finally:
        await engine.dispose()
    return 0


# The principal of the assessment's CSV commands: the prefecture, under this subject in the audit.
CSV_SUBJECT = "dxlink-assessment-csv"
PROGRESS_ROWS = 20  # import-assessment's progress bar from this many rows on


async def _as_prefecture(url: str, settings: Settings, work: Any) -> Any:
    """Run ``work(db)`` as the prefecture in one transaction (committed when it returns),
    through the API's session: row-level security, the write policies and the audit apply."""
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from auth.principal import Principal, Role
    from service.database import RequestSession, create_engine

    engine = create_engine(url, settings, statement_timeout_ms=0)
    try:
        async with engine.connect() as connection:
            transaction = await connection.begin()
            sessionmaker = async_sessionmaker(
                bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
            )
            db = RequestSession(
                sessionmaker, Principal(Role.prefecture_admin, subject=CSV_SUBJECT), CSV_SUBJECT
            )
            try:
                result = await work(db)
            except BaseException:
                await db.finish(commit=False)
                await transaction.rollback()
                raise
            await db.finish(commit=True)
            await transaction.commit()
            return result
    finally:
        await engine.dispose()


def cmd_import_assessment(args: argparse.Namespace, settings: Settings) -> int:
    from tqdm import tqdm

    from service.assessments.csv_import import AssessmentCsvService, ImportRefused

    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        print(f"dxlink import-assessment: {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    url = resolve_database_url(settings)
    rows = max(data.count(b"\n") - 1, 0)  # about: a quoted cell may hold a newline
    # On a terminal only (disable=None: none when stderr is a file or a pipe), for a file of
    # a few dozen rows or more (each row is a save and a submission, ~0.1 s).
    bar = tqdm(
        total=rows,
        unit="row",
        disable=None if rows >= PROGRESS_ROWS else True,
        file=sys.stderr,
        leave=False,
    )

    async def work(db: Any) -> Any:
        service = AssessmentCsvService(db)
        return await service.import_csv(args.round, data, replace=args.replace, progress=bar.update)

    try:
        imported = asyncio.run(_as_prefecture(url, settings, work))
    except ImportRefused as exc:
        bar.close()
        for problem in exc.problems:
            print(f"{args.file}: {problem}", file=sys.stderr)
        print(
            f"dxlink import-assessment: {len(exc.problems)} problem(s); nothing was imported",
            file=sys.stderr,
        )
        return 1
    bar.close()
    print(
        f"imported {imported.rows} responses ({imported.answers} answers) into round {args.round}"
    )
    return 0


def cmd_export_assessment(args: argparse.Namespace, settings: Settings) -> int:
    from service.assessments.csv_import import AssessmentCsvService

    url = resolve_database_url(settings)

    async def work(db: Any) -> Any:
        return await AssessmentCsvService(db).export_csv(args.round)

    text = asyncio.run(_as_prefecture(url, settings, work))
    if text is None:
        print(f"dxlink export-assessment: no round {args.round}", file=sys.stderr)
        return 1
    if args.output == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        Path(args.output).write_bytes(text.encode("utf-8"))
        logger.info("wrote %s", args.output)
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

    def refuse(message: str) -> int:
        print(f"dxlink token: {message}", file=sys.stderr)
        return 2

    role = Role(args.role)
    scope = {
        claim: value
        for claim, value in (
            ("municipality", args.municipality),
            ("expert", args.expert),
            ("region", args.region),
            ("producer", args.producer),
        )
        if value is not None
    }
    needed = SCOPE_CLAIMS.get(role)
    if needed is not None and needed not in scope:
        return refuse(f"role {role.value} needs --{needed}")
    # A scope the role ignores would suggest a limit the token does not have.
    extra = sorted(scope.keys() - {needed})
    if extra:
        owner = next(r.value for r, c in SCOPE_CLAIMS.items() if c == extra[0])
        return refuse(f"--{extra[0]} is for role {owner}, not {role.value}")
    maximum = settings.jwt_max_lifetime_seconds
    if not 1 <= args.ttl <= maximum:
        return refuse(
            f"--ttl {args.ttl} is outside 1 to {maximum} s, the maximum token lifetime "
            "(DXLINK_JWT_MAX_LIFETIME_SECONDS)"
        )
    if needed is not None and (problem := scope_shape_problem(needed, scope[needed])):
        return refuse(problem)
    try:
        token = mint_token(
            settings,
            role=role,
            subject=args.subject or f"dev-{role.value}",
            ttl_seconds=args.ttl,
            scope=scope,
        )
    except (ConfigurationError, ValueError) as exc:
        return refuse(str(exc))
    if needed is not None:
        url = resolve_database_url(settings)
        problem = asyncio.run(scope_problem(url, settings, needed, scope[needed]))
        if problem is not None:
            return refuse(problem)
    print(f"# development token for role {role.value}, valid {args.ttl} s", file=sys.stderr)
    print(token)
    return 0


def scope_shape_problem(claim: str, value: str) -> str | None:
    """Why ``value`` cannot be a scope of kind ``claim`` whatever the database holds, or None."""
    from auth.claims import is_expert_id
    from service.geography.codes import check_digit, is_valid_code

    if claim == "municipality" and not is_valid_code(value):
        if not re.fullmatch(r"[0-9]{6}", value):
            return f"--municipality {value!r} is not a 6-digit local government code"
        return (
            f"--municipality {value} fails the check digit of local government codes "
            f"(a code starting {value[:5]} ends in {check_digit(value[:5])})"
        )
    if claim == "expert" and not is_expert_id(value):
        return f"--expert {value!r} is not an expert id (a positive integer)"
    if claim == "producer" and not is_expert_id(value):
        return f"--producer {value!r} is not a producer id (a positive integer)"
    return None


async def scope_problem(url: str, settings: Settings, claim: str, value: str) -> str | None:
    """Why ``value`` names no existing scope of kind ``claim`` (a sentence), or None.

    Read on the owner login the other commands use, not through the API's principal lookup.
    """
    from sqlalchemy import select, text

    from service.database import create_engine
    from service.models import Expert, Municipality, Producer, Region

    engine = create_engine(url, settings, statement_timeout_ms=0)
    try:
        async with engine.begin() as connection:
            # An administrator's view, should row-level security hold the owner too (FORCE):
            # the setting lasts this transaction only.
            await connection.execute(
                text("SELECT set_config('dxlink.role', 'prefecture_admin', true)")
            )
            if claim == "municipality":
                rows = (
                    await connection.execute(
                        select(Municipality.code, Municipality.name).order_by(Municipality.code)
                    )
                ).all()
                if any(row.code == value for row in rows):
                    return None
                known = ", ".join(f"{row.code} {row.name}" for row in rows)
                return f"there is no municipality {value}; " + (
                    f"the database has: {known}" if rows else "the database has none (dxlink seed)"
                )
            if claim == "expert":
                rows = (
                    await connection.execute(select(Expert.id, Expert.name).order_by(Expert.id))
                ).all()
                if any(row.id == int(value) for row in rows):
                    return None
                if not rows:
                    return f"there is no expert {value}; the database has no experts"
                known = ", ".join(f"{row.id} {row.name}" for row in rows[:_LISTED])
                more = f" and {len(rows) - _LISTED} more" if len(rows) > _LISTED else ""
                return f"there is no expert {value}; the experts are: {known}{more}"
            if claim == "producer":
                rows = (
                    await connection.execute(
                        select(Producer.id, Producer.name).order_by(Producer.id)
                    )
                ).all()
                if any(row.id == int(value) for row in rows):
                    return None
                if not rows:
                    return f"there is no producer {value}; the database has no producers"
                known = ", ".join(f"{row.id} {row.name}" for row in rows[:_LISTED])
                more = f" and {len(rows) - _LISTED} more" if len(rows) > _LISTED else ""
                return f"there is no producer {value}; the producers are: {known}{more}"
            rows = (
                await connection.execute(select(Region.short_name, Region.name).order_by(Region.id))
            ).all()
            if any(value in (row.short_name, row.name) for row in rows):
                return None
            known = ", ".join(f"{row.short_name} ({row.name})" for row in rows)
            return f"there is no regional office {value!r}; " + (
                f"they are: {known}" if rows else "the database has none (dxlink seed)"
            )
    finally:
        await engine.dispose()


_LISTED = 20  # experts (producers) named in a refusal; the rest are counted


def build_parser() -> argparse.ArgumentParser:
    from auth.principal import Role

    parser = argparse.ArgumentParser(prog="dxlink", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="migrate, seed and start the API")
    serve.add_argument("--host", help="bind address (default DXLINK_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default DXLINK_PORT or 8000)")
    serve.add_argument("--access-log", action="store_true", help="log every request")
    serve.add_argument(
        "--demo",
        action="store_true",
        help="add the synthetic FY2026 dispatch demo first, unless it is there (seed --demo)",
    )
    serve.set_defaults(func=cmd_serve)

    mig = sub.add_parser("migrate", help="apply database migrations")
    mig.add_argument("--revision", default="head", help="target revision (default head)")
    mig.add_argument("--downgrade", metavar="REVISION", help="downgrade to REVISION (e.g. base)")
    mig.set_defaults(func=cmd_migrate)

    seed = sub.add_parser("seed", help="migrate, then load the reference data (idempotent)")
    seed.add_argument(
        "--demo",
        action="store_true",
        help="also write a synthetic FY2026 dispatch programme (experts, requests, assignments, "
        "sessions), every row flagged synthetic; nothing when it is there already",
    )
    seed.add_argument(
        "--remove", action="store_true", help="with --demo: delete the synthetic rows instead"
    )
    seed.set_defaults(func=cmd_seed)

    token = sub.add_parser(
        "token",
        help="mint a development token (HS256 set-ups only) for a scope that exists",
    )
    token.add_argument(
        "--role",
        required=True,
        choices=[r.value for r in Role if r is not Role.public],
        help="the principal's role",
    )
    token.add_argument("--municipality", help="6-digit code (municipal_staff)")
    token.add_argument("--expert", help="expert id (expert)")
    token.add_argument("--region", help="region name, e.g. 海草 (regional_office)")
    token.add_argument("--producer", help="producer id (producer)")
    token.add_argument("--subject", help="the token's sub (default dev-<role>)")
    token.add_argument(
        "--ttl",
        type=int,
        default=3600,
        help="lifetime in seconds (default 3600, at most DXLINK_JWT_MAX_LIFETIME_SECONDS)",
    )
    token.set_defaults(func=cmd_token)

    export = sub.add_parser("export-schema", help="print or write the GraphQL SDL")
    export.add_argument("--output", "-o", default=str(SCHEMA_FILE), help="file, or - for stdout")
    export.set_defaults(func=cmd_export_schema)

    imp = sub.add_parser(
        "import-assessment",
        help="import a round's web-form CSV (Google Forms export) as the prefecture: every "
        "row or none",
    )
    imp.add_argument("file", help="the CSV file (UTF-8)")
    imp.add_argument("--round", required=True, help="the round's key, e.g. 2024-04")
    imp.add_argument(
        "--replace",
        action="store_true",
        help="replace responses submitted already (reopened, then saved and submitted again)",
    )
    imp.set_defaults(func=cmd_import_assessment)

    exp = sub.add_parser(
        "export-assessment", help="write a round's submitted responses as the web-form CSV"
    )
    exp.add_argument("--round", required=True, help="the round's key, e.g. 2024-04")
    exp.add_argument("--output", "-o", default="-", help="file, or - for stdout (default)")
    exp.set_defaults(func=cmd_export_assessment)
    return parser


def main(argv: list[str] | None = None) -> int:
    from auth.tokens import ConfigurationError
    from service.embedded import detaching
    from service.logging import configure_logging
    from service.shutdown import termination_signals

    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
    except ValidationError as exc:
        # e.g. DXLINK_PORT=abc: name each variable and what is wrong with it, no traceback.
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "?"
            variable = "DATABASE_URL" if name == "database_url" else f"DXLINK_{name.upper()}"
            secret = any(word in name for word in ("secret", "password", "key", "url"))
            given = "" if secret else f" (got {error.get('input')!r})"
            print(f"dxlink: {variable}: {error['msg']}{given}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    # serve, migrate and seed may start the embedded PostgreSQL; however the command ends (done,
    # failed, SIGTERM from a process manager, Ctrl+C), this process detaches from it, and the
    # server stops unless another process still uses it.
    with termination_signals(), detaching():
        try:
            return int(args.func(args, settings))
        except ConfigurationError as exc:
            # Settings that cannot work (e.g. a short DXLINK_JWT_SECRET) stop a command at its
            # start with the sentence naming the setting, not with a traceback.
            print(f"dxlink: {exc}", file=sys.stderr)
            return 2


if __name__ == "__main__":
    raise SystemExit(main())
