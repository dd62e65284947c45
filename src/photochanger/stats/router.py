"""`GET /api/stats/overview`, `GET /api/stats/slots/{slot_id}` and `GET /api/admin/stats` (permission
`stats:read`)."""

from typing import Annotated

from fastapi import APIRouter, Query

from photochanger.auth import permissions
from photochanger.auth.dependencies import Principal, requires
from photochanger.auth.exceptions import NotAuthenticated, PermissionDenied
from photochanger.core.db import SessionDep
from photochanger.core.errors import problem_responses
from photochanger.core.time import utcnow
from photochanger.deps import AUTH_ERRORS
from photochanger.slots.exceptions import SlotNotFound
from photochanger.stats import service
from photochanger.stats.schemas import AdminStatsRead, OverviewRead, SlotStatsRead

router = APIRouter(prefix="/api/stats", tags=["stats"])
admin_router = APIRouter(prefix="/api/admin", tags=["admin"])

WindowQuery = Annotated[
    str, Query(max_length=16, description="how far back from now: minutes, hours or days, e.g. 60m, 24h, 7d")
]


@router.get(
    "/overview",
    response_model=OverviewRead,
    responses=problem_responses(NotAuthenticated, PermissionDenied, service.InvalidWindow),
)
async def get_overview(
    session: SessionDep,
    _principal: Annotated[Principal, requires(permissions.STATS_READ)],
    window: WindowQuery = "60m",
) -> OverviewRead:
    return await service.overview(session, window=window, now=utcnow())


@router.get(
    "/slots/{slot_id}",
    response_model=SlotStatsRead,
    responses=problem_responses(NotAuthenticated, PermissionDenied, SlotNotFound, service.InvalidWindow),
)
async def get_slot_stats(
    slot_id: str,
    session: SessionDep,
    _principal: Annotated[Principal, requires(permissions.STATS_READ)],
    window: WindowQuery = "60m",
) -> SlotStatsRead:
    return await service.slot_stats(session, slot_id, window=window, now=utcnow())


@admin_router.get("/stats", response_model=AdminStatsRead, responses=problem_responses(*AUTH_ERRORS))
async def get_admin_stats(
    _principal: Annotated[Principal, requires(permissions.STATS_READ)], session: SessionDep
) -> AdminStatsRead:
    return await service.admin_stats(session)
