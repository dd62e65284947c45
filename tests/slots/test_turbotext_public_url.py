"""Turbotext fetches our input links itself: a Turbotext slot is refused while the public base URL is a
loopback or private address, with the reason."""

from typing import Any

import httpx
import pytest

from tests.slots.test_router import assert_problem, update_body


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"public_base_url": "http://127.0.0.1:8000"}


async def test_a_turbotext_slot_is_refused_while_the_public_base_url_is_loopback(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    response = await client.put(
        "/api/slots/slot-001",
        headers=admin_headers,
        json=update_body(provider="turbotext", operation="image_edit", params={"prompt": "зима"}),
    )
    body = assert_problem(response, 422, "validation_error")
    [error] = body["errors"]
    assert (error["field"], error["type"]) == ("provider", "public_base_url_unreachable")
    assert "PHOTOCHANGER_PUBLIC_BASE_URL" in error["msg"]
    assert "loopback" in error["msg"]
    # Other providers are not affected.
    local = await client.put("/api/slots/slot-001", headers=admin_headers, json=update_body())
    assert local.status_code == 200, local.text
