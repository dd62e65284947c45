"""Audit entries as the API shows them."""

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class AuditEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime
    actor_id: uuid.UUID | None
    actor: str
    action: str
    target: str
    changes: dict[str, Any]


class AuditPageRead(BaseModel):
    items: list[AuditEntryRead]
    total: int
    limit: int
    offset: int
