"""Composition root: `create_app(config)` wires lifespan resources, middleware, routers and error handlers."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import SecretStr

from photochanger import __version__
from photochanger.accounts.router import router as accounts_router
from photochanger.accounts.router import settings_router as provider_settings_router
from photochanger.accounts.store import KeyStore
from photochanger.admin.live import StreamLimiter
from photochanger.admin.root import router as root_router
from photochanger.admin.router import router as admin_router
from photochanger.audit.router import router as audit_router
from photochanger.bootstrap import bootstrap
from photochanger.config import AppConfig
from photochanger.core import passwords
from photochanger.core.bodies import KIB, UPLOAD, BodyLimitMiddleware, BodyPolicy, rule
from photochanger.core.crypto import SecretBox
from photochanger.core.db import create_engine, create_sessionmaker, is_sqlite, is_unavailable_error
from photochanger.core.errors import install_error_handlers
from photochanger.core.limits import ConcurrencyLimiter, Limiter
from photochanger.core.logging import configure_logging, register_secret
from photochanger.core.notify import PgListener
from photochanger.core.request_id import RequestIdMiddleware
from photochanger.core.storage import MediaLayout
from photochanger.events.public import router as events_public_router
from photochanger.events.router import router as events_router
from photochanger.guest.download import router as guest_download_router
from photochanger.guest.gallery import router as guest_gallery_router
from photochanger.guest.router import router as guest_router
from photochanger.health.router import router as health_router
from photochanger.ingest.cluster import ClusterMembership
from photochanger.ingest.leases import LeaseLimiter
from photochanger.ingest.recovery import InstanceLock, recover, remove_unfinished_results
from photochanger.ingest.router import router as ingest_router
from photochanger.ingest.service import IngestService
from photochanger.ingest.testrun import router as ingest_test_run_router
from photochanger.media import service as media_service
from photochanger.media.router import router as media_router
from photochanger.media.storage_router import router as media_storage_router
from photochanger.metrics.middleware import HttpMetricsMiddleware
from photochanger.metrics.registry import Metrics
from photochanger.metrics.router import router as metrics_router
from photochanger.providers.gemini.driver import GeminiProvider
from photochanger.providers.gpt_image.driver import GptImageProvider
from photochanger.providers.local.driver import LocalProvider
from photochanger.providers.openrouter.driver import OpenRouterProvider
from photochanger.providers.registry import ProviderRegistry
from photochanger.providers.turbotext.driver import TurbotextProvider
from photochanger.public.router import router as public_router
from photochanger.public.service import ResultCache
from photochanger.settings.router import router as settings_router
from photochanger.slots.router import catalogue_router as slots_catalogue_router
from photochanger.slots.router import router as slots_router
from photochanger.stats.router import admin_router as stats_admin_router
from photochanger.stats.router import router as stats_router
from photochanger.usage.router import router as usage_router
from photochanger.users.router import login_router as auth_login_router
from photochanger.users.router import router as auth_router
from photochanger.users.router import users_router as auth_users_router
from photochanger.webhooks.router import router as webhooks_router
from photochanger.webhooks.service import WebhookSender

logger = logging.getLogger(__name__)

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "description": "RFC 9457 problem details with a stable machine-readable `code`.",
    "required": ["type", "title", "status", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "code": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
}


def _lifespan(config: AppConfig) -> Any:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(
            config.database_url,
            pool_size=config.db_pool_size,
            connect_timeout=config.db_connect_timeout_seconds,
        )
        app.state.engine = engine
        app.state.sessionmaker = create_sessionmaker(engine)
        app.state.keys = KeyStore(app.state.sessionmaker, SecretBox(config.resolved_secret_key()))
        config.media_root.mkdir(parents=True, exist_ok=True)
        lock = InstanceLock(config.var_dir / "run")
        app.state.instance_lock = lock
        # PostgreSQL: one listening connection, cluster membership and leases shared by every process and
        # node. SQLite is one process on one machine: in-process permits, polling streams.
        listener: PgListener | None = None
        membership: ClusterMembership | None = None
        limiter: Limiter = ConcurrencyLimiter()
        if not is_sqlite(config.database_url):
            listener = PgListener(config.database_url, connect_timeout=config.db_connect_timeout_seconds)
            layout = MediaLayout(config.media_root)

            async def remove_results(jobs: list[tuple[str, str]]) -> None:
                await anyio.to_thread.run_sync(remove_unfinished_results, layout, jobs)

            membership = ClusterMembership(
                app.state.sessionmaker,
                lock.owner,
                ttl_seconds=config.node_ttl_seconds,
                heartbeat_seconds=config.node_heartbeat_seconds,
                on_reaped=remove_results,
            )
            limiter = LeaseLimiter(app.state.sessionmaker, membership, listener)
        app.state.listener = listener
        app.state.membership = membership
        app.state.limiter = limiter
        app.state.webhooks = WebhookSender(
            app.state.sessionmaker,
            allow=config.webhook_allowed_targets,
            max_seconds=config.webhook_max_seconds,
        )
        app.state.ingest = IngestService(
            config=config,
            sessionmaker=app.state.sessionmaker,
            providers=app.state.providers,
            limiter=app.state.metrics.instrument(limiter),
            owner=lock.owner,
            webhooks=app.state.webhooks,
            template_loader=media_service.load_templates,
            metrics=app.state.metrics,
            keys=app.state.keys,
        )
        try:
            if listener is not None:
                await listener.start()
            if membership is not None:
                await membership.start()
            try:
                cluster_live = await membership.live_owners() if membership is not None else None
                await recover(
                    app.state.sessionmaker, MediaLayout(config.media_root), lock, cluster_live=cluster_live
                )
            except Exception as exc:
                if not is_unavailable_error(exc):
                    raise
                # Serve anyway: readiness says the database is down, and the next start-up recovers.
                logger.warning("start-up recovery skipped: database unavailable")
            # First admin and ingest password; generated secrets are shown once on the terminal.
            await bootstrap(app.state.sessionmaker, config)
            app.state.metrics.loop_lag.start()
            yield
        finally:
            await app.state.metrics.loop_lag.stop()
            # Uvicorn has stopped accepting and drained synchronous requests; finish background jobs.
            await app.state.ingest.aclose()
            if membership is not None:
                await membership.stop()
            if listener is not None:
                await listener.stop()
            await app.state.webhooks.aclose()
            await app.state.http.aclose()
            await engine.dispose()
            app.state.metrics.close()
            lock.release()

    return lifespan


def build_providers(config: AppConfig, http: httpx.AsyncClient) -> ProviderRegistry:
    """Every provider driver, configured from the environment; the one place drivers are registered.

    `http` is the process-wide client every remote driver shares (closed by the lifespan)."""

    def key(secret: SecretStr | None) -> str | None:
        return secret.get_secret_value() if secret is not None else None

    return ProviderRegistry(
        LocalProvider(),
        GeminiProvider(http, api_key=key(config.gemini_api_key), base_url=str(config.gemini_base_url)),
        GptImageProvider(http, api_key=key(config.openai_api_key), base_url=str(config.openai_base_url)),
        OpenRouterProvider(
            http, api_key=key(config.openrouter_api_key), base_url=str(config.openrouter_base_url)
        ),
        TurbotextProvider(
            http, api_key=key(config.turbotext_api_key), base_url=str(config.turbotext_base_url)
        ),
    )


# Request bodies: upload routes stream under their own cap (the runtime `upload_max_mb`, or a slot's lower one,
# plus the multipart envelope); admin forms are small URL-encoded bodies; every other route takes JSON.
JSON_BODY = BodyPolicy(max_bytes=1024 * KIB)
ADMIN_FORM = BodyPolicy(max_bytes=64 * KIB)
BODY_RULES = (
    rule(r"/api/ingest/[^/]+", UPLOAD),
    rule(r"/api/slots/[^/]+/test-run", UPLOAD),
    rule(r"/api/template-media", UPLOAD),
    rule(r"/admin/slots/[^/]+/test", UPLOAD),
    rule(r"/admin/slots/[^/]+/trial", UPLOAD),
    rule(r"/admin/media", UPLOAD),
    rule(r"/admin/bulk/slots", ADMIN_FORM),
    rule(r"/admin/results/[^/]+/delete", ADMIN_FORM),
    rule(r"/admin/settings/ingest-password/generate", ADMIN_FORM),
    rule(r"/admin(/.*)?", ADMIN_FORM),
)


def create_app(config: AppConfig | None = None) -> FastAPI:
    config = config or AppConfig()
    passwords.configure(config.password_hash_profile)
    app = FastAPI(
        title="PhotoChanger",
        version=__version__,
        lifespan=_lifespan(config),
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.config = config
    register_secret(*_config_secrets(config))
    # Per-app registry: several apps in one process (the tests) never share counters.
    app.state.metrics = Metrics(config.media_root)
    # One shared HTTP client for every outbound call; per-request timeouts come from each job's deadline.
    app.state.http = httpx.AsyncClient(follow_redirects=False, timeout=httpx.Timeout(30.0, connect=10.0))
    app.state.providers = build_providers(config, app.state.http)
    app.state.result_cache = ResultCache()
    app.state.streams = StreamLimiter(config.max_streams_per_session)
    # Replaced by the lifespan on PostgreSQL: the process's one LISTEN connection.
    app.state.listener = None
    install_error_handlers(app)
    # Outermost last: the request id is set before anything is measured or logged.
    app.add_middleware(BodyLimitMiddleware, rules=BODY_RULES, default=JSON_BODY)
    app.add_middleware(HttpMetricsMiddleware, metrics=app.state.metrics)
    app.add_middleware(RequestIdMiddleware)
    app.include_router(health_router)
    app.include_router(ingest_router)
    app.include_router(guest_download_router)
    app.include_router(public_router)
    app.include_router(webhooks_router)
    app.include_router(guest_router)
    app.include_router(guest_gallery_router)
    app.include_router(events_router)
    app.include_router(events_public_router)
    app.include_router(media_storage_router)
    app.include_router(auth_router)
    app.include_router(auth_login_router)
    app.include_router(auth_users_router)
    app.include_router(stats_admin_router)
    app.include_router(settings_router)
    app.include_router(accounts_router)
    app.include_router(provider_settings_router)
    app.include_router(audit_router)
    app.include_router(slots_catalogue_router)
    app.include_router(slots_router)
    app.include_router(ingest_test_run_router)
    app.include_router(media_router)
    app.include_router(admin_router)
    app.include_router(root_router)
    app.include_router(metrics_router)
    app.include_router(stats_router)
    app.include_router(usage_router)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
            schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _config_secrets(config: AppConfig) -> list[str]:
    """Configured secret values, masked verbatim in every log line."""
    return [
        value.get_secret_value()
        for value in (
            config.jwt_secret,
            config.secret_key,
            config.metrics_token,
            config.bootstrap_admin_password,
            config.bootstrap_ingest_password,
            config.gemini_api_key,
            config.openai_api_key,
            config.openrouter_api_key,
            config.turbotext_api_key,
        )
        if value is not None
    ]


def create_app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` (multi-worker serving): configuration from the environment."""
    config = AppConfig()
    configure_logging(config.log_level, config.log_format)
    return create_app(config)
