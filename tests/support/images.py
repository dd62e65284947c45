"""Small real images for tests, made with Pillow."""

import io
import os

from PIL import Image


def jpeg(
    width: int = 64,
    height: int = 48,
    *,
    color: tuple[int, int, int] = (200, 40, 40),
    orientation: int | None = None,
    quality: int = 90,
) -> bytes:
    img = Image.new("RGB", (width, height), color)
    # A bright block in the top-left corner makes orientation observable.
    img.paste((250, 250, 250), (0, 0, max(1, width // 4), max(1, height // 4)))
    buffer = io.BytesIO()
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        img.save(buffer, "JPEG", quality=quality, exif=exif.tobytes())
    else:
        img.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def noisy_jpeg(megabytes: float) -> bytes:
    """A JPEG of roughly `megabytes` MB (random noise compresses badly, so size tracks pixel count)."""
    side = max(64, int((megabytes * 1024 * 1024 / 1.2) ** 0.5))
    img = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def png(width: int = 64, height: int = 48, *, alpha: bool = False) -> bytes:
    mode = "RGBA" if alpha else "RGB"
    fill = (10, 200, 10, 128) if alpha else (10, 200, 10)
    img = Image.new(mode, (width, height), fill)
    buffer = io.BytesIO()
    img.save(buffer, "PNG")
    return buffer.getvalue()


def webp(width: int = 64, height: int = 48) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (0, 0, 200)).save(buffer, "WEBP")
    return buffer.getvalue()


def gif(width: int = 16, height: int = 16) -> bytes:
    buffer = io.BytesIO()
    Image.new("P", (width, height)).save(buffer, "GIF")
    return buffer.getvalue()


def decode(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img
