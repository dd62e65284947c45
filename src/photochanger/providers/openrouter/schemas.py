"""Options of the `openrouter` operations (rendered as the slot form's JSON Schema)."""

from typing import Literal

from pydantic import ConfigDict, Field

from photochanger.providers.imaging import TEMPLATE_MEDIA, AspectRatio, OperationOptions


class OpenRouterEditOptions(OperationOptions):
    """Edit the photo with any image-output model OpenRouter routes to."""

    model_config = ConfigDict(
        title="OpenRouter edit",
        json_schema_extra={
            "examples": [
                {
                    "prompt": "Give everyone a superhero costume.",
                    "model": "google/gemini-2.5-flash-image",
                    "aspect_ratio": "2:3",
                    "stamp_qr": True,
                },
                {
                    "prompt": "Blend the guests into the poster of the second image.",
                    "model": "google/gemini-3-pro-image-preview",
                    "template_media_ids": ["5a1d0c1e-8f5e-4f0e-b7a3-6c2e9d4f1b22"],
                    "image_size": "2K",
                },
            ]
        },
    )

    prompt: str = Field(
        min_length=1, max_length=8000, title="Prompt", description="What to do with the photo."
    )
    model: str = Field(
        default="google/gemini-2.5-flash-image",
        min_length=1,
        max_length=200,
        title="Model",
        description="OpenRouter model slug with image output, e.g. google/gemini-2.5-flash-image.",
    )
    template_media_ids: list[str] = Field(
        default_factory=list,
        max_length=10,
        title="Reference images",
        description="Template media sent after the photo as further image parts.",
        json_schema_extra=TEMPLATE_MEDIA,
    )
    aspect_ratio: AspectRatio | None = Field(
        default=None,
        title="Aspect ratio",
        description="`image_config.aspect_ratio`; empty keeps the model's choice.",
    )
    image_size: Literal["1K", "2K", "4K"] | None = Field(
        default=None,
        title="Image size",
        description="`image_config.image_size`, on models that take it.",
    )
