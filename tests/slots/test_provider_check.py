"""`POST /api/providers/{id}/check`: one cheap authenticated call; ok, or the provider's own words."""

from typing import Any

import httpx
import pytest

from tests.fakes.openai import OpenAIFake
from tests.fakes.openrouter import OpenRouterFake
from tests.slots.test_router import assert_problem


@pytest.fixture
def config_overrides(openai_server: OpenAIFake, openrouter_server: OpenRouterFake) -> dict[str, Any]:
    return {
        "openai_api_key": OpenAIFake.api_key,
        "openai_base_url": openai_server.url,
        # A key the fake does not know: the check reports OpenRouter's own refusal.
        "openrouter_api_key": "sk-or-revoked",
        "openrouter_base_url": openrouter_server.url,
    }


async def test_check_is_ok_when_the_key_reads_the_model(
    client: httpx.AsyncClient, admin_headers: dict[str, str], openai_fake: OpenAIFake
) -> None:
    response = await client.post("/api/providers/gpt_image/check", headers=admin_headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"provider": "gpt_image", "ok": True, "detail": "ok", "upstream_status": 200}
    assert openai_fake.count("model") == 1
    assert openai_fake.count("main") == 0  # nothing was generated


async def test_check_reports_the_providers_own_error_text(
    client: httpx.AsyncClient, admin_headers: dict[str, str], openrouter_fake: OpenRouterFake
) -> None:
    body = (await client.post("/api/providers/openrouter/check", headers=admin_headers)).json()
    assert (body["ok"], body["upstream_status"]) == (False, 401)
    assert "No auth credentials found" in body["detail"]
    assert "sk-or-revoked" not in body["detail"]


async def test_check_of_an_unconfigured_provider_says_so_without_calling_it(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    body = (await client.post("/api/providers/gemini/check", headers=admin_headers)).json()
    assert body["ok"] is False
    assert "API key is not set" in body["detail"]


async def test_check_of_an_unknown_provider_is_404(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    assert_problem(
        await client.post("/api/providers/nope/check", headers=admin_headers), 404, "provider_not_found"
    )


async def test_check_needs_settings_write(
    client: httpx.AsyncClient, operator_headers: dict[str, str]
) -> None:
    assert_problem(await client.post("/api/providers/local/check"), 401, "not_authenticated")
    assert_problem(
        await client.post("/api/providers/local/check", headers=operator_headers), 403, "forbidden"
    )
