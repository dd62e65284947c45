"""Fake of Turbotext's queued photo methods (`/api_ai/{method}`, form-encoded, inputs by URL).

Built from Turbotext's API page, https://www.turbotext.ru/photo_ai/docs/info, not from our driver: every
request goes to `https://www.turbotext.ru/api_ai/{method}` form-encoded with `Authorization: Bearer`;
`do=create_queue` answers `{"success": true, "queueid": N}`; `do=get_result` with `queueid` answers
`{"action": "reconnect"}` until the generation is done and then `success: true` with its data; the
`available_api` method lists the methods the key may use; `mix_images` takes `url_image_target` (the
photo), `url` (the style) and `content`. Failures come as `{"success": false, "error": ...}`.

`do=create_queue` (route "create") checks the bearer key and fetches every input URL, as Turbotext does
(its own `publish` links directly, any other link over a real loopback connection, recorded in
`fetched`); `do=get_result` (route "poll") answers `{"action": "reconnect"}` `reconnects` times, then the
finished answer naming the result in the shape `result_shape` selects (an absolute URL or a path
relative to the site, top level or under `data`, as the page's examples show both).

Where the page is silent the fake says so and chooses:
- error codes: only `LIMIT` (tariff limit), `url_error` (an input link that cannot be fetched),
  `params_error` (missing or bad parameters) and the `forbidden_content` flag in a finished answer are
  used; the page names no others;
- input links: its examples are image links with a file extension, and nothing says what happens to
  others; the fake refuses (`url_error`) a link without an extension or whose extension does not match
  the Content-Type it is served with;
- HTTP statuses: a wrong key is a 401 with the failure envelope.
"""

import secrets
from typing import Any, Literal

import httpx

from tests.fakes.images import RESULT_PNG
from tests.fakes.server import FakeUpstream, Handler, Received, Reply

URL_FIELDS = ("url", "url_image_target")
EXTENSIONS = {"image/jpeg": ("jpg", "jpeg"), "image/png": ("png",), "image/webp": ("webp",)}
ResultShape = Literal[
    "uploaded_image",
    "data_uploaded_image",
    "data_image_relative",
    "data_image_root_relative",
    "data_image_absolute",
]


def _extension_matches(url: str, content_type: str) -> bool:
    name = url.split("?", 1)[0].rsplit("/", 1)[-1]
    if "." not in name:
        return False
    return name.rsplit(".", 1)[1].lower() in EXTENSIONS.get(content_type.split(";")[0].strip(), ())


class TurbotextFake(FakeUpstream):
    def __init__(self) -> None:
        super().__init__()
        self.on_reset()

    def on_reset(self) -> None:
        self.image = RESULT_PNG
        self.reconnects = 1
        self.never_finish = False
        self.result_shape: ResultShape = "uploaded_image"
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
            ("media", "/media/{name}", ["GET"], self._media),
        ]

    def classify(self, received: Received) -> str:
        if received.route == "api":
            return {"create_queue": "create", "get_result": "poll"}.get(received.field("do") or "", "api")
        return received.route

    async def publish(self, data: bytes, content_type: str) -> str:
        """A `ProviderRequest.public_media_url` stand-in: serve `data` at an unguessable URL on this fake."""
        token = secrets.token_urlsafe(16)
        self.media[token] = (data, content_type)
        return f"{self.url}/media/{token}.{EXTENSIONS[content_type][0]}"

    async def _api(self, received: Received) -> Reply:
        if received.headers.get("authorization") != f"Bearer {self.api_key}":
            return Reply(status=401, json={"success": False, "error": "Unauthorized"})
        if received.route == "create":
            return await self._create(received)
        if received.route == "poll":
            return self._poll(received)
        return self.failure("params_error")

    async def _create(self, received: Received) -> Reply:
        method = received.path_params["method"]
        if method == "available_api":
            queue_id = str(1000 + len(self.queues))
            self.queues[queue_id] = {"method": method, "polls": 0}
            return self.queued(queue_id)
        if method == "mix_images" and not (received.field("url") and received.field("url_image_target")):
            return self.failure("params_error")
        if method in ("generate_image2image", "deepfake_photo") and not received.field("url"):
            return self.failure("params_error")
        for name in URL_FIELDS:
            value = received.field(name)
            if value is None:
                continue
            name_part = value.removeprefix(f"{self.url}/media/")
            if name_part != value:
                item = self.media.get(name_part.rsplit(".", 1)[0])
                if item is None:
                    return self.failure("url_error")
                data, content_type = item
            else:
                # Someone else's link: fetch it, as Turbotext does, over a real connection (loopback only).
                fetched = await self._fetch(value)
                if fetched is None:
                    return self.failure("url_error")
                data, content_type = fetched
            if not _extension_matches(value, content_type):
                return self.failure("url_error")
            self.inputs.append((name, content_type, data))
        queue_id = str(1000 + len(self.queues))
        self.queues[queue_id] = {"method": method, "polls": 0}
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
        if queue["method"] == "available_api":
            return Reply(json={"success": True, "available_api": [{"name": "mix_images"}]})
        return self.finished(self.image)

    def _download(self, received: Received) -> Reply:
        data = self.results.get(received.path_params["token"])
        if data is None:
            return Reply(status=404, body=b"gone", content_type="text/plain")
        return Reply(body=data, content_type="image/png")

    def _media(self, received: Received) -> Reply:
        item = self.media.get(received.path_params["name"].rsplit(".", 1)[0])
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
        elif self.result_shape == "data_image_absolute":
            body["data"]["image"] = [absolute]
        elif self.result_shape == "data_image_root_relative":
            body["data"]["image"] = [f"/download/{token}"]
        else:
            body["data"]["image"] = [f"download/{token}"]
        return Reply(json=body)

    @staticmethod
    def failure(error: str) -> Reply:
        return Reply(json={"success": False, "error": error})

    @staticmethod
    def forbidden() -> Reply:
        return Reply(json={"success": True, "error": "", "data": {"image": [], "forbidden_content": True}})
