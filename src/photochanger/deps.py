"""Request dependencies on what the lifespan built (config, providers, ingest, sessions) and the problems every
authenticated route can answer. Routers take these instead of reaching into `request.app.state`."""

from typing import TYPE_CHECKING, Annotated, Generic, TypeVar

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from photochanger.auth.exceptions import CsrfFailed, InvalidToken, NotAuthenticated, PermissionDenied
from photochanger.config import AppConfig
from photochanger.core.errors import PhotoChangerError
from photochanger.core.media_store import MediaStore
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

T = TypeVar("T")

# The problems any route behind `requires(...)` can answer; routers spread it into `problem_responses`.
AUTH_ERRORS: tuple[type[PhotoChangerError], ...] = (
    NotAuthenticated,
    InvalidToken,
    PermissionDenied,
    CsrfFailed,
)


class _FromState(Generic[T]):
    """A dependency that reads one thing the lifespan put on `app.state`, typed by its annotation."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, request: Request) -> T:
        value: T = getattr(request.app.state, self.name)
        return value


get_config: _FromState[AppConfig] = _FromState("config")
get_providers: _FromState[ProviderRegistry] = _FromState("providers")
get_ingest: "_FromState[IngestService]" = _FromState("ingest")
get_key_store: "_FromState[KeyStore]" = _FromState("keys")
get_result_cache: "_FromState[ResultCache]" = _FromState("result_cache")
get_guest_counts: "_FromState[GuestCounts]" = _FromState("guest_counts")
get_metrics: "_FromState[Metrics]" = _FromState("metrics")
# For routes that run their own short transactions (streams, counters) instead of `SessionDep`.
get_sessionmaker: _FromState[async_sessionmaker[AsyncSession]] = _FromState("sessionmaker")
get_engine: _FromState[AsyncEngine] = _FromState("engine")


def get_media_layout(config: "ConfigDep") -> MediaLayout:
    """The node-local media tree: upload temp files and provider input links (never results)."""
    return MediaLayout(config.media_root)


def get_media_store(request: Request) -> MediaStore:
    """Where results, previews, event originals and template media are kept (filesystem or bucket)."""
    store: MediaStore = request.app.state.media_store
    return store


ConfigDep = Annotated[AppConfig, Depends(get_config)]
ProvidersDep = Annotated[ProviderRegistry, Depends(get_providers)]
IngestDep = Annotated["IngestService", Depends(get_ingest)]
SessionmakerDep = Annotated[async_sessionmaker[AsyncSession], Depends(get_sessionmaker)]
MediaLayoutDep = Annotated[MediaLayout, Depends(get_media_layout)]
MediaStoreDep = Annotated[MediaStore, Depends(get_media_store)]
EngineDep = Annotated[AsyncEngine, Depends(get_engine)]
ResultCacheDep = Annotated["ResultCache", Depends(get_result_cache)]
MetricsDep = Annotated["Metrics", Depends(get_metrics)]
GuestCountsDep = Annotated["GuestCounts", Depends(get_guest_counts)]
KeyStoreDep = Annotated["KeyStore", Depends(get_key_store)]
