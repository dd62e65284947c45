"""`gpt_image` driver: OpenAI `POST {base}/v1/images/edits` (multipart), result in `data[0].b64_json`.

`model` is always sent (the endpoint otherwise falls back to dall-e-2, which cannot take several images);
the photo and the reference images go as repeated `image[]` parts.
"""

from collections.abc import Mapping
from typing import Any

import httpx

from photochanger.core.images import EXTENSION_BY_MIME, run_image_work
from photochanger.providers.base import (
    Operation,
    ProviderFailed,
    ProviderRefused,
    ProviderRequest,
    ProviderResult,
    ProviderUnavailable,
)
from photochanger.providers.gpt_image.schemas import GptImageEditOptions
from photochanger.providers.imaging import (
    PreparedImage,
    finish_bytes,
    photo_input,
    prepare_input,
    result,
    template,
)
from photochanger.providers.remote import (
    RemoteProvider,
    Transient,
    call,
    checked_options,
    decode_base64,
    expect_options,
    json_body,
    parse_retry_after,
)

PROVIDER = "gpt_image"
# Inputs may be up to 50 MB each, but outputs are at most 1536 px: larger inputs only cost upload time.
MAX_INPUT_SIDE = 2048
MAX_IMAGES = 16
OUTPUT_FORMAT = {"image/jpeg": "jpeg", "image/png": "png", "image/webp": "webp"}
REFUSAL_CODES = frozenset({"moderation_blocked", "content_policy_violation"})
TRANSIENT = frozenset({408, 409, 429, 500, 502, 503, 504})


def parse_answer(response: httpx.Response) -> bytes:
    """The image of an edits answer, or the taxonomy's error (`Transient` for retryable ones)."""
    status = response.status_code
    if status != 200:
        try:
            body = response.json()
        except ValueError:
            body = None
        error = body.get("error") if isinstance(body, dict) else None
        error = error if isinstance(error, dict) else {}
        code = str(error.get("code") or "")
        message = f"openai answered {status} {code}: {str(error.get('message', ''))[:300]}"
        if code in REFUSAL_CODES:
            raise ProviderRefused(message, upstream_status=status)
        retry_after = parse_retry_after(response.headers)
        if code == "insufficient_quota":
            # A 429 that no retry within one job can cure.
            raise ProviderUnavailable(message, retry_after=retry_after, upstream_status=status)
        if status in TRANSIENT:
            raise Transient(ProviderUnavailable(message, retry_after=retry_after, upstream_status=status))
        raise ProviderFailed(message, upstream_status=status)
    body = json_body(response, PROVIDER)
    items = body.get("data") if isinstance(body, dict) else None
    first = items[0] if isinstance(items, list) and items else None
    data = first.get("b64_json") if isinstance(first, dict) else None
    if not isinstance(data, str) or not data:
        raise ProviderFailed("openai answered without data[0].b64_json", upstream_status=status)
    return decode_base64(data, PROVIDER)


class GptImageProvider(RemoteProvider):
    """OpenAI GPT Image models through the Images API (bearer key)."""

    id = PROVIDER
    input_max_side = MAX_INPUT_SIDE
    title = "OpenAI GPT Image"

    default_base_url = "https://api.openai.com"
    operations: Mapping[str, Operation] = {
        "edit": Operation("edit", "Edit with a prompt", GptImageEditOptions, ("template_media_ids",)),
    }

    def build_form(
        self, options: GptImageEditOptions, output_type: str, images: list[PreparedImage]
    ) -> tuple[dict[str, str], list[tuple[str, tuple[str, bytes, str]]]]:
        fields = {
            "model": options.model,
            "prompt": options.prompt,
            "n": "1",
            "size": options.size,
            "quality": options.quality,
            "output_format": OUTPUT_FORMAT.get(output_type, "png"),
        }
        if options.input_fidelity:
            fields["input_fidelity"] = options.input_fidelity
        if options.background:
            fields["background"] = options.background
        files = [
            (
                "image[]",
                (f"image{index}.{EXTENSION_BY_MIME[image.content_type]}", image.data, image.content_type),
            )
            for index, image in enumerate(images)
        ]
        return fields, files

    async def run(self, operation: str, request: ProviderRequest) -> ProviderResult:
        checked = checked_options(PROVIDER, self.operations, operation, request, self._api_key)
        options = expect_options(checked, GptImageEditOptions)
        templates = [template(request, i).data for i in options.template_media_ids]
        if 1 + len(templates) > MAX_IMAGES:
            raise ProviderFailed(f"openai takes at most {MAX_IMAGES} input images")
        images = [await photo_input(request, MAX_INPUT_SIDE)]
        images += [await run_image_work(prepare_input, t, MAX_INPUT_SIDE) for t in templates]
        fields, files = self.build_form(options, request.output_type, images)
        url = f"{self._base_url}/v1/images/edits"
        headers = {"Authorization": f"Bearer {self._api_key}"}

        async def send(budget: httpx.Timeout) -> httpx.Response:
            return await self._http.post(url, data=fields, files=files, headers=headers, timeout=budget)

        data = await call(PROVIDER, request.deadline, self._retry, send, parse_answer)
        output = await run_image_work(finish_bytes, data, request)
        meta: dict[str, Any] = {"operation": operation, "model": options.model, "inputs": len(images)}
        return result(output, request, meta)
