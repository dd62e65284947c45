"""Short-lived unguessable links to a job's inputs, for providers that only fetch images by URL.

Files live in `media/temp/` named `{owner}.pm.{token}.{expires}.{ext}`: any worker can serve them, crash
recovery removes a dead process's, and the expiry (the job's deadline, epoch seconds) travels in the name.
"""

import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from photochanger.core.errors import PhotoChangerError
from photochanger.core.images import EXTENSION_BY_MIME, MIME_BY_FORMAT
from photochanger.core.storage import MediaLayout, write_atomic

TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
_MIME_BY_EXTENSION = {ext: mime for mime, ext in EXTENSION_BY_MIME.items()}
assert set(_MIME_BY_EXTENSION.values()) == set(MIME_BY_FORMAT.values())  # noqa: S101 - module invariant


class ProviderMediaNotFound(PhotoChangerError):
    status_code = 404
    code = "not_found"
    title = "Not found"


class ProviderMediaExpired(PhotoChangerError):
    status_code = 410
    code = "provider_media_expired"
    title = "Link expired"


@dataclass(frozen=True)
class ProviderMedia:
    path: Path
    content_type: str


def publish(
    layout: MediaLayout, owner: str, data: bytes, content_type: str, expires_epoch: float
) -> tuple[str, Path]:
    """Store `data` and return its token and path. Blocking: run in a thread."""
    token = secrets.token_urlsafe(32)
    path = layout.temp / f"{owner}.pm.{token}.{int(expires_epoch) + 1}.{EXTENSION_BY_MIME[content_type]}"
    write_atomic(path, data)
    return token, path


def find(
    layout: MediaLayout, token: str, *, ext: str | None = None, now_epoch: float | None = None
) -> ProviderMedia:
    """The file behind `token` (and its extension `ext`, when the link names one: it must be the
    file's own); 404 when unknown, 410 once the job's deadline has passed."""
    if not TOKEN_PATTERN.match(token) or not layout.temp.is_dir():
        raise ProviderMediaNotFound("No such link.")
    matches = list(layout.temp.glob(f"*.pm.{token}.*"))
    if len(matches) != 1:
        raise ProviderMediaNotFound("No such link.")
    path = matches[0]
    _, _, _, expires, stored_ext = path.name.rsplit(".", 4)
    if ext is not None and ext != stored_ext:
        raise ProviderMediaNotFound("No such link.")
    if (now_epoch if now_epoch is not None else time.time()) >= int(expires):
        raise ProviderMediaExpired("This link has expired.")
    return ProviderMedia(path, _MIME_BY_EXTENSION.get(stored_ext, "application/octet-stream"))
