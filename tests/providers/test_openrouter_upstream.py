"""OpenRouter behaviours from its docs, reproduced by the fake: modalities per model, the refusal shapes,
the kinds of 403, cold-start empty answers and the connection check."""

import httpx
import pytest

from photochanger.providers.base import (
    Deadline,
    ProviderFailed,
    ProviderMisconfigured,
    ProviderRefused,
)
from photochanger.providers.openrouter.driver import OpenRouterProvider
from photochanger.providers.openrouter.schemas import OpenRouterEditOptions
from tests.fakes.openrouter import OpenRouterFake
from tests.fakes.server import Reply
from tests.providers.conftest import make_request


@pytest.mark.parametrize(
    ("model", "modalities"),
    [
        ("black-forest-labs/flux.2-pro", ["image"]),
        ("bytedance-seed/seedream-4.5", ["image"]),
        ("sourceful/riverflow-v2-standard-preview", ["image"]),
        ("google/gemini-2.5-flash-image", ["image", "text"]),
    ],
)
async def test_modalities_follow_the_models_output_modalities(
    openrouter: OpenRouterProvider, openrouter_fake: OpenRouterFake, model: str, modalities: list[str]
) -> None:
    await openrouter.run("edit", make_request(OpenRouterEditOptions(prompt="p", model=model)))
    assert openrouter_fake.last("main").json["modalities"] == modalities


async def test_the_model_list_is_read_once_and_cached(
    openrouter: OpenRouterProvider, openrouter_fake: OpenRouterFake
) -> None:
    for _ in range(3):
        await openrouter.run("edit", make_request(OpenRouterEditOptions(prompt="p")))
    assert (openrouter_fake.count("models"), openrouter_fake.count("main")) == (1, 3)


async def test_the_fake_answers_404_no_endpoints_for_text_output_on_an_image_only_model(
    openrouter_fake: OpenRouterFake,
) -> None:
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            f"{openrouter_fake.url}/api/v1/chat/completions",
            json={
                "model": "black-forest-labs/flux.2-pro",
                "messages": [{"role": "user", "content": "p"}],
                "modalities": ["image", "text"],
            },
            headers={"Authorization": f"Bearer {openrouter_fake.api_key}"},
        )
    assert answer.status_code == 404
    assert "No endpoints found that support the requested output modalities" in answer.text


@pytest.mark.parametrize(
    "reply",
    [
        OpenRouterFake.provider_refusal("content_policy_violation"),
        OpenRouterFake.provider_refusal("refusal"),
        OpenRouterFake.message_refusal(),
        OpenRouterFake.finish_error(),
        OpenRouterFake.moderation_flagged(),
    ],
    ids=[
        "400_content_policy_violation",
        "400_refusal",
        "message_refusal",
        "finish_reason_error",
        "403_moderation",
    ],
)
async def test_content_refusals_are_refusals_not_provider_errors(
    openrouter: OpenRouterProvider, openrouter_fake: OpenRouterFake, reply: Reply
) -> None:
    openrouter_fake.script(reply)
    with pytest.raises(ProviderRefused):
        await openrouter.run("edit", make_request(OpenRouterEditOptions(prompt="p")))
    assert openrouter_fake.count("main") == 1


@pytest.mark.parametrize(
    "message",
    [
        "This API key does not have permission to use this model",
        "Request blocked by guardrail: prompt injection patterns detected",
        "This model is not available in your region",
    ],
    ids=["key_permissions", "guardrail", "region"],
)
async def test_a_403_without_moderation_reasons_is_misconfiguration_with_the_reason(
    openrouter: OpenRouterProvider, openrouter_fake: OpenRouterFake, message: str
) -> None:
    openrouter_fake.script(OpenRouterFake.error(403, message))
    with pytest.raises(ProviderMisconfigured) as caught:
        await openrouter.run("edit", make_request(OpenRouterEditOptions(prompt="p")))
    assert message in caught.value.message
    assert caught.value.reason == "provider_misconfigured"


async def test_a_cold_start_empty_answer_is_retried_within_the_deadline(
    openrouter: OpenRouterProvider, openrouter_fake: OpenRouterFake
) -> None:
    openrouter_fake.script(OpenRouterFake.empty())
    result = await openrouter.run("edit", make_request(OpenRouterEditOptions(prompt="p")))
    assert result.data
    assert openrouter_fake.count("main") == 2


async def test_empty_answers_on_every_attempt_end_as_a_provider_error(
    openrouter: OpenRouterProvider, openrouter_fake: OpenRouterFake
) -> None:
    openrouter_fake.always(OpenRouterFake.empty())
    with pytest.raises(ProviderFailed, match="without an image or text"):
        await openrouter.run("edit", make_request(OpenRouterEditOptions(prompt="p")))
    assert openrouter_fake.count("main") == 3


async def test_check_connection_reads_the_keys_info(
    openrouter: OpenRouterProvider, openrouter_fake: OpenRouterFake
) -> None:
    assert (await openrouter.check_connection(Deadline.after(2))).ok
    assert openrouter_fake.count("key") == 1
    wrong = OpenRouterProvider(openrouter._http, api_key="nope", base_url=openrouter_fake.url)
    refused = await wrong.check_connection(Deadline.after(2))
    assert (refused.ok, refused.upstream_status) == (False, 401)
    assert "No auth credentials found" in refused.detail


async def test_without_the_model_list_an_image_only_models_404_is_asked_again_for_image_only(
    openrouter: OpenRouterProvider, openrouter_fake: OpenRouterFake
) -> None:
    openrouter_fake.always(
        Reply(status=503, json={"error": {"code": 503, "message": "down"}}), route="models"
    )
    options = OpenRouterEditOptions(prompt="p", model="black-forest-labs/flux.2-pro")
    result = await openrouter.run("edit", make_request(options, seconds=5))
    assert result.data
    sent = [r.json["modalities"] for r in openrouter_fake.received if r.route == "main"]
    assert sent == [["image", "text"], ["image"]]
    assert openrouter_fake.count("models") == 1  # one short attempt, the shot's deadline is not spent on it
