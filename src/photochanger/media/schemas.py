"""Response bodies of the media API: template media, a cleanup report and disk usage."""

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


class MediaRead(MediaCreated):
    model_config = ConfigDict(from_attributes=True)

    created_at: datetime
    created_by: str | None
    used_by: list[str]


class CleanupRead(BaseModel):
    now: datetime
    dry_run: bool
    expired_jobs: int
    jobs_marked_cleaned: int
    results_deleted: int
    previews_deleted: int
    originals_deleted: int
    files_already_gone: int
    bytes_freed: int
    temp_files_deleted: int
    orphan_files: list[str]
    missing_files: list[str]
    errors: list[str]
    seconds: float


class TreeUsageRead(BaseModel):
    files: int
    bytes: int


class SlotUsageRead(BaseModel):
    results: TreeUsageRead
    previews: TreeUsageRead
    bytes: int


class DiskUsageRead(BaseModel):
    slots: dict[str, SlotUsageRead]
    templates: TreeUsageRead
    temp: TreeUsageRead
    media_bytes: int
    filesystem_total_bytes: int
    filesystem_free_bytes: int
    min_free_bytes: int
