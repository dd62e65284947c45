"""Public side of events: the branded guest page of an event photo, the event gallery `/e/{token}` (only
while the operator has it open; phone-first, paged, hidden photos left out), its photos, the event logo, and
the share counter. Engagement is counted here, server-side."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.core.db import SessionDep
from photochanger.core.errors import problem_responses
from photochanger.core.storage import MediaLayout
from photochanger.deps import MediaLayoutDep
from photochanger.eventpage import engagement
from photochanger.eventpage.branding import brand_context, event_of_job
from photochanger.eventpage.engagement import Metric
from photochanger.events import lookup, photos
from photochanger.events.exceptions import EventNotFound, EventPhotoNotFound
from photochanger.guest.gallery import ClientRateLimiter
from photochanger.guest.router import render_page
from photochanger.media import service as media_service
from photochanger.models.job import JOB_ID_PATTERN
from photochanger.public.service import ResultNotFound

router = APIRouter(tags=["guest"])
GALLERY_PER_PAGE = 24
_limiter = ClientRateLimiter()


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get(
    "/e/{token}",
    response_class=HTMLResponse,
    responses={
        404: {"description": "Closed or unknown gallery (HTML page)", "content": {"text/html": {}}},
        429: {"description": "Too many views from this client", "content": {"text/html": {}}},
    },
)
async def show_event_gallery(
    token: str, request: Request, session: SessionDep, page: Annotated[int, Query(ge=1, le=10_000)] = 1
) -> HTMLResponse:
    if not _limiter.allow(_client(request)):
        return render_page(request, "not_found.html", 429, brand=None)
    event = await lookup.open_gallery(session, token)
    if event is None:
        return render_page(request, "not_found.html", 404, brand=None)
    base = f"/e/{token}/photos"
    found = await photos.photo_page(
        session, event, public=True, base=base, page=page, per_page=GALLERY_PER_PAGE
    )
    pages = max(1, -(-found.total // GALLERY_PER_PAGE))
    return render_page(
        request,
        "event_gallery.html",
        200,
        photos=found.items,
        page=found.page,
        pages=pages,
        total=found.total,
        base_url=f"/e/{token}",
        **brand_context(event),
    )


_FILE_ERRORS = problem_responses(EventNotFound, EventPhotoNotFound)


async def _gallery_file(
    session: AsyncSession, layout: MediaLayout, token: str, job_id: str, kind: str
) -> photos.PhotoFile:
    event = await lookup.open_gallery(session, token)
    if event is None:
        raise EventNotFound("This gallery is closed or does not exist.")
    found = await photos.photo_file(session, layout, event, job_id, kind=kind, public=True)
    if kind == "result":
        await engagement.count(session, event.id, Metric.download)
    return found


@router.get(
    "/e/{token}/photos/{job_id}/preview",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}, "description": "The preview"}, **_FILE_ERRORS},
)
async def get_gallery_preview(
    token: str, job_id: str, layout: MediaLayoutDep, session: SessionDep
) -> Response:
    found = await _gallery_file(session, layout, token, job_id, "preview")
    return FileResponse(
        found.path, media_type=found.content_type, headers={"Cache-Control": "private, max-age=300"}
    )


@router.get(
    "/e/{token}/photos/{job_id}",
    response_class=Response,
    responses={
        200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}, "description": "The photo"},
        **_FILE_ERRORS,
    },
)
async def get_gallery_photo(token: str, job_id: str, layout: MediaLayoutDep, session: SessionDep) -> Response:
    found = await _gallery_file(session, layout, token, job_id, "result")
    return FileResponse(
        found.path,
        media_type=found.content_type,
        headers={
            "Cache-Control": "private, no-store",
            "Content-Disposition": f'attachment; filename="{found.filename}"',
        },
    )


@router.get(
    "/public/events/{event_id}/logo",
    response_class=Response,
    responses={
        200: {"content": {"image/png": {}, "image/jpeg": {}, "image/webp": {}}, "description": "The logo"},
        **problem_responses(EventNotFound),
    },
)
async def get_event_logo(event_id: str, layout: MediaLayoutDep, session: SessionDep) -> Response:
    event = await lookup.event_by_id(session, event_id)
    if event is None or event.logo_media_id is None:
        raise EventNotFound("This event has no logo.")
    stored = await media_service.content(session, layout, event.logo_media_id)
    return FileResponse(
        stored.path,
        media_type=stored.content_type,
        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
    )


@router.post(
    "/public/results/{job_id}/share",
    status_code=204,
    response_class=Response,
    responses=problem_responses(ResultNotFound),
)
async def count_share(job_id: str, request: Request, session: SessionDep) -> Response:
    """A guest shared an event photo (the page's share button reports it); counted per hour, nothing stored
    about the guest."""
    if not _limiter.allow(_client(request)):
        return Response(status_code=204)
    event = await event_of_job(session, job_id) if JOB_ID_PATTERN.match(job_id) else None
    if event is None:
        raise ResultNotFound("No event photo has this id.")
    await engagement.count(session, event.id, Metric.share)
    return Response(status_code=204)
