"""Admin media API: `POST /api/media/cleanup` runs a cleanup now, `GET /api/media/usage` reports disk usage."""

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query

from photochanger.auth import permissions
from photochanger.auth.dependencies import Principal, requires
from photochanger.auth.exceptions import NotAuthenticated, PermissionDenied
from photochanger.cleanup import service as cleanup_service
from photochanger.core import disk
from photochanger.core.errors import problem_responses
from photochanger.core.time import utcnow
from photochanger.deps import ConfigDep, EngineDep, MediaStoreDep
from photochanger.media.schemas import CleanupRead, DiskUsageRead, SlotUsageRead, TreeUsageRead

router = APIRouter(prefix="/api/media", tags=["media"])


@router.post(
    "/cleanup",
    response_model=CleanupRead,
    responses=problem_responses(NotAuthenticated, PermissionDenied, cleanup_service.CleanupBusy),
)
async def run_cleanup(
    config: ConfigDep,
    engine: EngineDep,
    _principal: Annotated[Principal, requires(permissions.MEDIA_WRITE)],
    dry_run: Annotated[bool, Query(description="report what would be done, change nothing")] = False,
) -> CleanupRead:
    report = await cleanup_service.run_cleanup(engine, config, now=utcnow(), dry_run=dry_run)
    return CleanupRead.model_validate(asdict(report))


@router.get(
    "/usage",
    response_model=DiskUsageRead,
    responses=problem_responses(NotAuthenticated, PermissionDenied),
)
async def get_usage(
    config: ConfigDep,
    store: MediaStoreDep,
    _principal: Annotated[Principal, requires(permissions.MEDIA_READ)],
) -> DiskUsageRead:
    usage = await disk.disk_usage(config.media_root, store)
    return DiskUsageRead(
        slots={
            slot_id: SlotUsageRead(
                results=TreeUsageRead(**asdict(slot.results)),
                previews=TreeUsageRead(**asdict(slot.previews)),
                bytes=slot.bytes,
            )
            for slot_id, slot in usage.slots.items()
        },
        templates=TreeUsageRead(**asdict(usage.templates)),
        temp=TreeUsageRead(**asdict(usage.temp)),
        media_bytes=usage.media_bytes,
        filesystem_total_bytes=usage.filesystem_total_bytes,
        filesystem_free_bytes=usage.filesystem_free_bytes,
        min_free_bytes=config.min_free_disk_mb * disk.MIB,
    )
