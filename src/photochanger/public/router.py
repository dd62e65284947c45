"""`GET /public/provider-media/{name}`: a job input published for a provider that fetches images by URL."""

import anyio
from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from photochanger.deps import MediaLayoutDep
from photochanger.public import provider_media

router = APIRouter(tags=["public"])


@router.get(
    "/public/provider-media/{name}",
    summary="A job input published for a provider that fetches images by URL",
    response_class=Response,
    include_in_schema=False,
)
async def get_provider_media(name: str, layout: MediaLayoutDep) -> Response:
    token, _, ext = name.partition(".")
    item = await anyio.to_thread.run_sync(lambda: provider_media.find(layout, token, ext=ext or None))
    return FileResponse(
        item.path,
        media_type=item.content_type,
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "X-Robots-Tag": "noindex"},
    )
