"""`/api/template-media`: upload, list, view and delete template media (never publicly reachable)."""

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from starlette.background import BackgroundTask

from photochanger.auth import permissions
from photochanger.auth.dependencies import Principal, requires
from photochanger.core.db import SessionDep
from photochanger.core.disk import InsufficientStorage
from photochanger.core.errors import problem_responses
from photochanger.core.forms import IMAGE_FILE, openapi_form
from photochanger.core.storage import unlink_quietly
from photochanger.core.uploads import InvalidRequest, PayloadTooLarge
from photochanger.deps import AUTH_ERRORS, ConfigDep, IngestDep, MediaLayoutDep, ProvidersDep
from photochanger.media import service
from photochanger.media.exceptions import (
    InvalidTemplateImage,
    TemplateMediaInUse,
    TemplateMediaNotFound,
    UnsupportedTemplateType,
)
from photochanger.media.schemas import MediaCreated, MediaRead

router = APIRouter(prefix="/api/template-media", tags=["template media"])

_PRIVATE = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}

_UPLOAD_FORM = openapi_form(
    {"file": IMAGE_FILE, "name": {"type": "string", "maxLength": 200}}, required=["file"]
)


@router.post(
    "",
    status_code=201,
    response_model=MediaCreated,
    summary="Upload a template image",
    openapi_extra=_UPLOAD_FORM,
    responses=problem_responses(
        *AUTH_ERRORS,
        InvalidRequest,
        PayloadTooLarge,
        UnsupportedTemplateType,
        InvalidTemplateImage,
        InsufficientStorage,
    ),
)
async def create_template_media(
    request: Request,
    config: ConfigDep,
    layout: MediaLayoutDep,
    ingest: IngestDep,
    principal: Annotated[Principal, requires(permissions.MEDIA_WRITE)],
    session: SessionDep,
) -> MediaCreated:
    length = request.headers.get("content-length")
    media = await service.upload(
        session,
        layout=layout,
        body=request.stream(),
        content_type=request.headers.get("content-type"),
        content_length=int(length) if length and length.isdigit() else None,
        owner=ingest.owner,
        max_pixels=config.max_image_pixels,
        min_free_mb=config.min_free_disk_mb,
        actor=principal,
    )
    return MediaCreated(
        id=media.id,
        name=media.name,
        content_type=media.content_type,
        size=media.size,
        width=media.width,
        height=media.height,
        has_alpha=media.has_alpha,
    )


@router.get("", response_model=list[MediaRead], responses=problem_responses(*AUTH_ERRORS))
async def list_template_media(
    providers: ProvidersDep,
    _principal: Annotated[Principal, requires(permissions.MEDIA_READ)],
    session: SessionDep,
) -> list[MediaRead]:
    return await service.list_media(session, providers)


@router.get(
    "/{media_id}/content",
    response_class=Response,
    responses={
        200: {"description": "The file", "content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}},
        **problem_responses(*AUTH_ERRORS, TemplateMediaNotFound),
    },
)
async def get_template_media_content(
    media_id: str,
    layout: MediaLayoutDep,
    _principal: Annotated[Principal, requires(permissions.MEDIA_READ)],
    session: SessionDep,
) -> Response:
    stored = await service.content(session, layout, media_id)
    return FileResponse(stored.path, media_type=stored.content_type, headers=_PRIVATE)


@router.get(
    "/{media_id}/thumbnail",
    response_class=Response,
    responses={
        200: {"description": "Long side 320 px", "content": {"image/jpeg": {}, "image/png": {}}},
        **problem_responses(*AUTH_ERRORS, TemplateMediaNotFound),
    },
)
async def get_template_media_thumbnail(
    media_id: str,
    layout: MediaLayoutDep,
    _principal: Annotated[Principal, requires(permissions.MEDIA_READ)],
    session: SessionDep,
) -> Response:
    data, content_type = await service.thumbnail(session, layout, media_id)
    return Response(data, media_type=content_type, headers=_PRIVATE)


@router.delete(
    "/{media_id}",
    status_code=204,
    response_class=Response,
    responses=problem_responses(*AUTH_ERRORS, TemplateMediaNotFound, TemplateMediaInUse),
)
async def delete_template_media(
    media_id: str,
    providers: ProvidersDep,
    layout: MediaLayoutDep,
    principal: Annotated[Principal, requires(permissions.MEDIA_WRITE)],
    session: SessionDep,
) -> Response:
    path = await service.delete(session, providers, layout, media_id, actor=principal)
    # The file goes only after the response, i.e. after the row's deletion has been committed.
    return Response(status_code=204, background=BackgroundTask(unlink_quietly, path))
