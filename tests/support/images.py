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


def _jpeg_segments(data: bytes) -> list[tuple[int, int, int]]:
    """(marker, start, end) of each segment up to the first EOI; a scan runs to the next non-RST marker."""
    out: list[tuple[int, int, int]] = []
    pos = 2
    while data[pos + 1] != 0xD9:
        marker = data[pos + 1]
        end = pos + 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
        if marker == 0xDA:
            while not (data[end] == 0xFF and data[end + 1] not in (0x00, *range(0xD0, 0xD8))):
                end += 1
        out.append((marker, pos, end))
        pos = end
    return out


def progressive_jpeg(
    width: int = 1024, height: int = 768, *, icc_profile: bytes | None = None, exif: bytes | None = None
) -> bytes:
    """A progressive JPEG (libjpeg's default 10-scan script) of a smooth gradient with noise, as a camera
    app writes it."""
    gradient = Image.linear_gradient("L").resize((width, height))
    noise = Image.frombytes("L", (width, height), os.urandom(width * height))
    img = Image.merge("RGB", (gradient, Image.blend(gradient, noise, 0.3), noise))
    buffer = io.BytesIO()
    extra: dict[str, bytes] = {}
    if icc_profile is not None:
        extra["icc_profile"] = icc_profile
    if exif is not None:
        extra["exif"] = exif
    img.save(buffer, "JPEG", quality=90, progressive=True, **extra)
    return buffer.getvalue()


def flat_progressive_jpeg(width: int = 6000, height: int = 4000) -> bytes:
    """A large progressive JPEG that is almost one flat colour: tiny AC scans, each still a pass over every
    block of a 24-megapixel image."""
    img = Image.new("RGB", (width, height), (120, 160, 200))
    img.paste((230, 200, 90), (0, 0, 256, 192))
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", quality=90, progressive=True)
    return buffer.getvalue()


def scan_bomb(repeats: int = 1000, *, width: int = 6000, height: int = 4000) -> bytes:
    """The review's hostile file: a progressive JPEG under the pixel cap, a few hundred KB, whose last scan
    is repeated `repeats` times."""
    return repeat_last_scan(flat_progressive_jpeg(width, height), repeats)


def repeat_last_scan(data: bytes, times: int) -> bytes:
    """`data` with its last scan (header and entropy-coded data) repeated `times` more times before EOI:
    every decoder runs each copy, and the pixel count does not change."""
    marker, start, end = _jpeg_segments(data)[-1]
    assert marker == 0xDA
    return data[:end] + data[start:end] * times + data[end:]


def first_scan(data: bytes) -> bytes:
    """The first scan of a JPEG: its SOS header and entropy-coded data."""
    _marker, start, end = next(s for s in _jpeg_segments(data) if s[0] == 0xDA)
    return data[start:end]


def insert_between_scans(data: bytes, *segments: bytes) -> bytes:
    """`data` with whole marker segments (e.g. APP1 EXIF, COM) inserted after its first scan."""
    first_scan = next(s for s in _jpeg_segments(data) if s[0] == 0xDA)
    return data[: first_scan[2]] + b"".join(segments) + data[first_scan[2] :]


def segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + (len(payload) + 2).to_bytes(2, "big") + payload


def gps_exif(latitude: float = 48.8584, longitude: float = 2.2945) -> bytes:
    """EXIF (as Pillow writes it, no APP1 header) with a camera make and a GPS position."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    gps = {1: "N", 2: (latitude, 0.0, 0.0), 3: "E", 4: (longitude, 0.0, 0.0)}
    exif[0x8825] = gps
    return exif.tobytes()


def srgb_icc() -> bytes:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def with_mpf_preview(primary: bytes) -> bytes:
    """A camera-style MPO: `primary` with an APP2 "MPF" index (CIPA DC-007) in front, and a second JPEG (a
    preview carrying its own EXIF with GPS) appended after the primary image's EOI, the way cameras and
    phones store MPF previews."""
    preview = Image.new("RGB", (160, 120), (90, 160, 30))
    buffer = io.BytesIO()
    preview.save(buffer, "JPEG", quality=80, exif=gps_exif())
    second = buffer.getvalue()

    def index(second_offset: int) -> bytes:
        # Big-endian TIFF header, then an IFD of three tags: MPFVersion, NumberOfImages, MPEntry (2 x 16).
        ifd = (3).to_bytes(2, "big")
        ifd += b"\xb0\x00\x00\x07" + (4).to_bytes(4, "big") + b"0100"
        ifd += b"\xb0\x01\x00\x04" + (1).to_bytes(4, "big") + (2).to_bytes(4, "big")
        ifd += b"\xb0\x02\x00\x07" + (32).to_bytes(4, "big") + (8 + 2 + 3 * 12 + 4).to_bytes(4, "big")
        ifd += b"\x00\x00\x00\x00"
        entries = (0x20030000).to_bytes(4, "big") + len(primary).to_bytes(4, "big") + bytes(8)
        entries += (0x00010001).to_bytes(4, "big") + len(second).to_bytes(4, "big")
        entries += second_offset.to_bytes(4, "big") + bytes(4)
        return b"MPF\x00" + b"MM\x00\x2a\x00\x00\x00\x08" + ifd + entries

    mpf_length = len(segment(0xE2, index(0)))
    # Offsets count from the MP header's byte order mark, 8 bytes into the segment (marker, length, "MPF\0").
    second_offset = len(primary) + mpf_length - (2 + 8)
    return primary[:2] + segment(0xE2, index(second_offset)) + primary[2:] + second
