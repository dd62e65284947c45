"""Options of the `turbotext` operations, one per vendor method (rendered as the slot form's JSON Schema)."""

from typing import Literal

from pydantic import ConfigDict, Field

from photochanger.providers.imaging import TEMPLATE_MEDIA, OperationOptions


class TurbotextImageEditOptions(OperationOptions):
    """Redraw the photo from a prompt (Turbotext `generate_image2image`)."""

    model_config = ConfigDict(
        title="Turbotext image edit",
        json_schema_extra={
            "examples": [
                {"prompt": "девушка в костюме супергероя", "strength": 40, "scale": 7.5, "stamp_qr": False},
                {"prompt": "astronauts on the moon", "original_language": "en", "strength": 60, "seed": 42},
            ]
        },
    )

    prompt: str = Field(
        min_length=1, max_length=2000, title="Prompt", description="What the photo should become."
    )
    strength: int = Field(
        default=40,
        ge=0,
        le=80,
        title="Strength",
        description="How far the result may move from the photo (0-80).",
    )
    scale: float = Field(
        default=7.5,
        ge=0.1,
        le=20,
        title="Guidance scale",
        description="How literally the prompt is followed.",
    )
    seed: int | None = Field(
        default=None, ge=1, le=10**10, title="Seed", description="Fix it to repeat a result; empty is random."
    )
    negative_prompt: str | None = Field(
        default=None,
        max_length=1000,
        title="Negative prompt",
        description="What must not appear (up to ~80 words).",
    )
    original_language: Literal["ru", "en"] = Field(
        default="ru", title="Prompt language", description="Language the prompt is written in."
    )


class TurbotextStyleTransferOptions(OperationOptions):
    """Carry the style of a template image over to the photo (Turbotext `mix_images`)."""

    model_config = ConfigDict(
        title="Turbotext style transfer",
        json_schema_extra={
            "examples": [
                {"style_media_id": "3f1c2b9a-6d7e-4a8b-9c0d-1e2f3a4b5c6d", "prompt": "в стиле Диснея"},
            ]
        },
    )

    style_media_id: str = Field(
        min_length=1,
        title="Style image",
        description="Template media whose style is applied to the photo.",
        json_schema_extra=TEMPLATE_MEDIA,
    )
    prompt: str | None = Field(
        default=None,
        max_length=2000,
        title="Prompt",
        description="Optional words that strengthen the effect.",
    )


class TurbotextIdentityTransferOptions(OperationOptions):
    """Put the guest's face into a template scene (Turbotext `deepfake_photo`)."""

    model_config = ConfigDict(
        title="Turbotext identity transfer",
        json_schema_extra={
            "examples": [{"scene_media_id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "face_restore": True}]
        },
    )

    scene_media_id: str = Field(
        min_length=1,
        title="Scene image",
        description="Template media with the person whose face is replaced by the guest's.",
        json_schema_extra=TEMPLATE_MEDIA,
    )
    face_restore: bool = Field(
        default=True, title="Restore face", description="Let Turbotext refine the swapped face."
    )
