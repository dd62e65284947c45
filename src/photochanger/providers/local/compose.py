"""Compositing operations of the `local` engine: frames, chroma key, crop (blocking; run in a thread)."""

from typing import Literal

from PIL import Image, ImageChops, ImageColor, ImageOps

from photochanger.providers.base import ProviderFailed

# Width of the soft edge of the chroma-key matte, in units of "key colour excess" (0-255).
KEY_SOFTNESS = 24


def _rgb(img: Image.Image) -> Image.Image:
    return img if img.mode == "RGB" else img.convert("RGB")


def frame(
    photo: Image.Image, frame_img: Image.Image, fit: Literal["cover", "contain"], background: str
) -> Image.Image:
    """The photo fitted to the frame's size, the frame composited over it by its alpha channel."""
    if "A" not in frame_img.getbands() and "transparency" not in frame_img.info:
        raise ProviderFailed("the frame has no transparency, so the photo would be hidden")
    overlay = frame_img.convert("RGBA")
    size = overlay.size
    if fit == "cover":
        canvas = ImageOps.fit(_rgb(photo), size, Image.Resampling.LANCZOS)
    else:
        canvas = Image.new("RGB", size, ImageColor.getrgb(background))
        contained = ImageOps.contain(_rgb(photo), size, Image.Resampling.LANCZOS)
        canvas.paste(contained, ((size[0] - contained.width) // 2, (size[1] - contained.height) // 2))
    composed = canvas.convert("RGBA")
    composed.alpha_composite(overlay)
    return composed.convert("RGB")


def key_threshold(tolerance: int) -> int:
    """Key-colour excess at the middle of the matte's soft edge: higher tolerance, lower threshold."""
    return round(8 + (100 - tolerance) * 1.2)


def green_screen(
    photo: Image.Image,
    background: Image.Image,
    key_color: Literal["green", "blue"],
    tolerance: int,
    spill: int,
) -> Image.Image:
    """Replace the backdrop: a matte from how much the key channel exceeds the other two, a spill-suppressed
    subject, and the background scaled to cover the photo."""
    rgb = _rgb(photo)
    red, green, blue = rgb.split()
    key, other_a, other_b = (green, red, blue) if key_color == "green" else (blue, red, green)
    excess = ImageChops.subtract(key, ImageChops.lighter(other_a, other_b))
    middle = key_threshold(tolerance)
    low = middle - KEY_SOFTNESS // 2

    def matte(value: int) -> int:
        return max(0, min(255, round((value - low) * 255 / KEY_SOFTNESS)))

    mask = excess.point(matte)
    # Spill: pull the key channel back towards the brighter other channel on what stays of the subject.
    suppressed = ImageChops.subtract(key, excess.point(lambda v: round(v * spill / 100)))
    bands = (red, suppressed, blue) if key_color == "green" else (red, green, suppressed)
    subject = Image.merge("RGB", bands)
    backdrop = ImageOps.fit(_rgb(background), rgb.size, Image.Resampling.LANCZOS)
    return Image.composite(backdrop, subject, mask)


def crop(photo: Image.Image, aspect_ratio: str) -> Image.Image:
    """The largest centred region of the photo with the given `width:height` ratio."""
    w_ratio, h_ratio = (int(part) for part in aspect_ratio.split(":"))
    width, height = photo.size
    if width * h_ratio > height * w_ratio:
        new_width, new_height = round(height * w_ratio / h_ratio), height
    else:
        new_width, new_height = width, round(width * h_ratio / w_ratio)
    left, top = (width - new_width) // 2, (height - new_height) // 2
    return photo.crop((left, top, left + new_width, top + new_height))
