"""Options of the `gemini` operations (rendered as the slot form's JSON Schema)."""

from typing import Literal

from pydantic import ConfigDict, Field, field_validator

from photochanger.providers.gemini.models import DEFAULT_MODEL, MAX_INPUT_SIDE, MIN_INPUT_SIDE, MODELS
from photochanger.providers.imaging import TEMPLATE_MEDIA, AspectRatio, OperationOptions

ImageSize = Literal["512", "1K", "2K", "4K"]


class GeminiEditOptions(OperationOptions):
    """Edit the photo with a Gemini image model, optionally guided by reference images."""

    model_config = ConfigDict(
        title="Gemini edit",
        json_schema_extra={
            "examples": [
                {
                    "prompt": "Turn the people in the photo into 1920s film stars, keep their faces.",
                    "model": "gemini-3.1-flash-image",
                    "template_media_ids": [],
                    "aspect_ratio": "3:4",
                    "stamp_qr": False,
                },
                {
                    "prompt": "Place the guests into the scene of the second image.",
                    "model": "gemini-3-pro-image",
                    "template_media_ids": ["0b9c7c56-2f7e-4d64-8d3e-1f0c6f6d1a11"],
                    "image_size": "2K",
                    "stamp_qr": True,
                },
            ]
        },
    )

    prompt: str = Field(
        min_length=1, max_length=8000, title="Prompt", description="What to do with the photo."
    )
    model: str = Field(
        default=DEFAULT_MODEL,
        min_length=1,
        max_length=200,
        title="Model",
        description="Gemini image model: " + ", ".join(MODELS) + ".",
        json_schema_extra={"enum": list(MODELS)},
    )
    template_media_ids: list[str] = Field(
        default_factory=list,
        max_length=13,
        title="Reference images",
        description="Template media sent after the photo as reference images (Flash models take 2, "
        "Pro models 13).",
        json_schema_extra=TEMPLATE_MEDIA,
    )
    aspect_ratio: AspectRatio | None = Field(
        default=None,
        title="Aspect ratio",
        description="Aspect ratio of the generated image; empty keeps the model's choice (the photo's).",
    )
    image_size: ImageSize | None = Field(
        default=None,
        title="Image size",
        description="Output resolution, on models that take it (Gemini 3 image models; 512 on 3.1 Flash).",
    )
    input_long_side: int | None = Field(
        default=None,
        ge=MIN_INPUT_SIDE,
        le=MAX_INPUT_SIDE,
        title="Photo size sent",
        description="Long side in pixels of the photo sent to Gemini. Empty: the long side of the output "
        "the image size asks for (1280 px for 1K at 3:2), which keeps every detail the result can hold "
        "and spares the venue's uplink.",
    )

    @field_validator("model")
    @classmethod
    def _known_model(cls, value: str) -> str:
        if value not in MODELS:
            raise ValueError(f"not a Gemini image model this server knows; use one of {', '.join(MODELS)}")
        return value
