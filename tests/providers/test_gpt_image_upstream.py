"""OpenAI Images API behaviours from its SDK and docs, reproduced by the fake: refused option pairs,
the default model, `x-should-retry`, the slow-quality warning and the connection check."""

import httpx
import pytest

from photochanger.providers.base import Deadline, ProviderMisconfigured, ProviderUnavailable, SlotCheck
from photochanger.providers.gpt_image.driver import GptImageProvider
from photochanger.providers.gpt_image.schemas import GptImageEditOptions
from tests.fakes.openai import OpenAIFake
from tests.fakes.server import Reply
from tests.providers.conftest import PHOTO, make_request


def _check(
    options: GptImageEditOptions, output_type: str = "image/jpeg", wait: float | None = None
) -> SlotCheck:
    return SlotCheck(options, output_type, {}, "https://booth.example.com", wait)


async def _edit(fake: OpenAIFake, **fields: str) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.post(
            f"{fake.url}/v1/images/edits",
            data={"prompt": "p", **fields},
            files=[("image[]", ("a.jpg", PHOTO, "image/jpeg"))],
            headers={"Authorization": f"Bearer {fake.api_key}"},
        )


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"model": "gpt-image-1-mini", "input_fidelity": "high"}, "input_fidelity"),
        ({"model": "gpt-image-1", "background": "transparent", "output_format": "jpeg"}, "background"),
        ({"model": "gpt-image-1", "aspect_ratio": "3:4"}, "aspect_ratio"),
        ({"model": "gpt-image-1", "response_format": "url"}, "response_format"),
    ],
    ids=["input_fidelity_on_mini", "transparent_jpeg", "unknown_parameter", "response_format_on_gpt_image"],
)
async def test_the_fake_refuses_what_the_edit_endpoint_refuses(
    openai_fake: OpenAIFake, fields: dict[str, str], param: str
) -> None:
    answer = await _edit(openai_fake, **fields)
    assert answer.status_code == 400
    assert answer.json()["error"]["param"] == param


async def test_input_fidelity_on_gpt_image_1_mini_is_a_slot_problem_and_never_sent(
    gpt_image: GptImageProvider, openai_fake: OpenAIFake
) -> None:
    options = GptImageEditOptions(prompt="p", model="gpt-image-1-mini", input_fidelity="high")
    problems = gpt_image.check_slot("edit", _check(options))
    assert [(p.field, p.kind, p.warning) for p in problems] == [
        ("input_fidelity", "unsupported_by_model", False)
    ]
    # A slot saved before the check still works: the field the model refuses is left out.
    await gpt_image.run("edit", make_request(options))
    assert openai_fake.last().field("input_fidelity") is None


async def test_transparent_background_with_jpeg_output_is_a_slot_problem(
    gpt_image: GptImageProvider, openai_fake: OpenAIFake
) -> None:
    options = GptImageEditOptions(prompt="p", background="transparent")
    problems = gpt_image.check_slot("edit", _check(options, "image/jpeg"))
    assert [(p.field, p.kind) for p in problems] == [("background", "transparent_needs_png_or_webp")]
    assert gpt_image.check_slot("edit", _check(options, "image/png")) == []
    await gpt_image.run("edit", make_request(options, output_type="image/png"))
    sent = openai_fake.last()
    assert (sent.field("background"), sent.field("output_format")) == ("transparent", "png")


def test_default_model_is_the_apis_own_default() -> None:
    assert GptImageEditOptions(prompt="p").model == "gpt-image-1.5"


async def test_x_should_retry_false_stops_retrying_a_503(
    gpt_image: GptImageProvider, openai_fake: OpenAIFake
) -> None:
    openai_fake.always(OpenAIFake.error(503, None, "overloaded", "server_error", should_retry=False))
    with pytest.raises(ProviderUnavailable):
        await gpt_image.run("edit", make_request(GptImageEditOptions(prompt="p")))
    assert openai_fake.count() == 1


async def test_x_should_retry_true_retries_a_status_that_is_not_transient(
    gpt_image: GptImageProvider, openai_fake: OpenAIFake
) -> None:
    openai_fake.script(OpenAIFake.error(400, "conflict", "try again", should_retry=True))
    await gpt_image.run("edit", make_request(GptImageEditOptions(prompt="p")))
    assert openai_fake.count() == 2


async def test_a_400_without_retry_hint_is_misconfigured_with_openais_text(
    gpt_image: GptImageProvider, openai_fake: OpenAIFake
) -> None:
    openai_fake.script(
        Reply(
            status=400,
            json={
                "error": {
                    "message": "Invalid size",
                    "type": "invalid_request_error",
                    "param": "size",
                    "code": "invalid_value",
                }
            },
        )
    )
    with pytest.raises(ProviderMisconfigured, match="Invalid size"):
        await gpt_image.run("edit", make_request(GptImageEditOptions(prompt="p")))
    assert openai_fake.count() == 1


def test_high_quality_slower_than_the_sync_wait_is_a_warning(gpt_image: GptImageProvider) -> None:
    slow = gpt_image.check_slot("edit", _check(GptImageEditOptions(prompt="p", quality="high"), wait=30))
    assert [(p.field, p.kind, p.warning) for p in slow] == [("quality", "slower_than_sync_response", True)]
    fast = gpt_image.check_slot("edit", _check(GptImageEditOptions(prompt="p", quality="low"), wait=30))
    assert fast == []


async def test_check_connection_retrieves_the_model(
    gpt_image: GptImageProvider, openai_fake: OpenAIFake
) -> None:
    check = await gpt_image.check_connection(Deadline.after(2))
    assert check.ok
    assert openai_fake.last("model").path == "/v1/models/gpt-image-1.5"
    wrong = GptImageProvider(gpt_image._http, api_key="nope", base_url=openai_fake.url)
    refused = await wrong.check_connection(Deadline.after(2))
    assert (refused.ok, refused.upstream_status) == (False, 401)
    assert "Incorrect API key provided" in refused.detail


async def test_a_transparent_background_saved_before_the_check_is_not_sent_with_jpeg_output(
    gpt_image: GptImageProvider, openai_fake: OpenAIFake
) -> None:
    options = GptImageEditOptions(prompt="p", background="transparent")
    await gpt_image.run("edit", make_request(options, output_type="image/jpeg"))
    sent = openai_fake.last()
    assert (sent.field("background"), sent.field("output_format")) == (None, "jpeg")
