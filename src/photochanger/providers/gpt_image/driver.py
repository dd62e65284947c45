"""`gpt_image` driver: OpenAI `POST {base}/v1/images/edits` (multipart), result in `data[0].b64_json`.

`model` is always sent, so a slot keeps the model it was saved with whatever the API's default becomes;
the photo and the reference images go as repeated `image[]` parts. OpenAI's `x-should-retry` header
overrides the status-based retry decision, as it does in its own SDK. Option pairs the API refuses
(`input_fidelity` on gpt-image-1-mini, a transparent background with JPEG output) are refused when the
slot is saved.
"""

from collections.abc import Mapping
from typing import Any

import httpx
from pydantic import BaseModel

from photochanger.core.images import EXTENSION_BY_MIME, run_image_work
from photochanger.providers.base import (
    FieldProblem,
    Operation,
    ProviderFailed,
    ProviderMisconfigured,
    ProviderRefused,
    ProviderRequest,
    ProviderResult,
    ProviderUnavailable,
    SlotCheck,
)
from photochanger.providers.gpt_image.models import DEFAULT_MODEL, MODELS, GptImageModel
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
    ConnectionProbe,
    RemoteProvider,
    call,
    checked_options,
    expect_options,
)
from photochanger.providers.wire import (
    decode_base64,
    error_object,
    json_body,
    parse_retry_after,
    response_json,
    should_retry,
    upstream_failure,
)

PROVIDER = "gpt_image"
# Inputs may be up to 50 MB each, but outputs are at most 1536 px (1024x1024, 1536x1024 or 1024x1536:
# https://platform.openai.com/docs/api-reference/images/createEdit): the photo goes at the output's long
# side, and a larger one would only cost upload time. Templates keep the wider cap.
MAX_INPUT_SIDE = 2048
PHOTO_INPUT_SIDE = 1536
MAX_IMAGES = 16
OUTPUT_FORMAT = {"image/jpeg": "jpeg", "image/png": "png", "image/webp": "webp"}
REFUSAL_CODES = frozenset({"moderation_blocked", "content_policy_violation"})
# What OpenAI's SDK retries: 408, 409, 429 and every status from 500 (openai-python `_should_retry`).
TRANSIENT = frozenset({408, 409, 429, *range(500, 1000)})


def parse_answer(response: httpx.Response) -> bytes:
    """The image of an edits answer, or the taxonomy's error (`Transient` for retryable ones)."""
    status = response.status_code
    if status != 200:
        error = error_object(response_json(response))
        code = str(error.get("code") or "")
        message = f"openai answered {status} {code}: {str(error.get('message', ''))[:300]}"
        if code in REFUSAL_CODES:
            raise ProviderRefused(message, upstream_status=status)
        retry_after = parse_retry_after(response.headers)
        if code == "insufficient_quota":
            # A 429 that no retry within one job can cure.
            raise ProviderUnavailable(message, retry_after=retry_after, upstream_status=status)
        raise upstream_failure(
            status,
            message,
            retry_after=retry_after,
            transient=TRANSIENT,
            retry=should_retry(response),
            otherwise=ProviderMisconfigured,
        )
    body = json_body(response, PROVIDER)
    items = body.get("data") if isinstance(body, dict) else None
    first = items[0] if isinstance(items, list) and items else None
    data = first.get("b64_json") if isinstance(first, dict) else None
    if not isinstance(data, str) or not data:
        raise ProviderFailed("openai answered without data[0].b64_json", upstream_status=status)
    return decode_base64(data, PROVIDER)


def transparent_ok(model: GptImageModel, output_type: str) -> bool:
    return model.transparent_background and output_type in ("image/png", "image/webp")


def check_options(options: GptImageEditOptions, check: SlotCheck) -> list[FieldProblem]:
    """Option pairs the edit endpoint refuses, and a warning when the model and quality typically take
    longer than the booth waits."""
    model = MODELS[options.model]
    problems: list[FieldProblem] = []
    if options.input_fidelity and not model.input_fidelity:
        problems.append(
            FieldProblem(
                "input_fidelity",
                f"{model.id} does not take input_fidelity; leave it empty or choose another model",
                "unsupported_by_model",
            )
        )
    if options.background == "transparent":
        if not model.transparent_background:
            problems.append(
                FieldProblem(
                    "background",
                    f"{model.id} does not make transparent backgrounds",
                    "unsupported_by_model",
                )
            )
        elif check.output_type not in ("image/png", "image/webp"):
            problems.append(
                FieldProblem(
                    "background",
                    "A transparent background needs PNG or WebP output; this slot's output format is "
                    f"{check.output_type.removeprefix('image/').upper()}",
                    "transparent_needs_png_or_webp",
                )
            )
    typical = model.typical_seconds.get(options.quality)
    if typical is not None and check.sync_wait_seconds is not None and typical > check.sync_wait_seconds:
        problems.append(
            FieldProblem(
                "quality",
                f"{model.id} at quality {options.quality} typically takes about {typical} s per photo, "
                f"longer than the booth waits (t_sync_response {check.sync_wait_seconds:g} s)",
                "slower_than_sync_response",
                warning=True,
            )
        )
    return problems


class GptImageProvider(RemoteProvider):
    """OpenAI GPT Image models through the Images API (bearer key)."""

    id = PROVIDER
    input_max_side = MAX_INPUT_SIDE

    def input_side(self, operation: str, options: BaseModel, size: tuple[int, int]) -> int:
        """The long side of the largest output any size option gives (see `PHOTO_INPUT_SIDE`)."""
        return PHOTO_INPUT_SIDE

    title = "OpenAI GPT Image"
    upstream_name = "openai"

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
        model = MODELS[options.model]
        # Saving refuses the pairs the API refuses; slots saved before that check are sent what works.
        if options.input_fidelity and model.input_fidelity:
            fields["input_fidelity"] = options.input_fidelity
        if options.background and (options.background != "transparent" or transparent_ok(model, output_type)):
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
        checked = checked_options(PROVIDER, self.operations, operation, request, self.key_for(request))
        options = expect_options(checked, GptImageEditOptions)
        templates = [template(request, i).data for i in options.template_media_ids]
        if 1 + len(templates) > MAX_IMAGES:
            raise ProviderFailed(f"openai takes at most {MAX_IMAGES} input images")
        images = [await photo_input(request, PHOTO_INPUT_SIDE)]
        images += [await run_image_work(prepare_input, t, MAX_INPUT_SIDE) for t in templates]
        fields, files = self.build_form(options, request.output_type, images)
        url = f"{self._base_url}/v1/images/edits"
        headers = self.auth_headers(self.key_for(request))

        async def send(budget: httpx.Timeout) -> httpx.Response:
            return await self._http.post(url, data=fields, files=files, headers=headers, timeout=budget)

        data = await call(PROVIDER, request.deadline, self.retry_for(request), send, parse_answer)
        output = await run_image_work(finish_bytes, data, request)
        meta: dict[str, Any] = {"operation": operation, "model": options.model, "inputs": len(images)}
        return result(output, request, meta)

    def check_slot(self, operation: str, check: SlotCheck) -> list[FieldProblem]:
        if operation != "edit" or not isinstance(check.options, GptImageEditOptions):
            return []
        return check_options(check.options, check)

    def connection_probe(self) -> ConnectionProbe:
        """`GET /v1/models/{default model}`: the key must be valid and see the model."""
        return ConnectionProbe("GET", f"/v1/models/{DEFAULT_MODEL}")
