"""`GET /api/stats/usage` (permission `stats:read`): provider usage and estimated cost per day."""

from typing import Annotated

from fastapi import APIRouter, Query

from photochanger.auth import permissions
from photochanger.auth.dependencies import Principal, requires
from photochanger.auth.exceptions import NotAuthenticated, PermissionDenied
from photochanger.core.db import SessionDep
from photochanger.core.errors import problem_responses
from photochanger.core.time import utcnow
from photochanger.usage import service
from photochanger.usage.schemas import UsageRead

router = APIRouter(prefix="/api/stats", tags=["stats"])


@router.get(
    "/usage", response_model=UsageRead, responses=problem_responses(NotAuthenticated, PermissionDenied)
)
async def get_usage(
    session: SessionDep,
    _principal: Annotated[Principal, requires(permissions.STATS_READ)],
    days: Annotated[int, Query(ge=1, le=92, description="UTC days back, today included")] = 7,
) -> UsageRead:
    """Provider calls, images, refusals and failures per day, provider, key, slot and model, with the
    estimated cost (images x the price per image the admin set for the model)."""
    return await service.summary(session, days=days, now=utcnow())
