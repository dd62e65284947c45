"""Slot configurations that can only fail are refused when saved (422 with the field), never a 502 at
every shot: option pairs the provider's API refuses, frames without transparency, what a model does not
take. Warnings (slower than the booth waits) come back on a successful save."""

from typing import Any

import httpx
from fastapi import FastAPI

from tests.slots.test_router import assert_problem, slot_row, update_body
from tests.support import images
from tests.support.templates import upload_template


def _errors(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(err["field"], err["type"]) for err in body["errors"]]


async def test_input_fidelity_on_gpt_image_1_mini_is_refused_when_saved(
    app: FastAPI, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    params = {"prompt": "watercolour", "model": "gpt-image-1-mini", "input_fidelity": "high"}
    response = await client.put(
        "/api/slots/slot-001",
        headers=admin_headers,
        json=update_body(provider="gpt_image", operation="edit", params=params),
    )
    body = assert_problem(response, 422, "validation_error")
    assert _errors(body) == [("params.input_fidelity", "unsupported_by_model")]
    assert body["errors"][0]["loc"] == ["body", "params", "input_fidelity"]
    assert (await slot_row(app, "slot-001")).version == 1


async def test_transparent_background_with_jpeg_output_is_refused_and_png_is_saved(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    params = {"prompt": "cut out", "background": "transparent"}
    jpeg = await client.put(
        "/api/slots/slot-001",
        headers=admin_headers,
        json=update_body(provider="gpt_image", operation="edit", params=params, output_format="jpeg"),
    )
    assert _errors(assert_problem(jpeg, 422, "validation_error")) == [
        ("params.background", "transparent_needs_png_or_webp")
    ]
    png = await client.put(
        "/api/slots/slot-001",
        headers=admin_headers,
        json=update_body(provider="gpt_image", operation="edit", params=params, output_format="png"),
    )
    assert png.status_code == 200, png.text


async def test_an_aspect_ratio_the_gemini_model_does_not_take_is_refused(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    params = {"prompt": "p", "model": "gemini-3-pro-image", "aspect_ratio": "1:8"}
    response = await client.put(
        "/api/slots/slot-001",
        headers=admin_headers,
        json=update_body(provider="gemini", operation="edit", params=params),
    )
    assert _errors(assert_problem(response, 422, "validation_error")) == [
        ("params.aspect_ratio", "unsupported_by_model")
    ]


async def test_more_reference_images_than_a_flash_model_takes_are_refused(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    ids = [
        (await upload_template(client, admin_headers, images.png(), name=f"ref {i}")).json()["id"]
        for i in range(3)
    ]
    params = {"prompt": "p", "template_media_ids": ids}
    response = await client.put(
        "/api/slots/slot-001",
        headers=admin_headers,
        json=update_body(provider="gemini", operation="edit", params=params),
    )
    assert _errors(assert_problem(response, 422, "validation_error")) == [
        ("params.template_media_ids", "too_many_images")
    ]
    pro = {**params, "model": "gemini-3-pro-image"}
    ok = await client.put(
        "/api/slots/slot-001",
        headers=admin_headers,
        json=update_body(provider="gemini", operation="edit", params=pro),
    )
    assert ok.status_code == 200, ok.text


async def test_a_frame_without_transparency_is_refused_when_saved(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    opaque = (await upload_template(client, admin_headers, images.png(100, 80))).json()["id"]
    response = await client.put(
        "/api/slots/slot-001",
        headers=admin_headers,
        json=update_body(operation="frame", params={"frame_media_id": opaque}),
    )
    assert _errors(assert_problem(response, 422, "validation_error")) == [
        ("params.frame_media_id", "frame_without_transparency")
    ]


async def test_a_model_and_quality_slower_than_the_booth_waits_saves_with_a_warning(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    high = await client.put(
        "/api/slots/slot-001",
        headers=admin_headers,
        json=update_body(provider="gpt_image", operation="edit", params={"prompt": "p", "quality": "high"}),
    )
    assert high.status_code == 200, high.text
    [warning] = high.json()["warnings"]
    assert (warning["field"], warning["type"]) == ("params.quality", "slower_than_sync_response")
    low = await client.put(
        "/api/slots/slot-001",
        headers=admin_headers,
        json=update_body(
            provider="gpt_image", operation="edit", params={"prompt": "p", "quality": "low"}, version=2
        ),
    )
    assert low.status_code == 200, low.text
    assert low.json()["warnings"] == []


async def test_a_test_run_with_a_configuration_that_can_only_fail_is_422(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    trial = '{"provider": "gpt_image", "operation": "edit", "params": {"prompt": "p", "model": "gpt-image-1-mini", "input_fidelity": "low"}}'
    response = await client.post(
        "/api/slots/slot-001/test-run",
        headers=admin_headers,
        data={"settings": trial},
        files={"file": ("a.jpg", images.jpeg(), "image/jpeg")},
    )
    assert _errors(assert_problem(response, 422, "validation_error")) == [
        ("settings.params.input_fidelity", "unsupported_by_model")
    ]
