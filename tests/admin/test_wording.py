"""Operator wording and page furniture: a skip-to-content link, plain permission errors, the booth wait in
words with its default, and "View slot" for the read-only link."""

import httpx

from tests.admin.conftest import csrf_of


async def test_every_page_starts_with_a_skip_link_to_the_content(admin_ui: httpx.AsyncClient) -> None:
    for address in ("/admin", "/admin/settings", "/admin/booths"):
        html = (await admin_ui.get(address)).text
        body = html.split("<body", 1)[1]
        assert body.split("<a ", 1)[1].startswith('class="skip" href="#main">Skip to content</a>')
        assert '<main class="page" id="main" tabindex="-1">' in html


async def test_the_settings_say_what_the_booth_wait_is_and_its_default(admin_ui: httpx.AsyncClient) -> None:
    html = (await admin_ui.get("/admin/settings")).text
    assert "How long the booth waits for the photo (seconds)" in html
    assert "(default 45)" in html
    admin_ui.cookies.set("pc_lang", "ru")
    assert "(по умолчанию 45)" in (await admin_ui.get("/admin/settings")).text


async def test_an_operator_sees_view_slot_and_a_plain_permission_error(
    operator_ui: httpx.AsyncClient,
) -> None:
    dashboard = await operator_ui.get("/admin")
    assert 'href="/admin/slots/slot-001">View slot</a>' in dashboard.text
    refused = await operator_ui.post(
        "/admin/settings", data={"csrf": csrf_of(dashboard.text), "t_sync_response_seconds": "30"}
    )
    assert refused.status_code == 403
    assert 'id="forbidden-hint"' in refused.text
    assert "Ask an admin" in refused.text
    assert "settings:write" not in refused.text
