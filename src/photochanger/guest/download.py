"""`GET /public/results/{job_id}`: the result as an attachment, 410 once expired, 404 when unknown. The rest
of the `/public/results/*` family (page, preview, views, QR) is in `guest.router`.

With the bucket backend the answer is a 307 to a short-lived presigned GET of the object (the bucket sends
the bytes, with the same attachment name and type); with `PHOTOCHANGER_S3_PRESIGN_TTL_SECONDS=0` the app
streams it instead."""

import anyio
from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from photochanger.core.errors import problem_responses
from photochanger.core.images import EXTENSION_BY_MIME
from photochanger.core.media_responses import stored_response
from photochanger.deps import ConfigDep, GuestCountsDep, MediaStoreDep, ResultCacheDep, SessionmakerDep
from photochanger.eventpage.engagement import count_download
from photochanger.public import service as public_service
from photochanger.public.service import (
    ResultExpired,
    ResultHidden,
    ResultNotFound,
)
from photochanger.stats.engagement import GuestCounts, GuestMetric

router = APIRouter(tags=["public"])


def _gone() -> ResultExpired:
    return ResultExpired("This photo is no longer available.")


def _count(counts: GuestCounts, ref: public_service.ResultRef) -> None:
    """Count the download for its slot, in memory (written every few seconds, see `stats.engagement`)."""
    if ref.slot_id is not None:
        counts.add(ref.slot_id, GuestMetric.download)


@router.get(
    "/public/results/{job_id}",
    summary="Download a result",
    response_class=Response,
    responses={
        200: {"description": "The image", "content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}},
        307: {"description": "The image, from a short-lived presigned URL of the media bucket"},
        **problem_responses(ResultNotFound, ResultExpired, ResultHidden),
    },
)
async def get_result(
    job_id: str,
    counts: GuestCountsDep,
    config: ConfigDep,
    sessionmaker: SessionmakerDep,
    store: MediaStoreDep,
    cache: ResultCacheDep,
) -> Response:
    ref = await public_service.find_result(sessionmaker, cache, job_id)
    _count(counts, ref)
    await count_download(sessionmaker, ref.event_id)
    filename = f"photo-{ref.job_id[:8]}.{EXTENSION_BY_MIME.get(ref.content_type, 'bin')}"
    headers = {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, max-age=300",
    }
    if config.accel_redirect_prefix and store.local_path(ref.relpath) is not None:
        # nginx sends the file from its internal location; the app only decided that it may.
        headers["X-Accel-Redirect"] = f"{config.accel_redirect_prefix.rstrip('/')}/{ref.relpath}"
        return Response(status_code=200, media_type=ref.content_type, headers=headers)
    url = store.download_url(ref.relpath, filename=filename, content_type=ref.content_type)
    if url is not None:
        # Cleanup may have removed the object since the row was cached: answer 410 here, not a bucket 404.
        if await anyio.to_thread.run_sync(store.stat, ref.relpath) is None:
            raise _gone()
        # The URL expires: neither the browser nor a proxy may keep the redirect.
        return RedirectResponse(url, status_code=307, headers={"Cache-Control": "no-store"})
    return await stored_response(
        store, ref.relpath, media_type=ref.content_type, headers=headers, missing=_gone
    )
