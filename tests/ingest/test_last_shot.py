"""Every booth shot becomes its slot's last shot (for the admin's trial runs), failed ones too; the next
shot replaces it, and a test run never does."""

from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from photochanger.core import last_shots
from photochanger.core.time import utcnow
from tests.fakes.gemini import GeminiFake
from tests.ingest.conftest import configure_slot, upload
from tests.support import images


@pytest.fixture
def config_overrides(gemini_server: GeminiFake) -> dict[str, Any]:
    return {"gemini_api_key": GeminiFake.api_key, "gemini_base_url": gemini_server.url}


def _kept(app: FastAPI, slot_id: str) -> bytes | None:
    store = app.state.config.media_store()
    shot = last_shots.find(store, slot_id, max_age=timedelta(hours=1), now=utcnow())
    return store.read(shot.key) if shot is not None else None


async def test_each_booth_shot_replaces_its_slots_last_shot(
    app: FastAPI, client: httpx.AsyncClient, ingest_password: str, admin_headers: dict[str, str]
) -> None:
    first, second = images.jpeg(64, 48, color=(1, 2, 3)), images.jpeg(80, 60, color=(200, 10, 10))
    assert (await upload(client, first, id="LS-1", hash="1" * 40)).status_code == 200
    assert _kept(app, "slot-001") == first
    assert (await upload(client, second, id="LS-2", hash="2" * 40)).status_code == 200
    assert _kept(app, "slot-001") == second
    assert _kept(app, "slot-002") is None
    test = await client.post(
        "/api/slots/slot-001/test-run",
        files={"file": ("t.jpg", images.jpeg(32, 32), "image/jpeg")},
        headers=admin_headers,
    )
    assert test.status_code == 200, test.text
    assert _kept(app, "slot-001") == second  # a test run is not a booth shot
    assert not list(app.state.ingest.layout.temp.glob("*.upload"))  # the upload itself is gone


async def test_a_failed_shot_is_kept_to_try_a_fix_on(
    app: FastAPI, client: httpx.AsyncClient, ingest_password: str, gemini_fake: GeminiFake
) -> None:
    gemini_fake.script(GeminiFake.blocked())  # the provider refuses the photo: the booth gets 422
    await configure_slot(
        app.state.sessionmaker, "slot-003", provider="gemini", operation="edit",
        settings={"params": {"prompt": "cartoon"}},
    )  # fmt: skip
    shot = images.jpeg(64, 48, color=(9, 9, 9))
    response = await upload(client, shot, slot="slot-003", id="LS-3", hash="3" * 40)
    assert (response.status_code, response.json()["code"]) == (422, "provider_refused")
    assert _kept(app, "slot-003") == shot
