"""What validating an image yields: its facts and the images made from the one decode (see `core.images`)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class PreparedImage:
    """An encoded image ready for an upstream; `max_side` is the cap it was prepared for (None: as sent)."""

    data: bytes
    content_type: str
    width: int
    height: int
    max_side: int | None = None


@dataclass(frozen=True)
class ImageInfo:
    content_type: str
    width: int
    height: int
    has_alpha: bool
    # Optional JPEG preview (EXIF orientation applied) made from the validation decode itself.
    preview: bytes | None = None
    # Optional provider input (orientation applied, fitted to a cap) made from that same decode.
    provider_input: PreparedImage | None = None
    # A JPEG with no metadata to drop (`jpeg.is_metadata_free`): upright, and its own metadata-free form.
    metadata_free: bool = False

    @property
    def pixels(self) -> int:
        return self.width * self.height
