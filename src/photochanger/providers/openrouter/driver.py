"""`openrouter` driver: `POST {base}/api/v1/chat/completions` with `modalities: ["image", "text"]`.

Images go as data-URL `image_url` parts; the result is the last of `choices[0].message.images`, a data URL
or an http(s) URL fetched within the deadline. OpenRouter reports some failures inside a 200 body (a
top-level `error`, or `choices[0].error` when the routed provider failed), so both are checked.
"""

from collections.abc import Mapping
from typing import Any

import httpx

from photochanger.core.images import run_image_work
from photochanger.providers.base import (
    Operation,
    ProviderError,
    ProviderFailed,
    ProviderRefused,
    ProviderRequest,
    ProviderResult,
    ProviderUnavailable,
)
from photochanger.providers.gemini.driver import REFUSED_FINISH
from photochanger.providers.imaging import (
    PreparedImage,
    finish_bytes,
    photo_input,
    prepare_input,
    result,
    template,
)
from photochanger.providers.openrouter.schemas import OpenRouterEditOptions
from photochanger.providers.remote import (
    Blob,
    RemoteProvider,
    StreamedJson,
    Transient,
    call,
    checked_options,
    decode_data_url,
    expect_options,
    fetch_image,
    json_body,
    parse_retry_after,
)

PROVIDER = "openrouter"
MAX_INPUT_SIDE = 2048
TRANSIENT = frozenset({408, 429, 500, 502, 503, 504})


def _error_failure(
    error: Mapping[str, Any], status: int, retry_after: float | None
) -> ProviderError | Transient:
    """Map an OpenRouter error object (`code` is an HTTP-like number) onto the taxonomy."""
    try:
        code = int(error.get("code") or status)
    except (TypeError, ValueError):
        code = status
    message = f"openrouter error {code}: {str(error.get('message', ''))[:300]}"
    if code == 402:
        # Out of credits: nothing a retry inside one job can fix, but not a configuration mistake either.
        return ProviderUnavailable(message, retry_after=retry_after, upstream_status=status)
    if code == 403:
        # Input flagged by the moderation OpenRouter runs for some models.
        return ProviderRefused(message, upstream_status=status)
    if code in TRANSIENT:
        return Transient(ProviderUnavailable(message, retry_after=retry_after, upstream_status=status))
    return ProviderFailed(message, upstream_status=status)


def parse_answer(response: httpx.Response) -> bytes | str:
    """Image bytes (from a data URL) or the http(s) URL to fetch them from; else the taxonomy's error."""
    status = response.status_code
    retry_after = parse_retry_after(response.headers)
    if status != 200:
        try:
            body = response.json()
        except ValueError:
            body = None
        error = body.get("error") if isinstance(body, dict) else None
        raise _error_failure(error if isinstance(error, dict) else {}, status, retry_after)
    body = json_body(response, PROVIDER)
    if not isinstance(body, dict):
        raise ProviderFailed("openrouter answered JSON that is not an object", upstream_status=status)
    if isinstance(body.get("error"), dict):
        raise _error_failure(body["error"], status, retry_after)
    choices = body.get("choices")
    choice = choices[0] if isinstance(choices, list) and choices else None
    if not isinstance(choice, dict):
        raise ProviderFailed("openrouter answered without choices", upstream_status=status)
    if isinstance(choice.get("error"), dict):
        raise _error_failure(choice["error"], status, retry_after)
    if (
        choice.get("finish_reason") == "content_filter"
        or choice.get("native_finish_reason") in REFUSED_FINISH
    ):
        raise ProviderRefused(
            f"openrouter's model refused: {choice.get('native_finish_reason') or 'content_filter'}",
            upstream_status=status,
        )
    raw_message = choice.get("message")
    message: dict[str, Any] = raw_message if isinstance(raw_message, dict) else {}
    raw_images = message.get("images")
    images: list[Any] = raw_images if isinstance(raw_images, list) else []
    urls: list[str] = [
        image["image_url"]["url"]
        for image in images
        if isinstance(image, dict)
        and isinstance(image.get("image_url"), dict)
        and isinstance(image["image_url"].get("url"), str)
    ]
    if urls:
        url = urls[-1]
        if url.startswith("data:"):
            return decode_data_url(url, PROVIDER)[0]
        if url.startswith(("https://", "http://")):
            return url
        raise ProviderFailed(
            "openrouter answered an image URL it is not possible to fetch", upstream_status=status
        )
    if message.get("content"):
        raise ProviderRefused(
            "openrouter's model answered with text instead of an image", upstream_status=status
        )
    raise ProviderFailed("openrouter answered without an image", upstream_status=status)


class OpenRouterProvider(RemoteProvider):
    """Image-output models routed by OpenRouter (bearer key)."""

    id = PROVIDER
    input_max_side = MAX_INPUT_SIDE
    title = "OpenRouter"

    default_base_url = "https://openrouter.ai"
    operations: Mapping[str, Operation] = {
        "edit": Operation("edit", "Edit with a prompt", OpenRouterEditOptions, ("template_media_ids",)),
    }

    def build_body(self, options: OpenRouterEditOptions, images: list[PreparedImage]) -> dict[str, Any]:
        content: list[dict[str, Any]] = [{"type": "text", "text": options.prompt}]
        content.extend(
            {
                "type": "image_url",
                "image_url": {"url": Blob(image.data, f"data:{image.content_type};base64,")},
            }
            for image in images
        )
        body: dict[str, Any] = {
            "model": options.model,
            "messages": [{"role": "user", "content": content}],
            "modalities": ["image", "text"],
            "stream": False,
        }
        image_config = {
            key: value
            for key, value in (("aspect_ratio", options.aspect_ratio), ("image_size", options.image_size))
            if value
        }
        if image_config:
            body["image_config"] = image_config
        return body

    async def run(self, operation: str, request: ProviderRequest) -> ProviderResult:
        checked = checked_options(PROVIDER, self.operations, operation, request, self._api_key)
        options = expect_options(checked, OpenRouterEditOptions)
        templates = [template(request, i).data for i in options.template_media_ids]
        images = [await photo_input(request, MAX_INPUT_SIDE)]
        images += [await run_image_work(prepare_input, t, MAX_INPUT_SIDE) for t in templates]
        body = StreamedJson(self.build_body(options, images))
        url = f"{self._base_url}/api/v1/chat/completions"
        headers = {"Authorization": f"Bearer {self._api_key}", "X-Title": "PhotoChanger"}

        async def send(budget: httpx.Timeout) -> httpx.Response:
            return await self._http.post(
                url, content=body, headers={**headers, **body.headers}, timeout=budget
            )

        answer = await call(PROVIDER, request.deadline, self._retry, send, parse_answer)
        fetched = isinstance(answer, str)
        if isinstance(answer, str):
            answer = await fetch_image(self._http, answer, request.deadline, self._retry, PROVIDER)
        output = await run_image_work(finish_bytes, answer, request)
        meta = {"operation": operation, "model": options.model, "inputs": len(images), "fetched": fetched}
        return result(output, request, meta)
