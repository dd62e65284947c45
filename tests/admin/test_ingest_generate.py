"""The ingest password's Generate button: a strong password picked by the server, shown once with Copy,
in effect for booths at once."""

import re

import httpx
from fastapi import FastAPI

from photochanger.core.passwords import verify_password
from photochanger.settings import service as settings_service
from tests.admin.conftest import csrf_of
from tests.ingest.conftest import booth_fields
from tests.support import images


async def _shot(client: httpx.AsyncClient, password: str) -> int:
    response = await client.post(
        "/api/ingest/slot-001",
        data=booth_fields(password),
        files={"fileToUpload": ("IMG_1.JPG", images.jpeg(64, 48), "image/jpeg")},
    )
    return response.status_code


async def test_generate_shows_the_new_password_once_and_booths_need_it(
    app: FastAPI, admin_ui: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    page = await admin_ui.get("/admin/settings")
    assert 'id="ingest-generate"' in page.text
    assert 'id="ingest-generated"' not in page.text
    response = await admin_ui.post(
        "/admin/settings/ingest-password/generate", data={"csrf": csrf_of(page.text), "confirm": "on"}
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    match = re.search(r'id="generated-password" value="([A-Za-z0-9_-]{24})"', response.text)
    assert match is not None
    password = match.group(1)
    assert 'data-copy="generated-password"' in response.text
    async with app.state.sessionmaker() as session:
        state = await settings_service.ingest_password_state(session)
    assert state.password_hash is not None
    assert await verify_password(state.password_hash, password)
    assert await _shot(client, password) == 200
    # Shown once: neither the settings page nor a reload of the address shows it again.
    again = await admin_ui.get("/admin/settings")
    assert password not in again.text
    reload = await admin_ui.get("/admin/settings/ingest-password/generate")
    assert (reload.status_code, reload.headers["location"]) == (303, "/admin/settings")


async def test_generate_without_the_confirmation_changes_nothing(
    app: FastAPI, admin_ui: httpx.AsyncClient
) -> None:
    async with app.state.sessionmaker() as session:
        before = (await settings_service.ingest_password_state(session)).password_hash
    page = await admin_ui.get("/admin/settings")
    response = await admin_ui.post(
        "/admin/settings/ingest-password/generate", data={"csrf": csrf_of(page.text)}
    )
    assert response.status_code == 422
    assert 'id="ingest-generated"' not in response.text
    async with app.state.sessionmaker() as session:
        assert (await settings_service.ingest_password_state(session)).password_hash == before


async def test_an_operator_cannot_generate(operator_ui: httpx.AsyncClient) -> None:
    page = await operator_ui.get("/admin")
    response = await operator_ui.post(
        "/admin/settings/ingest-password/generate", data={"csrf": csrf_of(page.text), "confirm": "on"}
    )
    assert response.status_code == 403
