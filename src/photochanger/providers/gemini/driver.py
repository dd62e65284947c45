"""`gemini` driver: `POST {base}/v1beta/models/{model}:generateContent` with image output.

The photo and the reference images go as base64 `inline_data` parts before the prompt; the answer's last
non-thought image part is the result. Safety finishes and prompt blocks are refusals; `NO_IMAGE`,
`IMAGE_OTHER`, `OTHER` and an empty `STOP` are retried while the deadline allows. A 429 whose
`QuotaFailure` names a per-day quota or a limit of 0 is a quota the key's tier does not have, not a
rate limit. What each model takes is data (`gemini.models`), checked when a slot is saved.
"""

import math
from collections.abc import Mapping
from typing import Any

import httpx
from pydantic import BaseModel

from photochanger.core.images import run_image_work
from photochanger.providers.base import (
    ConnectionCheck,
    FieldProblem,
    Operation,
    ProviderFailed,
    ProviderMisconfigured,
    ProviderQuotaExhausted,
    ProviderRefused,
    ProviderRequest,
    ProviderResult,
    SlotCheck,
)
from photochanger.providers.gemini.models import (
    DEFAULT_MODEL,
    INLINE_REQUEST_LIMIT,
    MAX_INPUT_SIDE,
    MODELS,
    PHOTO_BUDGET,
)
from photochanger.providers.gemini.schemas import GeminiEditOptions
from photochanger.providers.imaging import (
    GOOGLE_DEFAULT_IMAGE_SIZE,
    GOOGLE_OUTPUT_EDGE,
    PreparedImage,
    aspect_of,
    finish_bytes,
    output_long_side,
    photo_input,
    photo_size,
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
    GOOGLE_REFUSED_FINISH,
    Blob,
    StreamedJson,
    Transient,
    connection_answer,
    decode_base64,
    json_body,
    parse_retry_after,
    response_json,
    upstream_failure,
)

PROVIDER = "gemini"
TRANSIENT = frozenset({429, 500, 502, 503, 504})
# Finishes without an image that a second attempt often cures (cold starts, an image the model dropped).
RETRIED_FINISH = frozenset({"NO_IMAGE", "IMAGE_OTHER", "OTHER", "STOP", None})
_QUOTA_FAILURE = "type.googleapis.com/google.rpc.QuotaFailure"


def _retry_delay(body: Any) -> float | None:
    """`RetryInfo.retryDelay` ("37s") from a Google error body's details."""
    details = body.get("error", {}).get("details") if isinstance(body, dict) else None
    for detail in details or []:
        delay = detail.get("retryDelay") if isinstance(detail, dict) else None
        if isinstance(delay, str) and delay.endswith("s"):
            try:
                return float(delay[:-1])
            except ValueError:
                return None
    return None


def _exhausted_quota(body: Any) -> str | None:
    """The quota id of a `QuotaFailure` violation no retry today can cure (per day, or a limit of 0)."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None
    message = str(error.get("message", ""))
    for detail in error.get("details") or []:
        if not isinstance(detail, dict) or detail.get("@type") != _QUOTA_FAILURE:
            continue
        for violation in detail.get("violations") or []:
            if not isinstance(violation, dict):
                continue
            quota_id = str(violation.get("quotaId", ""))
            if "PerDay" in quota_id or str(violation.get("quotaValue", "")) == "0":
                return quota_id or "quota"
    # The message repeats the violated metric with its limit ("limit: 0, model: ...").
    if "limit: 0," in message or message.rstrip().endswith("limit: 0"):
        return "limit: 0"
    return None


def _key_invalid(body: Any) -> bool:
    """Google answers a wrong or revoked key with 400 and ErrorInfo reason `API_KEY_INVALID`
    (https://ai.google.dev/gemini-api/docs/troubleshooting)."""
    error = body.get("error") if isinstance(body, dict) else None
    details = error.get("details") if isinstance(error, dict) else None
    if not isinstance(details, list):
        return False
    return any(isinstance(d, dict) and d.get("reason") == "API_KEY_INVALID" for d in details)


def _error_message(body: Any, status: int) -> str:
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return f"gemini answered {status} {error.get('status', '')}: {str(error.get('message', ''))[:300]}"
    return f"gemini answered HTTP {status}"


def _image_part(part: Any) -> Mapping[str, Any] | None:
    if not isinstance(part, dict) or part.get("thought"):
        return None
    blob = part.get("inlineData") or part.get("inline_data")
    return blob if isinstance(blob, dict) else None


def parse_answer(response: httpx.Response) -> bytes:
    """The image of a generateContent answer, or the taxonomy's error (`Transient` for retryable ones)."""
    status = response.status_code
    if status != 200:
        body = response_json(response)
        message = _error_message(body, status)
        if status == 429 and (quota := _exhausted_quota(body)) is not None:
            raise ProviderQuotaExhausted(
                f"gemini quota exhausted ({quota}); the key's tier has no quota left for this model: "
                f"{message}",
                upstream_status=status,
            )
        retry_after = parse_retry_after(response.headers)
        # 400 (bad request, unsupported option, region), 401/403 (key, permission), 404 (model):
        # configuration an admin has to change; the provider's text says which.
        raise upstream_failure(
            status,
            message,
            retry_after=_retry_delay(body) if retry_after is None else retry_after,
            transient=TRANSIENT,
            otherwise=ProviderMisconfigured,
            key_rejected=_key_invalid(body),
        )
    body = json_body(response, PROVIDER)
    if not isinstance(body, dict):
        raise ProviderFailed("gemini answered JSON that is not an object", upstream_status=status)
    feedback = body.get("promptFeedback")
    if isinstance(feedback, dict) and feedback.get("blockReason"):
        raise ProviderRefused(f"gemini blocked the prompt: {feedback['blockReason']}", upstream_status=status)
    candidates = body.get("candidates")
    if not isinstance(candidates, list) or not candidates or not isinstance(candidates[0], dict):
        raise ProviderFailed("gemini answered without candidates", upstream_status=status)
    candidate = candidates[0]
    finish = candidate.get("finishReason")
    if finish in GOOGLE_REFUSED_FINISH:
        raise ProviderRefused(f"gemini refused the image: {finish}", upstream_status=status)
    content = candidate.get("content")
    parts = content.get("parts") if isinstance(content, dict) else None
    parts = parts if isinstance(parts, list) else []
    images = [blob for blob in map(_image_part, parts) if blob is not None]
    if images:
        data = images[-1].get("data")
        if not isinstance(data, str) or not data:
            raise ProviderFailed("gemini answered an image part without data", upstream_status=status)
        return decode_base64(data, PROVIDER)
    if finish == "NO_IMAGE":
        raise Transient(ProviderRefused("gemini produced no image (NO_IMAGE)", upstream_status=status))
    texts = [p for p in parts if isinstance(p, dict) and p.get("text") and not p.get("thought")]
    if texts and finish in (None, "STOP"):
        raise ProviderRefused("gemini answered with text instead of an image", upstream_status=status)
    if finish in RETRIED_FINISH:
        raise Transient(
            ProviderFailed(
                f"gemini finished without an image (finishReason {finish or 'missing'}) on every attempt",
                upstream_status=status,
            )
        )
    raise ProviderFailed(f"gemini answered without an image (finishReason {finish})", upstream_status=status)


def _base64_size(size: int) -> int:
    return 4 * math.ceil(size / 3)


def check_options(options: GeminiEditOptions, check: SlotCheck) -> list[FieldProblem]:
    """What `options` asks of its model that the model does not take, and templates over the inline limit."""
    model = MODELS[options.model]
    problems: list[FieldProblem] = []
    if options.aspect_ratio and options.aspect_ratio not in model.aspect_ratios:
        problems.append(
            FieldProblem(
                "aspect_ratio",
                f"{model.id} does not take aspect ratio {options.aspect_ratio}; it takes "
                + ", ".join(model.aspect_ratios),
                "unsupported_by_model",
            )
        )
    if options.image_size and options.image_size not in model.image_sizes:
        takes = ", ".join(model.image_sizes) if model.image_sizes else "no image size"
        problems.append(
            FieldProblem(
                "image_size",
                f"{model.id} does not take image size {options.image_size}; it takes {takes}",
                "unsupported_by_model",
            )
        )
    inputs = 1 + len(options.template_media_ids)
    if inputs > model.max_input_images:
        problems.append(
            FieldProblem(
                "template_media_ids",
                f"{model.id} takes {model.max_input_images} input images, the photo included; "
                f"this slot would send {inputs}",
                "too_many_images",
            )
        )
    total = PHOTO_BUDGET + len(options.prompt.encode())
    for media_id in options.template_media_ids:
        item = check.templates.get(media_id)
        if item is not None:
            total += _base64_size(len(prepare_input(item.data, MAX_INPUT_SIDE).data))
    if total > INLINE_REQUEST_LIMIT:
        problems.append(
            FieldProblem(
                "template_media_ids",
                f"the reference images come to {total // (1024 * 1024)} MB with the photo once encoded; "
                f"Gemini takes at most {INLINE_REQUEST_LIMIT // (1024 * 1024)} MB per request "
                "(use fewer or smaller templates, or ones without transparency)",
                "request_too_large",
            )
        )
    return problems


class GeminiProvider(RemoteProvider):
    """Google Gemini image models through the Generative Language API (key in `x-goog-api-key`)."""

    id = PROVIDER
    input_max_side = MAX_INPUT_SIDE
    title = "Google Gemini"

    default_base_url = "https://generativelanguage.googleapis.com"
    operations: Mapping[str, Operation] = {
        "edit": Operation("edit", "Edit with a prompt", GeminiEditOptions, ("template_media_ids",)),
    }

    def input_side(self, operation: str, options: BaseModel, size: tuple[int, int]) -> int:
        """The slot's `input_long_side`, else the long side of the output its image size asks for (at the
        slot's aspect ratio, else the photo's; 1K when the model takes no size). The edit redraws the photo
        at that size, so a larger input adds nothing the result can hold; and the model reads an input
        image through a bounded token budget whatever its pixel count (1,120 tokens by default on
        Gemini 3: https://ai.google.dev/gemini-api/docs/media-resolution,
        https://docs.cloud.google.com/vertex-ai/generative-ai/docs/multimodal/image-understanding). At 1K
        a 3:2 photo goes at 1280x853, about 0.4 MB, where 3000x2000 took 2.2 MB: a third of a second
        less on a 50 Mbit/s venue uplink."""
        if not isinstance(options, GeminiEditOptions):
            return MAX_INPUT_SIDE
        if options.input_long_side:
            return min(options.input_long_side, MAX_INPUT_SIDE)
        model = MODELS.get(options.model)
        image_size = options.image_size if model and options.image_size in model.image_sizes else None
        edge = GOOGLE_OUTPUT_EDGE[image_size or GOOGLE_DEFAULT_IMAGE_SIZE]
        return min(MAX_INPUT_SIDE, output_long_side(edge, aspect_of(options.aspect_ratio, size)))

    def build_body(self, options: GeminiEditOptions, images: list[PreparedImage]) -> dict[str, Any]:
        parts: list[dict[str, Any]] = [
            {"inline_data": {"mime_type": image.content_type, "data": Blob(image.data)}} for image in images
        ]
        parts.append({"text": options.prompt})
        image_config: dict[str, str] = {}
        if options.aspect_ratio:
            image_config["aspectRatio"] = options.aspect_ratio
        model = MODELS[options.model]
        if options.image_size and options.image_size in model.image_sizes:
            image_config["imageSize"] = options.image_size
        generation: dict[str, Any] = {"responseModalities": ["IMAGE"]}
        if image_config:
            generation["imageConfig"] = image_config
        return {"contents": [{"role": "user", "parts": parts}], "generationConfig": generation}

    async def run(self, operation: str, request: ProviderRequest) -> ProviderResult:
        checked = checked_options(PROVIDER, self.operations, operation, request, self.key_for(request))
        options = expect_options(checked, GeminiEditOptions)
        templates = [template(request, i).data for i in options.template_media_ids]
        images = [await photo_input(request, self.input_side(operation, options, photo_size(request)))]
        images += [await run_image_work(prepare_input, t, MAX_INPUT_SIDE) for t in templates]
        body = StreamedJson(self.build_body(options, images))
        if int(body.headers["Content-Length"]) > INLINE_REQUEST_LIMIT:
            raise ProviderFailed(
                f"the request would be {int(body.headers['Content-Length']) // (1024 * 1024)} MB; gemini "
                f"takes at most {INLINE_REQUEST_LIMIT // (1024 * 1024)} MB inline"
            )
        url = f"{self._base_url}/v1beta/models/{options.model}:generateContent"
        headers = self.auth_headers(self.key_for(request))

        async def send(budget: httpx.Timeout) -> httpx.Response:
            return await self._http.post(
                url, content=body, headers={**headers, **body.headers}, timeout=budget
            )

        data = await call(PROVIDER, request.deadline, self.retry_for(request), send, parse_answer)
        output = await run_image_work(finish_bytes, data, request)
        return result(
            output, request, {"operation": operation, "model": options.model, "inputs": len(images)}
        )

    def check_slot(self, operation: str, check: SlotCheck) -> list[FieldProblem]:
        if operation != "edit" or not isinstance(check.options, GeminiEditOptions):
            return []
        return check_options(check.options, check)

    def auth_headers(self, api_key: str | None) -> dict[str, str]:
        return {"x-goog-api-key": api_key or ""}

    def connection_probe(self) -> ConnectionProbe:
        """`GET /v1beta/models/{default model}`: the key must be valid and the model visible to it."""
        return ConnectionProbe("GET", f"/v1beta/models/{DEFAULT_MODEL}")

    def connection_answer(self, response: httpx.Response) -> ConnectionCheck:
        return connection_answer(response, _error_message)
