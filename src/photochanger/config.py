"""Process configuration from the environment (prefix ``PHOTOCHANGER_``); runtime settings live in the DB."""

import os
import secrets
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AnyHttpUrl, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from photochanger.core.media_store import MediaStore, S3Settings, open_store
from photochanger.core.passwords import HashProfile

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./var/photochanger.db"
MIN_SECRET_LENGTH = 32


class Environment(StrEnum):
    development = "development"
    production = "production"


class ConfigError(RuntimeError):
    """The configuration cannot be used to start the server."""


class AppConfig(BaseSettings):
    """Everything the process needs before it can open the database."""

    model_config = SettingsConfigDict(env_prefix="PHOTOCHANGER_", extra="ignore", frozen=True)

    env: Environment = Environment.development
    database_url: str = DEFAULT_DATABASE_URL
    media_root: Path = Path("./media")
    var_dir: Path = Path("./var")
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8000
    public_base_url: AnyHttpUrl = AnyHttpUrl("http://127.0.0.1:8000")
    jwt_secret: SecretStr | None = None
    # Encrypts provider API keys stored in the database (AES-GCM); losing it makes them unreadable.
    secret_key: SecretStr | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] = "json"
    # When set, `/metrics` needs `Authorization: Bearer <token>`. Required in production (the metrics show the
    # slot layout, per-slot wrong-password counts and disk usage); development may leave it open on localhost.
    metrics_token: SecretStr | None = None
    # Each upload uses short transactions; 20 (+20 overflow) keeps 30+ jobs in flight off the pool's queue.
    db_pool_size: Annotated[int, Field(ge=1, le=200)] = 20
    db_connect_timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 5.0
    # First start only: the admin created when no user exists, and the ingest password set when none is.
    # Without a password a random one is generated and shown once on the terminal.
    bootstrap_admin_username: Annotated[str, Field(min_length=2, max_length=64)] = "admin"
    bootstrap_admin_password: SecretStr | None = None
    bootstrap_ingest_password: SecretStr | None = None
    # Ingest: how long an upload may wait for a concurrency permit before 429, and the pixel cap.
    permit_wait_seconds: Annotated[float, Field(ge=0, le=30)] = 2.0
    max_image_pixels: Annotated[int, Field(ge=1_000_000, le=200_000_000)] = 50_000_000
    # Ingest body reads: refused with 408 when no byte comes for the idle time, or the whole body is not in
    # within the total time from the request's arrival (nginx, which buffers bodies, makes both moot).
    upload_idle_timeout_seconds: Annotated[float, Field(gt=0, le=600)] = 15.0
    upload_total_timeout_seconds: Annotated[float, Field(gt=0, le=3600)] = 120.0
    # CPU seconds one validation decode may take (the deadline bounds it too): a crafted file is refused.
    decode_cpu_seconds: Annotated[float, Field(gt=0, le=60)] = 5.0
    # Photo bytes and bitmaps uploads may hold at once; an upload that would pass it waits its turn.
    image_memory_mb: Annotated[int, Field(ge=16, le=65536)] = 128
    # When set (e.g. "/_protected/"), public downloads answer with X-Accel-Redirect to this prefix + the
    # path under media_root and nginx sends the file.
    accel_redirect_prefix: str | None = None
    # A repeat of the same shot (Idempotency-Key, or the booth's id+hash) joins its original within this window.
    idempotency_window_seconds: Annotated[int, Field(ge=0, le=7 * 24 * 3600)] = 3600
    # On SIGTERM, background jobs get this long to finish before they are marked interrupted.
    shutdown_grace_seconds: Annotated[float, Field(ge=0, le=600)] = 125.0
    # Webhooks: hosts, IPs or CIDRs that may be private/loopback targets; how long to keep retrying.
    webhook_allowed_targets: list[str] = Field(default_factory=list)
    webhook_max_seconds: Annotated[float, Field(ge=1, le=3600)] = 120.0
    # PostgreSQL only: a process is alive while it renews its `cluster_node` row (every heartbeat); one that
    # stops for node_ttl_seconds is dead, its jobs end `interrupted` and its permits return.
    node_ttl_seconds: Annotated[float, Field(ge=2, le=600)] = 15.0
    node_heartbeat_seconds: Annotated[float, Field(gt=0, le=120)] = 3.0
    # Live dashboard streams one admin session may hold open at once in one process (429 beyond it).
    max_streams_per_session: Annotated[int, Field(ge=1, le=100)] = 4
    # Ingest answers 507 insufficient_storage rather than write when less than this is free under media_root.
    min_free_disk_mb: Annotated[int, Field(ge=0)] = 500
    # Where results, previews, event originals and template media live: "local" (under media_root) or "s3"
    # (an S3-compatible bucket every node shares; upload temp files stay under media_root/temp).
    storage_backend: Literal["local", "s3"] = "local"
    s3_bucket: str | None = None
    # For MinIO, Ceph or R2 (e.g. http://127.0.0.1:9000); unset means AWS S3 in s3_region.
    s3_endpoint_url: AnyHttpUrl | None = None
    s3_region: str = "us-east-1"
    # Unset: boto3's own chain (environment, ~/.aws, instance role).
    s3_access_key_id: SecretStr | None = None
    s3_secret_access_key: SecretStr | None = None
    # Prepended to every key, so several installations can share one bucket.
    s3_key_prefix: str = ""
    # Lifetime of the presigned URL a guest download redirects to; 0 streams downloads through the app.
    s3_presign_ttl_seconds: Annotated[int, Field(ge=0, le=7 * 24 * 3600)] = 300
    # With the bucket backend, ingest answers 507 insufficient_storage when the media would pass this many
    # bytes (the bucket's stand-in for min_free_disk_mb); 0 means no quota.
    s3_quota_bytes: Annotated[int, Field(ge=0)] = 0
    # argon2id cost of admin and ingest password hashes (OWASP defaults: t=2, m=19 MiB, p=1). Tests use a
    # cheap profile; production keeps these unless the machine is known to afford more.
    password_hash_time_cost: Annotated[int, Field(ge=1, le=20)] = 2
    password_hash_memory_kib: Annotated[int, Field(ge=8, le=4 * 1024 * 1024)] = 19456
    password_hash_parallelism: Annotated[int, Field(ge=1, le=16)] = 1
    # Image providers: a driver without its key is listed but reports itself unconfigured.
    gemini_api_key: SecretStr | None = None
    gemini_base_url: AnyHttpUrl = AnyHttpUrl("https://generativelanguage.googleapis.com")
    openai_api_key: SecretStr | None = None
    openai_base_url: AnyHttpUrl = AnyHttpUrl("https://api.openai.com")
    openrouter_api_key: SecretStr | None = None
    openrouter_base_url: AnyHttpUrl = AnyHttpUrl("https://openrouter.ai")
    turbotext_api_key: SecretStr | None = None
    turbotext_base_url: AnyHttpUrl = AnyHttpUrl("https://www.turbotext.ru")

    @model_validator(mode="before")
    @classmethod
    def _public_base_url_defaults_to_the_listening_address(cls, data: object) -> object:
        """Unset, the public base URL is where `serve` listens (`PHOTOCHANGER_PORT=9000 make run` links to
        port 9000); behind a proxy it must be set to the address guests and booths use."""
        if isinstance(data, dict) and data.get("public_base_url") is None:
            host = str(data.get("host") or "127.0.0.1")
            port = data.get("port") or 8000
            shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104 - a name, not a bind
            if ":" in shown:
                shown = f"[{shown}]"
            data = {**data, "public_base_url": f"http://{shown}:{port}"}
        return data

    @model_validator(mode="after")
    def _s3_needs_a_bucket(self) -> "AppConfig":
        if self.storage_backend == "s3" and not self.s3_bucket:
            raise ValueError("PHOTOCHANGER_S3_BUCKET must be set when PHOTOCHANGER_STORAGE_BACKEND is s3")
        return self

    def s3_settings(self) -> S3Settings | None:
        """How to reach the media bucket, or None for the filesystem backend."""
        if self.storage_backend != "s3" or not self.s3_bucket:
            return None
        return S3Settings(
            bucket=self.s3_bucket,
            endpoint_url=str(self.s3_endpoint_url).rstrip("/") if self.s3_endpoint_url else None,
            region=self.s3_region,
            access_key_id=self.s3_access_key_id.get_secret_value() if self.s3_access_key_id else None,
            secret_access_key=(
                self.s3_secret_access_key.get_secret_value() if self.s3_secret_access_key else None
            ),
            key_prefix=self.s3_key_prefix,
            presign_ttl_seconds=self.s3_presign_ttl_seconds,
            quota_bytes=self.s3_quota_bytes,
        )

    def media_store(self) -> MediaStore:
        """The media store of this configuration (one per process: `open_store` caches it)."""
        return open_store(self.media_root, min_free_mb=self.min_free_disk_mb, s3=self.s3_settings())

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _production_needs_real_secrets(self) -> "AppConfig":
        if self.env is Environment.production:
            secret = self.jwt_secret.get_secret_value() if self.jwt_secret else ""
            if len(secret) < MIN_SECRET_LENGTH:
                raise ValueError(
                    f"PHOTOCHANGER_JWT_SECRET must be set to at least {MIN_SECRET_LENGTH} random characters "
                    "in production"
                )
            key = self.secret_key.get_secret_value() if self.secret_key else ""
            if len(key) < MIN_SECRET_LENGTH:
                raise ValueError(
                    f"PHOTOCHANGER_SECRET_KEY must be set to at least {MIN_SECRET_LENGTH} random characters "
                    "in production"
                )
            token = self.metrics_token.get_secret_value() if self.metrics_token else ""
            if len(token) < MIN_SECRET_LENGTH:
                raise ValueError(
                    f"PHOTOCHANGER_METRICS_TOKEN must be set to at least {MIN_SECRET_LENGTH} random characters "
                    "in production (Prometheus sends it as a bearer token)"
                )
        return self

    @model_validator(mode="after")
    def _heartbeat_inside_ttl(self) -> "AppConfig":
        if self.node_heartbeat_seconds * 2 > self.node_ttl_seconds:
            raise ValueError("PHOTOCHANGER_NODE_HEARTBEAT_SECONDS must be at most half of NODE_TTL_SECONDS")
        return self

    @property
    def password_hash_profile(self) -> HashProfile:
        return HashProfile(
            time_cost=self.password_hash_time_cost,
            memory_kib=self.password_hash_memory_kib,
            parallelism=self.password_hash_parallelism,
        )

    @property
    def is_production(self) -> bool:
        return self.env is Environment.production

    @property
    def base_url(self) -> str:
        """`public_base_url` without a trailing slash: every absolute link is built from it."""
        return str(self.public_base_url).rstrip("/")

    def absolute_url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def resolved_jwt_secret(self) -> str:
        """The signing secret; in development a missing one is generated once into ``var/`` (mode 0600)."""
        if self.jwt_secret is not None:
            return self.jwt_secret.get_secret_value()
        if self.is_production:  # pragma: no cover - the validator above already refused this
            raise ConfigError("PHOTOCHANGER_JWT_SECRET is required in production")
        return self._development_secret("jwt_secret")

    def resolved_secret_key(self) -> str:
        """The key that encrypts stored provider keys; in development a missing one is generated once into
        ``var/secret_key`` (mode 0600)."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        if self.is_production:  # pragma: no cover - the validator above already refused this
            raise ConfigError("PHOTOCHANGER_SECRET_KEY is required in production")
        return self._development_secret("secret_key")

    def _development_secret(self, name: str) -> str:
        path = self.var_dir / name
        if path.exists():
            return path.read_text(encoding="utf-8").strip()
        self.var_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_urlsafe(48))
        return path.read_text(encoding="utf-8").strip()
