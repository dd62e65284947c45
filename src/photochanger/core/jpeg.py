"""JPEG marker structure: the segments of the primary image, its scan count, and a copy without metadata.

A JPEG is a chain of marker segments; each scan's entropy-coded data follows its SOS header up to the next
marker that is not a restart (RSTn). Walking that chain, rather than searching for the first SOS and the
last EOI, is what tells the primary image apart from data placed between its scans (APPn, COM) and from
what follows its EOI (an appended MPF preview with its own EXIF, or any trailer).
"""

import mmap
import re
from dataclasses import dataclass

# More scans than any camera or encoder writes: libjpeg's progressive script has 10 for colour and 18 for
# CMYK, mozjpeg's optimised scans a few more. Each scan costs a pass over the whole coefficient buffer
# however few bytes it takes, so a file that repeats one is a CPU bomb that the pixel cap cannot see.
MAX_SCANS = 100

# A marker inside or after entropy-coded data: 0xFF then anything but a stuffed zero, a restart marker or
# a fill byte (a run of fill bytes ends at its last 0xFF, which this finds).
_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")

SOI, EOI, SOS = 0xD8, 0xD9, 0xDA
# Frame headers (SOF0-SOF15 without DHT C4, JPG C8 and DAC CC).
SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Tables and parameters a decoder reads: DHT, DAC, DQT, DNL, DRI, DHP, EXP.
_TABLE_MARKERS = frozenset({0xC4, 0xCC, 0xDB, 0xDC, 0xDD, 0xDE, 0xDF})
_APP0, _APP2, _APP14 = 0xE0, 0xE2, 0xEE
_ICC_TAG = b"ICC_PROFILE\x00"

Buffer = bytes | bytearray | memoryview | mmap.mmap


class JpegStructureError(ValueError):
    """The marker chain is broken in a way no decoder accepts (a second SOI, a bogus segment length)."""


class TooManyScans(JpegStructureError):
    """The primary image has more scans than `MAX_SCANS`."""


@dataclass(frozen=True)
class Segment:
    marker: int
    start: int
    # For SOS, the end of the scan's entropy-coded data.
    end: int


@dataclass(frozen=True)
class JpegLayout:
    segments: tuple[Segment, ...]
    scans: int
    # Offset just past the primary image's EOI; None when the data ends before it.
    end: int | None


def walk(data: Buffer, *, max_scans: int = MAX_SCANS) -> JpegLayout:
    """The marker segments of the primary image, up to and without its EOI. Stops at the first EOI; bytes
    between segments that are not a marker are skipped the way libjpeg skips them (to the next marker), so
    every scan a decoder would run is counted. Raises `TooManyScans` or `JpegStructureError`."""
    view = memoryview(data).cast("B")
    try:
        return _walk(view, max_scans)
    finally:
        # An error's traceback keeps this frame: without the release, a mapped file could not be closed.
        view.release()


def _walk(view: memoryview, max_scans: int) -> JpegLayout:
    size = len(view)
    if size < 2 or view[0] != 0xFF or view[1] != SOI:
        raise JpegStructureError("no SOI marker")
    segments: list[Segment] = []
    scans = 0
    pos = 2
    while pos + 2 <= size:
        if view[pos] != 0xFF or view[pos + 1] == 0x00:
            found = _NEXT_MARKER.search(view, pos)
            if found is None:
                break
            pos = found.start()
            continue
        marker = view[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == EOI:
            return JpegLayout(tuple(segments), scans, pos + 2)
        if marker == SOI:
            raise JpegStructureError("a second SOI marker inside the image")
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # RSTn or TEM: no length
            pos += 2
            continue
        if pos + 4 > size:
            break
        length = (view[pos + 2] << 8) | view[pos + 3]
        if length < 2:
            raise JpegStructureError("a marker segment with a bogus length")
        end = pos + 2 + length
        if end > size:
            break
        if marker == SOS:
            scans += 1
            if scans > max_scans:
                raise TooManyScans(f"more than {max_scans} scans")
            found = _NEXT_MARKER.search(view, end)
            end = found.start() if found is not None else size
        segments.append(Segment(marker, pos, end))
        pos = end
    return JpegLayout(tuple(segments), scans, None)


def _kept(view: memoryview, segment: Segment) -> bytes | memoryview | None:
    """What of `segment` a metadata-free copy keeps: what a decoder needs, the ICC profile, the JFIF and
    Adobe markers (they decide the colour transform) without the JFIF thumbnail; None to drop it."""
    marker, start, end = segment.marker, segment.start, segment.end
    if marker in SOF_MARKERS or marker in _TABLE_MARKERS or marker == SOS:
        return view[start:end]
    head = bytes(view[start + 4 : min(end, start + 4 + len(_ICC_TAG))])
    if marker == _APP2 and head == _ICC_TAG:
        return view[start:end]
    if marker == _APP14 and head[:5] == b"Adobe":
        return view[start:end]
    if marker == _APP0 and head[:5] == b"JFIF\x00" and end - start >= 16:
        # Version, units and density; the thumbnail dimensions set to 0 and its pixels left out.
        return b"\xff\xe0\x00\x10" + bytes(view[start + 4 : start + 16]) + b"\x00\x00"
    # EXIF and XMP (APP1), MPF and FlashPix (APP2), IPTC (APP13), maker data, comments, JPGn extensions.
    return None


def strip_metadata(data: bytes) -> bytes | None:
    """The primary image with every segment a decoder does not need removed and its entropy-coded data
    untouched (no generation loss); nothing after its EOI. `data` itself (`is`, no copy) when that removes
    nothing. None when the structure is not one this walk can vouch for (truncated, no single frame
    header, no scan, too many scans)."""
    try:
        layout = walk(data)
    except JpegStructureError:
        return None
    if not _strippable(layout):
        return None
    view = memoryview(data)
    if _unchanged(view, layout):
        # Nothing to drop (a file already clean): the caller gets `data` itself, not a copy of it.
        return data
    parts: list[bytes | memoryview] = [b"\xff\xd8"]
    parts += [kept for segment in layout.segments if (kept := _kept(view, segment)) is not None]
    parts.append(b"\xff\xd9")
    # Kept segments are views joined once: the scan data is copied a single time.
    return b"".join(parts)


def is_metadata_free(data: Buffer, layout: JpegLayout) -> bool:
    """Whether `strip_metadata(data)` is `data` itself, from the `walk` already made of it: nothing to drop,
    so no EXIF orientation either (it lives in the APP1 segments that would go)."""
    view = memoryview(data).cast("B")
    try:
        return _strippable(layout) and _unchanged(view, layout)
    finally:
        view.release()


def _strippable(layout: JpegLayout) -> bool:
    frames = sum(1 for s in layout.segments if s.marker in SOF_MARKERS)
    return layout.end is not None and frames == 1 and layout.scans > 0


def _unchanged(view: memoryview, layout: JpegLayout) -> bool:
    """Whether the metadata-free copy of the walked `view` would be `view` byte for byte: each segment kept
    as it stands, one after the other, and the EOI the last two bytes."""
    if layout.end != len(view):
        return False
    at = 2
    for segment in layout.segments:
        if segment.start != at or not _same(_kept(view, segment), view, segment):
            return False
        at = segment.end
    return at + 2 == len(view)


def _same(kept: bytes | memoryview | None, view: memoryview, segment: Segment) -> bool:
    """Whether the kept form of `segment` is the segment as it stands (`_kept` returns a view of the whole
    segment, or a rewritten JFIF marker that is compared: it is 18 bytes)."""
    if kept is None:
        return False
    if isinstance(kept, memoryview):
        return True
    return kept == view[segment.start : segment.end].tobytes()
