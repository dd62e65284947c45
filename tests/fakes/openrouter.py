"""Fake of OpenRouter's chat completions with image output, its model list and key info, plus hosted
result files.

Built from OpenRouter's documentation (OpenRouterTeam/docs), not from our driver:
- image generation: https://openrouter.ai/docs/features/multimodal/image-generation (`modalities`,
  `message.images[].image_url.url`, `image_config.aspect_ratio`/`image_size`; models whose
  `output_modalities` hold only `image` must be asked for `["image"]`, others for `["image", "text"]`);
- the request schema: https://openrouter.ai/docs/api-reference/chat-completion;
- models: https://openrouter.ai/docs/api-reference/models/get-models (`data[].id`,
  `architecture.input_modalities`/`output_modalities`); key info:
  https://openrouter.ai/docs/api-reference/api-keys/get-current-key (`GET /api/v1/key`);
- errors: https://openrouter.ai/docs/api-reference/errors (`{"error": {"code", "message", "metadata"}}`;
  400, 401, 402 no credits, 403 moderation with `metadata.reasons`/`flagged_input`, 408, 429, 502,
  503; errors after the model started come inside a 200), the provider-error metadata
  (`metadata.error_type` such as `content_policy_violation` or `refusal`, `provider_name`, `raw`), and
  `finish_reason: "error"`/`message.refusal` in the completion.

It refuses what the service refuses: a wrong key (401), an unknown model (400), top-level fields the
request schema does not have (400), output modalities the model's endpoints do not offer (404 "No
endpoints found that support the requested output modalities"), and image parts that are not URLs or
data URLs. The 403 variants for guardrails, key permissions and regions are described in the docs only
by their message, so their wording here is the fake's own.
"""

import base64
import secrets
from typing import Any

from tests.fakes.images import RESULT_PNG
from tests.fakes.server import FakeUpstream, Handler, Received, Reply

# Output modalities as the model list reports them.
MODELS: dict[str, list[str]] = {
    "google/gemini-2.5-flash-image": ["image", "text"],
    "google/gemini-3-pro-image-preview": ["image", "text"],
    "google/gemini-3.1-flash-image-preview": ["image", "text"],
    "openai/gpt-5-image": ["image", "text"],
    "black-forest-labs/flux.2-pro": ["image"],
    "bytedance-seed/seedream-4.5": ["image"],
    "sourceful/riverflow-v2-standard-preview": ["image"],
}
REQUEST_FIELDS = {
    "model",
    "models",
    "messages",
    "prompt",
    "modalities",
    "image_config",
    "stream",
    "max_tokens",
    "temperature",
    "top_p",
    "top_k",
    "seed",
    "stop",
    "provider",
    "route",
    "user",
    "transforms",
    "plugins",
    "reasoning",
    "usage",
    "response_format",
    "tools",
    "tool_choice",
    "presence_penalty",
    "frequency_penalty",
    "repetition_penalty",
    "min_p",
    "top_a",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "debug",
}


class OpenRouterFake(FakeUpstream):
    """Checks the bearer key (401). Default answer: `self.image` as a data URL in `message.images`.

    Routes: "main" (chat completions), "models" (`GET /api/v1/models`), "key" (`GET /api/v1/key`) and
    "files" (`/files/{token}`, where `hosted_reply()` puts an http result URL).
    """

    def __init__(self) -> None:
        super().__init__()
        self.image = RESULT_PNG
        self.files: dict[str, bytes] = {}

    def on_reset(self) -> None:
        self.image = RESULT_PNG
        self.files.clear()

    def routes(self) -> list[tuple[str, str, list[str], Handler]]:
        return [
            ("main", "/api/v1/chat/completions", ["POST"], self._default),
            ("models", "/api/v1/models", ["GET"], self._models),
            ("key", "/api/v1/key", ["GET"], self._key),
            ("files", "/files/{token}", ["GET"], self._file),
        ]

    def _unauthorized(self, received: Received) -> Reply | None:
        if received.headers.get("authorization") != f"Bearer {self.api_key}":
            return self.error(401, "No auth credentials found", status=401)
        return None

    def _models(self, received: Received) -> Reply:
        # The model list is public: no key needed.
        return Reply(
            json={
                "data": [
                    {
                        "id": model,
                        "name": model,
                        "architecture": {
                            "modality": "text+image->" + "+".join(outputs),
                            "input_modalities": ["text", "image"],
                            "output_modalities": outputs,
                        },
                    }
                    for model, outputs in MODELS.items()
                ]
            }
        )

    def _key(self, received: Received) -> Reply:
        if (refused := self._unauthorized(received)) is not None:
            return refused
        return Reply(
            json={"data": {"label": "sk-or-v1-abc...xyz", "limit": None, "usage": 1.5, "is_free_tier": False}}
        )

    def _default(self, received: Received) -> Reply:
        if (refused := self._unauthorized(received)) is not None:
            return refused
        body = received.json
        if not isinstance(body, dict):
            return self.error(400, "Invalid JSON body")
        for name in sorted(set(body) - REQUEST_FIELDS):
            return self.error(400, f"Unrecognized key in request body: '{name}'")
        model = body.get("model")
        outputs = MODELS.get(str(model))
        if outputs is None:
            return self.error(400, f"{model} is not a valid model ID")
        modalities = body.get("modalities") or ["text"]
        if not set(modalities) <= set(outputs):
            return self.error(
                404,
                "No endpoints found that support the requested output modalities: " + ", ".join(modalities),
            )
        for message in body.get("messages") or []:
            content = message.get("content")
            for part in content if isinstance(content, list) else []:
                if part.get("type") == "image_url":
                    url = str((part.get("image_url") or {}).get("url", ""))
                    if not url.startswith(("data:image/", "https://", "http://")):
                        return self.error(400, "Invalid image URL")
        return self.image_reply(self.image)

    def _file(self, received: Received) -> Reply:
        data = self.files.get(received.path_params["token"])
        if data is None:
            return Reply(status=404, body=b"not found", content_type="text/plain")
        return Reply(body=data, content_type="image/png")

    @staticmethod
    def _completion(
        message: dict[str, Any], finish: str | None = "stop", native: str | None = "STOP"
    ) -> dict[str, Any]:
        return {
            "id": "gen-123",
            "object": "chat.completion",
            "model": "google/gemini-2.5-flash-image",
            "choices": [
                {"index": 0, "finish_reason": finish, "native_finish_reason": native, "message": message}
            ],
        }

    @classmethod
    def image_reply(cls, data: bytes, mime: str = "image/png") -> Reply:
        url = f"data:{mime};base64,{base64.b64encode(data).decode()}"
        message = {
            "role": "assistant",
            "content": "Here you go.",
            "images": [{"type": "image_url", "image_url": {"url": url}}],
        }
        return Reply(json=cls._completion(message))

    def hosted_reply(self, data: bytes) -> Reply:
        """A success whose image is an http URL on this fake (fetched by the driver)."""
        token = secrets.token_urlsafe(8)
        self.files[token] = data
        message = {
            "role": "assistant",
            "content": "",
            "images": [{"type": "image_url", "image_url": {"url": f"{self.url}/files/{token}"}}],
        }
        return Reply(json=self._completion(message))

    @classmethod
    def text_only(cls, text: str = "I can only describe this image.") -> Reply:
        return Reply(json=cls._completion({"role": "assistant", "content": text}))

    @classmethod
    def empty(cls) -> Reply:
        """A completion with neither image nor text (a routed provider's cold start)."""
        return Reply(json=cls._completion({"role": "assistant", "content": ""}, None, None))

    @classmethod
    def content_filter(cls, native: str = "IMAGE_SAFETY") -> Reply:
        return Reply(json=cls._completion({"role": "assistant", "content": ""}, "content_filter", native))

    @classmethod
    def message_refusal(cls, text: str = "I can't help with editing this image.") -> Reply:
        return Reply(json=cls._completion({"role": "assistant", "content": None, "refusal": text}))

    @classmethod
    def finish_error(cls) -> Reply:
        """`finish_reason: "error"` without an error object: the model stopped on its own."""
        return Reply(json=cls._completion({"role": "assistant", "content": ""}, "error", "error"))

    @staticmethod
    def error(
        code: int,
        message: str = "error",
        *,
        status: int | None = None,
        retry_after: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Reply:
        """An error body `{"error": {"code", "message", "metadata"}}` with HTTP `status` (default: `code`)."""
        headers = {"Retry-After": retry_after} if retry_after else {}
        return Reply(
            status=code if status is None else status,
            json={"error": {"code": code, "message": message, "metadata": metadata or {}}},
            headers=headers,
        )

    @classmethod
    def moderation_flagged(cls) -> Reply:
        """403 from the moderation OpenRouter runs for some models: reasons and the flagged input."""
        return cls.error(
            403,
            'openai/gpt-5-image requires moderation on OpenAI. Your input was flagged for "sexual".',
            metadata={
                "reasons": ["sexual"],
                "flagged_input": "a photo of...",
                "provider_name": "OpenAI",
                "model_slug": "openai/gpt-5-image",
            },
        )

    @classmethod
    def provider_refusal(cls, error_type: str = "content_policy_violation") -> Reply:
        """400 passing on the routed provider's content refusal, typed in `metadata.error_type`."""
        return cls.error(
            400,
            "Provider returned error",
            metadata={
                "provider_name": "Google AI Studio",
                "error_type": error_type,
                "raw": '{"error": {"message": "The request was blocked by the safety system."}}',
            },
        )

    @classmethod
    def choice_error(cls, code: int, message: str = "upstream provider error") -> Reply:
        """A 200 whose choice carries the routed provider's error."""
        body = cls._completion({"role": "assistant", "content": ""}, "error", "error")
        body["choices"][0]["error"] = {"code": code, "message": message}
        return Reply(json=body)
