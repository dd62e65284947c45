"""Fake of OpenAI's Images API edit endpoint (`POST /v1/images/edits`) and `GET /v1/models/{model}`.

Built from OpenAI's published material, not from our driver:
- the edit parameters and their constraints: openai/openai-python `src/openai/types/image_edit_params.py`
  (`image` up to 16 png/webp/jpg files under 50 MB each; `model` defaults to `gpt-image-1.5`;
  `input_fidelity` unsupported for `gpt-image-1-mini`; `background: transparent` needs `png` or
  `webp` output and is refused by `gpt-image-2`; `response_format` only for dall-e-2) and
  https://platform.openai.com/docs/api-reference/images/createEdit;
- the answer: `src/openai/types/images_response.py` (`created`, `data[].b64_json`, `usage`);
- errors: https://platform.openai.com/docs/guides/error-codes (401 invalid_api_key, 429 rate limits and
  insufficient_quota, 500/503) with the `{"error": {"message", "type", "param", "code"}}` body of
  `src/openai/_exceptions.py`, and the `x-should-retry` header the SDK obeys
  (`src/openai/_base_client.py`, `_should_retry`);
- model metadata: https://platform.openai.com/docs/api-reference/models/retrieve.

It refuses what the API refuses: a wrong key, parameters the endpoint does not have, unknown models,
`input_fidelity` on gpt-image-1-mini, a transparent background with JPEG output (or on gpt-image-2),
`response_format` on GPT image models, more than 16 images, files over 50 MB or not png/webp/jpeg, and
values outside each parameter's range. Where the docs give no exact error wording, the messages are the
fake's own.
"""

import base64
from typing import Any

from tests.fakes.images import RESULT_PNG
from tests.fakes.server import FakeUpstream, Handler, Received, Reply

FIELDS = {
    "image",
    "image[]",
    "prompt",
    "background",
    "input_fidelity",
    "mask",
    "model",
    "moderation",
    "n",
    "output_compression",
    "output_format",
    "partial_images",
    "quality",
    "response_format",
    "size",
    "stream",
    "user",
}
MODELS = {"gpt-image-1", "gpt-image-1-mini", "gpt-image-1.5", "gpt-image-2", "chatgpt-image-latest"}
CHOICES = {
    "background": {"transparent", "opaque", "auto"},
    "input_fidelity": {"high", "low"},
    "output_format": {"png", "jpeg", "webp"},
    "quality": {"standard", "low", "medium", "high", "auto"},
    "size": {"1024x1024", "1536x1024", "1024x1536", "auto"},
    "moderation": {"low", "auto"},
}
MAX_IMAGES = 16
MAX_IMAGE_BYTES = 50 * 1024 * 1024
IMAGE_TYPES = {"image/png", "image/jpeg", "image/webp"}


class OpenAIFake(FakeUpstream):
    """Route "main" is the edit endpoint, route "model" the model retrieval."""

    def __init__(self) -> None:
        super().__init__()
        self.image = RESULT_PNG

    def on_reset(self) -> None:
        self.image = RESULT_PNG

    def routes(self) -> list[tuple[str, str, list[str], Handler]]:
        return [
            ("main", "/v1/images/edits", ["POST"], self._default),
            ("model", "/v1/models/{model}", ["GET"], self._model),
        ]

    def _unauthorized(self, received: Received) -> Reply | None:
        if received.headers.get("authorization") != f"Bearer {self.api_key}":
            return self.error(401, "invalid_api_key", "Incorrect API key provided.", "invalid_request_error")
        return None

    def _model(self, received: Received) -> Reply:
        if (refused := self._unauthorized(received)) is not None:
            return refused
        model = received.path_params["model"]
        if model not in MODELS:
            return self.error(
                404, "model_not_found", f"The model '{model}' does not exist", "invalid_request_error"
            )
        return Reply(json={"id": model, "object": "model", "created": 1_745_000_000, "owned_by": "system"})

    def _default(self, received: Received) -> Reply:
        if (refused := self._unauthorized(received)) is not None:
            return refused
        problem = self._problem(received)
        if problem is not None:
            param, message = problem
            return self.error(400, "invalid_value", message, "invalid_request_error", param=param)
        return self.image_reply(self.image)

    @staticmethod
    def _problem(received: Received) -> tuple[str | None, str] | None:
        names = set(received.form) | {f.field for f in received.files}
        for name in sorted(names - FIELDS):
            return name, f"Unknown parameter: '{name}'."
        if not received.field("prompt"):
            return "prompt", "Missing required parameter: 'prompt'."
        model = received.field("model") or "gpt-image-1.5"
        if model not in MODELS:
            return "model", f"Invalid value: '{model}'. Supported values are: {', '.join(sorted(MODELS))}."
        for name, allowed in CHOICES.items():
            value = received.field(name)
            if value is not None and value not in allowed:
                return name, f"Invalid value: '{value}'. Supported values are: {', '.join(sorted(allowed))}."
        if received.field("input_fidelity") is not None and model == "gpt-image-1-mini":
            return "input_fidelity", f"input_fidelity is not supported for {model}."
        if received.field("background") == "transparent":
            if model == "gpt-image-2":
                return "background", f"Transparent backgrounds are not supported for {model}."
            if (received.field("output_format") or "png") not in ("png", "webp"):
                return "background", "Transparent background requires output_format png or webp."
        if received.field("response_format") is not None:
            return "response_format", f"response_format is not supported for {model}."
        images = [f for f in received.files if f.field in ("image", "image[]")]
        if not images:
            return "image", "Missing required parameter: 'image'."
        if len(images) > MAX_IMAGES:
            return "image", f"At most {MAX_IMAGES} images may be provided."
        for item in images:
            if item.content_type not in IMAGE_TYPES:
                return "image", f"Invalid file type {item.content_type}: use png, webp or jpg."
            if len(item.data) > MAX_IMAGE_BYTES:
                return "image", "Each image must be smaller than 50MB."
        return None

    @staticmethod
    def image_reply(data: bytes) -> Reply:
        return Reply(
            json={
                "created": 1_760_000_000,
                "data": [{"b64_json": base64.b64encode(data).decode()}],
                "usage": {"total_tokens": 100, "input_tokens": 50, "output_tokens": 50},
            }
        )

    @staticmethod
    def error(
        status: int,
        code: str | None,
        message: str = "error",
        error_type: str = "invalid_request_error",
        *,
        retry_after: str | None = None,
        should_retry: bool | None = None,
        param: str | None = None,
    ) -> Reply:
        body: dict[str, Any] = {
            "error": {"message": message, "type": error_type, "param": param, "code": code}
        }
        headers = {"retry-after": retry_after} if retry_after else {}
        if should_retry is not None:
            headers["x-should-retry"] = "true" if should_retry else "false"
        return Reply(status=status, json=body, headers=headers)

    @classmethod
    def moderation_blocked(cls) -> Reply:
        return cls.error(
            400,
            "moderation_blocked",
            "Your request was rejected by the safety system.",
            "image_generation_user_error",
        )
