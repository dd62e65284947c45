"""The OpenRouter driver against its fake: data-URL parts, images in the message, errors in 200 bodies."""

import base64
import time

import pytest

from photochanger.providers.base import ProviderFailed, ProviderRefused, ProviderTimeout, ProviderUnavailable
from photochanger.providers.openrouter.driver import OpenRouterProvider
from photochanger.providers.openrouter.schemas import OpenRouterEditOptions
from tests.fakes.images import decode, solid
from tests.fakes.openrouter import OpenRouterFake
from tests.fakes.server import Reply
from tests.providers.conftest import TEMPLATE, make_request

OPTIONS = OpenRouterEditOptions(prompt="superheroes", template_media_ids=["tpl-1"], aspect_ratio="2:3")


async def test_sends_data_url_parts_modalities_and_image_config(
    openrouter: OpenRouterProvider, openrouter_fake: OpenRouterFake
) -> None:
    result = await openrouter.run("edit", make_request(OPTIONS, templates={"tpl-1": TEMPLATE}))
    sent = openrouter_fake.last()
    assert sent.headers["authorization"] == f"Bearer {openrouter_fake.api_key}"
    assert sent.json["model"] == "google/gemini-2.5-flash-image"
    assert sent.json["modalities"] == ["image", "text"]
    assert sent.json["image_config"] == {"aspect_ratio": "2:3"}
    content = sent.json["messages"][0]["content"]
    assert content[0] == {"type": "text", "text": "superheroes"}
    urls = [part["image_url"]["url"] for part in content[1:]]
    assert len(urls) == 2
    assert all(url.startswith("data:image/jpeg;base64,") for url in urls)
    assert decode(base64.b64decode(urls[0].split(",", 1)[1])).size == (80, 60)
    assert decode(result.data).format == "JPEG"


async def test_fetches_an_http_image_url_within_the_deadline(
    openrouter: OpenRouterProvider, openrouter_fake: OpenRouterFake
) -> None:
    openrouter_fake.script(openrouter_fake.hosted_reply(solid((250, 0, 0))))
    result = await openrouter.run("edit", make_request(OpenRouterEditOptions(prompt="p")))
    assert result.meta["fetched"] is True
    assert openrouter_fake.count("files") == 1
    assert decode(result.data).convert("RGB").getpixel((2, 2))[0] > 200  # type: ignore[index]


async def test_no_credits_is_unavailable_without_retry(
    openrouter: OpenRouterProvider, openrouter_fake: OpenRouterFake
) -> None:
    openrouter_fake.script(OpenRouterFake.error(402, "Insufficient credits"))
    with pytest.raises(ProviderUnavailable) as caught:
        await openrouter.run("edit", make_request(OpenRouterEditOptions(prompt="p")))
    assert caught.value.upstream_status == 402
    assert openrouter_fake.count("main") == 1


@pytest.mark.parametrize(
    "reply",
    [
        OpenRouterFake.moderation_flagged(),
        OpenRouterFake.text_only(),
        OpenRouterFake.content_filter(),
    ],
    ids=["moderation_403", "text_only", "content_filter"],
)
async def test_refusals(
    openrouter: OpenRouterProvider, openrouter_fake: OpenRouterFake, reply: Reply
) -> None:
    openrouter_fake.script(reply)
    with pytest.raises(ProviderRefused):
        await openrouter.run("edit", make_request(OpenRouterEditOptions(prompt="p")))
    assert openrouter_fake.count("main") == 1


async def test_errors_inside_a_200_body_are_mapped_and_transient_ones_retried(
    openrouter: OpenRouterProvider, openrouter_fake: OpenRouterFake
) -> None:
    openrouter_fake.script(
        OpenRouterFake.error(502, "provider down", status=200), OpenRouterFake.choice_error(503)
    )
    result = await openrouter.run("edit", make_request(OpenRouterEditOptions(prompt="p")))
    assert result.data
    assert openrouter_fake.count("main") == 3
    openrouter_fake.reset()
    openrouter_fake.script(OpenRouterFake.error(400, "bad model", status=200))
    with pytest.raises(ProviderFailed) as caught:
        await openrouter.run("edit", make_request(OpenRouterEditOptions(prompt="p")))
    assert caught.value.upstream_status == 200


async def test_429_with_retry_after_is_honoured(
    openrouter: OpenRouterProvider, openrouter_fake: OpenRouterFake
) -> None:
    openrouter_fake.script(OpenRouterFake.error(429, "rate limited", retry_after="0.2"))
    started = time.monotonic()
    await openrouter.run("edit", make_request(OpenRouterEditOptions(prompt="p")))
    assert time.monotonic() - started >= 0.2
    assert openrouter_fake.count("main") == 2


async def test_malformed_json_is_a_provider_error(
    openrouter: OpenRouterProvider, openrouter_fake: OpenRouterFake
) -> None:
    openrouter_fake.script(Reply.malformed())
    with pytest.raises(ProviderFailed):
        await openrouter.run("edit", make_request(OpenRouterEditOptions(prompt="p")))


async def test_an_answer_slower_than_the_deadline_times_out(
    openrouter: OpenRouterProvider, openrouter_fake: OpenRouterFake
) -> None:
    openrouter_fake.script(Reply.slow(5))
    with pytest.raises(ProviderTimeout):
        await openrouter.run("edit", make_request(OpenRouterEditOptions(prompt="p"), seconds=0.6))
