"""Small encoded test images (solid colours) for fakes and provider tests."""

import io

from PIL import Image


def solid(color: tuple[int, int, int], size: tuple[int, int] = (64, 48), fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, fmt)
    return buffer.getvalue()


def decode(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


RESULT_PNG = solid((10, 200, 30), (320, 240))
"""What the fakes answer by default: a green 320x240 PNG, easy to tell from any input."""
