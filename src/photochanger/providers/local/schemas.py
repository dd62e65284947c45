"""Options of the `local` operations (rendered as the slot form's JSON Schema)."""

from enum import StrEnum
from typing import Literal

from pydantic import ConfigDict, Field

from photochanger.providers.imaging import FRAME_MEDIA, TEMPLATE_MEDIA, OperationOptions

CropRatio = Literal["1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9"]


class FilterName(StrEnum):
    grayscale = "grayscale"
    sepia = "sepia"
    vintage = "vintage"
    bw_high_contrast = "bw_high_contrast"
    warm = "warm"
    cool = "cool"
    vivid = "vivid"
    fade = "fade"
    pop_art = "pop_art"


class PassthroughOptions(OperationOptions):
    """Return the photo as shot: orientation applied, metadata stripped, re-encoded."""

    model_config = ConfigDict(title="Passthrough", json_schema_extra={"examples": [{"stamp_qr": False}]})


class FilterOptions(OperationOptions):
    """A colour filter applied to the whole photo."""

    model_config = ConfigDict(
        title="Filter",
        json_schema_extra={"examples": [{"name": "sepia"}, {"name": "bw_high_contrast", "stamp_qr": True}]},
    )

    name: FilterName = Field(
        default=FilterName.grayscale,
        title="Filter",
        description="grayscale, sepia, vintage (faded sepia with a vignette), bw_high_contrast, warm, cool, "
        "vivid (more saturation), fade (matte, lifted blacks) or pop_art (saturated posterized colours).",
    )


class FrameOptions(OperationOptions):
    """Composite a frame (a PNG with transparent windows) over the photo; the frame sets the output size."""

    model_config = ConfigDict(
        title="Frame",
        json_schema_extra={
            "examples": [{"frame_media_id": "6c4d2e1f-0a9b-4c8d-9e7f-5a4b3c2d1e0f", "fit": "cover"}]
        },
    )

    frame_media_id: str = Field(
        min_length=1,
        title="Frame",
        description="Template media: a PNG whose transparent areas show the photo.",
        json_schema_extra=FRAME_MEDIA,
    )
    fit: Literal["cover", "contain"] = Field(
        default="cover",
        title="Fit",
        description="cover fills the frame and crops the photo's overflow; contain shows the whole photo on "
        "the background colour.",
    )
    background: str = Field(
        default="#ffffff",
        pattern=r"^#[0-9a-fA-F]{6}$",
        title="Background colour",
        description="Colour around the photo when it is contained.",
    )


class GreenScreenOptions(OperationOptions):
    """Replace a green (or blue) backdrop with a template background."""

    model_config = ConfigDict(
        title="Green screen",
        json_schema_extra={
            "examples": [
                {"background_media_id": "1b2c3d4e-5f60-4718-9a0b-c1d2e3f40516", "tolerance": 50, "spill": 60}
            ]
        },
    )

    background_media_id: str = Field(
        min_length=1,
        title="Background",
        description="Template media placed behind the subject (scaled to cover the photo).",
        json_schema_extra=TEMPLATE_MEDIA,
    )
    key_color: Literal["green", "blue"] = Field(
        default="green", title="Backdrop colour", description="Colour of the backdrop to remove."
    )
    tolerance: int = Field(
        default=50,
        ge=0,
        le=100,
        title="Tolerance",
        description="How far from a pure backdrop colour a pixel may be and still be replaced (0-100).",
    )
    spill: int = Field(
        default=60,
        ge=0,
        le=100,
        title="Spill suppression",
        description="How much of the backdrop's colour cast is removed from the subject's edges (0-100).",
    )


class CropOptions(OperationOptions):
    """Centre-crop the photo to an aspect ratio (width:height)."""

    model_config = ConfigDict(
        title="Crop", json_schema_extra={"examples": [{"aspect_ratio": "2:3"}, {"aspect_ratio": "1:1"}]}
    )

    aspect_ratio: CropRatio = Field(
        default="2:3",
        title="Aspect ratio",
        description="Width:height of the result, e.g. 2:3 for a 4x6 print.",
    )
