"""`turbotext` driver: form-encoded `do=create_queue` on `{base}/api_ai/{method}`, then `do=get_result`
polled until the answer stops being `{"action": "reconnect"}`.

Turbotext takes input images only by URL, so each input is published through
`ProviderRequest.public_media_url` (a short-lived unguessable link, with the file extension of its
content, that dies with the job's deadline); a slot is therefore refused while the public base URL is a
loopback or private address Turbotext cannot reach. The finished answer names the result image at the
top level or under `data` (`uploaded_image`, or an `image` list of absolute URLs or paths relative to the
site). Only the error codes Turbotext's page names are mapped (`LIMIT`, `url_error`, `params_error`,
the `forbidden_content` flag); any other text is reported as it came.
"""

import asyncio
import ipaddress
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
from pydantic import BaseModel

from photochanger.core.images import run_image_work
from photochanger.providers.base import (
    ConnectionCheck,
    FieldProblem,
    Operation,
    ProviderError,
    ProviderFailed,
    ProviderMisconfigured,
    ProviderRefused,
    ProviderRequest,
    ProviderResult,
    ProviderTimeout,
    ProviderUnavailable,
    SlotCheck,
)
from photochanger.providers.imaging import finish_bytes, photo_input, prepare_input, result, template
from photochanger.providers.remote import (
    ConnectionProbe,
    RemoteProvider,
    RetryPolicy,
    call,
    checked_options,
    fetch_image,
)
from photochanger.providers.turbotext.schemas import (
    TurbotextIdentityTransferOptions,
    TurbotextImageEditOptions,
    TurbotextStyleTransferOptions,
)
from photochanger.providers.wire import answered, connection_answer, json_body, response_json, status_failure

PROVIDER = "turbotext"
MAX_INPUT_SIDE = 2048
METHODS = {
    "image_edit": "generate_image2image",
    "style_transfer": "mix_images",
    "identity_transfer": "deepfake_photo",
}


def error_failure(text: str, status: int) -> ProviderError:
    """Map a `{"success": false, "error": ...}` answer by the codes Turbotext documents, nothing guessed."""
    message = f"turbotext error: {text[:300]}"
    code = text.strip()
    if code == "LIMIT":
        # The tariff's limit: nothing a retry inside one job can fix.
        return ProviderUnavailable(message, upstream_status=status)
    if code == "url_error":
        return ProviderMisconfigured(
            f"{message}: Turbotext could not fetch an input link; PHOTOCHANGER_PUBLIC_BASE_URL must be "
            "reachable from the internet",
            upstream_status=status,
        )
    if code == "params_error":
        return ProviderMisconfigured(message, upstream_status=status)
    if code == "forbidden_content":
        return ProviderRefused(message, upstream_status=status)
    return ProviderFailed(message, upstream_status=status)


def _answer(response: httpx.Response) -> dict[str, Any]:
    if response.status_code in (401, 403):
        body = response_json(response)
        text = str((body.get("error") if isinstance(body, dict) else None) or "")
        raise ProviderMisconfigured(
            f"turbotext refused the API key ({response.status_code}) {text[:200]}".rstrip(),
            upstream_status=response.status_code,
        )
    if response.status_code != 200:
        raise status_failure(response, PROVIDER)
    body = json_body(response, PROVIDER)
    if not isinstance(body, dict):
        raise ProviderFailed("turbotext answered JSON that is not an object", upstream_status=200)
    if body.get("success") is False or (body.get("error") and not body.get("success")):
        raise error_failure(str(body.get("error") or "unknown error"), response.status_code)
    return body


def parse_queued(response: httpx.Response) -> str:
    """The queue id of a `create_queue` answer."""
    body = _answer(response)
    queue_id = body.get("queueid")
    if not body.get("success") or queue_id in (None, ""):
        raise ProviderFailed("turbotext did not return a queue id", upstream_status=response.status_code)
    return str(queue_id)


def parse_result(response: httpx.Response) -> dict[str, Any] | None:
    """None while Turbotext answers `reconnect`; the finished answer otherwise."""
    body = _answer(response)
    if body.get("action") == "reconnect":
        return None
    if not body.get("success"):
        raise ProviderFailed("turbotext answered neither a result nor reconnect", upstream_status=200)
    return body


def absolute_result_url(candidate: str, base_url: str) -> str:
    """An absolute http(s) URL as it is; a path (with or without its leading slash) relative to the
    site's root, whatever path the configured base URL has."""
    parts = urlsplit(candidate)
    if parts.scheme in ("http", "https") and parts.netloc:
        return candidate
    if parts.scheme or candidate.startswith("//"):
        if candidate.startswith("//"):
            return f"{urlsplit(base_url).scheme}:{candidate}"
        raise ProviderFailed(f"turbotext named a result that is not an http(s) URL: {parts.scheme}:")
    site = urlsplit(base_url)
    return urljoin(f"{site.scheme}://{site.netloc}/", candidate.lstrip("/"))


def result_url(body: Mapping[str, Any], base_url: str) -> str:
    """The result image's absolute URL, wherever the finished answer put it; refusals raised."""
    raw = body.get("data")
    data: Mapping[str, Any] = raw if isinstance(raw, dict) else {}
    if data.get("forbidden_content") or body.get("forbidden_content"):
        raise ProviderRefused("turbotext flagged the content as forbidden", upstream_status=200)
    for holder in (body, data):
        candidates: list[Any] = [holder.get("uploaded_image")]
        image = holder.get("image")
        candidates.extend(image if isinstance(image, list) else [image])
        for candidate in candidates:
            if isinstance(candidate, str) and candidate.strip():
                return absolute_result_url(candidate.strip(), base_url)
    raise ProviderFailed("turbotext's result names no image", upstream_status=200)


def unreachable_host(base_url: str) -> str | None:
    """Why a server at `base_url` cannot be reached from the internet, or None when it may be."""
    host = (urlsplit(base_url).hostname or "").rstrip(".").lower()
    if not host:
        return "it has no host"
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal", ".lan")):
        return f"{host} is a local name"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if address.is_loopback:
        return f"{host} is a loopback address"
    if address.is_private or address.is_link_local or address.is_unspecified or address.is_reserved:
        return f"{host} is a private address"
    return None


def _available(body: Any) -> bool:
    return isinstance(body, dict) and bool(body.get("success"))


def _available_detail(body: Any, status: int) -> str:
    return answered(PROVIDER, status, body.get("error") if isinstance(body, dict) else None)


class TurbotextProvider(RemoteProvider):
    """Turbotext photo methods (bearer key; inputs by public URL; queued results polled)."""

    id = PROVIDER
    input_max_side = MAX_INPUT_SIDE

    def input_side(self, operation: str, options: BaseModel, size: tuple[int, int]) -> int:
        """Turbotext states no output size: the cap."""
        return MAX_INPUT_SIDE

    title = "Turbotext"

    default_base_url = "https://www.turbotext.ru"
    operations: Mapping[str, Operation] = {
        "image_edit": Operation("image_edit", "Image edit", TurbotextImageEditOptions),
        "style_transfer": Operation(
            "style_transfer", "Style transfer", TurbotextStyleTransferOptions, ("style_media_id",)
        ),
        "identity_transfer": Operation(
            "identity_transfer",
            "Identity transfer",
            TurbotextIdentityTransferOptions,
            ("scene_media_id",),
        ),
    }

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        api_key: str | None,
        base_url: str | None = None,
        retry: RetryPolicy | None = None,
        poll_interval: float = 2.0,
    ) -> None:
        super().__init__(http, api_key=api_key, base_url=base_url, retry=retry)
        self._poll_interval = poll_interval

    async def _publish(self, request: ProviderRequest, data: bytes | None) -> str:
        """Publish `data` (the request's photo when None) prepared for the upstream, and return its URL."""
        if request.public_media_url is None:
            raise ProviderFailed(
                "turbotext needs input images published by URL, which this server cannot offer"
            )
        if data is None:
            prepared = await photo_input(request, MAX_INPUT_SIDE)
        else:
            prepared = await run_image_work(prepare_input, data, MAX_INPUT_SIDE)
        # The link's extension comes from `content_type` (the publisher names the file after it).
        return await request.public_media_url(prepared.data, prepared.content_type)

    async def _fields(self, options: BaseModel, request: ProviderRequest) -> dict[str, str]:
        photo_url = await self._publish(request, None)
        if isinstance(options, TurbotextImageEditOptions):
            fields = {
                "url": photo_url,
                "content": options.prompt,
                "strength": str(options.strength),
                "scale": str(options.scale),
                "original_language": options.original_language,
            }
            if options.seed is not None:
                fields["seed"] = str(options.seed)
            if options.negative_prompt:
                fields["negative_prompt"] = options.negative_prompt
            return fields
        if isinstance(options, TurbotextStyleTransferOptions):
            style_url = await self._publish(request, template(request, options.style_media_id).data)
            fields = {"url_image_target": photo_url, "url": style_url}
            if options.prompt:
                fields["content"] = options.prompt
            return fields
        if isinstance(options, TurbotextIdentityTransferOptions):
            scene_url = await self._publish(request, template(request, options.scene_media_id).data)
            # `url` is the picture whose face is replaced, `url_image_target` the face to put in.
            return {
                "url": scene_url,
                "url_image_target": photo_url,
                "face_restore": str(options.face_restore),
            }
        raise ProviderFailed("unexpected turbotext options")

    async def run(self, operation: str, request: ProviderRequest) -> ProviderResult:
        options = checked_options(PROVIDER, self.operations, operation, request, self.key_for(request))
        fields = await self._fields(options, request)
        endpoint = f"{self._base_url}/api_ai/{METHODS[operation]}"
        headers = self.auth_headers(self.key_for(request))
        deadline = request.deadline

        async def create(budget: httpx.Timeout) -> httpx.Response:
            form = {"do": "create_queue", **fields}
            return await self._http.post(endpoint, data=form, headers=headers, timeout=budget)

        queue_id = await call(PROVIDER, deadline, self.retry_for(request), create, parse_queued)

        async def poll(budget: httpx.Timeout) -> httpx.Response:
            form = {"do": "get_result", "queueid": queue_id}
            return await self._http.post(endpoint, data=form, headers=headers, timeout=budget)

        polls = 0
        while True:
            await asyncio.sleep(min(self._poll_interval, deadline.remaining()))
            if deadline.expired:
                raise ProviderTimeout(f"turbotext queue {queue_id} was not finished before the deadline")
            polls += 1
            finished = await call(PROVIDER, deadline, self._retry, poll, parse_result)
            if finished is not None:
                break
        url = result_url(finished, self._base_url)
        data = await fetch_image(self._http, url, deadline, self._retry, PROVIDER)
        output = await run_image_work(finish_bytes, data, request)
        return result(output, request, {"operation": operation, "queue_id": queue_id, "polls": polls})

    def check_slot(self, operation: str, check: SlotCheck) -> list[FieldProblem]:
        """Turbotext fetches the inputs from our public links itself: a base URL it cannot reach fails
        every shot."""
        why = unreachable_host(check.public_base_url)
        if why is None:
            return []
        return [
            FieldProblem(
                "provider",
                f"Turbotext downloads the photo from this server's public links, but "
                f"PHOTOCHANGER_PUBLIC_BASE_URL ({check.public_base_url}) cannot be reached from the "
                f"internet: {why}. Set it to the server's public address first.",
                "public_base_url_unreachable",
            )
        ]

    def connection_probe(self) -> ConnectionProbe:
        """`do=create_queue` on the `available_api` method: authenticated, and it generates nothing."""
        return ConnectionProbe("POST", "/api_ai/available_api", {"do": "create_queue"})

    def connection_answer(self, response: httpx.Response) -> ConnectionCheck:
        return connection_answer(response, _available_detail, ok=_available)
