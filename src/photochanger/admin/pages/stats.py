"""Statistics (`/admin/stats`): per-slot charts of a window, the refusal reasons, provider usage and cost."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from photochanger.admin import charts
from photochanger.admin.deps import admin_requires
from photochanger.admin.pages import providers as provider_pages
from photochanger.admin.rendering import render
from photochanger.admin.routing import AdminRoute
from photochanger.auth import permissions
from photochanger.auth.dependencies import Principal
from photochanger.core.db import SessionDep
from photochanger.core.time import utcnow
from photochanger.deps import ConfigDep
from photochanger.problems import service as problems_service
from photochanger.slots import service as slots_service
from photochanger.stats import service as stats_service

STATS_REFUSALS = 20

router: APIRouter = APIRouter(route_class=AdminRoute, include_in_schema=False)


@router.get("/stats")
async def stats_page(
    request: Request,
    principal: Annotated[Principal, admin_requires(permissions.STATS_READ)],
    session: SessionDep,
    config: ConfigDep,
    window: Annotated[str, Query(pattern="^(1h|24h|7d)$")] = "24h",
) -> Response:
    names = {s.id: s.display_name for s in await slots_service.list_slots(session, config)}
    data = await charts.slot_stats(session, window=window, names=names)
    since = utcnow() - stats_service.parse_window(window)
    refusals = await problems_service.refusal_summary(session, since=since, limit=STATS_REFUSALS)
    usage = await provider_pages.usage_context(session, window)
    return render(
        request,
        "stats.html",
        window=window,
        windows=("1h", "24h", "7d"),
        refusals=refusals,
        slot_names=names,
        **data,
        **usage,
    )
