"""`/api/events`: events, their photos (private gallery, hide, delete), the public gallery switch and its QR
code, disk usage, engagement, and the ZIP and CSV exports."""

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, Response, StreamingResponse
from starlette.background import BackgroundTask

from photochanger.auth import permissions
from photochanger.auth.dependencies import Principal, requires
from photochanger.core.db import SessionDep
from photochanger.core.errors import problem_responses
from photochanger.core.links import Links
from photochanger.core.storage import unlink_quietly
from photochanger.core.zipstream import ZIP_OPENAPI, zip_response
from photochanger.deps import AUTH_ERRORS, ConfigDep, MediaLayoutDep, ProvidersDep, SessionmakerDep
from photochanger.events import engagement, photos, service
from photochanger.events.exceptions import (
    EventNotFound,
    EventPhotoNotFound,
    EventValidationFailed,
    SlotInOpenEvent,
)
from photochanger.events.schemas import (
    EngagementRead,
    EventCreate,
    EventPhotoPage,
    EventRead,
    EventUpdate,
    EventUsageRead,
)
from photochanger.guest.service import qr_png, qr_svg
from photochanger.slots.exceptions import SlotNotFound, SlotValidationFailed, SlotVersionConflict

router = APIRouter(prefix="/api/events", tags=["events"])

_PRIVATE = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}
ReadDep = Annotated[Principal, requires(permissions.EVENTS_READ)]
WriteDep = Annotated[Principal, requires(permissions.EVENTS_WRITE)]


def _unlink_after(paths: list[Path]) -> BackgroundTask:
    return BackgroundTask(unlink_quietly, *paths)


@router.get("", response_model=list[EventRead], responses=problem_responses(*AUTH_ERRORS))
async def list_events(config: ConfigDep, _principal: ReadDep, session: SessionDep) -> list[EventRead]:
    return await service.list_events(session, config)


@router.post(
    "",
    status_code=201,
    response_model=EventRead,
    responses=problem_responses(
        *AUTH_ERRORS,
        EventNotFound,
        EventValidationFailed,
        SlotInOpenEvent,
        SlotNotFound,
        SlotValidationFailed,
        SlotVersionConflict,
    ),
)
async def create_event(
    body: EventCreate, config: ConfigDep, providers: ProvidersDep, principal: WriteDep, session: SessionDep
) -> EventRead:
    return await service.create_event(session, config, providers, body, actor=principal)


@router.get("/{event_id}", response_model=EventRead, responses=problem_responses(*AUTH_ERRORS, EventNotFound))
async def get_event(event_id: str, config: ConfigDep, _principal: ReadDep, session: SessionDep) -> EventRead:
    return await service.read_event(session, config, event_id)


@router.patch(
    "/{event_id}",
    response_model=EventRead,
    responses=problem_responses(*AUTH_ERRORS, EventNotFound, EventValidationFailed, SlotInOpenEvent),
)
async def update_event(
    event_id: str, body: EventUpdate, config: ConfigDep, principal: WriteDep, session: SessionDep
) -> EventRead:
    return await service.update_event(session, config, event_id, body, actor=principal)


@router.post(
    "/{event_id}/close", response_model=EventRead, responses=problem_responses(*AUTH_ERRORS, EventNotFound)
)
async def close_event(
    event_id: str, config: ConfigDep, principal: WriteDep, session: SessionDep
) -> EventRead:
    return await service.close_event(session, config, event_id, actor=principal)


@router.post(
    "/{event_id}/reopen",
    response_model=EventRead,
    responses=problem_responses(*AUTH_ERRORS, EventNotFound, SlotInOpenEvent),
)
async def reopen_event(
    event_id: str, config: ConfigDep, principal: WriteDep, session: SessionDep
) -> EventRead:
    return await service.reopen_event(session, config, event_id, actor=principal)


@router.delete(
    "/{event_id}",
    status_code=204,
    response_class=Response,
    responses=problem_responses(*AUTH_ERRORS, EventNotFound),
)
async def delete_event(
    event_id: str, layout: MediaLayoutDep, principal: WriteDep, session: SessionDep
) -> Response:
    deleted = await service.delete_event(session, event_id, actor=principal)
    # Files go only after the response, i.e. after the deletion has been committed.
    return Response(
        status_code=204, background=_unlink_after([layout.resolve(p) for p in deleted.original_paths])
    )


@router.post(
    "/{event_id}/gallery/open",
    response_model=EventRead,
    responses=problem_responses(*AUTH_ERRORS, EventNotFound),
)
async def open_gallery(
    event_id: str, config: ConfigDep, principal: WriteDep, session: SessionDep
) -> EventRead:
    return await service.set_gallery(session, config, event_id, is_open=True, actor=principal)


@router.post(
    "/{event_id}/gallery/close",
    response_model=EventRead,
    responses=problem_responses(*AUTH_ERRORS, EventNotFound),
)
async def close_gallery(
    event_id: str, config: ConfigDep, principal: WriteDep, session: SessionDep
) -> EventRead:
    return await service.set_gallery(session, config, event_id, is_open=False, actor=principal)


@router.get(
    "/{event_id}/gallery/qr.{kind}",
    response_class=Response,
    summary="QR code of the public gallery link, to print on table cards",
    responses={
        200: {"content": {"image/svg+xml": {}, "image/png": {}}, "description": "The QR code"},
        **problem_responses(*AUTH_ERRORS, EventNotFound),
    },
)
async def get_gallery_qr(
    event_id: str, kind: str, config: ConfigDep, _principal: ReadDep, session: SessionDep
) -> Response:
    event = await service.get_event(session, event_id)
    if event.gallery_token is None or kind not in ("svg", "png"):
        raise EventNotFound("This event's gallery has never been opened, so it has no link yet.")
    url = config.absolute_url(Links.gallery(event.gallery_token))
    if kind == "svg":
        return Response(qr_svg(url), media_type="image/svg+xml", headers=_PRIVATE)
    return Response(qr_png(url), media_type="image/png", headers=_PRIVATE)


@router.get(
    "/{event_id}/photos",
    response_model=EventPhotoPage,
    responses=problem_responses(*AUTH_ERRORS, EventNotFound),
)
async def list_event_photos(
    event_id: str,
    _principal: ReadDep,
    session: SessionDep,
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=photos.MAX_PER_PAGE)] = 48,
) -> EventPhotoPage:
    event = await service.get_event(session, event_id)
    base = f"/api/events/{event.id}/photos"
    return await photos.photo_page(session, event, public=False, base=base, page=page, per_page=per_page)


@router.get(
    "/{event_id}/photos/{job_id}/{kind}",
    response_class=Response,
    responses={
        200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}, "description": "The file"},
        **problem_responses(*AUTH_ERRORS, EventNotFound, EventPhotoNotFound),
    },
)
async def get_event_photo_file(
    event_id: str, job_id: str, kind: str, layout: MediaLayoutDep, _principal: ReadDep, session: SessionDep
) -> Response:
    """`kind` is `preview`, `original` or `result`."""
    event = await service.get_event(session, event_id)
    found = await photos.photo_file(session, layout, event, job_id, kind=kind, public=False)
    return FileResponse(found.path, media_type=found.content_type, headers=_PRIVATE)


@router.post(
    "/{event_id}/photos/{job_id}/hide",
    status_code=204,
    response_class=Response,
    responses=problem_responses(*AUTH_ERRORS, EventNotFound, EventPhotoNotFound),
)
async def hide_event_photo(event_id: str, job_id: str, principal: WriteDep, session: SessionDep) -> Response:
    await photos.set_hidden(session, event_id, job_id, hidden=True, actor=principal)
    return Response(status_code=204)


@router.post(
    "/{event_id}/photos/{job_id}/show",
    status_code=204,
    response_class=Response,
    responses=problem_responses(*AUTH_ERRORS, EventNotFound, EventPhotoNotFound),
)
async def show_event_photo(event_id: str, job_id: str, principal: WriteDep, session: SessionDep) -> Response:
    await photos.set_hidden(session, event_id, job_id, hidden=False, actor=principal)
    return Response(status_code=204)


@router.delete(
    "/{event_id}/photos/{job_id}",
    status_code=204,
    response_class=Response,
    responses=problem_responses(*AUTH_ERRORS, EventNotFound, EventPhotoNotFound),
)
async def delete_event_photo(
    event_id: str, job_id: str, layout: MediaLayoutDep, principal: WriteDep, session: SessionDep
) -> Response:
    paths = await photos.delete_photo(session, layout, event_id, job_id, actor=principal)
    return Response(status_code=204, background=_unlink_after(paths))


@router.get(
    "/{event_id}/usage",
    response_model=EventUsageRead,
    responses=problem_responses(*AUTH_ERRORS, EventNotFound),
)
async def get_event_usage(
    event_id: str, layout: MediaLayoutDep, _principal: ReadDep, session: SessionDep
) -> EventUsageRead:
    return await photos.usage(session, layout, event_id)


@router.get(
    "/{event_id}/engagement",
    response_model=EngagementRead,
    responses=problem_responses(*AUTH_ERRORS, EventNotFound),
)
async def get_event_engagement(event_id: str, _principal: ReadDep, session: SessionDep) -> EngagementRead:
    return await engagement.report(session, event_id)


@router.get(
    "/{event_id}/export.zip",
    response_class=StreamingResponse,
    summary="Every photo the event keeps as one ZIP, streamed",
    responses={
        200: ZIP_OPENAPI,
        **problem_responses(*AUTH_ERRORS, EventNotFound),
    },
)
async def export_event_zip(
    event_id: str,
    layout: MediaLayoutDep,
    _principal: ReadDep,
    session: SessionDep,
    originals: Annotated[bool, Query(description="also the original shots the event kept")] = False,
) -> StreamingResponse:
    entries = await photos.export_entries(session, layout, event_id, originals=originals)
    return zip_response(entries, f"event-{event_id}.zip", headers=_PRIVATE)


@router.get(
    "/{event_id}/jobs.csv",
    response_class=StreamingResponse,
    summary="The event's jobs as CSV, streamed",
    responses={
        200: {"description": "One row per job", "content": {"text/csv": {}}},
        **problem_responses(*AUTH_ERRORS, EventNotFound),
    },
)
async def export_event_csv(
    event_id: str, request: Request, sessionmaker: SessionmakerDep, _principal: ReadDep, session: SessionDep
) -> StreamingResponse:
    event = await service.get_event(session, event_id)

    async def lines() -> AsyncIterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(photos.CSV_HEADER)
        # A session of its own: the request's unit of work ends before the body is streamed.
        async with sessionmaker() as own:
            async for row in photos.stream_jobs(own, event.id):
                writer.writerow(photos.csv_row(row))
                if buffer.tell() > 64 * 1024:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
        yield buffer.getvalue()

    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="event-{event.id}-jobs.csv"', **_PRIVATE},
    )
