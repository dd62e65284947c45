"""Fake of OpenAI's `POST /v1/images/edits` (multipart in, `data[0].b64_json` out)."""

import base64
from typing import Any

from tests.fakes.images import RESULT_PNG
from tests.fakes.server import FakeUpstream, Handler, Received, Reply


class OpenAIFake(FakeUpstream):
    """Checks the bearer key (401 invalid_api_key) and that `model` and at least one `image[]` came."""

    def __init__(self) -> None:
        super().__init__()
        self.image = RESULT_PNG

    def on_reset(self) -> None:
        self.image = RESULT_PNG

    def routes(self) -> list[tuple[str, str, list[str], Handler]]:
        return [("main", "/v1/images/edits", ["POST"], self._default)]

    def _default(self, received: Received) -> Reply:
        if received.headers.get("authorization") != f"Bearer {self.api_key}":
            return self.error(401, "invalid_api_key", "Incorrect API key provided.", "invalid_request_error")
        if not received.field("model") or not any(f.field == "image[]" for f in received.files):
            return self.error(400, "invalid_value", "model and image[] are required", "invalid_request_error")
        return self.image_reply(self.image)

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
    ) -> Reply:
        body: dict[str, Any] = {
            "error": {"message": message, "type": error_type, "param": None, "code": code}
        }
        headers = {"retry-after": retry_after} if retry_after else {}
        return Reply(status=status, json=body, headers=headers)

    @classmethod
    def moderation_blocked(cls) -> Reply:
        return cls.error(
            400,
            "moderation_blocked",
            "Your request was rejected by the safety system.",
            "image_generation_user_error",
        )
