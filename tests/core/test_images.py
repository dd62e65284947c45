"""Image helpers: lossless JPEG metadata stripping and orientation reading."""

import io
import time
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageCms

from photochanger.core.images import (
    INPUT_QUALITY,
    DecodeBudget,
    DecodeDeadline,
    DecodeTooCostly,
    InvalidImage,
    UnsupportedImageType,
    dct_scale,
    decode_cost,
    header_size,
    inspect_image,
    jpeg_orientation,
    load_oriented,
    orient,
    strip_jpeg_metadata,
)
from tests.support import images


def _jpeg_with_metadata(*, orientation: int = 1, icc: bytes | None = None) -> bytes:
    img = Image.effect_noise((64, 48), 60).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "Canon"  # Make
    exif[0x8825] = {2: (55.0, 45.0, 0.0)}  # GPS IFD: where the guest stood
    buffer = io.BytesIO()
    extra = {"icc_profile": icc} if icc else {}
    img.save(buffer, "JPEG", quality=90, exif=exif.tobytes(), comment=b"shot at the wedding", **extra)
    data = buffer.getvalue()
    # An XMP packet as cameras write it, in its own APP1 segment right after SOI.
    xmp = b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>secret</x:xmpmeta>"
    segment = b"\xff\xe1" + (len(xmp) + 2).to_bytes(2, "big") + xmp
    return data[:2] + segment + data[2:]


def test_strip_removes_exif_xmp_and_comments_and_keeps_the_pixels_bit_for_bit() -> None:
    original = _jpeg_with_metadata()
    stripped = strip_jpeg_metadata(original)
    assert stripped is not None
    assert len(stripped) < len(original)
    for needle in (b"Exif", b"Canon", b"xmpmeta", b"wedding"):
        assert needle in original
        assert needle not in stripped
    before = images.decode(original).convert("RGB")
    after = images.decode(stripped)
    assert not after.getexif()
    assert ImageChops.difference(before, after.convert("RGB")).getbbox() is None


def test_strip_keeps_the_icc_colour_profile() -> None:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    stripped = strip_jpeg_metadata(_jpeg_with_metadata(icc=icc))
    assert stripped is not None
    assert images.decode(stripped).info.get("icc_profile") == icc


def test_strip_refuses_what_it_cannot_vouch_for() -> None:
    photo = images.jpeg()
    assert strip_jpeg_metadata(b"not a jpeg") is None
    assert strip_jpeg_metadata(photo[:40]) is None
    assert strip_jpeg_metadata(photo[: photo.index(b"\xff\xda") + 2]) is None


def test_orientation_is_read_from_the_headers() -> None:
    assert jpeg_orientation(_jpeg_with_metadata(orientation=6)) == 6
    assert jpeg_orientation(images.jpeg()) == 1
    assert jpeg_orientation(b"garbage") == 1


def test_inspection_refuses_a_repeated_scan_bomb_at_once() -> None:
    bomb = images.scan_bomb(1000)
    assert len(bomb) < 400_000  # a few hundred KB, 24 megapixels: under every size and pixel cap
    started = time.process_time()
    with pytest.raises(InvalidImage, match="scans"):
        inspect_image(bomb, preview_long_side=320)
    assert time.process_time() - started < 0.5


def test_every_decode_is_bounded_in_cpu_time() -> None:
    # 95 scans: under the scan cap, yet each scan is a pass over 375,000 blocks.
    heavy = images.scan_bomb(85)
    with pytest.raises(DecodeTooCostly):
        inspect_image(heavy, budget=DecodeBudget(cpu_seconds=0.05))
    started = time.thread_time()
    with pytest.raises(DecodeTooCostly):
        load_oriented(heavy, DecodeBudget(cpu_seconds=0.05))
    # Refused close to its budget: the reads that check it come every 16 KiB.
    assert time.thread_time() - started < 0.5


def test_the_deadline_bounds_a_decode() -> None:
    with pytest.raises(DecodeDeadline):
        inspect_image(images.noisy_jpeg(0.5), budget=DecodeBudget(deadline=time.monotonic() - 0.001))


def test_a_normal_photo_decodes_within_the_default_budget() -> None:
    info = inspect_image(images.progressive_jpeg(2000, 1500), preview_long_side=320, budget=DecodeBudget())
    assert (info.width, info.height) == (2000, 1500)
    assert info.preview is not None


@pytest.mark.parametrize(
    ("size", "preview", "provider", "denominator"),
    [
        ((6000, 4000), 320, 3072, 2),  # 3000 px reaches 90 % of the cap: no full decode, no resize
        ((6000, 4000), 320, 2048, 2),  # 3000 px, then resized to 2048
        ((6000, 4000), 320, None, 8),  # validation and preview only
        ((3264, 2448), 320, 3072, 1),  # half would be 1632 px, far under the cap
        ((8000, 6000), 320, 2048, 4),
        ((1000, 800), 320, None, 2),
    ],
)
def test_dct_scale_is_the_cheapest_that_serves_every_consumer(
    size: tuple[int, int], preview: int, provider: int | None, denominator: int
) -> None:
    assert dct_scale(*size, preview=preview, provider=provider) == denominator


def test_decode_cost_bounds_the_input_a_provider_is_sent_by_its_cap(tmp_path: Path) -> None:
    big = tmp_path / "big.jpg"
    big.write_bytes(images.jpeg(6000, 4000))
    cost = decode_cost(big, preview_long_side=320, input_long_side=1280)
    # Decoded at 1/4 (1500 x 1000) and resized to 1280 x 854 beside it; the input is that fit encoded.
    assert cost.bitmap == 1500 * 1000 * 4 + 1280 * 854 * 4
    assert cost.input_bound == min(big.stat().st_size, 1280 * 854 * 4)
    # Only a preview: no resize, and no input beyond the file itself.
    local = decode_cost(big, preview_long_side=320, input_long_side=None)
    assert local == type(cost)(750 * 500 * 4, big.stat().st_size)
    # An upright JPEG within the cap goes as it is: its own size bounds the input.
    small = tmp_path / "small.jpg"
    small.write_bytes(images.jpeg(1200, 800))
    within = decode_cost(small, preview_long_side=320, input_long_side=1280)
    assert within.input_bound == small.stat().st_size
    assert within.bitmap == 600 * 400 * 4  # decoded at 1/2 for the preview alone
    # An unreadable header: nothing decoded, the file's size bounds what could be sent.
    junk = tmp_path / "junk"
    junk.write_bytes(b"not an image at all")
    assert decode_cost(junk, preview_long_side=320, input_long_side=1280) == type(cost)(0, 19)


def test_one_decode_yields_validation_preview_and_provider_input() -> None:
    photo = images.jpeg(6000, 4000, orientation=6)
    info = inspect_image(photo, preview_long_side=320, input_long_side=3072)
    assert info.preview is not None
    assert images.decode(info.preview).size == (213, 320)
    ready = info.provider_input
    assert ready is not None
    # Decoded at 1/2 (3000 x 2000), turned upright, not resized: within the 3072 px cap.
    assert (ready.width, ready.height, ready.max_side) == (2000, 3000, 3072)
    assert images.decode(ready.data).size == (2000, 3000)
    assert not images.decode(ready.data).getexif()


def test_an_upright_jpeg_within_the_cap_is_left_for_the_provider_as_it_is() -> None:
    info = inspect_image(images.jpeg(2000, 1500), preview_long_side=320, input_long_side=3072)
    assert info.provider_input is None
    turned = inspect_image(
        images.jpeg(2000, 1500, orientation=3), preview_long_side=320, input_long_side=3072
    )
    assert turned.provider_input is not None


def test_inspection_of_a_truncated_photo_still_fails_when_a_reduced_decode_is_enough() -> None:
    photo = images.noisy_jpeg(1.0)
    with pytest.raises(InvalidImage):
        inspect_image(photo[: len(photo) - 4096], input_long_side=256)


def test_orient_copies_nothing_for_an_upright_image() -> None:
    upright = images.decode(images.jpeg(64, 48, orientation=1))
    assert orient(upright) is upright
    turned = images.decode(images.jpeg(64, 48, orientation=6))
    assert orient(turned).size == (48, 64)
    # An upright decode is handed back itself: no full-bitmap copy.
    decoded = load_oriented(images.jpeg(640, 480))
    assert decoded.size == (640, 480)
    assert decoded.getpixel((1, 1)) == images.decode(images.jpeg(640, 480)).getpixel((1, 1))


@pytest.mark.parametrize(("size", "decoded"), [((1100, 825), (550, 413)), ((6000, 4000), (750, 500))])
def test_the_validation_decode_is_dct_scaled_for_odd_sizes_too(
    size: tuple[int, int], decoded: tuple[int, int]
) -> None:
    info = inspect_image(images.jpeg(*size), preview_long_side=320, input_long_side=decoded[0])
    # Asked for an input no larger than the reduced decode: it is the reduced decode itself, unresized.
    assert info.provider_input is not None
    assert (info.provider_input.width, info.provider_input.height) == decoded


def test_a_png_input_for_a_provider_carries_no_metadata() -> None:
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    photo = Image.new("RGBA", (4000, 3000), (10, 200, 10, 128))
    photo.save(buffer, "PNG", exif=exif.tobytes(), icc_profile=icc)
    assert b"iCCP" in buffer.getvalue()
    info = inspect_image(buffer.getvalue(), input_long_side=2048)
    assert info.provider_input is not None
    assert info.provider_input.content_type == "image/png"
    # Like every input a driver prepares: pixels only (Pillow would copy the PNG's profile over).
    for needle in (b"PhoneMaker", b"iCCP", b"eXIf"):
        assert needle not in info.provider_input.data
    assert images.decode(info.provider_input.data).size == (2048, 1536)


def test_inspecting_a_file_maps_it_and_finds_what_its_bytes_show(tmp_path: Path) -> None:
    path = tmp_path / "upload"
    path.write_bytes(images.jpeg(1600, 1200, orientation=6))
    from_file = inspect_image(path, preview_long_side=320, input_long_side=1216)
    from_bytes = inspect_image(path.read_bytes(), preview_long_side=320, input_long_side=1216)
    assert from_file == from_bytes
    assert not from_file.metadata_free  # its EXIF would go
    assert header_size(path) == (1600, 1200)
    truncated = tmp_path / "truncated"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(InvalidImage):
        inspect_image(truncated, preview_long_side=320)
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    with pytest.raises(UnsupportedImageType):
        inspect_image(empty)
    assert header_size(empty) is None


def test_a_provider_input_is_encoded_at_the_input_quality() -> None:
    # A noisy photo shows the quality in its size: q85 takes clearly less than the q90 of results.
    noisy = Image.effect_noise((1600, 1200), 40).convert("RGB")
    buffer = io.BytesIO()
    noisy.save(buffer, "JPEG", quality=95)
    info = inspect_image(buffer.getvalue(), input_long_side=800)
    assert info.provider_input is not None
    sent = Image.open(io.BytesIO(info.provider_input.data))
    assert sent.size == (800, 600)
    at_q90 = io.BytesIO()
    sent.convert("RGB").save(at_q90, "JPEG", quality=90)
    assert INPUT_QUALITY == 85
    assert len(info.provider_input.data) < 0.9 * len(at_q90.getvalue())


def test_a_refused_file_leaves_its_mapping_closed(tmp_path: Path) -> None:
    """The structure walk's error must not keep the mapped file open (the refusal is InvalidImage)."""
    path = tmp_path / "bomb"
    path.write_bytes(images.scan_bomb(1000))
    with pytest.raises(InvalidImage, match="scans"):
        inspect_image(path, preview_long_side=320)


def test_inspection_knows_a_jpeg_with_no_metadata_to_drop(tmp_path: Path) -> None:
    """What lets a passthrough keep the upload as its result without reading it again."""
    path = tmp_path / "upload"
    path.write_bytes(images.jpeg(1600, 1200))
    assert inspect_image(path, preview_long_side=320).metadata_free
    assert strip_jpeg_metadata(path.read_bytes()) == path.read_bytes()
    assert not inspect_image(_jpeg_with_metadata()).metadata_free
    png = io.BytesIO()
    Image.new("RGB", (64, 48)).save(png, "PNG")
    assert not inspect_image(png.getvalue()).metadata_free
