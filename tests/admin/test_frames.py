"""Frames need transparency: an opaque template is refused as a frame when the slot is saved (422 with the
field), and the editor's frame picker offers only templates with transparent areas."""

import io
from typing import Any

import httpx
from PIL import Image

from photochanger.core import images
from tests.admin.conftest import csrf_of
from tests.support.templates import frame_png, upload_template


def opaque_rgba_png(width: int = 100, height: int = 80) -> bytes:
    """An alpha channel that is 255 everywhere: a PNG that looks like a frame file but hides the photo."""
    buffer = io.BytesIO()
    Image.new("RGBA", (width, height), (10, 20, 200, 255)).save(buffer, "PNG")
    return buffer.getvalue()


def frame_body(media_id: str) -> dict[str, Any]:
    return {
        "display_name": "Frame",
        "provider": "local",
        "operation": "frame",
        "params": {"frame_media_id": media_id},
        "is_active": True,
        "version": 1,
    }


def test_an_alpha_channel_without_a_transparent_pixel_is_not_transparency() -> None:
    assert images.inspect_image(opaque_rgba_png(), max_pixels=10**7).has_alpha is False
    assert images.inspect_image(frame_png(), max_pixels=10**7).has_alpha is True


async def test_an_opaque_frame_is_refused_on_save_and_a_transparent_one_saves(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    opaque = (await upload_template(client, admin_headers, opaque_rgba_png(), name="Opaque")).json()
    assert opaque["has_alpha"] is False
    refused = await client.put("/api/slots/slot-001", headers=admin_headers, json=frame_body(opaque["id"]))
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    [error] = refused.json()["errors"]
    assert (error["field"], error["type"]) == ("params.frame_media_id", "frame_without_transparency")
    framed = (await upload_template(client, admin_headers, frame_png(), name="Window")).json()
    saved = await client.put("/api/slots/slot-001", headers=admin_headers, json=frame_body(framed["id"]))
    assert saved.status_code == 200, saved.text
    # Opaque templates stay fine where no transparency is needed (reference images for a model).
    gemini = await client.put(
        "/api/slots/slot-002",
        headers=admin_headers,
        json={**frame_body(opaque["id"]), "provider": "gemini", "operation": "edit",
              "params": {"prompt": "x", "template_media_ids": [opaque["id"]]}},
    )  # fmt: skip
    assert gemini.status_code == 200, gemini.text


async def test_the_frame_picker_offers_only_transparent_templates(
    client: httpx.AsyncClient, admin_headers: dict[str, str], admin_ui: httpx.AsyncClient
) -> None:
    opaque = (await upload_template(client, admin_headers, opaque_rgba_png(), name="Opaque")).json()["id"]
    window = (await upload_template(client, admin_headers, frame_png(), name="Window")).json()["id"]
    editor = await admin_ui.get("/admin/slots/slot-001?provider=local&operation=frame")
    # The frame field only: the guest-page branding's logo picker further down offers every template.
    picker = editor.text.split('data-field="frame_media_id"')[1].split('<div class="field')[0]
    assert f'value="{window}"' in picker
    assert f'value="{opaque}"' not in picker
    assert 'data-role="frames-only"' in editor.text
    refused = await admin_ui.post(
        "/admin/slots/slot-001",
        data={
            "csrf": csrf_of(editor.text),
            "display_name": "Frame",
            "provider": "local",
            "operation": "frame",
            "param.frame_media_id": opaque,
            "version": "1",
        },
    )
    assert refused.status_code == 422
    field = refused.text.split('data-field="frame_media_id"')[1].split('<div class="field')[0]
    assert "no transparent area" in field
