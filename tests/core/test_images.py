"""Image helpers: lossless JPEG metadata stripping and orientation reading."""

import io

from PIL import Image, ImageChops, ImageCms

from photochanger.core.images import jpeg_orientation, strip_jpeg_metadata
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
