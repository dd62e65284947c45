"""Request dependencies on what the lifespan built (config, providers, ingest, sessions) and the problems every
authenticated route can answer. Routers take these instead of reaching into `request.app.state`."""

from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from photochanger.auth.exceptions import CsrfFailed, InvalidToken, NotAuthenticated, PermissionDenied
from photochanger.config import AppConfig
from photochanger.core.errors import PhotoChangerError
from photochanger.core.storage import MediaLayout
from photochanger.providers.registry import ProviderRegistry

if TYPE_CHECKING:
    # For type checkers only: these are built by the lifespan and read from the app's state, so this module
    # (which every router imports) does not pull the pipeline, the metrics or the result lookup in.
    from photochanger.accounts.store import KeyStore
    from photochanger.ingest.service import IngestService
    from photochanger.metrics.registry import Metrics
    from photochanger.public.service import ResultCache
    from photochanger.stats.engagement import GuestCounts

# The problems any route behind `requires(...)` can answer; routers spread it into `problem_responses`.
AUTH_ERRORS: tuple[type[PhotoChangerError], ...] = (
    NotAuthenticated,
    InvalidToken,
    PermissionDenied,
    CsrfFailed,
)


def get_config(request: Request) -> AppConfig:
    config: AppConfig = request.app.state.config
    return config


def get_providers(request: Request) -> ProviderRegistry:
    providers: ProviderRegistry = request.app.state.providers
    return providers


def get_ingest(request: Request) -> "IngestService":
    ingest: IngestService = request.app.state.ingest
    return ingest


def get_key_store(request: Request) -> "KeyStore":
    keys: KeyStore = request.app.state.keys
    return keys


def get_result_cache(request: Request) -> "ResultCache":
    cache: ResultCache = request.app.state.result_cache
    return cache


def get_guest_counts(request: Request) -> "GuestCounts":
    counts: GuestCounts = request.app.state.guest_counts
    return counts


def get_metrics(request: Request) -> "Metrics":
    metrics: Metrics = request.app.state.metrics
    return metrics


def get_sessionmaker(request: Request) -> async_sessionmaker[AsyncSession]:
    """For routes that run their own short transactions (streams, counters) instead of `SessionDep`."""
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    return sessionmaker


def get_engine(request: Request) -> AsyncEngine:
    engine: AsyncEngine = request.app.state.engine
    return engine


def get_media_layout(config: "ConfigDep") -> MediaLayout:
    return MediaLayout(config.media_root)


ConfigDep = Annotated[AppConfig, Depends(get_config)]
ProvidersDep = Annotated[ProviderRegistry, Depends(get_providers)]
IngestDep = Annotated["IngestService", Depends(get_ingest)]
SessionmakerDep = Annotated[async_sessionmaker[AsyncSession], Depends(get_sessionmaker)]
MediaLayoutDep = Annotated[MediaLayout, Depends(get_media_layout)]
EngineDep = Annotated[AsyncEngine, Depends(get_engine)]
ResultCacheDep = Annotated["ResultCache", Depends(get_result_cache)]
MetricsDep = Annotated["Metrics", Depends(get_metrics)]
GuestCountsDep = Annotated["GuestCounts", Depends(get_guest_counts)]
KeyStoreDep = Annotated["KeyStore", Depends(get_key_store)]
