"""`GET /public/results/{job_id}`: the result as an attachment, 410 once expired, 404 when unknown. The rest
of the `/public/results/*` family (page, preview, views, QR) is in `guest.router`."""

import logging

import anyio
from fastapi import APIRouter
from fastapi.responses import FileResponse, Response
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.core.errors import problem_responses
from photochanger.core.images import EXTENSION_BY_MIME
from photochanger.deps import ConfigDep, MediaLayoutDep, ResultCacheDep, SessionmakerDep
from photochanger.events import engagement as event_engagement
from photochanger.public import service as public_service
from photochanger.public.service import (
    ResultCache,
    ResultExpired,
    ResultHidden,
    ResultNotFound,
)
from photochanger.stats import engagement as guest_counts

logger = logging.getLogger(__name__)
router = APIRouter(tags=["public"])


async def _admit(
    sessionmaker: async_sessionmaker[AsyncSession], cache: ResultCache, ref: public_service.ResultRef
) -> None:
    """One short transaction per download: refuse a result an admin hid since it was cached (in any
    worker), and count the download for its slot (and its event). The counting is best effort: a guest's
    download never fails because the database is busy."""
    try:
        async with sessionmaker() as session:
            await public_service.ensure_shown(session, cache, ref.job_id)
            if ref.slot_id is not None:
                await guest_counts.count(session, ref.slot_id, guest_counts.GuestMetric.download)
            if ref.event_id is not None:
                await event_engagement.count(session, ref.event_id, event_engagement.Metric.download)
            await session.commit()
    except sa_exc.SQLAlchemyError as exc:
        logger.warning("download not counted: %s", type(exc).__name__, extra={"job_id": ref.job_id})


@router.get(
    "/public/results/{job_id}",
    summary="Download a result",
    response_class=Response,
    responses={
        200: {"description": "The image", "content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}},
        **problem_responses(ResultNotFound, ResultExpired, ResultHidden),
    },
)
async def get_result(
    job_id: str,
    config: ConfigDep,
    sessionmaker: SessionmakerDep,
    layout: MediaLayoutDep,
    cache: ResultCacheDep,
) -> Response:
    ref = await public_service.find_result(sessionmaker, cache, job_id)
    await _admit(sessionmaker, cache, ref)
    filename = f"photo-{ref.job_id[:8]}.{EXTENSION_BY_MIME.get(ref.content_type, 'bin')}"
    headers = {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, max-age=300",
    }
    if config.accel_redirect_prefix:
        # nginx sends the file from its internal location; the app only decided that it may.
        headers["X-Accel-Redirect"] = f"{config.accel_redirect_prefix.rstrip('/')}/{ref.relpath}"
        return Response(status_code=200, media_type=ref.content_type, headers=headers)
    path = layout.resolve(ref.relpath)
    try:
        stat = await anyio.to_thread.run_sync(path.stat)
    except FileNotFoundError:
        raise ResultExpired("This photo is no longer available.") from None
    return FileResponse(path, media_type=ref.content_type, headers=headers, stat_result=stat)
