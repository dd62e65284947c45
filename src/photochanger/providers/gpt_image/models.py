"""The GPT Image models this driver knows, as data: what each edit takes and how long it typically runs.

Sources: openai/openai-python `src/openai/types/image_edit_params.py` (`input_fidelity` unsupported on
gpt-image-1-mini; transparent backgrounds need png or webp output and are refused by gpt-image-2; the
default model is gpt-image-1.5) and the image generation guide
(https://platform.openai.com/docs/guides/image-generation: latency grows with quality, complex prompts
can take up to two minutes). The typical durations are our own estimates for a single edit, used only to
warn in the slot editor.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class GptImageModel:
    id: str
    input_fidelity: bool
    transparent_background: bool
    # Typical seconds for one edit per `quality` (the API picks for "auto"; counted like medium-high).
    typical_seconds: dict[str, int]


_TYPICAL = {"low": 20, "medium": 45, "auto": 60, "high": 90}

MODELS: dict[str, GptImageModel] = {
    model.id: model
    for model in (
        GptImageModel("gpt-image-1.5", True, True, _TYPICAL),
        GptImageModel("gpt-image-1", True, True, _TYPICAL),
        GptImageModel("gpt-image-1-mini", False, True, {"low": 10, "medium": 25, "auto": 30, "high": 50}),
        GptImageModel("gpt-image-2", True, False, _TYPICAL),
    )
}
DEFAULT_MODEL = "gpt-image-1.5"
