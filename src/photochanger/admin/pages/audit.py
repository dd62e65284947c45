"""The audit log (`/admin/audit`): who changed what, as sentences with names, filterable by action and
target."""

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from photochanger.admin import audit_text
from photochanger.admin.deps import admin_requires
from photochanger.admin.rendering import render, translator
from photochanger.admin.routing import AdminRoute
from photochanger.audit import service as audit_service
from photochanger.auth import permissions
from photochanger.auth.dependencies import Principal
from photochanger.core.db import SessionDep
from photochanger.deps import ConfigDep, ProvidersDep
from photochanger.media import service as media_service
from photochanger.slots import service as slots_service
from photochanger.users import service as users_service

AUDIT_PAGE = 50

router: APIRouter = APIRouter(route_class=AdminRoute, include_in_schema=False)


@router.get("/audit")
async def audit_page(
    request: Request,
    principal: Annotated[Principal, admin_requires(permissions.AUDIT_READ)],
    session: SessionDep,
    config: ConfigDep,
    providers: ProvidersDep,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    action: Annotated[str | None, Query(max_length=64)] = None,
    target: Annotated[str | None, Query(max_length=120)] = None,
) -> Response:
    rows, total = await audit_service.page(
        session, limit=AUDIT_PAGE, offset=offset, action=action or None, target=target or None
    )
    names = audit_text.Names(
        slots={s.id: s.display_name for s in await slots_service.list_slots(session, config)},
        users={str(u.id): u.username for u in await users_service.list_users(session)},
        media={m.id: m.name for m in await media_service.list_media(session, providers)},
    )
    query = "&".join(f"{k}={quote(v)}" for k, v in (("action", action), ("target", target)) if v)
    return render(
        request,
        "audit.html",
        entries=audit_text.entries(rows, names, translator(request)),
        total=total,
        offset=offset,
        limit=AUDIT_PAGE,
        action=action or "",
        target=target or "",
        query=query,
    )
