"""Settings for every Depictio process, read from DEPICTIO_* environment variables."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class AuthMode(StrEnum):
    """How callers are identified."""

    AUTH = "auth"
    SINGLE_USER = "single-user"
    PUBLIC = "public"


class Settings(BaseSettings):
    """All configuration; each field is DEPICTIO_<FIELD NAME IN CAPITALS>."""

    model_config = SettingsConfigDict(env_prefix="DEPICTIO_", extra="ignore")

    data_dir: Path = Field(Path(".depictio"), description="Where embedded defaults keep state.")
    mongo_url: str = Field(
        "", description="mongodb://… for a real MongoDB; empty uses the embedded engine."
    )
    mongo_db_prefix: str = Field(
        "depictio",
        pattern=r"^[A-Za-z0-9_-]{1,40}$",
        description="Prefix of the database names (<prefix>_auth, <prefix>_metadata).",
    )
    auth_mode: AuthMode = Field(AuthMode.AUTH, description="auth, single-user or public.")
    auth_registration: bool = Field(True, description="Whether anyone may register.")
    admin_email: str = Field("admin@depictio.local", description="The first admin's e-mail.")
    admin_password: str = Field(
        "", description="The first admin's password; generated and printed once if empty."
    )

    auth_addr: str = Field("127.0.0.1:50051", description="auth_svc gRPC address.")
    metadata_addr: str = Field("127.0.0.1:50052", description="metadata_svc gRPC address.")
    data_addr: str = Field("127.0.0.1:50053", description="data_svc gRPC address.")
    data_flight_addr: str = Field(
        "127.0.0.1:50054",
        description="data_svc Arrow Flight address, for fast whole scans (empty: none).",
    )
    gateway_host: str = Field("127.0.0.1", description="Gateway bind host.")
    gateway_port: int = Field(8000, description="Gateway HTTP port.")
    ui_host: str = Field("127.0.0.1", description="Dash UI bind host.")
    ui_port: int = Field(8050, description="Dash UI HTTP port.")
    ui_secure_cookies: bool = Field(
        False, description="Mark the UI's session cookies Secure (set it when served over TLS)."
    )
    ui_threads: int = Field(8, ge=1, le=64, description="Request threads of the UI server.")
    ui_url: str = Field(
        "",
        description="The UI's base URL as the worker reaches it (to draw dashboard thumbnails); "
        "empty: http://<ui_host>:<ui_port> on this machine.",
    )
    thumbnail_delay_seconds: float = Field(
        10.0,
        ge=0,
        description="How long after a save a dashboard's thumbnails are drawn; saves within "
        "that time share one drawing.",
    )

    signing_key_file: Path | None = Field(
        None, description="PEM Ed25519 private key to sign with; generated and stored if unset."
    )
    jwt_issuer: str = Field("depictio", description="iss of every token.")
    jwt_audience: str = Field("depictio", description="aud of every token.")
    jwt_leeway_seconds: int = Field(10, ge=0, le=30, description="Clock skew allowed.")
    access_token_ttl_seconds: int = Field(900, gt=0, description="Access token lifetime.")
    refresh_token_ttl_seconds: int = Field(7 * 24 * 3600, gt=0, description="Refresh lifetime.")
    api_token_cache_seconds: int = Field(
        30, ge=0, description="How long the gateway reuses an exchanged API token."
    )
    jwks_refresh_min_seconds: float = Field(
        5.0, ge=0, description="Least time between two JWKS refetches for unknown kids."
    )

    storage_url: str = Field(
        "",
        description="Where Delta tables live: file://… or s3://bucket/prefix; "
        "empty means file://<data_dir>/delta.",
    )
    s3_endpoint: str = Field("", description="S3/MinIO endpoint URL, e.g. http://minio:9000.")
    s3_access_key: str = Field("", description="S3 access key id.")
    s3_secret_key: str = Field("", description="S3 secret access key.")
    s3_region: str = Field("us-east-1", description="S3 region.")
    redis_url: str = Field(
        "",
        description="redis://… for the query result cache; empty: none (`depictio up` then "
        "starts a private redis-server and points the services at it).",
    )
    embedded_redis_port: int = Field(
        6390, description="Port of the redis-server `depictio up` starts when redis_url is empty."
    )
    embedded_redis_max_memory_mb: int = Field(
        256, ge=8, description="Memory bound of that redis-server (LRU eviction beyond it)."
    )
    query_cache_ttl_seconds: int = Field(
        300, ge=0, description="How long a cached query result is kept."
    )
    data_memory_mb: int = Field(
        1024,
        ge=0,
        description="Memory data_svc keeps recently read table versions in (decoded, LRU); "
        "0 reads every request from storage.",
    )

    celery_enabled: bool = Field(
        False,
        description="Run the UI's design-mode previews as Dash background callbacks on Celery "
        "(needs redis_url and a worker).",
    )
    task_result_ttl_seconds: int = Field(
        86400, ge=60, description="How long task records and results are kept in Redis."
    )
    task_time_limit_seconds: int = Field(
        600,
        ge=2,
        description="Hard time limit of a background task; the soft limit, at which the task "
        "is told to stop, is a little shorter.",
    )
    task_token_ttl_seconds: int = Field(
        900, ge=30, description="Lifetime of the access token minted for a background task."
    )
    task_visibility_timeout_seconds: int = Field(
        0,
        ge=0,
        description="After how long a task whose worker vanished runs again; 0: the hard time "
        "limit plus 60 s (it must exceed the time limit, or long tasks would run twice).",
    )
    server_projects_dir: Path | None = Field(
        None,
        description="Server-side ingestion reads project files and their data only under this "
        "directory; unset means <data_dir>/projects.",
    )
    worker_concurrency: int = Field(
        1, ge=1, le=64, description="Task processes of one worker (`python -m worker`)."
    )
    task_test_pause_seconds: float = Field(
        0.0,
        ge=0,
        description="Tests only: every task pauses this long after it is marked running, so "
        "that a test can kill its worker mid-task or let it pass its time limit.",
    )

    rpc_timeout_seconds: float = Field(10.0, gt=0, description="Default deadline of an RPC.")
    stream_idle_seconds: float = Field(
        60.0,
        gt=0,
        description="Longest wait of the gateway for a Scan's next message before it gives the "
        "call up (the first waits for the table to be read, filtered and sorted).",
    )
    shutdown_grace_seconds: float = Field(5.0, ge=0, description="Grace on SIGTERM.")
    log_level: str = Field("INFO", description="Logging level.")

    @field_validator("admin_email")
    @classmethod
    def _lower_email(cls, value: str) -> str:
        return value.strip().lower()

    @property
    def initial_admin_file(self) -> Path:
        """Where auth_svc leaves a generated first-admin password (0600) for `depictio up`."""
        return self.data_dir / "initial-admin.json"

    @property
    def delta_root_url(self) -> str:
        """The storage URL Delta tables live under (file://<data_dir>/delta by default)."""
        if self.storage_url:
            return self.storage_url.rstrip("/")
        return (self.data_dir / "delta").resolve().as_uri()

    @property
    def server_projects_root(self) -> Path:
        """The directory server-side ingestion may read (resolved)."""
        return (self.server_projects_dir or self.data_dir / "projects").resolve()

    @property
    def task_soft_time_limit_seconds(self) -> int:
        """When a task is told to stop: a tenth (at most 30 s, at least 1 s) before the hard
        limit."""
        hard = self.task_time_limit_seconds
        return hard - min(30, max(1, hard // 10))

    @property
    def task_redelivery_seconds(self) -> int:
        """The broker's visibility timeout: when an unacknowledged task runs again."""
        return self.task_visibility_timeout_seconds or self.task_time_limit_seconds + 60

    def mongo_database(self, service: str) -> str:
        """The name of a service's database, e.g. 'depictio_metadata'."""
        return f"{self.mongo_db_prefix}_{service}"

    def mongo_location(self, service: str) -> str:
        """Where a service's database lives: the real MongoDB URL or an embedded directory."""
        if self.mongo_url:
            return self.mongo_url
        return str((self.data_dir / "mongo" / service).resolve())


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
