"""The local engine: pixel checks on known inputs for every filter, the frame, the chroma key and crop."""

import io
from collections.abc import Mapping

import pytest
import segno
from PIL import Image, ImageDraw
from pydantic import BaseModel

from photochanger.providers.base import ProviderFailed, TemplateImage
from photochanger.providers.imaging import qr_placement
from photochanger.providers.local.driver import LocalProvider
from photochanger.providers.local.schemas import (
    CropOptions,
    FilterName,
    FilterOptions,
    FrameOptions,
    GreenScreenOptions,
    PassthroughOptions,
)
from tests.fakes.images import decode
from tests.providers.conftest import make_request

GUEST_URL = "https://photos.example.org/r/3q2Vf7kLm9Xa"
Pixel = tuple[int, int, int]


def encode(img: Image.Image, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, fmt)
    return buffer.getvalue()


def swatches() -> Image.Image:
    """Four 20x20 patches side by side: dark grey, mid grey, a muted red and a muted blue."""
    img = Image.new("RGB", (80, 20))
    for index, color in enumerate([(40, 40, 40), (128, 128, 128), (170, 90, 80), (80, 100, 170)]):
        img.paste(color, (index * 20, 0, index * 20 + 20, 20))
    return img


def px(img: Image.Image, xy: tuple[int, int]) -> Pixel:
    r, g, b = img.convert("RGB").getpixel(xy)  # type: ignore[misc]
    return int(r), int(g), int(b)


def saturation(p: Pixel) -> int:
    return max(p) - min(p)


async def run_local(
    operation: str,
    options: BaseModel,
    image: bytes,
    *,
    templates: Mapping[str, TemplateImage] | None = None,
    guest_url: str | None = None,
) -> Image.Image:
    request = make_request(
        options, image=image, output_type="image/png", templates=templates, guest_url=guest_url
    )
    result = await LocalProvider().run(operation, request)
    assert result.content_type == "image/png"
    return decode(result.data)


async def filtered(name: FilterName) -> Image.Image:
    return await run_local("filter", FilterOptions(name=name), encode(swatches()))


SPOTS = [(10, 10), (30, 10), (50, 10), (70, 10)]


async def test_grayscale_removes_all_colour() -> None:
    out = await filtered(FilterName.grayscale)
    red = px(out, (50, 10))
    assert red[0] == red[1] == red[2]
    assert abs(red[0] - (170 * 299 + 90 * 587 + 80 * 114) // 1000) <= 1


async def test_sepia_tints_warm_brown_everywhere() -> None:
    out = await filtered(FilterName.sepia)
    for spot in SPOTS:
        r, g, b = px(out, spot)
        assert r > g > b, spot
    assert px(out, (30, 10)) == (min(255, round(128 * 1.351)), round(128 * 1.203), round(128 * 0.937))


async def test_high_contrast_black_and_white_spreads_the_tones() -> None:
    source = [px(swatches(), spot) for spot in SPOTS]
    out = await filtered(FilterName.bw_high_contrast)
    tones = [px(out, spot) for spot in SPOTS]
    assert all(p[0] == p[1] == p[2] for p in tones)
    gray = [round(0.299 * r + 0.587 * g + 0.114 * b) for r, g, b in source]
    assert max(t[0] for t in tones) - min(t[0] for t in tones) > 2 * (max(gray) - min(gray))
    assert px(out, (10, 10))[0] < 20


async def test_vintage_is_faded_sepia_with_darker_corners() -> None:
    flat = Image.new("RGB", (200, 200), (128, 128, 128))
    out = await run_local("filter", FilterOptions(name=FilterName.vintage), encode(flat))
    centre, corner = px(out, (100, 100)), px(out, (2, 2))
    assert centre[0] > centre[2]
    assert sum(corner) < 0.75 * sum(centre)


async def test_warm_and_cool_shift_the_balance_opposite_ways() -> None:
    warm, cool = await filtered(FilterName.warm), await filtered(FilterName.cool)
    grey = px(swatches(), (30, 10))
    assert px(warm, (30, 10))[0] > grey[0]
    assert px(warm, (30, 10))[2] < grey[2]
    assert px(cool, (30, 10))[2] > grey[2]
    assert px(cool, (30, 10))[0] < grey[0]


async def test_vivid_saturates_fade_lifts_blacks_and_pop_art_posterizes() -> None:
    source = swatches()
    vivid, fade, pop = (
        await filtered(FilterName.vivid),
        await filtered(FilterName.fade),
        await filtered(FilterName.pop_art),
    )
    assert saturation(px(vivid, (50, 10))) > saturation(px(source, (50, 10)))
    assert min(px(fade, (10, 10))) > 40 + 40 * 0.78 - 2
    assert saturation(px(fade, (50, 10))) < saturation(px(source, (50, 10)))
    assert all(channel % 64 == 0 for spot in SPOTS for channel in px(pop, spot))


async def test_every_filter_changes_the_photo() -> None:
    source = swatches().tobytes()
    for name in FilterName:
        assert (await filtered(name)).convert("RGB").tobytes() != source, name


def frame_png() -> bytes:
    """200x100: a 10 px opaque red border, a transparent window, a half-transparent white band at the top."""
    frame = Image.new("RGBA", (200, 100), (255, 0, 0, 255))
    draw = ImageDraw.Draw(frame)
    draw.rectangle((10, 10, 189, 89), fill=(0, 0, 0, 0))
    draw.rectangle((10, 10, 189, 19), fill=(255, 255, 255, 128))
    return encode(frame)


@pytest.mark.parametrize("fit", ["cover", "contain"])
async def test_the_frame_sets_the_size_and_lands_over_the_photo(fit: str) -> None:
    photo = encode(Image.new("RGB", (300, 300), (0, 0, 255)), "JPEG")
    templates = {"frame-1": TemplateImage("frame-1", frame_png(), "image/png")}
    options = FrameOptions.model_validate({"frame_media_id": "frame-1", "fit": fit})
    out = await run_local("frame", options, photo, templates=templates)
    assert out.size == (200, 100)
    assert px(out, (3, 50)) == (255, 0, 0)
    assert px(out, (100, 3)) == (255, 0, 0)
    centre = px(out, (100, 60))
    assert centre[2] > 240
    assert centre[0] < 15
    if fit == "cover":
        assert px(out, (20, 60))[2] > 240
    else:
        # The square photo is contained in the middle 100 px; white shows on either side.
        assert px(out, (20, 60)) == (255, 255, 255)
    band = px(out, (100, 15))
    assert 110 < band[0] < 145
    assert band[2] > 240


async def test_a_frame_without_transparency_is_refused_as_configuration() -> None:
    templates = {"f": TemplateImage("f", encode(Image.new("RGB", (20, 20)), "JPEG"), "image/jpeg")}
    with pytest.raises(ProviderFailed, match="transparency"):
        await run_local("frame", FrameOptions(frame_media_id="f"), encode(swatches()), templates=templates)


def green_screen_photo() -> Image.Image:
    """A green backdrop (40, 200, 60) with a skin-toned subject and a green-tinged edge."""
    img = Image.new("RGB", (120, 80), (40, 200, 60))
    draw = ImageDraw.Draw(img)
    draw.rectangle((40, 20, 79, 79), fill=(220, 170, 140))
    draw.rectangle((36, 20, 39, 79), fill=(150, 170, 140))  # spill: green cast on the edge
    return img


async def test_green_is_replaced_by_the_background_and_the_subject_kept() -> None:
    background = encode(Image.new("RGB", (60, 40), (200, 30, 200)))
    templates = {"bg": TemplateImage("bg", background, "image/png")}
    options = GreenScreenOptions(background_media_id="bg", tolerance=50, spill=100)
    out = await run_local("green_screen", options, encode(green_screen_photo()), templates=templates)
    assert out.size == (120, 80)
    assert px(out, (5, 5)) == (200, 30, 200)
    assert px(out, (110, 70)) == (200, 30, 200)
    assert px(out, (60, 50)) == (220, 170, 140)
    edge = px(out, (37, 50))
    assert edge[1] <= max(edge[0], edge[2])  # the green cast is gone


async def test_tolerance_decides_how_far_from_pure_green_is_keyed() -> None:
    muted = encode(Image.new("RGB", (20, 20), (90, 150, 90)))
    templates = {"bg": TemplateImage("bg", encode(Image.new("RGB", (20, 20), (0, 0, 0))), "image/png")}
    strict = await run_local(
        "green_screen",
        GreenScreenOptions(background_media_id="bg", tolerance=20, spill=0),
        muted,
        templates=templates,
    )
    loose = await run_local(
        "green_screen",
        GreenScreenOptions(background_media_id="bg", tolerance=90, spill=0),
        muted,
        templates=templates,
    )
    assert px(strict, (10, 10)) == (90, 150, 90)
    assert px(loose, (10, 10)) == (0, 0, 0)


@pytest.mark.parametrize(
    ("size", "ratio", "expected"),
    [((300, 200), "1:1", (200, 200)), ((300, 200), "2:3", (133, 200)), ((200, 300), "16:9", (200, 112))],
)
async def test_crop_keeps_the_centre_at_the_ratio(
    size: tuple[int, int], ratio: str, expected: tuple[int, int]
) -> None:
    img = Image.new("RGB", size, (255, 255, 255))
    img.paste((0, 0, 0), (size[0] // 2 - 2, size[1] // 2 - 2, size[0] // 2 + 2, size[1] // 2 + 2))
    out = await run_local("crop", CropOptions(aspect_ratio=ratio), encode(img))
    assert out.size == expected
    assert px(out, (expected[0] // 2, expected[1] // 2)) == (0, 0, 0)


async def test_stamp_qr_draws_the_guest_link_code_in_the_corner() -> None:
    photo = Image.new("RGB", (600, 400), (128, 128, 128))
    out = await run_local(
        "passthrough", PassthroughOptions(stamp_qr=True), encode(photo), guest_url=GUEST_URL
    )
    module_px, (left, top) = qr_placement(photo.size, GUEST_URL)
    qr = segno.make_qr(GUEST_URL, error="m")
    matrix = [list(row) for row in qr.matrix_iter(scale=1, border=2)]
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            value = px(out, (left + x * module_px + module_px // 2, top + y * module_px + module_px // 2))[0]
            assert value == (0 if dark else 255), (x, y)
    assert left + len(matrix) * module_px < 600
    assert top + len(matrix) * module_px < 400
    assert px(out, (10, 10)) == (128, 128, 128)


async def test_stamp_qr_without_a_guest_link_leaves_the_photo_alone() -> None:
    photo = Image.new("RGB", (60, 40), (128, 128, 128))
    result = await LocalProvider().run(
        "passthrough",
        make_request(PassthroughOptions(stamp_qr=True), image=encode(photo), output_type="image/png"),
    )
    assert result.meta["qr_stamped"] is False
    assert decode(result.data).convert("RGB").tobytes() == photo.tobytes()


@pytest.mark.parametrize("short", [120, 200, 320, 640, 2000])
def test_the_stamped_qr_scales_with_the_photo_and_never_covers_it(short: int) -> None:
    module_px, (left, _top) = qr_placement((short * 3 // 2, short), GUEST_URL)
    side = (short * 3 // 2) - left - max(4, round(short * 0.02))
    assert side <= short * 0.25 or module_px == 1
    assert side >= short * 0.15 or module_px == 1
