"""Upload, list, serve and delete template media; `load_templates` hands them to the ingest pipeline."""

import os
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.audit import service as audit_service
from photochanger.audit.service import AuditActor
from photochanger.core import images
from photochanger.core.disk import ensure_room
from photochanger.core.multipart import ParsedUpload, read_upload
from photochanger.core.storage import MediaLayout, unlink_quietly
from photochanger.core.uploads import PayloadTooLarge
from photochanger.media.exceptions import (
    InvalidTemplateImage,
    TemplateMediaInUse,
    TemplateMediaNotFound,
    UnsupportedTemplateType,
)
from photochanger.media.repository import MediaObjectRepository
from photochanger.media.schemas import MediaRead
from photochanger.models import MediaObject
from photochanger.providers.base import TemplateImage
from photochanger.providers.registry import ProviderRegistry, UnknownOperation, UnknownProvider
from photochanger.settings import service as settings_service

MIB = 1024 * 1024
MULTIPART_OVERHEAD_BYTES = 64 * 1024
THUMBNAIL_LONG_SIDE = 320
NAME_MAX_LENGTH = 200
FILE_FIELD = "file"


@dataclass(frozen=True)
class StoredFile:
    path: Path
    content_type: str


def template_ids_in(
    registry: ProviderRegistry, provider: str, operation: str, params: Mapping[str, Any]
) -> list[str]:
    """Template media ids named by raw slot `params` (unvalidated: a slot with broken params still counts
    as a user of what it names)."""
    try:
        op = registry.operation(provider, operation)
    except (UnknownProvider, UnknownOperation):
        return []
    ids: list[str] = []
    for name in op.template_fields:
        value = params.get(name)
        if isinstance(value, str) and value:
            ids.append(value)
        elif isinstance(value, list):
            ids.extend(v for v in value if isinstance(v, str) and v)
    return ids


async def usage(session: AsyncSession, registry: ProviderRegistry) -> dict[str, list[str]]:
    """Template media id -> the ids of the slots whose parameters refer to it."""
    used: dict[str, list[str]] = {}
    for slot in await MediaObjectRepository(session).slots():
        params = (slot.settings or {}).get("params") or {}
        if not isinstance(params, dict):
            continue
        for media_id in dict.fromkeys(template_ids_in(registry, slot.provider, slot.operation, params)):
            used.setdefault(media_id, []).append(slot.id)
    return used


async def existing_ids(session: AsyncSession, ids: Iterable[str]) -> set[str]:
    return {media.id for media in await MediaObjectRepository(session).get_many(ids)}


async def opaque_ids(session: AsyncSession, ids: Iterable[str]) -> set[str]:
    """Those of `ids` that exist and have no transparent pixel (unfit as frames)."""
    return {media.id for media in await MediaObjectRepository(session).get_many(ids) if not media.has_alpha}


def _clean_name(value: str | None) -> str:
    return " ".join((value or "").split())[:NAME_MAX_LENGTH]


def _promote(src: Path, dest: Path) -> None:
    """Make the fully written `src` appear at `dest` atomically (fsync, rename, fsync the directory)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(src, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    src.replace(dest)
    dir_fd = os.open(dest.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


async def upload(
    session: AsyncSession,
    *,
    layout: MediaLayout,
    body: AsyncIterator[bytes],
    content_type: str | None,
    content_length: int | None,
    owner: str,
    max_pixels: int,
    min_free_mb: int,
    actor: AuditActor,
) -> MediaObject:
    """Store a multipart upload (`file`, optional `name`) as template media, checked like a booth photo.

    The size cap is the runtime `upload_max_mb`; the file streams to a temp file and is renamed into
    `media/templates/` only once it passed every check. Raises `PayloadTooLarge`, `InvalidRequest`,
    `UnsupportedTemplateType`, `InvalidTemplateImage` or `InsufficientStorage`.
    """
    runtime = await settings_service.load(session)
    cap = runtime.upload_max_mb * MIB
    if content_length is not None and content_length > cap + MULTIPART_OVERHEAD_BYTES:
        raise PayloadTooLarge(f"The file is larger than {runtime.upload_max_mb} MiB.")
    await ensure_room(layout.root, min_free_mb, content_length or cap)
    media_id = str(uuid.uuid4())
    temp = layout.upload_path(owner, f"template-{media_id}")
    parsed = await read_upload(
        body, content_type=content_type, dest=temp, max_bytes=cap, file_field=FILE_FIELD
    )
    return await add(session, parsed, layout=layout, max_pixels=max_pixels, actor=actor, media_id=media_id)


async def add(
    session: AsyncSession,
    parsed: ParsedUpload,
    *,
    layout: MediaLayout,
    max_pixels: int,
    actor: AuditActor,
    media_id: str | None = None,
    min_free_mb: int | None = None,
) -> MediaObject:
    """Store an upload already read (its file is moved, or removed on failure) as template media, named by
    its `name` field or else its file name. With `min_free_mb`, first checks the disk has room for it."""
    media_id = media_id or str(uuid.uuid4())
    if min_free_mb is not None:
        try:
            await ensure_room(layout.root, min_free_mb, parsed.size)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(unlink_quietly, parsed.path)
            raise
    final: Path | None = None
    try:
        if parsed.size == 0:
            raise InvalidTemplateImage("The file is empty.")
        try:
            info = await images.run_image_work(
                lambda: images.inspect_image(parsed.path, max_pixels=max_pixels)
            )
        except images.UnsupportedImageType as exc:
            raise UnsupportedTemplateType("Only JPEG, PNG and WebP images are accepted.") from exc
        except images.TooManyPixels as exc:
            raise InvalidTemplateImage(f"The image has more than {max_pixels} pixels.") from exc
        except images.InvalidImage as exc:
            raise InvalidTemplateImage("The image is truncated or corrupt.") from exc
        name = _clean_name(parsed.fields.get("name")) or _clean_name(parsed.filename)
        relpath = f"templates/{media_id}.{images.EXTENSION_BY_MIME[info.content_type]}"
        final = layout.resolve(relpath)
        await anyio.to_thread.run_sync(_promote, parsed.path, final)
        media = MediaObject(
            id=media_id,
            name=name or f"template-{media_id[:8]}",
            content_type=info.content_type,
            size=parsed.size,
            width=info.width,
            height=info.height,
            has_alpha=info.has_alpha,
            sha256=parsed.sha256,
            path=relpath,
            created_by=actor.username,
        )
        await MediaObjectRepository(session).add(media)
        await audit_service.record(
            session,
            actor,
            "template_media.create",
            f"template_media:{media_id}",
            {"name": media.name, "content_type": media.content_type, "size": media.size},
        )
    except BaseException:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(unlink_quietly, parsed.path, final)
        raise
    return media


async def list_media(session: AsyncSession, registry: ProviderRegistry) -> list[MediaRead]:
    used = await usage(session, registry)
    return [
        MediaRead(
            id=m.id,
            name=m.name,
            content_type=m.content_type,
            size=m.size,
            width=m.width,
            height=m.height,
            has_alpha=m.has_alpha,
            created_at=m.created_at,
            created_by=m.created_by,
            used_by=used.get(m.id, []),
        )
        for m in await MediaObjectRepository(session).list()
    ]


async def get(session: AsyncSession, media_id: str) -> MediaObject:
    media = await MediaObjectRepository(session).get(media_id)
    if media is None:
        raise TemplateMediaNotFound(f"There is no template media {media_id!r}.")
    return media


async def content(session: AsyncSession, layout: MediaLayout, media_id: str) -> StoredFile:
    """The stored file; 404 when the row or its file is gone."""
    media = await get(session, media_id)
    path = layout.resolve(media.path)
    if not await anyio.Path(path).is_file():
        raise TemplateMediaNotFound(f"The file of template media {media_id!r} is missing.")
    return StoredFile(path, media.content_type)


async def thumbnail(session: AsyncSession, layout: MediaLayout, media_id: str) -> tuple[bytes, str]:
    """A downscaled copy (long side 320 px): PNG when the template has transparency, JPEG otherwise."""
    media = await get(session, media_id)
    stored = await content(session, layout, media_id)
    thumb_type = "image/png" if media.has_alpha else "image/jpeg"
    try:
        data = await images.run_image_work(
            lambda: images.thumbnail(stored.path, THUMBNAIL_LONG_SIDE, content_type=thumb_type)
        )
    except images.ImageProblem as exc:
        raise TemplateMediaNotFound(f"The file of template media {media_id!r} is unreadable.") from exc
    return data, thumb_type


async def delete(
    session: AsyncSession,
    registry: ProviderRegistry,
    layout: MediaLayout,
    media_id: str,
    *,
    actor: AuditActor,
) -> Path:
    """Delete the row (flushed) and return the file to remove once the transaction has committed.

    Raises `TemplateMediaInUse` (409, `used_by` lists the slots) while any slot's parameters name it.
    """
    media = await get(session, media_id)
    users = (await usage(session, registry)).get(media_id, [])
    if users:
        raise TemplateMediaInUse(
            f"Template media {media_id} is used by {', '.join(users)}; change those slots first.",
            extra={"used_by": users},
        )
    await MediaObjectRepository(session).delete(media_id)
    await audit_service.record(
        session, actor, "template_media.delete", f"template_media:{media_id}", {"name": media.name}
    )
    await session.flush()
    return layout.resolve(media.path)


def _read_files(paths: Mapping[str, Path]) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for media_id, path in paths.items():
        try:
            out[media_id] = path.read_bytes()
        except FileNotFoundError:
            continue
    return out


async def load_templates(
    session: AsyncSession, layout: MediaLayout, ids: Iterable[str]
) -> dict[str, TemplateImage]:
    """The template media `ids` as `TemplateImage`s for a provider request.

    Ids whose row or file no longer exists are left out; the caller decides what a missing one means.
    Files are read in a worker thread.
    """
    rows = await MediaObjectRepository(session).get_many(ids)
    paths = {row.id: layout.resolve(row.path) for row in rows}
    types = {row.id: row.content_type for row in rows}
    data = await anyio.to_thread.run_sync(_read_files, paths)
    return {media_id: TemplateImage(media_id, blob, types[media_id]) for media_id, blob in data.items()}
