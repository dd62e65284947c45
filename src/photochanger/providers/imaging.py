"""Image work every driver shares: preparing inputs for an upstream, finishing results, the QR stamp.

Everything here is blocking Pillow work; drivers call it through `core.images.run_image_work`.
"""

import io
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import segno
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field

from photochanger.core.images import (
    ImageProblem,
    PreparedImage,
    encode,
    fit_within,
    has_alpha,
    inspect_image,
    is_upright_jpeg_within,
    load_oriented,
    prepared,
    run_image_work,
    strip_jpeg_metadata,
)
from photochanger.providers.base import (
    Photo,
    ProviderFailed,
    ProviderRequest,
    ProviderResult,
    TemplateImage,
)

__all__ = ["PreparedImage", "fit_within", "photo_input", "prepare_input"]

TEMPLATE_MEDIA: dict[str, Any] = {"x-template-media": True}
# A frame laid over the photo: only template media with transparent areas fit (checked when a slot is saved).
FRAME_MEDIA: dict[str, Any] = {**TEMPLATE_MEDIA, "x-needs-transparency": True}
"""`json_schema_extra` marking a field whose value is a template media id (the admin UI offers a picker)."""
# The aspect ratios Google's image models take, asked for directly (`gemini`) or routed (`openrouter`).
AspectRatio = Literal[
    "1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9", "1:4", "4:1", "1:8", "8:1"
]


class OperationOptions(BaseModel):
    """Options every operation of every provider takes."""

    model_config = ConfigDict(extra="forbid")

    stamp_qr: bool = Field(
        default=False,
        title="Stamp QR code",
        description="Stamp the QR code of the result's guest link into the bottom-right corner.",
    )


def _upright_jpeg(data: bytes, max_side: int) -> PreparedImage | None:
    """`data` as a prepared input, without its metadata, if it is a JPEG a provider can take unchanged."""
    if not data.startswith(b"\xff\xd8"):
        return None
    try:
        with Image.open(io.BytesIO(data), formats=("JPEG",)) as img:
            if not is_upright_jpeg_within(img, max_side):
                return None
            width, height = img.size
    except (OSError, SyntaxError, ValueError):
        return None
    stripped = strip_jpeg_metadata(data)
    if stripped is None:
        return None
    return PreparedImage(stripped, "image/jpeg", width, height, max_side)


def prepare_input(data: bytes, max_side: int, *, keep_alpha: bool = True) -> PreparedImage:
    """Decode with orientation applied, downscale to `max_side`, encode as JPEG (PNG when alpha matters).

    A JPEG that needs none of that (upright, small enough, RGB or greyscale) goes as it is, only its
    metadata removed: no second generation of compression, and no decode. Raises `ProviderFailed` when the
    bytes cannot be decoded (a template that went bad on disk, say).
    """
    if (as_is := _upright_jpeg(data, max_side)) is not None:
        return as_is
    try:
        img = load_oriented(data)
    except ImageProblem as exc:
        raise ProviderFailed("an input image could not be decoded") from exc
    with img:
        return prepared(img, max_side, keep_alpha=keep_alpha)


async def photo_input(request: ProviderRequest, max_side: int) -> PreparedImage:
    """The request's photo prepared for an upstream capped at `max_side` px: the input made by the
    validation decode when it was made for this cap, else `prepare_input` in the image pool."""
    ready = request.prepared_input
    if ready is not None and ready.max_side == max_side:
        return ready
    # `request.image` may read the file: in the pool, never on the event loop.
    return await run_image_work(lambda: prepare_input(request.image, max_side))


def photo_size(request: ProviderRequest) -> tuple[int, int]:
    """(width, height) of the request's photo: from the validation when it handed it in, else its header
    ((0, 0) when unreadable: callers then fall back to their cap)."""
    if request.image_size is not None:
        return request.image_size
    photo = request.photo
    source: Path | io.BytesIO = photo.path if photo.path and not photo.loaded else io.BytesIO(photo.data)
    try:
        with Image.open(source) as img:
            return img.size
    except (OSError, SyntaxError, ValueError):
        return (0, 0)


# Side of the square output of Google's image models for each `imageSize` (other aspect ratios keep about
# the same area); a model that takes no `imageSize`, or a slot that sets none, gets 1K. Shared by the
# Gemini driver and OpenRouter's Google models.
GOOGLE_OUTPUT_EDGE = {"512": 512, "1K": 1024, "2K": 2048, "4K": 4096}
GOOGLE_DEFAULT_IMAGE_SIZE = "1K"


def output_long_side(edge: int, aspect: float, *, step: int = 64) -> int:
    """Long side (px) of an output of about `edge` x `edge` pixels at `aspect` (long / short, >= 1), rounded
    up to `step`. Image models size their output by area: Gemini's 1K is 1024x1024 square, 1264x848 at
    3:2, 1584x672 at 21:9 (https://ai.google.dev/gemini-api/docs/image-generation, "resolution" tables);
    rounding up to 64 px covers every ratio in those tables."""
    long_side = edge * math.sqrt(max(1.0, aspect))
    return int(math.ceil(long_side / step) * step)


def aspect_of(ratio: str | None, size: tuple[int, int]) -> float:
    """Long / short of an "w:h" ratio option, else of `size` (1.0 for an unknown size)."""
    if ratio:
        width, height = (int(part) for part in ratio.split(":"))
    else:
        width, height = size
    if width <= 0 or height <= 0:
        return 1.0
    return max(width, height) / min(width, height)


def template(request: ProviderRequest, media_id: str) -> TemplateImage:
    """The template media `media_id` handed in with the request, or `ProviderFailed`."""
    try:
        return request.templates[media_id]
    except KeyError:
        raise ProviderFailed(f"template media {media_id!r} was not provided") from None


def qr_image(url: str, module_px: int) -> Image.Image:
    """The QR code of `url` as an RGB image, `module_px` pixels per module, with a 2-module quiet zone."""
    qr = segno.make_qr(url, error="m")
    rows = [bytes(0 if dark else 255 for dark in row) for row in qr.matrix_iter(scale=1, border=2)]
    side = len(rows)
    small = Image.frombytes("L", (side, side), b"".join(rows))
    return small.resize((side * module_px, side * module_px), Image.Resampling.NEAREST).convert("RGB")


QR_MAX_SHARE = 0.25


def qr_placement(size: tuple[int, int], url: str) -> tuple[int, tuple[int, int]]:
    """Module size and top-left corner of the QR stamp on an image of `size` (bottom-right, 2% margin)."""
    short = min(size)
    side_modules = int(segno.make_qr(url, error="m").symbol_size(border=2)[0])
    # About a fifth of the short side, whole pixels per module so every module stays crisp, and never more
    # than a quarter of it: on a small photo the code shrinks with the photo instead of covering it.
    module_px = max(1, min(round(short * 0.2 / side_modules), int(short * QR_MAX_SHARE) // side_modules))
    side = side_modules * module_px
    margin = max(4, round(short * 0.02))
    # On an image too small for a readable code the stamp is pinned to the corner and clipped.
    return module_px, (max(0, size[0] - side - margin), max(0, size[1] - side - margin))


def stamp_qr(img: Image.Image, url: str) -> Image.Image:
    """`img` with the QR code of `url` pasted in the bottom-right corner (RGB or RGBA kept)."""
    module_px, position = qr_placement(img.size, url)
    stamp = qr_image(url, module_px)
    out = img if img.mode in ("RGB", "RGBA") else img.convert("RGBA" if has_alpha(img) else "RGB")
    out = out.copy() if out is img else out
    out.paste(stamp, position)
    return out


def finish_image(img: Image.Image, options: BaseModel, request: ProviderRequest) -> bytes:
    """Apply the QR stamp when asked and encode as the slot's output type."""
    if getattr(options, "stamp_qr", False) and request.guest_url:
        img = stamp_qr(img, request.guest_url)
    return encode(img, request.output_type)


def _clean_jpeg(data: bytes) -> bytes | None:
    """An upstream's upright RGB or grey JPEG without its metadata, compressed data untouched, once a
    DCT-scaled decode has read every byte of it; None when it is not one (or does not decode)."""
    if not data.startswith(b"\xff\xd8"):
        return None
    try:
        with Image.open(io.BytesIO(data), formats=("JPEG",)) as img:
            if not is_upright_jpeg_within(img, max(img.size)):
                return None
        inspect_image(data)
    except (OSError, SyntaxError, ValueError, ImageProblem):
        return None
    return strip_jpeg_metadata(data)


def finish_bytes(data: bytes, request: ProviderRequest) -> bytes:
    """Decode an upstream's answer, stamp, and re-encode it as the slot's output type. A JPEG answer the
    slot wants as JPEG, unstamped, keeps its compressed data (only its metadata goes): a second
    generation of compression would cost time on every shot and lose quality for nothing.

    Raises `ProviderFailed` when the upstream's bytes are not a JPEG, PNG or WebP image.
    """
    stamped = bool(getattr(request.options, "stamp_qr", False) and request.guest_url)
    if request.output_type == "image/jpeg" and not stamped and (clean := _clean_jpeg(data)) is not None:
        return clean
    try:
        img = load_oriented(data)
    except ImageProblem as exc:
        raise ProviderFailed("the provider answered with bytes that are not an image") from exc
    with img:
        return finish_image(img, request.options, request)


def result(data: bytes | Photo, request: ProviderRequest, meta: Mapping[str, Any]) -> ProviderResult:
    stamped = bool(getattr(request.options, "stamp_qr", False) and request.guest_url)
    return ProviderResult(data, request.output_type, {**meta, "qr_stamped": stamped})
