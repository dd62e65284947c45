"""`/admin/slots/{id}/problems` (mounted under `/admin` by `admin.router`): a slot's recent failed jobs and refused booth uploads, with reasons."""

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
from photochanger.problems import service as problems_service
from photochanger.slots import service as slots_service

PROBLEMS_LISTED = 50

router: APIRouter = APIRouter(route_class=AdminRoute, include_in_schema=False)


@router.get("/slots/{slot_id}/problems")
async def slot_problems(
    slot_id: str,
    request: Request,
    principal: Annotated[Principal, admin_requires(permissions.SLOTS_READ)],
    session: SessionDep,
) -> Response:
    config: AppConfig = request.app.state.config
    slot = await slots_service.get_slot(session, config, slot_id, limit=1)
    problems = await problems_service.recent_problems(session, slot.id, limit=PROBLEMS_LISTED)
    return render(request, "problems.html", slot=slot, problems=problems, limit=PROBLEMS_LISTED)
