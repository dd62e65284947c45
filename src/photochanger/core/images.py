"""Image checks and encoding shared by ingest, template media and providers (Pillow, off the event loop).

Only JPEG, PNG and WebP are ever decoded: the format is decided from the bytes, never from a name or a
declared type, and the pixel count (and a JPEG's scan count) is checked before any pixel is decoded. Every
decode is bounded in CPU time (`DecodeBudget`), and one decode serves validation, preview and provider input.
"""

import io
import math
import mmap
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TypeVar

import anyio
from PIL import Image, ImageOps

from photochanger.core import jpeg
from photochanger.core.image_types import ImageInfo as ImageInfo
from photochanger.core.image_types import PreparedImage as PreparedImage

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
# Provider inputs: the model redraws the photo at its own output size, so q85 (no visible artefacts on
# 4:2:0 photos) sends about a fifth fewer bytes over the venue's uplink than q90 for nothing it can see.
INPUT_QUALITY = 85
ORIENTATION_TAG = 0x0112
# CPU seconds one decode may take unless its caller says otherwise: a 24-megapixel photo decodes in well
# under half a second on a small machine.
DEFAULT_DECODE_CPU_SECONDS = 5.0
# Progressive JPEG data is fed to the decoder in blocks this small, so the budget is checked often even
# where a few bytes cost a whole pass over the image (a scan of end-of-band runs). Elsewhere the work a
# block costs is bounded by its size and the pixel cap, and Pillow's default blocks are kept.
PROGRESSIVE_READ_CHUNK = 2 * 1024

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


def sniff(head: bytes) -> str | None:
    """The MIME type announced by the magic bytes at the start of a file, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


class DecodeTooCostly(InvalidImage):
    """Decoding took more CPU time than its budget (a file crafted to be slow, or absurdly heavy)."""


class DecodeDeadline(ImageProblem):
    """The request's deadline passed while the image was being decoded."""


@dataclass(frozen=True)
class DecodeBudget:
    """What one decode may cost: CPU seconds of the decoding thread, and an absolute deadline on the
    `time.monotonic()` clock (None: no deadline)."""

    cpu_seconds: float = DEFAULT_DECODE_CPU_SECONDS
    deadline: float | None = None


class _Metered:
    """A read-only file that checks the decode budget before every read Pillow makes. Decoders run in
    Pillow's pull loop (read a block, feed the decoder, repeat), so the checks bound a decode to its budget
    plus the work one block costs; `chunk` makes those blocks small where the cost of a block is not bounded
    by its size (JPEG scans)."""

    def __init__(self, raw: IO[bytes], budget: DecodeBudget) -> None:
        self._raw = raw
        self._budget = budget
        # CPU time of the calling thread: the decode runs in it, whatever other threads do meanwhile.
        self._cpu_at = time.thread_time()
        self.chunk: int | None = None

    def read(self, size: int = -1) -> bytes:
        if time.thread_time() - self._cpu_at > self._budget.cpu_seconds:
            raise DecodeTooCostly(f"decoding took more than {self._budget.cpu_seconds:g} s of CPU")
        if self._budget.deadline is not None and time.monotonic() > self._budget.deadline:
            raise DecodeDeadline("the deadline passed while decoding")
        if self.chunk is not None and (size < 0 or size > self.chunk):
            size = self.chunk
        return self._raw.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()


def _open(
    source: Path | bytes | IO[bytes], budget: DecodeBudget | None = None
) -> tuple[Image.Image, _Metered]:
    if isinstance(source, Path):
        source = source.read_bytes()
    reader = _Metered(io.BytesIO(source) if isinstance(source, bytes) else source, budget or DecodeBudget())
    try:
        return Image.open(reader, formats=ALLOWED_FORMATS), reader  # type: ignore[arg-type]
    except Image.DecompressionBombError as exc:
        raise TooManyPixels(str(exc)) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise InvalidImage("the file could not be read as an image") from exc


def _load(img: Image.Image, reader: _Metered) -> None:
    if image_format(img) == "JPEG" and img.info.get("progressive"):
        reader.chunk = PROGRESSIVE_READ_CHUNK
    try:
        img.load()
    except Image.DecompressionBombError as exc:
        raise TooManyPixels(str(exc)) from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InvalidImage("the image is truncated or corrupt") from exc


def image_format(img: Image.Image) -> str:
    """Pillow's format name, a camera's multi-picture JPEG (MPO: the photo, then its previews) as JPEG."""
    return "JPEG" if img.format == "MPO" else (img.format or "")


def has_alpha(img: Image.Image) -> bool:
    return img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info)


def orientation(img: Image.Image) -> int:
    """The EXIF orientation of an opened image (1 when absent or unreadable); reads headers only."""
    try:
        value = int(img.getexif().get(ORIENTATION_TAG, 1) or 1)
    except (OSError, SyntaxError, ValueError, TypeError):
        return 1
    return value if 1 <= value <= 8 else 1


def orient(img: Image.Image) -> Image.Image:
    """`img` turned upright by its EXIF orientation; `img` itself (no copy) when it already is."""
    if orientation(img) == 1:
        return img
    return ImageOps.exif_transpose(img)


def fit_within(img: Image.Image, max_side: int) -> Image.Image:
    """`img` downscaled (never upscaled) so that its longer side is at most `max_side` px."""
    if max(img.size) <= max_side:
        return img
    scale = max_side / max(img.size)
    size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    # Bicubic with Pillow's antialiasing support: for the small factors left after a DCT-scaled decode
    # (1500 -> 1280 px) it is indistinguishable from Lanczos at two thirds of its cost.
    return img.resize(size, Image.Resampling.BICUBIC, reducing_gap=3.0)


def prepared(img: Image.Image, max_side: int, *, keep_alpha: bool = True) -> PreparedImage:
    """`img` (already upright) fitted to `max_side` and encoded for an upstream: JPEG at `INPUT_QUALITY`,
    or PNG when its alpha matters."""
    resized = fit_within(img, max_side)
    content_type = "image/png" if keep_alpha and has_alpha(resized) else "image/jpeg"
    data = encode(resized, content_type, quality=INPUT_QUALITY)
    return PreparedImage(data, content_type, resized.width, resized.height, max_side)


def is_upright_jpeg_within(img: Image.Image, max_side: int) -> bool:
    """Whether a provider can take this opened JPEG unchanged: upright, RGB or grey, within `max_side`."""
    return (
        image_format(img) == "JPEG"
        and img.mode in ("RGB", "L")
        and max(img.size) <= max_side
        and orientation(img) == 1
    )


def dct_scale(width: int, height: int, *, preview: int | None, provider: int | None) -> int:
    """The JPEG DCT scaling denominator (1, 2, 4 or 8) for one decode serving a preview of `preview` px and
    a provider input capped at `provider` px: the cheapest whose long side still reaches the preview and
    nine tenths of the provider's cap (a 6000 px shot for a 3072 px cap decodes at 1/2, 3000 px, instead of
    a full decode and a resize that would add a few percent of resolution)."""
    long_side = max(width, height)
    need = float(preview or 1)
    if provider is not None:
        need = max(need, 0.9 * min(provider, long_side))
    for denominator in (8, 4, 2):
        if math.ceil(long_side / denominator) >= need:
            return denominator
    return 1


def header_size(source: Path) -> tuple[int, int] | None:
    """(width, height) a JPEG, PNG or WebP file's header announces; None when it cannot be read."""
    try:
        with Image.open(source, formats=ALLOWED_FORMATS) as img:
            return img.size
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None


@dataclass(frozen=True)
class DecodeCost:
    """What validating a file will hold, read from its header: `bitmap`, the bytes of the decode (and of
    its resize to a provider's cap); `input_bound`, at most the bytes of the input a provider is sent (the
    file as it is when it goes unchanged, else an encoded fit to the cap, never more than its RGB pixels)."""

    bitmap: int
    input_bound: int


def decode_cost(source: Path, *, preview_long_side: int | None, input_long_side: int | None) -> DecodeCost:
    """The `DecodeCost` of `inspect_image` for `source` with these arguments (Pillow keeps 4 bytes a pixel
    for RGB). A header that cannot be read costs no bitmap (inspection refuses it) and bounds the input by
    the file's size."""
    size = source.stat().st_size
    try:
        with Image.open(source, formats=ALLOWED_FORMATS) as img:
            width, height = img.size
            wanted = input_long_side
            if wanted is not None and is_upright_jpeg_within(img, wanted):
                wanted = None
            denominator = 1
            if image_format(img) == "JPEG":
                denominator = dct_scale(width, height, preview=preview_long_side, provider=wanted)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return DecodeCost(0, size)
    decoded = math.ceil(width / denominator) * math.ceil(height / denominator) * 4
    if wanted is None:
        return DecodeCost(decoded, size)
    # A resize to the provider's cap holds its output beside the decode; the input is that output
    # encoded (JPEG at INPUT_QUALITY, or PNG for alpha: never more than 3 or 4 bytes a pixel).
    scale = min(1.0, wanted / max(width, height))
    fitted = math.ceil(width * scale) * math.ceil(height * scale)
    return DecodeCost(decoded + min(decoded, fitted * 4), min(size, fitted * 4))


def _check_jpeg_structure(data: jpeg.Buffer) -> jpeg.JpegLayout:
    try:
        return jpeg.walk(data)
    except jpeg.TooManyScans as exc:
        raise InvalidImage(f"the image has more than {jpeg.MAX_SCANS} scans") from exc
    except jpeg.JpegStructureError as exc:
        raise InvalidImage("the image's marker structure is broken") from exc


def inspect_image(
    source: Path | bytes,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    preview_long_side: int | None = None,
    input_long_side: int | None = None,
    budget: DecodeBudget | None = None,
) -> ImageInfo:
    """Check type, pixel count, scan count and full decodability in one decode (JPEG DCT-scaled to the
    smallest size the callers need; every byte is still read). Blocking: run in a thread.

    With `preview_long_side`, the same decode also yields a preview of that size; with `input_long_side`,
    a provider input fitted to that cap, unless the photo is a JPEG the provider can take as it is.
    Raises `UnsupportedImageType`, `TooManyPixels`, `InvalidImage` (`DecodeTooCostly` past the CPU budget)
    or `DecodeDeadline`.

    A file is mapped, not read into memory: the structure walk runs over the page cache and the decoder
    reads it block by block, so no copy of a 12 MB photo is made (nor its pages faulted in afresh).
    """
    checks = _Checks(max_pixels, preview_long_side, input_long_side, budget)
    if isinstance(source, bytes):
        return _inspect(source, io.BytesIO(source), checks)
    with source.open("rb") as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            raise UnsupportedImageType("only JPEG, PNG and WebP images are accepted")
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as view:
            return _inspect(view, handle, checks)


@dataclass(frozen=True)
class _Checks:
    max_pixels: int
    preview_long_side: int | None
    input_long_side: int | None
    budget: DecodeBudget | None


def _inspect(data: bytes | mmap.mmap, stream: IO[bytes], checks: _Checks) -> ImageInfo:
    max_pixels, preview_long_side = checks.max_pixels, checks.preview_long_side
    content_type = sniff(data[:16])
    if content_type is None:
        raise UnsupportedImageType("only JPEG, PNG and WebP images are accepted")
    metadata_free = False
    if content_type == "image/jpeg":
        metadata_free = jpeg.is_metadata_free(data, _check_jpeg_structure(data))
    img, reader = _open(stream, checks.budget)
    with img:
        if MIME_BY_FORMAT.get(image_format(img)) != content_type:
            raise InvalidImage("the file's contents do not match its format")
        width, height = img.size
        if width <= 0 or height <= 0:
            raise InvalidImage("the image has no pixels")
        if width * height > max_pixels:
            raise TooManyPixels(f"{width}x{height} is more than {max_pixels} pixels")
        alpha = has_alpha(img)
        wanted_input = checks.input_long_side
        if wanted_input is not None and is_upright_jpeg_within(img, wanted_input):
            wanted_input = None  # it goes to the provider as it is
        if content_type == "image/jpeg":
            denominator = dct_scale(width, height, preview=preview_long_side, provider=wanted_input)
            # Pillow picks the largest reduction whose output still covers the size asked for, so ask for
            # the floor (libjpeg's scaled size is the ceiling).
            img.draft("RGB", (max(1, width // denominator), max(1, height // denominator)))
        _load(img, reader)
        # An alpha channel that is opaque everywhere is no transparency (a frame like that hides the photo).
        alpha = alpha and _has_transparent_pixel(img)
        preview = provider_input = None
        if preview_long_side is not None or wanted_input is not None:
            upright = orient(img)
            # Nothing of the photo's metadata (EXIF, XMP, profiles in PNG chunks) may go upstream.
            upright.info = {k: v for k, v in upright.info.items() if k == "transparency"}
            if wanted_input is not None:
                provider_input = prepared(upright, wanted_input)
            if preview_long_side is not None:
                # Halved by a box filter first while still at least the preview's size (`reducing_gap`
                # 1.0): Lanczos then runs on a quarter of the pixels, well under half the cost.
                upright.thumbnail(
                    (preview_long_side, preview_long_side), Image.Resampling.LANCZOS, reducing_gap=1.0
                )
                preview = encode(upright, "image/jpeg", quality=PREVIEW_QUALITY)
    return ImageInfo(content_type, width, height, alpha, preview, provider_input, metadata_free)


def _has_transparent_pixel(img: Image.Image) -> bool:
    rgba = img if img.mode in ("RGBA", "LA", "PA") else img.convert("RGBA")
    low = rgba.getchannel("A").getextrema()[0]
    return isinstance(low, int | float) and low < 255


def load_oriented(source: Path | bytes, budget: DecodeBudget | None = None) -> Image.Image:
    """Decode fully with the EXIF orientation applied; the returned image carries no metadata but its
    transparency. Not closed here: closing would drop the pixels, and copying them to close costs a bitmap."""
    img, reader = _open(source, budget)
    try:
        _load(img, reader)
        out = orient(img)
    except BaseException:
        img.close()
        raise
    out.info = {k: v for k, v in out.info.items() if k == "transparency"}
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


def jpeg_orientation(data: bytes) -> int:
    """The EXIF orientation of a JPEG (1 when absent or unreadable); reads headers only."""
    try:
        with Image.open(io.BytesIO(data), formats=("JPEG",)) as img:
            return orientation(img)
    except (OSError, SyntaxError, ValueError):
        return 1


def strip_jpeg_metadata(data: bytes) -> bytes | None:
    """The primary image of a JPEG without its metadata, compressed data untouched (see `core.jpeg`)."""
    return jpeg.strip_metadata(data)


def reencode(data: bytes, content_type: str) -> bytes:
    """Decode (orientation applied) and encode as `content_type`. Blocking: run in a thread."""
    with load_oriented(data) as img:
        return encode(img, content_type)


def thumbnail(source: Path | bytes, long_side: int, *, content_type: str = "image/jpeg") -> bytes:
    """A downscaled copy whose longer side is `long_side` px (JPEG draft decoding where possible)."""
    img, reader = _open(source)
    with img:
        if image_format(img) == "JPEG":
            img.draft("RGB", (long_side, long_side))
        _load(img, reader)
        oriented = orient(img)
        oriented.thumbnail((long_side, long_side), Image.Resampling.LANCZOS)
        return encode(oriented, content_type, quality=PREVIEW_QUALITY)


async def run_image_work(func: Callable[..., T], *args: object) -> T:
    """Run blocking Pillow work in the bounded image thread pool."""
    return await anyio.to_thread.run_sync(func, *args, limiter=IMAGE_LIMITER)
