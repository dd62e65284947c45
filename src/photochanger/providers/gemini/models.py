"""The Gemini image models this driver knows, as data: what each takes (inputs, sizes, aspect ratios).

Sources: the Gemini API image-generation guide (https://ai.google.dev/gemini-api/docs/image-generation),
the model list and deprecation schedule (https://ai.google.dev/gemini-api/docs/models,
https://ai.google.dev/gemini-api/docs/deprecations) and `ImageConfig` in googleapis/python-genai
`google/genai/types.py`. A model missing here is refused when a slot is saved, not at every shot.
"""

from dataclasses import dataclass

BASE_ASPECT_RATIOS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
# The very tall and very wide ratios only the 3.1 Flash image models take.
EXTENDED_ASPECT_RATIOS = (*BASE_ASPECT_RATIOS, "1:4", "4:1", "1:8", "8:1")
IMAGE_SIZES = ("512", "1K", "2K", "4K")
# Gemini scales larger inputs down to fit 3072x3072 itself; sending more only costs upload time and
# counts against the 20 MB inline request limit.
MAX_INPUT_SIDE = 3072
# The smallest input a slot may ask for (px, long side).
MIN_INPUT_SIDE = 256


@dataclass(frozen=True)
class GeminiImageModel:
    """`max_input_images` counts the photo too; an empty `image_sizes` means `imageSize` is not accepted."""

    id: str
    max_input_images: int
    image_sizes: tuple[str, ...]
    aspect_ratios: tuple[str, ...]
    legacy: bool = False


MODELS: dict[str, GeminiImageModel] = {
    model.id: model
    for model in (
        GeminiImageModel("gemini-3.1-flash-image", 3, IMAGE_SIZES, EXTENDED_ASPECT_RATIOS),
        GeminiImageModel("gemini-3.1-flash-image-preview", 3, IMAGE_SIZES, EXTENDED_ASPECT_RATIOS),
        GeminiImageModel("gemini-3-pro-image", 14, ("1K", "2K", "4K"), BASE_ASPECT_RATIOS),
        GeminiImageModel("gemini-3-pro-image-preview", 14, ("1K", "2K", "4K"), BASE_ASPECT_RATIOS),
        GeminiImageModel("gemini-2.5-flash-image", 3, (), BASE_ASPECT_RATIOS, legacy=True),
    )
}
DEFAULT_MODEL = "gemini-3.1-flash-image"

# generateContent takes at most 20 MB per request with inline data (larger inputs need the Files API).
INLINE_REQUEST_LIMIT = 20 * 1024 * 1024
# What a booth photo may add to a request once prepared (JPEG, at most 3072 px, base64): templates must
# leave this much room under the inline limit.
PHOTO_BUDGET = 4 * 1024 * 1024
