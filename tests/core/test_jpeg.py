"""The JPEG marker walk: scan counting, and metadata-free copies of the primary image only."""

import pytest
from PIL import ImageChops

from photochanger.core import jpeg
from tests.support import images

GPS_NEEDLES = (b"Exif", b"PhoneMaker")


def _markers(data: bytes) -> list[int]:
    return [s.marker for s in jpeg.walk(data).segments]


def test_walk_counts_the_scans_of_a_progressive_jpeg() -> None:
    layout = jpeg.walk(images.progressive_jpeg(256, 192))
    assert layout.scans == 10  # libjpeg's default progressive script for colour
    assert layout.end is not None


def test_walk_refuses_more_scans_than_any_encoder_writes() -> None:
    with pytest.raises(jpeg.TooManyScans):
        jpeg.walk(images.scan_bomb(200, width=512, height=384))
    # At the cap itself the file is still a JPEG like any other.
    assert jpeg.walk(images.scan_bomb(jpeg.MAX_SCANS - 10, width=512, height=384)).scans == jpeg.MAX_SCANS


def test_walk_counts_scans_hidden_behind_garbage_between_segments() -> None:
    photo = images.progressive_jpeg(256, 192)
    # libjpeg skips stray bytes to the next marker and decodes on; the walk must see those scans too.
    hidden = images.insert_between_scans(images.scan_bomb(150, width=256, height=192), b"\x00junk\x00")
    with pytest.raises(jpeg.TooManyScans):
        jpeg.walk(hidden)
    assert jpeg.walk(images.insert_between_scans(photo, b"\x00junk\x00")).scans == 10


def test_walk_stops_at_the_primary_images_eoi() -> None:
    camera_file = images.with_mpf_preview(images.progressive_jpeg(256, 192))
    layout = jpeg.walk(camera_file)
    assert layout.scans == 10
    # The appended preview starts right after the primary image's EOI.
    assert layout.end == camera_file.rindex(b"\xff\xd8\xff")


def test_strip_drops_an_appended_mpf_preview_and_its_gps() -> None:
    icc = images.srgb_icc()
    primary = images.progressive_jpeg(256, 192, icc_profile=icc, exif=images.gps_exif())
    camera_file = images.with_mpf_preview(primary)
    stripped = jpeg.strip_metadata(camera_file)
    assert stripped is not None
    for needle in (*GPS_NEEDLES, b"MPF\x00"):
        assert needle in camera_file
        assert needle not in stripped
    assert stripped.count(b"\xff\xd8") == 1  # one image: the appended one is gone
    assert stripped.endswith(b"\xff\xd9")
    assert images.decode(stripped).info.get("icc_profile") == icc
    assert ImageChops.difference(images.decode(primary), images.decode(stripped)).getbbox() is None


def test_strip_drops_app_and_com_segments_between_progressive_scans() -> None:
    photo = images.progressive_jpeg(256, 192, icc_profile=images.srgb_icc())
    xmp = images.segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>hidden</x:xmpmeta>")
    exif = images.segment(0xE1, b"Exif\x00\x00" + images.gps_exif())
    iptc = images.segment(0xED, b"Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x05city!")
    comment = images.segment(0xFE, b"between the scans")
    crafted = images.insert_between_scans(photo, xmp, exif, iptc, comment)
    stripped = jpeg.strip_metadata(crafted)
    assert stripped is not None
    assert {0xE1, 0xED, 0xFE} <= set(_markers(crafted))
    assert set(_markers(stripped)) <= {0xE0, 0xE2, 0xDB, 0xC2, 0xC4, 0xDA}
    for needle in (b"xmpmeta", b"PhoneMaker", b"8BIM", b"between the scans"):
        assert needle not in stripped
    assert ImageChops.difference(images.decode(photo), images.decode(stripped)).getbbox() is None


def test_strip_keeps_jfif_without_its_thumbnail() -> None:
    photo = images.jpeg()
    assert photo[6:11] == b"JFIF\x00"
    thumb = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x02\x01" + b"\xff\x00\x00" * 2
    crafted = photo[:2] + images.segment(0xE0, thumb) + photo[20:]
    stripped = jpeg.strip_metadata(crafted)
    assert stripped is not None
    assert stripped[2:20] == b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    assert images.decode(stripped).size == images.decode(photo).size


def test_strip_refuses_structures_it_cannot_vouch_for() -> None:
    photo = images.progressive_jpeg(128, 96)
    assert jpeg.strip_metadata(photo[: len(photo) // 2]) is None  # no EOI
    assert jpeg.strip_metadata(b"\xff\xd8\xff\xd9") is None  # no frame, no scan
    assert jpeg.strip_metadata(photo[:2] + b"\xff\xd8" + photo[2:]) is None  # a second SOI
    assert jpeg.strip_metadata(images.scan_bomb(200, width=128, height=96)) is None


def test_strip_hands_back_a_clean_file_itself() -> None:
    """Nothing to drop: the caller gets the very bytes object (no 12 MB copy), so a passthrough can keep
    the upload's own file as its result."""
    clean = images.jpeg(320, 240)
    assert jpeg.strip_metadata(clean) is clean
    tagged = images.jpeg(320, 240, orientation=1)
    stripped = jpeg.strip_metadata(tagged)
    assert stripped is not tagged
    assert stripped is not None
    assert b"Exif" not in stripped


def test_a_walk_tells_a_metadata_free_file_as_strip_would() -> None:
    """The validation's walk decides what `strip_metadata` would: a file is metadata-free exactly when the
    strip gives it back itself."""
    cases = [
        images.jpeg(320, 240),
        images.jpeg(320, 240, orientation=1),
        images.progressive_jpeg(128, 96, icc_profile=images.srgb_icc()),
        images.with_mpf_preview(images.progressive_jpeg(128, 96)),
        images.jpeg(320, 240) + b"trailer",
    ]
    verdicts = [jpeg.is_metadata_free(data, jpeg.walk(data)) for data in cases]
    assert verdicts == [jpeg.strip_metadata(data) is data for data in cases]
    assert verdicts == [True, False, True, False, False]
    truncated = cases[0][: len(cases[0]) // 2]
    assert not jpeg.is_metadata_free(truncated, jpeg.walk(truncated))
