"""Gemini behaviours the official docs describe, reproduced by the fake: finishes without an image,
quota failures, what each model takes, the inline request limit and the connection check."""

import functools
import io
import os

import httpx
import pytest
from PIL import Image

from photochanger.providers.base import (
    Deadline,
    ProviderFailed,
    ProviderQuotaExhausted,
    SlotCheck,
    TemplateImage,
)
from photochanger.providers.gemini.driver import GeminiProvider
from photochanger.providers.gemini.models import MODELS
from photochanger.providers.gemini.schemas import GeminiEditOptions
from tests.fakes.gemini import GeminiFake
from tests.fakes.server import Reply
from tests.providers.conftest import TEMPLATE, make_request


def _check(options: GeminiEditOptions, templates: dict[str, TemplateImage] | None = None) -> SlotCheck:
    return SlotCheck(options, "image/jpeg", templates or {}, "https://booth.example.com")


@pytest.mark.parametrize(
    "reply",
    [GeminiFake.finish("IMAGE_OTHER"), GeminiFake.finish("OTHER"), GeminiFake.empty_stop()],
    ids=["IMAGE_OTHER", "OTHER", "empty_STOP"],
)
async def test_finish_without_image_is_retried_within_the_deadline(
    gemini: GeminiProvider, gemini_fake: GeminiFake, reply: Reply
) -> None:
    gemini_fake.script(reply)
    result = await gemini.run("edit", make_request(GeminiEditOptions(prompt="p")))
    assert result.data
    assert gemini_fake.count() == 2


async def test_image_other_on_every_attempt_gives_an_honest_reason(
    gemini: GeminiProvider, gemini_fake: GeminiFake
) -> None:
    gemini_fake.always(GeminiFake.finish("IMAGE_OTHER"))
    with pytest.raises(ProviderFailed, match="finishReason IMAGE_OTHER") as caught:
        await gemini.run("edit", make_request(GeminiEditOptions(prompt="p")))
    assert caught.value.reason == "provider_error"
    assert gemini_fake.count() == 3


@pytest.mark.parametrize(
    ("quota_id", "limit"),
    [
        ("GenerateRequestsPerMinutePerProjectPerModel-FreeTier", 0),
        ("GenerateRequestsPerDayPerProjectPerModel-FreeTier", 250),
    ],
    ids=["limit_0_on_the_tier", "per_day_quota"],
)
async def test_429_quota_failure_without_quota_left_is_quota_exhausted_not_retried(
    gemini: GeminiProvider, gemini_fake: GeminiFake, quota_id: str, limit: int
) -> None:
    gemini_fake.always(GeminiFake.quota_exhausted(quota_id, limit, retry_delay="37s"))
    with pytest.raises(ProviderQuotaExhausted) as caught:
        await gemini.run("edit", make_request(GeminiEditOptions(prompt="p")))
    assert caught.value.reason == "quota_exhausted"
    assert caught.value.retry_after is None
    # The admin gets Google's own words.
    assert "You exceeded your current quota" in caught.value.message
    assert gemini_fake.count() == 1


async def test_429_per_minute_quota_is_retried_after_retry_info(
    gemini: GeminiProvider, gemini_fake: GeminiFake
) -> None:
    gemini_fake.script(
        GeminiFake.quota_exhausted("GenerateRequestsPerMinutePerProjectPerModel", 10, retry_delay="0.1s")
    )
    await gemini.run("edit", make_request(GeminiEditOptions(prompt="p")))
    assert gemini_fake.count() == 2


def test_default_model_is_a_current_ga_image_model_not_the_legacy_one() -> None:
    default = GeminiEditOptions(prompt="p").model
    assert default == "gemini-3.1-flash-image"
    assert not MODELS[default].legacy
    assert MODELS["gemini-2.5-flash-image"].legacy


def test_an_unknown_model_is_refused_by_the_options() -> None:
    with pytest.raises(ValueError, match="gemini-3-pro-image"):
        GeminiEditOptions(prompt="p", model="gemini-2.0-flash")


async def test_the_fake_refuses_image_size_on_a_model_without_it_and_unknown_fields(
    gemini_fake: GeminiFake,
) -> None:
    headers = {"x-goog-api-key": gemini_fake.api_key}
    url = f"{gemini_fake.url}/v1beta/models/gemini-2.5-flash-image:generateContent"
    base = {"contents": [{"parts": [{"text": "p"}]}]}
    async with httpx.AsyncClient() as client:
        sized = {**base, "generationConfig": {"imageConfig": {"imageSize": "2K"}}}
        assert (await client.post(url, json=sized, headers=headers)).status_code == 400
        unknown = {**base, "generationConfig": {"responseModalities": ["IMAGE"], "size": "2K"}}
        answer = await client.post(url, json=unknown, headers=headers)
        assert answer.status_code == 400
        assert 'Unknown name "size"' in answer.json()["error"]["message"]


@pytest.mark.parametrize(
    ("options", "field", "kind"),
    [
        (
            GeminiEditOptions(prompt="p", model="gemini-3-pro-image", aspect_ratio="1:8"),
            "aspect_ratio",
            "unsupported_by_model",
        ),
        (
            GeminiEditOptions(prompt="p", model="gemini-3-pro-image", image_size="512"),
            "image_size",
            "unsupported_by_model",
        ),
        (
            GeminiEditOptions(prompt="p", model="gemini-2.5-flash-image", image_size="1K"),
            "image_size",
            "unsupported_by_model",
        ),
        (
            GeminiEditOptions(prompt="p", template_media_ids=["a", "b", "c"]),
            "template_media_ids",
            "too_many_images",
        ),
    ],
    ids=["pro_without_1_8", "pro_without_512", "legacy_without_image_size", "flash_takes_3_inputs"],
)
def test_options_the_model_does_not_take_are_slot_problems(
    gemini: GeminiProvider, options: GeminiEditOptions, field: str, kind: str
) -> None:
    problems = gemini.check_slot("edit", _check(options))
    assert [(p.field, p.kind) for p in problems] == [(field, kind)]


def test_what_the_models_take_passes_the_slot_check(gemini: GeminiProvider) -> None:
    ok = [
        GeminiEditOptions(prompt="p", aspect_ratio="1:8", image_size="512", template_media_ids=["tpl-1"]),
        GeminiEditOptions(
            prompt="p", model="gemini-3-pro-image", image_size="4K", template_media_ids=["tpl-1"] * 13
        ),
    ]
    for options in ok:
        assert gemini.check_slot("edit", _check(options, {"tpl-1": TEMPLATE})) == []


@functools.cache
def _noisy_rgba(side: int) -> bytes:
    img = Image.frombytes("RGBA", (side, side), os.urandom(side * side * 4))
    buffer = io.BytesIO()
    img.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def test_templates_over_the_inline_request_limit_are_a_slot_problem(gemini: GeminiProvider) -> None:
    big = TemplateImage("big", _noisy_rgba(2600), "image/png")
    options = GeminiEditOptions(prompt="p", model="gemini-3-pro-image", template_media_ids=["big"])
    problems = gemini.check_slot("edit", _check(options, {"big": big}))
    assert [(p.field, p.kind) for p in problems] == [("template_media_ids", "request_too_large")]
    assert "20 MB" in problems[0].message


async def test_check_connection_reads_the_model_with_the_key(
    gemini: GeminiProvider, gemini_fake: GeminiFake
) -> None:
    check = await gemini.check_connection(Deadline.after(2))
    assert (check.ok, check.upstream_status) == (True, 200)
    sent = gemini_fake.last("model")
    assert (sent.method, sent.path) == ("GET", "/v1beta/models/gemini-3.1-flash-image")


async def test_check_connection_with_a_wrong_key_returns_googles_text(
    gemini: GeminiProvider, gemini_fake: GeminiFake
) -> None:
    other = GeminiProvider(gemini._http, api_key="wrong", base_url=gemini_fake.url)
    check = await other.check_connection(Deadline.after(2))
    assert not check.ok
    assert check.upstream_status == 400
    assert "API key not valid" in check.detail


async def test_a_request_over_the_inline_limit_is_not_sent(
    gemini: GeminiProvider, gemini_fake: GeminiFake
) -> None:
    big = TemplateImage("big", _noisy_rgba(2600), "image/png")
    options = GeminiEditOptions(prompt="p", model="gemini-3-pro-image", template_media_ids=["big"])
    with pytest.raises(ProviderFailed, match="at most 20 MB inline"):
        await gemini.run("edit", make_request(options, templates={"big": big}, seconds=20))
    assert gemini_fake.count() == 0


async def test_the_fake_refuses_a_body_over_20_mb(gemini_fake: GeminiFake) -> None:
    url = f"{gemini_fake.url}/v1beta/models/gemini-3-pro-image:generateContent"
    body = b'{"contents": [{"parts": [{"text": "' + b"a" * (20 * 1024 * 1024) + b'"}]}]}'
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            url,
            content=body,
            headers={"x-goog-api-key": gemini_fake.api_key, "content-type": "application/json"},
        )
    assert answer.status_code == 400
    assert "payload size exceeds the limit" in answer.json()["error"]["message"]
