"""One settings object, read from environment variables with safe defaults.

Every variable is documented in README.md ("Configuration"); keep both in step.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DXLINK_", extra="ignore")

    # Database. Without DATABASE_URL the service starts an embedded PostgreSQL in data_dir.
    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    data_dir: Path = REPO_ROOT / ".dxlink"
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

    # Aggregates are public only when every group holds at least this many municipalities.
    aggregate_threshold: int = Field(default=3, ge=1)

    @property
    def accepted_algorithms(self) -> tuple[str, ...]:
        return tuple(a.strip() for a in self.jwt_algorithms.split(",") if a.strip())

    @field_validator("database_url", "jwt_public_key", "jwt_jwks")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value or None


@lru_cache
def get_settings() -> Settings:
    return Settings()
