"""One settings object, read from environment variables with safe defaults.

Every variable is documented in README.md ("Configuration"); keep both in step.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent

# A PostgreSQL role name the service may create and quote without surprises.
_ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
# Printable ASCII only: the service computes the SCRAM verifier itself (see service/migrate.py)
# and SASLprep, which clients apply to other characters, would make it differ.
_PASSWORD = re.compile(r"[\x21-\x7e]{16,}")


class SettingsError(SystemExit):
    """A setting that cannot work: the command stops with this message, without a traceback."""


def default_data_dir() -> Path:
    """``.dxlink/`` of the checkout when running from a source tree (an editable install);
    otherwise a per-user data directory, never the installed package's own directory (which
    its user usually cannot write)."""
    if (REPO_ROOT / "pyproject.toml").is_file():
        return REPO_ROOT / ".dxlink"
    return platformdirs.user_data_path("dxlink")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DXLINK_", extra="ignore")

    # Database. Without DATABASE_URL the service starts an embedded PostgreSQL in data_dir.
    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    data_dir: Path = Field(default_factory=default_data_dir)
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=5, ge=0)
    db_pool_timeout: float = Field(default=10.0, gt=0)
    # The compiled read path's own pool (service.database.ReadPool): about twice the database
    # server's cores. On the benchmark's 2 cores, 10 connections gave a p99 of 76-112 ms, 4 gave
    # 47-66 ms at the same throughput (docs/PERFORMANCE.md).
    db_read_pool_size: int = Field(default=4, ge=1)
    db_statement_timeout_ms: int = Field(default=15_000, ge=0)
    # Client-side bounds for a database that does not answer at all (stopped, frozen, cut
    # off): the wait to connect, and to get any answer to a statement. The command timeout
    # is longer than the statement timeout, so a live server's own timeout error comes first.
    db_connect_timeout: float = Field(default=5.0, gt=0)
    db_command_timeout: float = Field(default=20.0, gt=0)
    # Planner cost of a random page read for the API's connections: 1.1 suits SSDs (PostgreSQL's
    # default of 4 assumes spinning disks and picks sequential scans over index lookups).
    db_random_page_cost: float = Field(default=1.1, gt=0)
    # The login the API's connections use (both pools): created by `dxlink migrate` as a role
    # that owns nothing, is no superuser, has no BYPASSRLS and no rights of its own but to
    # assume dxlink_api. DATABASE_URL (or the embedded server's superuser) is the owner's login,
    # for migrations and seeds only. Password unset -> a random one kept in data_dir.
    db_runtime_user: str = "dxlink_app"
    db_runtime_password: SecretStr | None = None

    # HTTP.
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    graphiql: bool = True
    log_level: str = "INFO"

    # Startup behaviour of `dxlink serve`.
    auto_migrate: bool = True
    auto_seed: bool = True

    # GraphQL limits.
    default_page_size: int = Field(default=20, ge=1)
    max_page_size: int = Field(default=100, ge=1)
    max_query_depth: int = Field(default=12, ge=1)
    max_aliases: int = Field(default=30, ge=1)
    max_list_nesting: int = Field(default=3, ge=1)
    # Fields selected in all once fragments are expanded, and how often one response key may
    # repeat in one selection set: both bound validation (service/limits.py).
    max_fields: int = Field(default=500, ge=1)
    max_field_repeats: int = Field(default=10, ge=1)
    # Bounds checked before a document is parsed (service/documents.py) and on the HTTP body
    # (service/http_body.py). The standard introspection query is about 300 tokens.
    max_document_length: int = Field(default=32_768, ge=1)
    max_document_tokens: int = Field(default=2_000, ge=1)
    max_document_comments: int = Field(default=200, ge=0)
    max_body_bytes: int = Field(default=256 << 10, ge=1)
    max_json_depth: int = Field(default=32, ge=2)
    # A multipart request's whole body (importAssessmentCsv's file and its operations): the
    # 30 municipalities' CSV is about 20 KB, a round of every municipality in Japan ~1.2 MB.
    max_upload_bytes: int = Field(default=4 << 20, ge=1)

    # Authentication (see auth/tokens.py). Asymmetric keys in production, HS256 in development.
    jwt_algorithms: str = "HS256"  # comma-separated, e.g. "RS256,ES256"
    jwt_secret: SecretStr | None = None  # HS*: unset -> a random secret kept in data_dir
    jwt_public_key: str | None = None  # RS*/ES*: PEM text, or the path of a PEM file
    jwt_jwks: str | None = None  # RS*/ES*: path or https URL of a JWK Set
    jwt_issuer: str = "dxlink"
    jwt_audience: str = "dxlink-api"
    jwt_leeway_seconds: int = Field(default=30, ge=0, le=300)
    # Longest accepted token lifetime (exp - iat). Tokens cannot be revoked short of rotating the
    # key, so this bounds how long a leaked one works. Identity providers issue access tokens of
    # minutes to an hour; a day never refuses theirs and covers a working day of dev tokens.
    jwt_max_lifetime_seconds: int = Field(default=86_400, ge=60, le=30 * 86_400)
    # Tokens are a few hundred bytes to a few KiB (with group claims); 8 KiB is also the header
    # buffer of common proxies. Longer ones are refused before they are decoded.
    jwt_max_token_bytes: int = Field(default=8_192, ge=1_024, le=65_536)

    # The compiled read path (service/compiler.py); off sends every operation to the resolvers.
    compiled_reads: bool = True
    # Tests only: honour `X-Dxlink-Executor: resolvers` to compare the two executors.
    executor_header: bool = False

    # Compiled aggregate answers kept until their tables change (service/result_cache.py), at
    # most this many; 0 turns the cache off.
    result_cache_size: int = Field(default=1000, ge=0)

    # Working groups' chat webhooks (service/working_groups/webhooks.py): the sender of each API
    # process, the HTTP timeout of one POST, how often it sweeps the outbox for missed
    # notifications and due retries, the first retry's wait (doubled per failure, capped, with
    # jitter), and the attempts after which a message is given up (FAILED).
    webhooks: bool = True
    webhook_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    webhook_sweep_seconds: float = Field(default=5.0, gt=0)
    webhook_backoff_seconds: float = Field(default=2.0, ge=0)
    webhook_backoff_max_seconds: float = Field(default=600.0, ge=0)
    webhook_max_attempts: int = Field(default=8, ge=1)

    # Aggregates are public only when every group holds at least this many municipalities.
    aggregate_threshold: int = Field(default=3, ge=1)

    @property
    def accepted_algorithms(self) -> tuple[str, ...]:
        return tuple(a.strip() for a in self.jwt_algorithms.split(",") if a.strip())

    @field_validator("database_url", "jwt_public_key", "jwt_jwks")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("db_runtime_user")
    @classmethod
    def _role_name(cls, value: str) -> str:
        if not _ROLE_NAME.fullmatch(value):
            raise ValueError(
                "DXLINK_DB_RUNTIME_USER must be a lower-case PostgreSQL name "
                "(letters, digits, underscores; at most 63)"
            )
        return value

    @field_validator("db_runtime_password", mode="before")
    @classmethod
    def _runtime_password(cls, value: Any) -> Any:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if value in (None, ""):
            return None  # an empty variable (docker-compose's ${VAR:-}) means "generate one"
        if not isinstance(value, str) or not _PASSWORD.fullmatch(value):
            raise ValueError(
                "DXLINK_DB_RUNTIME_PASSWORD must be at least 16 printable ASCII characters "
                "without spaces"
            )
        return value


def writable_data_dir(settings: Settings) -> Path:
    """The data directory, created if missing; a clear error naming DXLINK_DATA_DIR when this
    user cannot write it (an installed package's directory, a read-only volume)."""
    path = settings.data_dir
    try:
        path.mkdir(parents=True, exist_ok=True)
        # os.access would trust mode bits; only a real file tells about read-only mounts.
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise SettingsError(
            f"the data directory {path} is not writable ({exc.strerror or exc}); set "
            "DXLINK_DATA_DIR to a directory this user can write (it keeps the embedded "
            "PostgreSQL and the generated secrets)"
        ) from None
    return path


def kept_secret(settings: Settings, name: str) -> str:
    """A random secret kept in the data directory under ``name``, made on first use.

    Created with mode 0600 under a temporary name and linked into place, so that processes
    starting at once (replicas sharing a volume) all end up with the one that won.
    """
    path = writable_data_dir(settings) / name
    if not path.exists():
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                # 64 characters: enough for HS512 (64 bytes), the longest an HMAC key needs.
                out.write(secrets.token_urlsafe(48))
            with contextlib.suppress(FileExistsError):  # another process made it first
                os.link(temporary, path)
        finally:
            os.unlink(temporary)
    return path.read_text(encoding="utf-8").strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()
