"""`POST /admin/bulk/slots` (mounted under `/admin` by `admin.router`): enable, disable or copy one slot's
settings to the slots ticked on the dashboard; all or nothing, then back to the dashboard."""

from typing import Annotated, Literal

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field, ValidationError

from photochanger.admin.deps import admin_requires, csrf_form
from photochanger.admin.routing import AdminRoute
from photochanger.auth import permissions
from photochanger.auth.dependencies import Principal
from photochanger.config import AppConfig
from photochanger.core.db import SessionDep
from photochanger.core.errors import PhotoChangerError, ValidationFailed
from photochanger.providers.registry import ProviderRegistry
from photochanger.slots import bulk

router: APIRouter = APIRouter(route_class=AdminRoute, include_in_schema=False)


class BulkForm(BaseModel):
    action: Literal["enable", "disable", "copy"]
    slots: list[str] = Field(min_length=1, max_length=100)
    source: str | None = Field(default=None, max_length=64)


@router.post("/bulk/slots")
async def bulk_change(
    request: Request,
    principal: Annotated[Principal, admin_requires(permissions.SLOTS_WRITE)],
    session: SessionDep,
) -> Response:
    form = await csrf_form(request)
    try:
        body = BulkForm(
            action=form.get("action"),
            slots=[str(v) for v in form.getlist("slot")],
            source=(str(form.get("source") or "") or None),
        )
    except ValidationError:
        raise ValidationFailed("Tick at least one slot and choose what to do.") from None
    config: AppConfig = request.app.state.config
    registry: ProviderRegistry = request.app.state.providers
    if body.action == "copy" and body.source is None:
        raise ValidationFailed("Choose the slot to copy the settings from.")
    try:
        if body.action == "copy" and body.source is not None:
            changed = await bulk.copy_settings(
                session, config, registry, body.source, body.slots, actor=principal
            )
        else:
            changed = await bulk.set_active(
                session, config, registry, body.slots, body.action == "enable", actor=principal
            )
    except PhotoChangerError:
        # The admin error page is a normal response: without this the slots changed so far would commit.
        await session.rollback()
        raise
    return RedirectResponse(f"/admin?done={body.action}&count={len(changed)}", status_code=303)
