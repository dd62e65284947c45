"""`GET /api/audit`: the audit trail, newest first, paged."""

from typing import Annotated

from fastapi import APIRouter, Query

from photochanger.audit import service
from photochanger.audit.schemas import AuditEntryRead, AuditPageRead
from photochanger.auth import permissions
from photochanger.auth.dependencies import Principal, requires
from photochanger.auth.exceptions import CsrfFailed, InvalidToken, NotAuthenticated, PermissionDenied
from photochanger.core.db import SessionDep
from photochanger.core.errors import problem_responses

router = APIRouter(prefix="/api/audit", tags=["audit"])


@router.get(
    "",
    response_model=AuditPageRead,
    responses=problem_responses(NotAuthenticated, InvalidToken, PermissionDenied, CsrfFailed),
)
async def list_audit_entries(
    _principal: Annotated[Principal, requires(permissions.AUDIT_READ)],
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    action: Annotated[str | None, Query(max_length=64)] = None,
    target: Annotated[str | None, Query(max_length=120)] = None,
) -> AuditPageRead:
    rows, total = await service.page(session, limit=limit, offset=offset, action=action, target=target)
    return AuditPageRead(
        items=[AuditEntryRead.model_validate(row) for row in rows], total=total, limit=limit, offset=offset
    )
