"""Fake of OpenRouter's `POST /api/v1/chat/completions` with image output, plus hosted result files."""

import base64
import secrets
from typing import Any

from tests.fakes.images import RESULT_PNG
from tests.fakes.server import FakeUpstream, Handler, Received, Reply


class OpenRouterFake(FakeUpstream):
    """Checks the bearer key (401). Default answer: `self.image` as a data URL in `message.images`.

    `hosted_reply()` answers an http URL instead, served by the fake at `/files/{token}` (route "files").
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
            ("files", "/files/{token}", ["GET"], self._file),
        ]

    def _default(self, received: Received) -> Reply:
        if received.headers.get("authorization") != f"Bearer {self.api_key}":
            return self.error(401, "No auth credentials found", status=401)
        return self.image_reply(self.image)

    def _file(self, received: Received) -> Reply:
        data = self.files.get(received.path_params["token"])
        if data is None:
            return Reply(status=404, body=b"not found", content_type="text/plain")
        return Reply(body=data, content_type="image/png")

    @staticmethod
    def _completion(message: dict[str, Any], finish: str = "stop", native: str = "STOP") -> dict[str, Any]:
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
    def content_filter(cls, native: str = "IMAGE_SAFETY") -> Reply:
        return Reply(json=cls._completion({"role": "assistant", "content": ""}, "content_filter", native))

    @staticmethod
    def error(
        code: int, message: str = "error", *, status: int | None = None, retry_after: str | None = None
    ) -> Reply:
        """An error body `{"error": {"code", "message"}}` with HTTP `status` (default: `code`)."""
        headers = {"Retry-After": retry_after} if retry_after else {}
        return Reply(
            status=code if status is None else status,
            json={"error": {"code": code, "message": message, "metadata": {}}},
            headers=headers,
        )

    @classmethod
    def choice_error(cls, code: int, message: str = "upstream provider error") -> Reply:
        """A 200 whose choice carries the routed provider's error."""
        body = cls._completion({"role": "assistant", "content": ""}, "error", "error")
        body["choices"][0]["error"] = {"code": code, "message": message}
        return Reply(json=body)
