"""Setup that guides you: the dashboard checklist ticks itself step by step, and each slot's booth setup
card gives the URL, the password field and the recommended timeout in DSLR Remote Pro's own terms."""

import re

import httpx
from fastapi import FastAPI

from photochanger.onboarding import service as onboarding
from photochanger.settings import service as settings_service
from tests.admin.conftest import csrf_of
from tests.ingest.conftest import booth_fields
from tests.support import images
from tests.support.templates import frame_png

PASSWORD = "booth-pass-setup-1"


def _steps(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-step="(\w+)" data-done="(yes|no)"', html))


async def _shot(client: httpx.AsyncClient, password: str) -> int:
    response = await client.post(
        "/api/ingest/slot-001",
        data=booth_fields(password),
        files={"fileToUpload": ("IMG_1.JPG", images.jpeg(64, 48), "image/jpeg")},
    )
    return response.status_code


async def test_the_checklist_ticks_itself_until_the_first_shot(
    app: FastAPI, admin_ui: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        await settings_service.set_ingest_password(session, PASSWORD, actor="test")
    dashboard = await admin_ui.get("/admin")
    assert _steps(dashboard.text) == {"template": "no", "slot": "no", "booth": "no", "shot": "no"}
    assert 'data-refresh="/admin/setup/checklist"' in dashboard.text

    media = await admin_ui.get("/admin/media")
    uploaded = await admin_ui.post(
        "/admin/media",
        data={"csrf": csrf_of(media.text), "name": "Gold"},
        files={"file": ("frame.png", frame_png(100, 80), "image/png")},
    )
    assert uploaded.status_code == 303
    assert _steps((await admin_ui.get("/admin/setup/checklist")).text)["template"] == "yes"

    editor = await admin_ui.get("/admin/slots/slot-001")
    saved = await admin_ui.post(
        "/admin/slots/slot-001",
        data={
            "csrf": csrf_of(editor.text),
            "display_name": "Entrance",
            "provider": "local",
            "operation": "passthrough",
            "is_active": "on",
            "version": "1",
        },
    )
    assert saved.status_code == 303, saved.text
    fragment = (await admin_ui.get("/admin/setup/checklist")).text
    assert _steps(fragment) == {"template": "yes", "slot": "yes", "booth": "no", "shot": "no"}
    assert 'href="/admin/slots/slot-001/booth"' in fragment

    assert await _shot(client, "wrong-password-x") == 401
    fragment = (await admin_ui.get("/admin/setup/checklist")).text
    assert 'data-role="wrong-password"' in fragment
    assert _steps(fragment)["booth"] == "no"

    assert await _shot(client, PASSWORD) == 200
    assert (await admin_ui.get("/admin/setup/checklist")).text.strip() == ""
    assert 'id="setup"' not in (await admin_ui.get("/admin")).text


async def test_the_booth_setup_card_names_dslr_remote_pro_settings(
    app: FastAPI, admin_ui: httpx.AsyncClient
) -> None:
    async with app.state.sessionmaker() as session:
        deadline = (await settings_service.load(session)).t_sync_response_seconds
    page = await admin_ui.get("/admin/slots/slot-003/booth")
    assert page.status_code == 200
    assert 'value="http://booth.test/api/ingest/slot-003"' in page.text
    assert "Postprocess photos" in page.text
    assert "Web based (HTTP POST)" in page.text
    assert "password field" in page.text
    timeout = onboarding.booth_timeout_seconds(deadline)
    assert timeout == deadline + onboarding.BOOTH_TIMEOUT_MARGIN_SECONDS
    assert f"<b>{timeout} seconds</b>" in page.text
    admin_ui.cookies.set("pc_lang", "ru")
    ru = await admin_ui.get("/admin/slots/slot-003/booth")
    assert "Настройка стойки" in ru.text
    assert f"<b>{timeout} секунд</b>" in ru.text
    assert (await admin_ui.get("/admin/slots/nope/booth")).status_code == 404
