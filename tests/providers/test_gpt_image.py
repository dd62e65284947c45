"""The OpenAI gpt-image driver against its fake: multipart shape, b64 result, moderation, retries."""

import time

import pytest

from photochanger.providers.base import ProviderFailed, ProviderRefused, ProviderTimeout, ProviderUnavailable
from photochanger.providers.gpt_image.driver import GptImageProvider
from photochanger.providers.gpt_image.schemas import GptImageEditOptions
from tests.fakes.images import decode
from tests.fakes.openai import OpenAIFake
from tests.fakes.server import Reply
from tests.providers.conftest import TEMPLATE, make_request


async def test_sends_model_always_and_every_image_as_repeated_parts(
    gpt_image: GptImageProvider, openai_fake: OpenAIFake
) -> None:
    options = GptImageEditOptions(prompt="watercolor", template_media_ids=["tpl-1"], input_fidelity="high")
    result = await gpt_image.run(
        "edit", make_request(options, templates={"tpl-1": TEMPLATE}, output_type="image/png")
    )
    sent = openai_fake.last()
    assert sent.path == "/v1/images/edits"
    assert sent.headers["authorization"] == f"Bearer {openai_fake.api_key}"
    assert sent.headers["content-type"].startswith("multipart/form-data")
    assert sent.field("model") == "gpt-image-1.5"  # the default is sent, never left to the API
    assert (sent.field("prompt"), sent.field("size"), sent.field("quality")) == ("watercolor", "auto", "auto")
    assert (sent.field("input_fidelity"), sent.field("output_format")) == ("high", "png")
    assert [f.field for f in sent.files] == ["image[]", "image[]"]
    assert decode(sent.files[0].data).size == (80, 60)
    assert (decode(result.data).format, result.content_type) == ("PNG", "image/png")


async def test_optional_fields_are_left_out_when_unset(
    gpt_image: GptImageProvider, openai_fake: OpenAIFake
) -> None:
    await gpt_image.run("edit", make_request(GptImageEditOptions(prompt="p", model="gpt-image-1-mini")))
    sent = openai_fake.last()
    assert sent.field("model") == "gpt-image-1-mini"
    assert sent.field("input_fidelity") is None
    assert sent.field("background") is None
    assert sent.field("output_format") == "jpeg"


async def test_moderation_blocked_is_a_refusal(gpt_image: GptImageProvider, openai_fake: OpenAIFake) -> None:
    openai_fake.script(OpenAIFake.moderation_blocked())
    with pytest.raises(ProviderRefused) as caught:
        await gpt_image.run("edit", make_request(GptImageEditOptions(prompt="p")))
    assert caught.value.upstream_status == 400
    assert openai_fake.count() == 1


async def test_rate_limit_is_retried_and_quota_is_not(
    gpt_image: GptImageProvider, openai_fake: OpenAIFake
) -> None:
    openai_fake.script(OpenAIFake.error(429, "rate_limit_exceeded", error_type="requests"))
    await gpt_image.run("edit", make_request(GptImageEditOptions(prompt="p")))
    assert openai_fake.count() == 2
    openai_fake.reset()
    openai_fake.script(OpenAIFake.error(429, "insufficient_quota", error_type="insufficient_quota"))
    with pytest.raises(ProviderUnavailable):
        await gpt_image.run("edit", make_request(GptImageEditOptions(prompt="p")))
    assert openai_fake.count() == 1


async def test_retry_after_longer_than_the_deadline_is_reported(
    gpt_image: GptImageProvider, openai_fake: OpenAIFake
) -> None:
    openai_fake.script(OpenAIFake.error(503, None, "overloaded", "server_error", retry_after="20"))
    with pytest.raises(ProviderUnavailable) as caught:
        await gpt_image.run("edit", make_request(GptImageEditOptions(prompt="p")))
    assert caught.value.retry_after == 20.0
    assert openai_fake.count() == 1


async def test_a_wrong_key_is_a_configuration_error(
    gpt_image: GptImageProvider, openai_fake: OpenAIFake
) -> None:
    other = GptImageProvider(gpt_image._http, api_key="sk-wrong", base_url=openai_fake.url)
    with pytest.raises(ProviderFailed) as caught:
        await other.run("edit", make_request(GptImageEditOptions(prompt="p")))
    assert caught.value.upstream_status == 401


@pytest.mark.parametrize(
    "reply",
    [Reply.malformed(), Reply(json={"created": 1, "data": [{"url": "https://example.invalid/x.png"}]})],
    ids=["malformed_json", "no_b64_json"],
)
async def test_malformed_answers_are_provider_errors(
    gpt_image: GptImageProvider, openai_fake: OpenAIFake, reply: Reply
) -> None:
    openai_fake.script(reply)
    with pytest.raises(ProviderFailed):
        await gpt_image.run("edit", make_request(GptImageEditOptions(prompt="p")))


async def test_bytes_that_are_not_an_image_are_a_provider_error(
    gpt_image: GptImageProvider, openai_fake: OpenAIFake
) -> None:
    openai_fake.script(OpenAIFake.image_reply(b"this is text, not a picture"))
    with pytest.raises(ProviderFailed, match="not an image"):
        await gpt_image.run("edit", make_request(GptImageEditOptions(prompt="p")))


async def test_an_answer_slower_than_the_deadline_times_out(
    gpt_image: GptImageProvider, openai_fake: OpenAIFake
) -> None:
    openai_fake.script(Reply.slow(5))
    started = time.monotonic()
    with pytest.raises(ProviderTimeout):
        await gpt_image.run("edit", make_request(GptImageEditOptions(prompt="p"), seconds=0.6))
    assert time.monotonic() - started < 1.5
