"""Image checks and encoding shared by ingest, template media and providers (Pillow, off the event loop).

Only JPEG, PNG and WebP are ever decoded: the format is decided from the bytes, never from a name or a
declared type, and the pixel count is checked from the header before any pixel is decoded.
"""

import io
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TypeVar

import anyio
from PIL import Image, ImageOps

Image.init()
# Every decode here is preceded by our own pixel cap, read from the header; Pillow's warning between its
# limit and twice it would only repeat that check into the logs. Its hard error (twice the limit) stays.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)

MIME_BY_FORMAT = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
FORMAT_BY_MIME = {mime: fmt for fmt, mime in MIME_BY_FORMAT.items()}
EXTENSION_BY_MIME = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
ALLOWED_FORMATS = tuple(MIME_BY_FORMAT)
DEFAULT_MAX_PIXELS = 50_000_000
JPEG_QUALITY = 90
PREVIEW_QUALITY = 82

# CPU-bound image work runs in threads; two at a time matches the smallest supported machine (2 cores)
# and bounds the memory a burst of large decodes can take.
IMAGE_LIMITER = anyio.CapacityLimiter(2)

T = TypeVar("T")


class ImageProblem(Exception):
    """Base of the image check failures below."""


class UnsupportedImageType(ImageProblem):
    """The bytes are not JPEG, PNG or WebP."""


class InvalidImage(ImageProblem):
    """The bytes claim a supported format but are truncated, corrupt or undecodable."""


class TooManyPixels(ImageProblem):
    """The header announces more pixels than the cap allows."""


@dataclass(frozen=True)
class ImageInfo:
    content_type: str
    width: int
    height: int
    has_alpha: bool
    # Optional JPEG preview (EXIF orientation applied) made from the validation decode itself.
    preview: bytes | None = None

    @property
    def pixels(self) -> int:
        return self.width * self.height


def sniff(head: bytes) -> str | None:
    """The MIME type announced by the magic bytes at the start of a file, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def _open(source: Path | bytes | IO[bytes]) -> Image.Image:
    fp: Path | IO[bytes] = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        return Image.open(fp, formats=ALLOWED_FORMATS)
    except Image.DecompressionBombError as exc:
        raise TooManyPixels(str(exc)) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise InvalidImage("the file could not be read as an image") from exc


def inspect_image(
    source: Path | bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS, preview_long_side: int | None = None
) -> ImageInfo:
    """Check type, pixel count and full decodability (JPEG draft-scaled). Blocking: run in a thread.

    With `preview_long_side`, the same decode also yields a preview of that size, so a caller whose result
    keeps the input's pixels needs no second decode. Raises `UnsupportedImageType`, `TooManyPixels` or
    `InvalidImage`.
    """
    head = source[:16] if isinstance(source, bytes) else _read_head(source)
    content_type = sniff(head)
    if content_type is None:
        raise UnsupportedImageType("only JPEG, PNG and WebP images are accepted")
    with _open(source) as img:
        if MIME_BY_FORMAT.get(img.format or "") != content_type:
            raise InvalidImage("the file's contents do not match its format")
        width, height = img.size
        if width <= 0 or height <= 0:
            raise InvalidImage("the image has no pixels")
        if width * height > max_pixels:
            raise TooManyPixels(f"{width}x{height} is more than {max_pixels} pixels")
        has_alpha = img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info)
        if content_type == "image/jpeg":
            # Decoding at 1/8 scale still walks every entropy-coded segment, so truncation is caught cheaply.
            scale = max(8 * (preview_long_side or 0) / max(width, height), 1.0)
            img.draft("RGB", (max(1, int(width * scale) // 8), max(1, int(height * scale) // 8)))
        try:
            img.load()
        except Image.DecompressionBombError as exc:
            raise TooManyPixels(str(exc)) from exc
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise InvalidImage("the image is truncated or corrupt") from exc
        # An alpha channel that is opaque everywhere is no transparency (a frame like that hides the photo).
        has_alpha = has_alpha and _has_transparent_pixel(img)
        preview = None
        if preview_long_side is not None:
            oriented = ImageOps.exif_transpose(img)
            oriented.thumbnail((preview_long_side, preview_long_side), Image.Resampling.LANCZOS)
            preview = encode(oriented, "image/jpeg", quality=PREVIEW_QUALITY)
    return ImageInfo(content_type, width, height, has_alpha, preview)


def _has_transparent_pixel(img: Image.Image) -> bool:
    rgba = img if img.mode in ("RGBA", "LA", "PA") else img.convert("RGBA")
    low = rgba.getchannel("A").getextrema()[0]
    return isinstance(low, int | float) and low < 255


def _read_head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(16)


def load_oriented(source: Path | bytes) -> Image.Image:
    """Decode fully with the EXIF orientation applied; the returned image carries no metadata."""
    with _open(source) as img:
        try:
            img.load()
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise InvalidImage("the image is truncated or corrupt") from exc
        oriented = ImageOps.exif_transpose(img)
        out = oriented.copy() if oriented is img else oriented
    out.info = {}
    return out


def encode(img: Image.Image, content_type: str, *, quality: int = JPEG_QUALITY) -> bytes:
    """Encode `img` as `content_type` with no metadata; JPEG flattens any alpha onto white."""
    fmt = FORMAT_BY_MIME[content_type]
    buffer = io.BytesIO()
    if fmt == "JPEG":
        if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
            rgba = img.convert("RGBA")
            background = Image.new("RGB", rgba.size, (255, 255, 255))
            background.paste(rgba, mask=rgba.getchannel("A"))
            img = background
        elif img.mode != "RGB":
            img = img.convert("RGB")
        img.save(buffer, "JPEG", quality=quality, optimize=False, progressive=False)
    elif fmt == "PNG":
        if img.mode not in ("RGB", "RGBA", "L", "LA", "P"):
            img = img.convert("RGBA")
        img.save(buffer, "PNG", compress_level=3)
    else:
        if img.mode not in ("RGB", "RGBA"):
            img = img.convert("RGBA" if "A" in img.getbands() else "RGB")
        img.save(buffer, "WEBP", quality=quality, method=4)
    return buffer.getvalue()


# APPn segments kept when stripping metadata: JFIF (APP0), ICC colour profiles (APP2 "ICC_PROFILE"),
# Adobe colour transform (APP14). Everything else before the scan (EXIF/XMP, IPTC, MPF previews, comments,
# maker data) is dropped.
_ICC_TAG = b"ICC_PROFILE\x00"


def jpeg_orientation(data: bytes) -> int:
    """The EXIF orientation of a JPEG (1 when absent or unreadable); reads headers only."""
    try:
        with Image.open(io.BytesIO(data), formats=("JPEG",)) as img:
            return int(img.getexif().get(0x0112, 1) or 1)
    except (OSError, SyntaxError, ValueError):
        return 1


def strip_jpeg_metadata(data: bytes) -> bytes | None:
    """The same JPEG with its metadata segments removed and its entropy-coded data untouched (no
    generation loss), or None when the marker structure is not one this parser can vouch for."""
    if not data.startswith(b"\xff\xd8"):
        return None
    view = memoryview(data)
    # Kept segments are collected as views and joined once: the scan data is copied a single time.
    parts: list[bytes | memoryview] = [b"\xff\xd8"]
    pos = 2
    size = len(data)
    while pos + 4 <= size:
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        end = pos + 2 + length
        if length < 2 or end > size:
            return None
        if marker == 0xDA:  # start of scan: the rest is image data up to the last EOI
            eoi = data.rfind(b"\xff\xd9")
            if eoi < end:
                return None
            parts.append(view[pos : eoi + 2])
            return b"".join(parts)
        keep = (
            marker == 0xE0
            or marker == 0xEE
            or (marker == 0xE2 and data[pos + 4 : pos + 16] == _ICC_TAG)
            or not (0xE0 <= marker <= 0xEF or marker == 0xFE)
        )
        if keep:
            parts.append(view[pos:end])
        pos = end
    return None


def reencode(data: bytes, content_type: str) -> bytes:
    """Decode (orientation applied) and encode as `content_type`. Blocking: run in a thread."""
    with load_oriented(data) as img:
        return encode(img, content_type)


def thumbnail(source: Path | bytes, long_side: int, *, content_type: str = "image/jpeg") -> bytes:
    """A downscaled copy whose longer side is `long_side` px (JPEG draft decoding where possible)."""
    with _open(source) as img:
        if img.format == "JPEG":
            img.draft("RGB", (long_side, long_side))
        oriented = ImageOps.exif_transpose(img)
        oriented.thumbnail((long_side, long_side), Image.Resampling.LANCZOS)
        return encode(oriented, content_type, quality=PREVIEW_QUALITY)


async def run_image_work(func: Callable[..., T], *args: object) -> T:
    """Run blocking Pillow work in the bounded image thread pool."""
    return await anyio.to_thread.run_sync(func, *args, limiter=IMAGE_LIMITER)
