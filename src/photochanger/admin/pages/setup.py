"""Setup guidance (mounted under `/admin` by `admin.router`): the dashboard checklist's live fragment and
each slot's booth setup card, naming DSLR Remote Pro's own settings."""

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import Response

from photochanger.admin.deps import admin_requires
from photochanger.admin.rendering import render
from photochanger.admin.routing import AdminRoute
from photochanger.auth import permissions
from photochanger.auth.dependencies import Principal
from photochanger.config import AppConfig
from photochanger.core.db import SessionDep
from photochanger.onboarding import service as onboarding
from photochanger.settings import service as settings_service
from photochanger.slots import service as slots_service

router: APIRouter = APIRouter(route_class=AdminRoute, include_in_schema=False)


@router.get("/setup/checklist")
async def setup_checklist(
    request: Request,
    principal: Annotated[Principal, admin_requires(permissions.SLOTS_READ)],
    session: SessionDep,
) -> Response:
    """The checklist alone, which the dashboard re-fetches every few seconds until every step is done."""
    return render(request, "_checklist.html", setup=await onboarding.progress(session))


@router.get("/slots/{slot_id}/booth")
async def booth_setup(
    slot_id: str,
    request: Request,
    principal: Annotated[Principal, admin_requires(permissions.SLOTS_READ)],
    session: SessionDep,
) -> Response:
    config: AppConfig = request.app.state.config
    slot = await slots_service.get_slot(session, config, slot_id, limit=1)
    runtime = await settings_service.load(session)
    return render(
        request,
        "booth_setup.html",
        slot=slot,
        ingest_url=slots_service.ingest_url(config, slot.id),
        deadline=runtime.t_sync_response_seconds,
        timeout=onboarding.booth_timeout_seconds(runtime.t_sync_response_seconds),
        password_set=(await settings_service.ingest_password_state(session)).is_set,
    )
