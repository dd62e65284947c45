"""Fake of Turbotext's queued photo methods (`/api_ai/{method}`, form-encoded, inputs by URL).

`do=create_queue` (route "create") checks the bearer key and fetches every input URL, as Turbotext does
(its own `publish` links directly, any other link over a real loopback connection, recorded in `fetched`); `do=get_result` (route "poll") answers `{"action": "reconnect"}`
`reconnects` times, then the finished answer naming the result in the shape `result_shape` selects.
"""

import secrets
from typing import Any, Literal

import httpx

from tests.fakes.images import RESULT_PNG
from tests.fakes.server import FakeUpstream, Handler, Received, Reply

URL_FIELDS = ("url", "url_image_target")


class TurbotextFake(FakeUpstream):
    def __init__(self) -> None:
        super().__init__()
        self.on_reset()

    def on_reset(self) -> None:
        self.image = RESULT_PNG
        self.reconnects = 1
        self.never_finish = False
        self.result_shape: Literal["uploaded_image", "data_uploaded_image", "data_image_relative"] = (
            "uploaded_image"
        )
        self.media: dict[str, tuple[bytes, str]] = {}
        self.results: dict[str, bytes] = {}
        self.queues: dict[str, dict[str, Any]] = {}
        self.inputs: list[tuple[str, str, bytes]] = []
        self.fetched: list[str] = []
        """(form field, MIME type, bytes) of every input URL a create_queue named."""

    def routes(self) -> list[tuple[str, str, list[str], Handler]]:
        return [
            ("api", "/api_ai/{method}", ["POST"], self._api),
            ("download", "/download/{token}", ["GET"], self._download),
            ("media", "/media/{token}", ["GET"], self._media),
        ]

    def classify(self, received: Received) -> str:
        if received.route == "api":
            return {"create_queue": "create", "get_result": "poll"}.get(received.field("do") or "", "api")
        return received.route

    async def publish(self, data: bytes, content_type: str) -> str:
        """A `ProviderRequest.public_media_url` stand-in: serve `data` at an unguessable URL on this fake."""
        token = secrets.token_urlsafe(16)
        self.media[token] = (data, content_type)
        return f"{self.url}/media/{token}"

    async def _api(self, received: Received) -> Reply:
        if received.headers.get("authorization") != f"Bearer {self.api_key}":
            return Reply(status=401, json={"success": False, "error": "Unauthorized"})
        if received.route == "create":
            return await self._create(received)
        if received.route == "poll":
            return self._poll(received)
        return Reply(json={"success": False, "error": "params_error"})

    async def _create(self, received: Received) -> Reply:
        for name in URL_FIELDS:
            value = received.field(name)
            if value is None:
                continue
            token = value.removeprefix(f"{self.url}/media/")
            if token != value:
                if token not in self.media:
                    return Reply(json={"success": False, "error": "url_error"})
                data, content_type = self.media[token]
            else:
                # Someone else's link: fetch it, as Turbotext does, over a real connection (loopback only).
                fetched = await self._fetch(value)
                if fetched is None:
                    return Reply(json={"success": False, "error": "url_error"})
                data, content_type = fetched
            self.inputs.append((name, content_type, data))
        queue_id = str(1000 + len(self.queues))
        self.queues[queue_id] = {"method": received.path_params["method"], "polls": 0}
        return self.queued(queue_id)

    async def _fetch(self, url: str) -> tuple[bytes, str] | None:
        self.fetched.append(url)
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                response = await client.get(url)
        except httpx.HTTPError:
            return None
        if response.status_code != 200:
            return None
        return response.content, response.headers.get("content-type", "application/octet-stream")

    def _poll(self, received: Received) -> Reply:
        queue = self.queues.get(received.field("queueid") or "")
        if queue is None:
            return Reply(json={"success": False, "error": "queue not found"})
        queue["polls"] += 1
        if self.never_finish or queue["polls"] <= self.reconnects:
            return self.reconnect()
        return self.finished(self.image)

    def _download(self, received: Received) -> Reply:
        data = self.results.get(received.path_params["token"])
        if data is None:
            return Reply(status=404, body=b"gone", content_type="text/plain")
        return Reply(body=data, content_type="image/png")

    def _media(self, received: Received) -> Reply:
        item = self.media.get(received.path_params["token"])
        if item is None:
            return Reply(status=410, body=b"gone", content_type="text/plain")
        return Reply(body=item[0], content_type=item[1])

    @staticmethod
    def queued(queue_id: str = "1000") -> Reply:
        return Reply(json={"success": True, "queueid": int(queue_id)})

    @staticmethod
    def reconnect() -> Reply:
        return Reply(json={"action": "reconnect"})

    def finished(self, data: bytes) -> Reply:
        """A finished answer naming `data` (hosted at /download/...) in the shape `result_shape` selects."""
        token = secrets.token_urlsafe(8)
        self.results[token] = data
        absolute = f"{self.url}/download/{token}"
        body: dict[str, Any] = {"success": True, "error": "", "data": {"width": 64, "height": 48}}
        if self.result_shape == "uploaded_image":
            body["uploaded_image"] = absolute
        elif self.result_shape == "data_uploaded_image":
            body["data"]["uploaded_image"] = absolute
        else:
            body["data"]["image"] = [f"download/{token}"]
        return Reply(json=body)

    @staticmethod
    def failure(error: str) -> Reply:
        return Reply(json={"success": False, "error": error})

    @staticmethod
    def forbidden() -> Reply:
        return Reply(json={"success": True, "error": "", "data": {"image": [], "forbidden_content": True}})
