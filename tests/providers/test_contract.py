"""Every provider: registered, a usable options form with valid examples, and the fake's 500 mapped right."""

from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from photochanger.app import build_providers
from photochanger.config import AppConfig
from photochanger.providers.base import Deadline, Provider, ProviderFailed, ProviderUnavailable
from photochanger.providers.registry import ProviderRegistry
from tests.fakes.openai import OpenAIFake
from tests.fakes.server import FakeUpstream, Reply
from tests.providers.conftest import TEMPLATE, make_request

REMOTE = [
    # (driver fixture, fake fixture, operation, options, route the main request goes to)
    ("gemini", "gemini_fake", "edit", {"prompt": "make it pop"}, "main"),
    ("gpt_image", "openai_fake", "edit", {"prompt": "make it pop"}, "main"),
    ("openrouter", "openrouter_fake", "edit", {"prompt": "make it pop"}, "main"),
    ("turbotext", "turbotext_fake", "image_edit", {"prompt": "make it pop"}, "create"),
]


@pytest.fixture
def registry(http: httpx.AsyncClient) -> ProviderRegistry:
    config = AppConfig(gemini_api_key="k", openai_api_key="k", openrouter_api_key="k", turbotext_api_key="k")
    return build_providers(config, http)


def _examples(model: type[BaseModel]) -> list[dict[str, Any]]:
    examples = model.model_json_schema().get("examples")
    assert isinstance(examples, list)
    assert examples, f"{model.__name__} documents no example"
    return examples


def test_every_provider_is_registered_with_a_driver(registry: ProviderRegistry) -> None:
    assert {p.id for p in registry} == {"local", "gemini", "gpt_image", "openrouter", "turbotext"}
    for provider in registry:
        assert isinstance(provider, Provider)
        assert provider.configured
        assert provider.operations


def test_providers_without_a_key_report_themselves_unconfigured(http: httpx.AsyncClient) -> None:
    registry = build_providers(AppConfig(), http)
    assert {p.id for p in registry if not p.configured} == {"gemini", "gpt_image", "openrouter", "turbotext"}


def test_each_options_model_accepts_its_documented_examples(registry: ProviderRegistry) -> None:
    for provider in registry:
        for operation in provider.operations.values():
            for example in _examples(operation.options_model):
                options = operation.options_model.model_validate(example)
                assert options.model_dump(exclude_unset=True) == example


def test_each_options_form_is_titled_takes_stamp_qr_and_marks_template_fields(
    registry: ProviderRegistry,
) -> None:
    for provider in registry:
        for operation in provider.operations.values():
            schema = operation.options_model.model_json_schema()
            assert schema.get("title")
            properties = schema["properties"]
            assert properties["stamp_qr"]["default"] is False
            assert all("title" in prop and "description" in prop for prop in properties.values()), (
                operation.id
            )
            marked = {name for name, prop in properties.items() if prop.get("x-template-media")}
            assert marked == set(operation.template_fields), f"{provider.id}.{operation.id}"


def test_options_reject_unknown_fields(registry: ProviderRegistry) -> None:
    for provider in registry:
        for operation in provider.operations.values():
            example = _examples(operation.options_model)[0]
            with pytest.raises(ValueError, match="extra"):
                operation.options_model.model_validate({**example, "unexpected": 1})


@pytest.mark.parametrize(("driver", "fake", "operation", "params", "route"), REMOTE)
async def test_a_persistent_500_is_unavailable_after_bounded_retries(
    request: pytest.FixtureRequest,
    http: httpx.AsyncClient,
    driver: str,
    fake: str,
    operation: str,
    params: dict[str, Any],
    route: str,
) -> None:
    # `http` is requested here so the async client exists before the drivers are looked up by name.
    provider: Provider = request.getfixturevalue(driver)
    upstream: FakeUpstream = request.getfixturevalue(fake)
    upstream.always(Reply(status=500, json={"error": {"code": 500, "message": "internal"}}), route=route)
    options = provider.operations[operation].options_model.model_validate(params)
    publish = getattr(upstream, "publish", None)
    with pytest.raises(ProviderUnavailable) as caught:
        await provider.run(
            operation, make_request(options, public_media_url=publish, templates={"tpl-1": TEMPLATE})
        )
    assert caught.value.upstream_status == 500
    assert caught.value.reason == "provider_unavailable"
    assert upstream.count(route) == 3


@pytest.mark.parametrize(("driver", "fake", "operation", "params", "route"), REMOTE)
async def test_a_driver_without_key_fails_without_calling_out(
    request: pytest.FixtureRequest,
    http: httpx.AsyncClient,
    driver: str,
    fake: str,
    operation: str,
    params: dict[str, Any],
    route: str,
) -> None:
    configured: Provider = request.getfixturevalue(driver)
    upstream: FakeUpstream = request.getfixturevalue(fake)
    provider = type(configured)(http, api_key=None, base_url=upstream.url)  # type: ignore[call-arg]
    options = provider.operations[operation].options_model.model_validate(params)
    with pytest.raises(ProviderFailed, match="not configured"):
        await provider.run(operation, make_request(options))
    assert upstream.count() == 0


@pytest.mark.parametrize(
    ("driver", "fake", "path"),
    [
        ("gemini", "gemini_fake", "/v1beta/models/gemini-3.1-flash-image"),
        ("gpt_image", "openai_fake", "/v1/models/gpt-image-1.5"),
        ("openrouter", "openrouter_fake", "/api/v1/key"),
        ("turbotext", "turbotext_fake", "/api_ai/available_api"),
    ],
)
async def test_check_connection_is_one_authenticated_call_that_generates_nothing(
    request: pytest.FixtureRequest, http: httpx.AsyncClient, driver: str, fake: str, path: str
) -> None:
    provider: Provider = request.getfixturevalue(driver)
    upstream: FakeUpstream = request.getfixturevalue(fake)
    check = await provider.check_connection(Deadline.after(2))
    assert (check.ok, check.detail) == (True, "ok")
    assert [r.path for r in upstream.received] == [path]


async def test_check_connection_of_a_silent_upstream_times_out_with_a_reason(
    gpt_image: Provider, openai_fake: OpenAIFake
) -> None:
    openai_fake.script(Reply.slow(5), route="model")
    check = await gpt_image.check_connection(Deadline.after(0.3))
    assert check.ok is False
    assert "did not answer in time" in check.detail


async def test_the_local_engine_needs_no_connection(registry: ProviderRegistry) -> None:
    assert (await registry.get("local").check_connection(Deadline.after(1))).ok
