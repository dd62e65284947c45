"""Colour filters of the `local` engine: pure Pillow functions on RGB images (blocking; run in a thread)."""

from collections.abc import Callable

from PIL import Image, ImageChops, ImageEnhance, ImageOps

from photochanger.providers.local.schemas import FilterName

# The classic sepia tone matrix (Microsoft's): every output pixel has red >= green >= blue.
SEPIA_MATRIX = (0.393, 0.769, 0.189, 0.0, 0.349, 0.686, 0.168, 0.0, 0.272, 0.534, 0.131, 0.0)


def _lut(func: Callable[[int], float]) -> list[int]:
    return [max(0, min(255, round(func(v)))) for v in range(256)]


def _per_channel(img: Image.Image, red: list[int], green: list[int], blue: list[int]) -> Image.Image:
    return img.point(red + green + blue)


def grayscale(img: Image.Image) -> Image.Image:
    return ImageOps.grayscale(img).convert("RGB")


def sepia(img: Image.Image) -> Image.Image:
    return img.convert("RGB", SEPIA_MATRIX)


def vignette(img: Image.Image, strength: float) -> Image.Image:
    """Darken towards the corners: the centre is untouched, the corners lose `strength` of their light."""
    # radial_gradient is 0 at the centre of a 256x256 square and 255 at its inscribed circle's edge.
    distance = Image.radial_gradient("L").resize(img.size, Image.Resampling.BILINEAR)
    factor = distance.point(_lut(lambda d: 255 * (1 - strength * (d / 255) ** 2)))
    return ImageChops.multiply(img, Image.merge("RGB", (factor, factor, factor)))


def vintage(img: Image.Image) -> Image.Image:
    toned = Image.blend(img, sepia(img), 0.6)
    faded = toned.point(_lut(lambda v: 24 + v * 0.85) * 3)
    warm = _per_channel(faded, _lut(lambda v: v * 1.04), _lut(lambda v: v), _lut(lambda v: v * 0.92))
    return vignette(warm, 0.45)


def bw_high_contrast(img: Image.Image) -> Image.Image:
    gray = ImageOps.autocontrast(ImageOps.grayscale(img), cutoff=1)
    return ImageEnhance.Contrast(gray).enhance(1.8).convert("RGB")


def warm(img: Image.Image) -> Image.Image:
    return _per_channel(img, _lut(lambda v: v * 1.08 + 8), _lut(lambda v: v * 1.02), _lut(lambda v: v * 0.88))


def cool(img: Image.Image) -> Image.Image:
    return _per_channel(img, _lut(lambda v: v * 0.88), _lut(lambda v: v * 1.0), _lut(lambda v: v * 1.08 + 8))


def vivid(img: Image.Image) -> Image.Image:
    return ImageEnhance.Contrast(ImageEnhance.Color(img).enhance(1.5)).enhance(1.1)


def fade(img: Image.Image) -> Image.Image:
    matte = img.point(_lut(lambda v: 40 + v * 0.78) * 3)
    return ImageEnhance.Color(matte).enhance(0.8)


def pop_art(img: Image.Image) -> Image.Image:
    return ImageOps.posterize(ImageEnhance.Color(img).enhance(1.6), 2)


FILTERS: dict[FilterName, Callable[[Image.Image], Image.Image]] = {
    FilterName.grayscale: grayscale,
    FilterName.sepia: sepia,
    FilterName.vintage: vintage,
    FilterName.bw_high_contrast: bw_high_contrast,
    FilterName.warm: warm,
    FilterName.cool: cool,
    FilterName.vivid: vivid,
    FilterName.fade: fade,
    FilterName.pop_art: pop_art,
}


def apply_filter(img: Image.Image, name: FilterName) -> Image.Image:
    """`img` (any mode) through the named filter, as RGB."""
    rgb = img if img.mode == "RGB" else img.convert("RGB")
    return FILTERS[name](rgb)
