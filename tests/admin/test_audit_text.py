"""Audit entries read as sentences with names: the slot's name, the frame's name, the user's name."""

# Russian text is Cyrillic on purpose.
# ruff: noqa: RUF001

import html

import httpx

from tests.support.templates import frame_png, upload_template


def _sentences(page: str) -> list[str]:
    return [html.unescape(s.split("</td>")[0]) for s in page.split('data-role="sentence">')[1:]]


async def test_a_frame_change_reads_with_slot_and_frame_names(
    client: httpx.AsyncClient, admin_headers: dict[str, str], admin_ui: httpx.AsyncClient
) -> None:
    beach = (await upload_template(client, admin_headers, frame_png(), name="Beach")).json()["id"]
    gold = (await upload_template(client, admin_headers, frame_png(), name="Gold")).json()["id"]
    body = {
        "display_name": "Wedding booth",
        "provider": "local",
        "operation": "frame",
        "params": {"frame_media_id": beach},
        "is_active": True,
        "version": 1,
    }
    assert (await client.put("/api/slots/slot-003", headers=admin_headers, json=body)).status_code == 200
    body.update(params={"frame_media_id": gold}, version=2)
    assert (await client.put("/api/slots/slot-003", headers=admin_headers, json=body)).status_code == 200
    page = await admin_ui.get("/admin/audit?action=slot.update")
    assert page.status_code == 200
    newest = _sentences(page.text)[0]
    assert newest.endswith("changed Wedding booth: the frame: Beach → Gold")
    assert beach not in newest
    assert "slot.update" in page.text  # the raw action stays beside it, for the filter
    admin_ui.cookies.set("pc_lang", "ru")
    ru = _sentences((await admin_ui.get("/admin/audit?action=slot.update")).text)[0]
    assert ru.endswith("изменил(а) Wedding booth: рамка: Beach → Gold")


async def test_user_and_settings_entries_name_what_changed(
    client: httpx.AsyncClient, admin_headers: dict[str, str], admin_ui: httpx.AsyncClient
) -> None:
    created = await client.post(
        "/api/users",
        headers=admin_headers,
        json={"username": "dora", "password": "dora password 2026", "role": "operator"},
    )
    assert created.status_code == 201, created.text
    changed = await client.put("/api/settings", headers=admin_headers, json={"t_sync_response_seconds": 30})
    assert changed.status_code == 200, changed.text
    sentences = _sentences((await admin_ui.get("/admin/audit")).text)
    assert any(s.endswith("created the user dora (operator)") for s in sentences)
    assert any(
        "changed the settings: How long the booth waits for the photo (seconds): 45 → 30" in s
        for s in sentences
    )
