"""Options of the `gpt_image` operations (rendered as the slot form's JSON Schema)."""

from typing import Literal

from pydantic import ConfigDict, Field, field_validator

from photochanger.providers.gpt_image.models import DEFAULT_MODEL, MODELS
from photochanger.providers.imaging import TEMPLATE_MEDIA, OperationOptions


class GptImageEditOptions(OperationOptions):
    """Edit the photo with an OpenAI GPT Image model, optionally with reference images."""

    model_config = ConfigDict(
        title="OpenAI GPT Image edit",
        json_schema_extra={
            "examples": [
                {
                    "prompt": "Make it a watercolor painting, keep everyone recognisable.",
                    "model": "gpt-image-1.5",
                    "size": "1024x1536",
                    "quality": "medium",
                    "input_fidelity": "high",
                    "stamp_qr": False,
                },
                {
                    "prompt": "Put the guests on the magazine cover of the second image.",
                    "model": "gpt-image-1-mini",
                    "template_media_ids": ["7d0f6a4e-1c1b-4f57-9a0e-3c5b2b8e9f20"],
                    "quality": "low",
                },
            ]
        },
    )

    prompt: str = Field(
        min_length=1, max_length=32000, title="Prompt", description="What to do with the photo."
    )
    model: str = Field(
        default=DEFAULT_MODEL,
        min_length=1,
        max_length=100,
        title="Model",
        description="GPT Image model: " + ", ".join(MODELS) + ".",
        json_schema_extra={"enum": list(MODELS)},
    )
    template_media_ids: list[str] = Field(
        default_factory=list,
        max_length=15,
        title="Reference images",
        description="Template media sent after the photo as further `image[]` inputs (16 images at most).",
        json_schema_extra=TEMPLATE_MEDIA,
    )
    size: Literal["auto", "1024x1024", "1536x1024", "1024x1536"] = Field(
        default="auto", title="Size", description="Output size in pixels; auto lets the model choose."
    )
    quality: Literal["auto", "low", "medium", "high"] = Field(
        default="auto", title="Quality", description="Rendering quality (cost and latency grow with it)."
    )
    input_fidelity: Literal["low", "high"] | None = Field(
        default=None,
        title="Input fidelity",
        description="How closely faces and details of the inputs are kept (gpt-image-1-mini does not "
        "take it).",
    )
    background: Literal["auto", "opaque", "transparent"] | None = Field(
        default=None,
        title="Background",
        description="Transparent backgrounds survive only when the slot's output format is PNG or WebP.",
    )

    @field_validator("model")
    @classmethod
    def _known_model(cls, value: str) -> str:
        if value not in MODELS:
            raise ValueError(f"not a GPT Image model this server knows; use one of {', '.join(MODELS)}")
        return value
