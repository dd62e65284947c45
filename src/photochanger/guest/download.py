"""`GET /public/results/{job_id}`: the result as an attachment, 410 once expired, 404 when unknown. The rest
of the `/public/results/*` family (page, preview, views, QR) is in `guest.router`."""

import anyio
from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from photochanger.core.errors import problem_responses
from photochanger.core.images import EXTENSION_BY_MIME
from photochanger.deps import ConfigDep, MediaLayoutDep, ResultCacheDep, SessionmakerDep
from photochanger.eventpage.engagement import count_download
from photochanger.public import service as public_service
from photochanger.public.service import ResultExpired, ResultNotFound

router = APIRouter(tags=["public"])


@router.get(
    "/public/results/{job_id}",
    summary="Download a result",
    response_class=Response,
    responses={
        200: {"description": "The image", "content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}},
        **problem_responses(ResultNotFound, ResultExpired),
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
    await count_download(sessionmaker, ref.event_id)
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
