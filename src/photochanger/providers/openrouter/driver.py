"""`openrouter` driver: `POST {base}/api/v1/chat/completions` with image output.

`modalities` is what the model offers: `["image"]` for image-only models (Flux, Seedream, Riverflow...),
`["image", "text"]` for the others, read from OpenRouter's public model list (`output_modalities`) and
cached. Images go as data-URL `image_url` parts; the result is the last of `choices[0].message.images`, a
data URL or an http(s) URL fetched within the deadline. OpenRouter reports some failures inside a 200 body
(a top-level `error`, or `choices[0].error` when the routed provider failed), so both are checked.
Content refusals come as a 400 typed `content_policy_violation`/`refusal`, a 403 with moderation
`reasons`, `message.refusal` or `finish_reason: "error"`; other 403s (key permissions, guardrails,
regions) are configuration. An empty answer (a cold start) is retried within the deadline.
"""

import logging
import time
from collections.abc import Mapping
from typing import Any

import httpx
from pydantic import BaseModel

from photochanger.core.images import run_image_work
from photochanger.providers.base import (
    Deadline,
    Operation,
    ProviderError,
    ProviderFailed,
    ProviderMisconfigured,
    ProviderRefused,
    ProviderRequest,
    ProviderResult,
    ProviderTimeout,
    ProviderUnavailable,
)
from photochanger.providers.imaging import (
    GOOGLE_DEFAULT_IMAGE_SIZE,
    GOOGLE_OUTPUT_EDGE,
    PreparedImage,
    aspect_of,
    finish_bytes,
    output_long_side,
    photo_input,
    photo_size,
    prepare_input,
    result,
    template,
)
from photochanger.providers.openrouter.schemas import OpenRouterEditOptions
from photochanger.providers.remote import (
    ConnectionProbe,
    RemoteProvider,
    RetryPolicy,
    call,
    checked_options,
    expect_options,
    fetch_image,
)
from photochanger.providers.wire import (
    GOOGLE_REFUSED_FINISH,
    Blob,
    StreamedJson,
    Transient,
    decode_data_url,
    error_object,
    json_body,
    parse_retry_after,
    response_json,
    upstream_failure,
)

PROVIDER = "openrouter"
MAX_INPUT_SIDE = 2048
TRANSIENT = frozenset({408, 429, 500, 502, 503, 504})
REFUSAL_TYPES = frozenset({"content_policy_violation", "refusal"})
NO_ENDPOINTS = "No endpoints found that support the requested output modalities"
# How long OpenRouter's model list is trusted before it is read again.
MODELS_TTL = 3600.0
MODELS_BUDGET = 5.0
_ONE_ATTEMPT = RetryPolicy(max_attempts=1)
logger = logging.getLogger("photochanger.providers")


def _error_failure(
    error: Mapping[str, Any], status: int, retry_after: float | None
) -> ProviderError | Transient:
    """Map an OpenRouter error object (`code` is an HTTP-like number) onto the taxonomy."""
    try:
        code = int(error.get("code") or status)
    except (TypeError, ValueError):
        code = status
    message = f"openrouter error {code}: {str(error.get('message', ''))[:300]}"
    raw_metadata = error.get("metadata")
    metadata: Mapping[str, Any] = raw_metadata if isinstance(raw_metadata, dict) else {}
    if metadata.get("error_type") in REFUSAL_TYPES:
        return ProviderRefused(message, upstream_status=status)
    if code == 402:
        # Out of credits: nothing a retry inside one job can fix, but not a configuration mistake either.
        return ProviderUnavailable(message, retry_after=retry_after, upstream_status=status)
    if code == 403:
        if metadata.get("reasons") or metadata.get("flagged_input"):
            # Input flagged by the moderation OpenRouter runs for some models.
            return ProviderRefused(message, upstream_status=status)
        # Missing key permissions, a guardrail block or a region restriction: the message says which.
        return ProviderMisconfigured(message, upstream_status=status)
    if code in (400, 401, 404):
        return ProviderMisconfigured(message, upstream_status=status)
    return upstream_failure(status, message, retry_after=retry_after, transient=TRANSIENT, code=code)


def parse_answer(response: httpx.Response) -> bytes | str:
    """Image bytes (from a data URL) or the http(s) URL to fetch them from; else the taxonomy's error."""
    status = response.status_code
    retry_after = parse_retry_after(response.headers)
    if status != 200:
        raise _error_failure(error_object(response_json(response)), status, retry_after)
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
    raw_message = choice.get("message")
    message: dict[str, Any] = raw_message if isinstance(raw_message, dict) else {}
    if message.get("refusal"):
        raise ProviderRefused(
            f"openrouter's model refused: {str(message['refusal'])[:300]}", upstream_status=status
        )
    if (
        choice.get("finish_reason") in ("content_filter", "error")
        or choice.get("native_finish_reason") in GOOGLE_REFUSED_FINISH
    ):
        raise ProviderRefused(
            "openrouter's model refused: "
            f"{choice.get('native_finish_reason') or choice.get('finish_reason')}",
            upstream_status=status,
        )
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
    # Neither image nor text: routed providers answer so on a cold start; another attempt usually works.
    raise Transient(ProviderFailed("openrouter answered without an image or text", upstream_status=status))


def output_modalities(response: httpx.Response) -> dict[str, list[str]]:
    """`{model id: output modalities}` from a `GET /api/v1/models` answer."""
    body = json_body(response, PROVIDER) if response.status_code == 200 else None
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        raise Transient(ProviderUnavailable("openrouter's model list could not be read"))
    models: dict[str, list[str]] = {}
    for item in data:
        architecture = item.get("architecture") if isinstance(item, dict) else None
        outputs = architecture.get("output_modalities") if isinstance(architecture, dict) else None
        if isinstance(item.get("id"), str) and isinstance(outputs, list):
            models[item["id"]] = [str(o) for o in outputs]
    return models


def modalities_for(outputs: list[str] | None) -> list[str]:
    """What to ask for: image only when the model outputs nothing else, image and text otherwise."""
    if outputs is not None and "image" in outputs and "text" not in outputs:
        return ["image"]
    return ["image", "text"]


class OpenRouterProvider(RemoteProvider):
    """Image-output models routed by OpenRouter (bearer key)."""

    id = PROVIDER
    input_max_side = MAX_INPUT_SIDE

    def input_side(self, operation: str, options: BaseModel, size: tuple[int, int]) -> int:
        """Google's image models get the Gemini driver's rule (the long side of the output `image_size`
        asks for, 1K by default); other models, whose output sizes OpenRouter does not state, the cap."""
        if not isinstance(options, OpenRouterEditOptions) or not options.model.startswith("google/"):
            return MAX_INPUT_SIDE
        edge = GOOGLE_OUTPUT_EDGE[options.image_size or GOOGLE_DEFAULT_IMAGE_SIZE]
        return min(MAX_INPUT_SIDE, output_long_side(edge, aspect_of(options.aspect_ratio, size)))

    title = "OpenRouter"

    default_base_url = "https://openrouter.ai"
    operations: Mapping[str, Operation] = {
        "edit": Operation("edit", "Edit with a prompt", OpenRouterEditOptions, ("template_media_ids",)),
    }

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        api_key: str | None,
        base_url: str | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__(http, api_key=api_key, base_url=base_url, retry=retry)
        self._models: dict[str, list[str]] = {}
        self._models_at = -MODELS_TTL

    async def model_outputs(self, model: str, deadline: Deadline) -> list[str] | None:
        """The model's `output_modalities` from the cached model list (read again after `MODELS_TTL`)."""
        if time.monotonic() - self._models_at >= MODELS_TTL or model not in self._models:
            url = f"{self._base_url}/api/v1/models"

            async def send(budget: httpx.Timeout) -> httpx.Response:
                return await self._http.get(url, timeout=budget)

            # One short attempt: the shot must not spend its deadline on the list.
            budget = Deadline(min(deadline.at, time.monotonic() + MODELS_BUDGET))
            try:
                self._models = await call(PROVIDER, budget, _ONE_ATTEMPT, send, output_modalities)
                self._models_at = time.monotonic()
            except (ProviderUnavailable, ProviderTimeout):
                # Asking for image and text is right for most models; the chat call reports the rest.
                logger.warning("openrouter model list unavailable", extra={"provider": PROVIDER})
        return self._models.get(model)

    def build_body(
        self, options: OpenRouterEditOptions, images: list[PreparedImage], modalities: list[str] | None = None
    ) -> dict[str, Any]:
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
            "modalities": modalities or ["image", "text"],
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
        checked = checked_options(PROVIDER, self.operations, operation, request, self.key_for(request))
        options = expect_options(checked, OpenRouterEditOptions)
        templates = [template(request, i).data for i in options.template_media_ids]
        images = [await photo_input(request, self.input_side(operation, options, photo_size(request)))]
        images += [await run_image_work(prepare_input, t, MAX_INPUT_SIDE) for t in templates]
        outputs = await self.model_outputs(options.model, request.deadline)
        url = f"{self._base_url}/api/v1/chat/completions"
        headers = {**self.auth_headers(self.key_for(request)), "X-Title": "PhotoChanger"}

        async def ask(modalities: list[str]) -> bytes | str:
            body = StreamedJson(self.build_body(options, images, modalities))

            async def send(budget: httpx.Timeout) -> httpx.Response:
                return await self._http.post(
                    url, content=body, headers={**headers, **body.headers}, timeout=budget
                )

            return await call(PROVIDER, request.deadline, self.retry_for(request), send, parse_answer)

        try:
            answer = await ask(modalities_for(outputs))
        except ProviderMisconfigured as exc:
            # Without the model list the modalities were a guess; an image-only model says so with a 404.
            if outputs is not None or NO_ENDPOINTS not in exc.message:
                raise
            answer = await ask(["image"])
        fetched = isinstance(answer, str)
        if isinstance(answer, str):
            answer = await fetch_image(self._http, answer, request.deadline, self._retry, PROVIDER)
        output = await run_image_work(finish_bytes, answer, request)
        meta = {"operation": operation, "model": options.model, "inputs": len(images), "fetched": fetched}
        return result(output, request, meta)

    def connection_probe(self) -> ConnectionProbe:
        """`GET /api/v1/key`: the key's own info, so a revoked or wrong key shows."""
        return ConnectionProbe("GET", "/api/v1/key")
