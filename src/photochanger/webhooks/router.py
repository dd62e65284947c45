"""`GET /api/slots/{slot_id}/webhook-deliveries`: every delivery attempt, newest first, for admins."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from photochanger.auth.dependencies import Principal, requires
from photochanger.auth.permissions import SLOTS_READ
from photochanger.core.db import SessionDep
from photochanger.webhooks import service

router = APIRouter(tags=["webhooks"])


class WebhookDeliveryRead(BaseModel):
    id: int
    job_id: str
    url: str
    event: str
    attempt: int
    status_code: int | None
    error: str | None
    duration_ms: int | None
    created_at: datetime


@router.get("/api/slots/{slot_id}/webhook-deliveries", response_model=list[WebhookDeliveryRead])
async def list_webhook_deliveries(
    slot_id: str,
    session: SessionDep,
    _principal: Annotated[Principal, requires(SLOTS_READ)],
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[WebhookDeliveryRead]:
    rows = await service.list_deliveries(session, slot_id, limit=limit)
    return [
        WebhookDeliveryRead(
            id=row.id,
            job_id=row.job_id,
            url=row.url,
            event=row.event,
            attempt=row.attempt,
            status_code=row.status_code,
            error=row.error,
            duration_ms=row.duration_ms,
            created_at=row.created_at,
        )
        for row in rows
    ]
