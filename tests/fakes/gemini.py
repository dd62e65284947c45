"""Fake of Gemini's `generateContent` (image output), speaking the Generative Language API's shapes."""

import base64
from typing import Any

from tests.fakes.images import RESULT_PNG
from tests.fakes.server import FakeUpstream, Handler, Received, Reply


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class GeminiFake(FakeUpstream):
    """`POST /v1beta/models/{model}:generateContent`; key in `x-goog-api-key` (else 400 API_KEY_INVALID).

    Default answer: a thought image followed by the final image `self.image` (camelCase `inlineData`).
    """

    def __init__(self) -> None:
        super().__init__()
        self.image = RESULT_PNG

    def on_reset(self) -> None:
        self.image = RESULT_PNG

    def routes(self) -> list[tuple[str, str, list[str], Handler]]:
        return [("main", "/v1beta/models/{target}", ["POST"], self._default)]

    def _default(self, received: Received) -> Reply:
        if received.headers.get("x-goog-api-key") != self.api_key:
            return self.error(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.")
        if not received.path_params.get("target", "").endswith(":generateContent"):
            return self.error(404, "NOT_FOUND", "method not found")
        return self.image_reply(self.image)

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
                "modelVersion": "gemini-2.5-flash-image",
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
    ) -> Reply:
        """A Google API error body; `retry_after` as a header, `retry_delay` ("7s") as RetryInfo."""
        error: dict[str, Any] = {"code": status, "message": message, "status": google_status}
        if retry_delay:
            error["details"] = [
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay}
            ]
        headers = {"Retry-After": retry_after} if retry_after else {}
        return Reply(status=status, json={"error": error}, headers=headers)
