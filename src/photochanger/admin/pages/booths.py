"""`/admin/booths` (mounted under `/admin` by `admin.router`): every booth seen, as DSLR Remote Pro names
itself, with its slots, last shot and result, wrong-password attempts and version; silent ones marked."""

from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from photochanger.admin.deps import admin_requires
from photochanger.admin.rendering import render
from photochanger.admin.routing import AdminRoute
from photochanger.auth import permissions
from photochanger.auth.dependencies import Principal
from photochanger.config import AppConfig
from photochanger.core.db import SessionDep
from photochanger.core.time import utcnow
from photochanger.problems import service as problems_service
from photochanger.slots import service as slots_service

BOOTHS_WINDOW = timedelta(days=7)
SILENT_CHOICES = (5, 15, 30, 60)

router: APIRouter = APIRouter(route_class=AdminRoute, include_in_schema=False)


@router.get("/booths")
async def list_booths(
    request: Request,
    principal: Annotated[Principal, admin_requires(permissions.SLOTS_READ)],
    session: SessionDep,
    silent: Annotated[Literal[5, 15, 30, 60], Query(description="minutes without a shot")] = 15,
) -> Response:
    config: AppConfig = request.app.state.config
    now = utcnow()
    booths = await problems_service.booths(
        session, now=now, since=now - BOOTHS_WINDOW, silent_after=timedelta(minutes=silent)
    )
    names = {s.id: s.display_name for s in await slots_service.list_slots(session, config, now=now)}
    return render(
        request,
        "booths.html",
        booths=booths,
        names=names,
        now=now,
        silent=silent,
        silent_choices=SILENT_CHOICES,
    )
