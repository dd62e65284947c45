"""API shapes of template media."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class MediaCreated(BaseModel):
    id: str
    name: str
    content_type: str
    size: int
    width: int
    height: int
    has_alpha: bool


class MediaRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    content_type: str
    size: int
    width: int
    height: int
    has_alpha: bool
    created_at: datetime
    created_by: str | None
    used_by: list[str]
