"""Request and response bodies of `/api/events`."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from photochanger.eventpage.branding import Branding

MAX_RETENTION_DAYS = 3650


class EventSlotIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slot_id: Annotated[str, Field(min_length=1, max_length=16)]
    # Keep each original shot with the event (exported with `originals=true`), not only the result.
    keep_originals: bool = False


class _Dates(BaseModel):
    @model_validator(mode="after")
    def _ends_after_start(self) -> "_Dates":
        starts, ends = getattr(self, "starts_at", None), getattr(self, "ends_at", None)
        if starts is not None and ends is not None and ends < starts:
            raise ValueError("ends_at is before starts_at")
        return self


class EventCreate(_Dates):
    """`POST /api/events`. With `from_event_id`, whatever is left out is taken from that event (its slots,
    branding and retention), and `apply_slot_configs` writes its saved slot configurations back to the
    slots (providers, operations, parameters and templates)."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=120)]
    starts_at: datetime
    ends_at: datetime
    retention_days: Annotated[int | None, Field(ge=1, le=MAX_RETENTION_DAYS)] = None
    slots: list[EventSlotIn] | None = None
    branding: Branding | None = None
    from_event_id: Annotated[str | None, Field(max_length=32)] = None
    apply_slot_configs: bool = False


class EventUpdate(_Dates):
    """`PATCH /api/events/{id}`: only the fields given change."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str | None, Field(min_length=1, max_length=120)] = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    retention_days: Annotated[int | None, Field(ge=1, le=MAX_RETENTION_DAYS)] = None
    slots: list[EventSlotIn] | None = None
    branding: Branding | None = None


class EventSlotRead(BaseModel):
    slot_id: str
    keep_originals: bool


class EventRead(BaseModel):
    id: str
    name: str
    starts_at: datetime
    ends_at: datetime
    retention_days: int
    retain_until: datetime
    status: str
    closed_at: datetime | None
    branding: Branding
    slots: list[EventSlotRead]
    gallery_open: bool
    gallery_url: str | None
    source_event_id: str | None
    slot_configs: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    created_by: str | None


class EventPhotoRead(BaseModel):
    job_id: str
    slot_id: str
    created_at: datetime
    guest_available: bool
    hidden: bool
    has_original: bool
    preview_url: str
    download_url: str


class EventPhotoPage(BaseModel):
    items: list[EventPhotoRead]
    total: int
    page: int
    per_page: int


class TreeUsageRead(BaseModel):
    files: int
    bytes: int


class EventUsageRead(BaseModel):
    results: TreeUsageRead
    previews: TreeUsageRead
    originals: TreeUsageRead
    bytes: int
    photos: int
    guest_links_live: int


class EngagementCounts(BaseModel):
    shots: int = 0
    processed: int = 0
    failed: int = 0
    page_opens: int = 0
    downloads: int = 0
    shares: int = 0


class EngagementHourRead(EngagementCounts):
    hour: datetime


class EngagementRead(BaseModel):
    totals: EngagementCounts
    hours: list[EngagementHourRead]
