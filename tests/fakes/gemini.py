"""Fake of the Gemini API's `generateContent` with image output, and `models.get` for connection checks.

Built from Google's published material, not from our driver:
- request/response shapes: https://ai.google.dev/api/generate-content (GenerateContentRequest,
  GenerationConfig, ImageConfig, Candidate.finishReason, PromptFeedback) and googleapis/python-genai
  `google/genai/types.py` (`FinishReason`, `ImageConfig`: aspect ratios incl. 1:4/4:1/1:8/8:1, sizes
  512/1K/2K/4K);
- models and what each takes: https://ai.google.dev/gemini-api/docs/image-generation,
  https://ai.google.dev/gemini-api/docs/models, https://ai.google.dev/gemini-api/docs/deprecations;
- errors: https://ai.google.dev/gemini-api/docs/troubleshooting (400 INVALID_ARGUMENT, 400
  FAILED_PRECONDITION for unsupported regions, 403 PERMISSION_DENIED, 404 NOT_FOUND, 429
  RESOURCE_EXHAUSTED, 500 INTERNAL, 503 UNAVAILABLE, 504 DEADLINE_EXCEEDED) with google.rpc details
  (`QuotaFailure` violations, `RetryInfo.retryDelay`), as in the 429 bodies quoted in
  google-gemini/gemini-cli issue 8437; https://ai.google.dev/gemini-api/docs/rate-limits (per-minute and
  per-day quotas, tiers with no quota);
- the 20 MB inline request limit: https://ai.google.dev/gemini-api/docs/image-understanding.

It refuses what the service refuses: a missing or wrong key, an unknown model, fields the request schema
does not have (proto-JSON accepts camelCase and snake_case names), output modalities other than TEXT and
IMAGE, an `imageSize` or aspect ratio the model does not take, more input images than the model takes,
image MIME types it does not read, and bodies over 20 MB. Where the docs give no exact error wording the
fake's messages are its own.
"""

import base64
import json
from dataclasses import dataclass
from typing import Any

from tests.fakes.images import RESULT_PNG
from tests.fakes.server import FakeUpstream, Handler, Received, Reply

BASE_RATIOS = frozenset({"1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"})
EXTENDED_RATIOS = BASE_RATIOS | {"1:4", "4:1", "1:8", "8:1"}
INLINE_LIMIT = 20 * 1024 * 1024
IMAGE_MIME = frozenset({"image/png", "image/jpeg", "image/webp", "image/heic", "image/heif"})


@dataclass(frozen=True)
class Model:
    max_images: int
    sizes: frozenset[str]
    ratios: frozenset[str]


MODELS = {
    "gemini-2.5-flash-image": Model(3, frozenset(), BASE_RATIOS),
    "gemini-3.1-flash-image": Model(3, frozenset({"512", "1K", "2K", "4K"}), EXTENDED_RATIOS),
    "gemini-3.1-flash-image-preview": Model(3, frozenset({"512", "1K", "2K", "4K"}), EXTENDED_RATIOS),
    "gemini-3-pro-image": Model(14, frozenset({"1K", "2K", "4K"}), BASE_RATIOS),
    "gemini-3-pro-image-preview": Model(14, frozenset({"1K", "2K", "4K"}), BASE_RATIOS),
}

# Field names of the request messages the fake reads (camelCase; snake_case is accepted too).
REQUEST_FIELDS = {
    "contents",
    "tools",
    "toolConfig",
    "safetySettings",
    "systemInstruction",
    "generationConfig",
    "cachedContent",
}
CONTENT_FIELDS = {"role", "parts"}
PART_FIELDS = {"text", "inlineData", "fileData", "thought", "thoughtSignature", "mediaResolution"}
BLOB_FIELDS = {"mimeType", "data"}
GENERATION_FIELDS = {
    "stopSequences",
    "responseMimeType",
    "responseSchema",
    "responseModalities",
    "candidateCount",
    "maxOutputTokens",
    "temperature",
    "topP",
    "topK",
    "seed",
    "thinkingConfig",
    "imageConfig",
    "mediaResolution",
}
IMAGE_CONFIG_FIELDS = {"aspectRatio", "imageSize"}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.title() for word in rest)


def _unknown(obj: Any, allowed: set[str], where: str) -> str | None:
    if not isinstance(obj, dict):
        return f"Invalid value at '{where}': expected an object"
    for key in obj:
        if _camel(key) not in allowed:
            return f"Invalid JSON payload received. Unknown name \"{key}\" at '{where}': Cannot find field."
    return None


def _get(obj: dict[str, Any], name: str) -> Any:
    """A field by its camelCase name or its snake_case twin."""
    if name in obj:
        return obj[name]
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in name)
    return obj.get(snake)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class GeminiFake(FakeUpstream):
    """`POST /v1beta/models/{model}:generateContent` (route "main") and `GET /v1beta/models/{model}`
    (route "model"); key in `x-goog-api-key`.

    Default answer: a thought image followed by the final image `self.image` (camelCase `inlineData`).
    """

    def __init__(self) -> None:
        super().__init__()
        self.image = RESULT_PNG
        # Keys of further projects the fake accepts, and keys whose project's quota is used up (Google
        # counts quotas per project: one key's 429 says nothing about another's).
        self.extra_keys: set[str] = set()
        self.exhausted_keys: set[str] = set()

    def on_reset(self) -> None:
        self.image = RESULT_PNG
        self.extra_keys = set()
        self.exhausted_keys = set()

    def routes(self) -> list[tuple[str, str, list[str], Handler]]:
        return [
            ("main", "/v1beta/models/{target}", ["POST"], self._default),
            ("model", "/v1beta/models/{target}", ["GET"], self._model),
        ]

    def _key_problem(self, received: Received) -> Reply | None:
        key = received.headers.get("x-goog-api-key")
        if key != self.api_key and key not in self.extra_keys:
            return self.error(
                400,
                "INVALID_ARGUMENT",
                "API key not valid. Please pass a valid API key.",
                reason="API_KEY_INVALID",
            )
        return None

    def _quota_problem(self, received: Received) -> Reply | None:
        if received.headers.get("x-goog-api-key") in self.exhausted_keys:
            return self.error(
                429,
                "RESOURCE_EXHAUSTED",
                "Resource has been exhausted (e.g. check quota).",
                retry_delay="20s",
                quota_ids=("GenerateRequestsPerMinutePerProjectPerModel",),
            )
        return None

    def _model(self, received: Received) -> Reply:
        if (problem := self._key_problem(received)) is not None:
            return problem
        name = received.path_params.get("target", "")
        if name not in MODELS:
            return self.error(404, "NOT_FOUND", f"models/{name} is not found for API version v1beta")
        return Reply(
            json={
                "name": f"models/{name}",
                "displayName": name,
                "supportedGenerationMethods": ["generateContent", "countTokens"],
            }
        )

    def _default(self, received: Received) -> Reply:
        if (problem := self._key_problem(received) or self._quota_problem(received)) is not None:
            return problem
        name, _, method = received.path_params.get("target", "").partition(":")
        if method != "generateContent":
            return self.error(404, "NOT_FOUND", "method not found")
        model = MODELS.get(name)
        if model is None:
            return self.error(404, "NOT_FOUND", f"models/{name} is not found for API version v1beta")
        if len(received.raw) > INLINE_LIMIT:
            return self.error(
                400, "INVALID_ARGUMENT", f"Request payload size exceeds the limit: {INLINE_LIMIT} bytes."
            )
        try:
            body = json.loads(received.raw)
        except ValueError:
            return self.error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
        refused = self._request_problem(body, model, name)
        if refused is not None:
            return self.error(400, "INVALID_ARGUMENT", refused)
        return self.image_reply(self.image)

    @staticmethod
    def _request_problem(body: Any, model: Model, name: str) -> str | None:
        if (problem := _unknown(body, REQUEST_FIELDS, "request")) is not None:
            return problem
        images = 0
        for content in _get(body, "contents") or []:
            if (problem := _unknown(content, CONTENT_FIELDS, "contents")) is not None:
                return problem
            for part in _get(content, "parts") or []:
                if (problem := _unknown(part, PART_FIELDS, "contents.parts")) is not None:
                    return problem
                blob = _get(part, "inlineData")
                if blob is None:
                    continue
                if (problem := _unknown(blob, BLOB_FIELDS, "contents.parts.inline_data")) is not None:
                    return problem
                if _get(blob, "mimeType") not in IMAGE_MIME:
                    return f"Unsupported MIME type: {_get(blob, 'mimeType')}"
                images += 1
        if images > model.max_images:
            return f"{name} accepts at most {model.max_images} input images; got {images}."
        generation = _get(body, "generationConfig") or {}
        if (problem := _unknown(generation, GENERATION_FIELDS, "generation_config")) is not None:
            return problem
        modalities = _get(generation, "responseModalities") or []
        if any(m not in ("TEXT", "IMAGE") for m in modalities):
            return f"Invalid value at 'generation_config.response_modalities': {modalities}"
        image_config = _get(generation, "imageConfig") or {}
        if (
            problem := _unknown(image_config, IMAGE_CONFIG_FIELDS, "generation_config.image_config")
        ) is not None:
            return problem
        ratio = _get(image_config, "aspectRatio")
        if ratio is not None and ratio not in model.ratios:
            return f"Unsupported aspect ratio {ratio} for {name}."
        size = _get(image_config, "imageSize")
        if size is not None and size not in model.sizes:
            return f"Image size {size} is not supported by {name}."
        return None

    @staticmethod
    def image_reply(data: bytes, mime: str = "image/png", *, snake_case: bool = False) -> Reply:
        """A successful answer: a thought image, then the final image (optionally as `inline_data`)."""
        key, mime_key = ("inline_data", "mime_type") if snake_case else ("inlineData", "mimeType")
        parts: list[dict[str, Any]] = [
            {"text": "Sketching the composition.", "thought": True},
            {key: {mime_key: "image/png", "data": _b64(b"not the final image")}, "thought": True},
            {"text": "Here is your edited photo."},
            {key: {mime_key: mime, "data": _b64(data)}},
        ]
        return Reply(
            json={
                "candidates": [
                    {"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}
                ],
                "usageMetadata": {"promptTokenCount": 1290, "candidatesTokenCount": 1290},
                "modelVersion": "gemini-3.1-flash-image",
            }
        )

    @staticmethod
    def finish(reason: str, text: str | None = None) -> Reply:
        """A candidate without image that stopped with `finishReason` (IMAGE_SAFETY, NO_IMAGE, ...)."""
        candidate: dict[str, Any] = {"finishReason": reason, "index": 0}
        if text:
            candidate["content"] = {"role": "model", "parts": [{"text": text}]}
        return Reply(json={"candidates": [candidate]})

    @staticmethod
    def empty_stop() -> Reply:
        """`finishReason: STOP` with a content that has no parts (seen on cold starts)."""
        return Reply(
            json={"candidates": [{"content": {"role": "model"}, "finishReason": "STOP", "index": 0}]}
        )

    @staticmethod
    def blocked(reason: str = "PROHIBITED_CONTENT") -> Reply:
        """The prompt itself was blocked: no candidates, `promptFeedback.blockReason`."""
        return Reply(json={"promptFeedback": {"blockReason": reason}})

    @staticmethod
    def text_only(text: str = "I can't edit this photo, but here is a description.") -> Reply:
        return Reply(
            json={
                "candidates": [
                    {"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP"}
                ]
            }
        )

    @staticmethod
    def error(
        status: int,
        google_status: str,
        message: str = "error",
        *,
        retry_after: str | None = None,
        retry_delay: str | None = None,
        reason: str | None = None,
        quota_ids: tuple[str, ...] = (),
    ) -> Reply:
        """A Google API error body; `retry_after` as a header, `retry_delay` ("7s") as RetryInfo,
        `reason` as ErrorInfo, `quota_ids` as QuotaFailure violations."""
        error: dict[str, Any] = {"code": status, "message": message, "status": google_status}
        details: list[dict[str, Any]] = []
        if reason:
            details.append(
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": reason,
                    "domain": "googleapis.com",
                }
            )
        if quota_ids:
            details.append(
                {
                    "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                    "violations": [
                        {
                            "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                            "quotaId": quota_id,
                            "quotaDimensions": {"location": "global", "model": "gemini-3.1-flash-image"},
                        }
                        for quota_id in quota_ids
                    ],
                }
            )
        if retry_delay:
            details.append({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay})
        if details:
            error["details"] = details
        headers = {"Retry-After": retry_after} if retry_after else {}
        return Reply(status=status, json={"error": error}, headers=headers)

    @classmethod
    def quota_exhausted(cls, quota_id: str, limit: int, retry_delay: str = "37s") -> Reply:
        """A 429 as the rate-limits page describes it: the violated quota, its limit, and a RetryInfo."""
        return cls.error(
            429,
            "RESOURCE_EXHAUSTED",
            "You exceeded your current quota, please check your plan and billing details.\n"
            "* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, "
            f"limit: {limit}, model: gemini-3.1-flash-image",
            retry_delay=retry_delay,
            quota_ids=(quota_id,),
        )
