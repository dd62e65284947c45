"""`GET/PUT /api/settings`: values with metadata, per-field 422, ingest password rotation (UC0)."""

import io
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image

from photochanger.core.passwords import verify_password
from photochanger.settings import service as settings_service
from photochanger.settings.schemas import RUNTIME_SETTING_KEYS, RuntimeSettings
from tests.support.auth import bearer, create_user, login


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


async def _upload(client: httpx.AsyncClient, password: str) -> httpx.Response:
    return await client.post(
        "/api/ingest/slot-001",
        data={"password": password},
        files={"fileToUpload": ("IMG_0001.JPG", _jpeg(), "image/jpeg")},
    )


async def test_get_lists_every_setting_with_metadata_and_no_secret(
    app: FastAPI, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    response = await client.get("/api/settings", headers=admin_headers)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {*RUNTIME_SETTING_KEYS, "ingest_password"}
    defaults = RuntimeSettings()
    for key in RUNTIME_SETTING_KEYS:
        assert body[key] == {"value": getattr(defaults, key), "updated_at": None, "updated_by": None}
    assert set(body["ingest_password"]) == {"set", "updated_at", "updated_by"}
    async with app.state.sessionmaker() as session:
        state = await settings_service.ingest_password_state(session)
    assert state.password_hash is not None
    assert state.password_hash not in response.text
    assert "argon2" not in response.text


async def test_put_updates_values_and_records_who_and_when(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    response = await client.put(
        "/api/settings", headers=admin_headers, json={"t_sync_response_seconds": 30, "upload_max_mb": 15}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["t_sync_response_seconds"]["value"] == 30
    assert body["t_sync_response_seconds"]["updated_by"] == "test-admin"
    assert body["t_sync_response_seconds"]["updated_at"] is not None
    assert body["upload_max_mb"]["value"] == 15
    assert body["result_ttl_hours"]["updated_by"] is None
    again = (await client.get("/api/settings", headers=admin_headers)).json()
    assert again["t_sync_response_seconds"]["value"] == 30


BAD_VALUES: list[tuple[str, Any]] = [
    *[(key, 0) for key in RUNTIME_SETTING_KEYS],
    *[(key, 10**6) for key in RUNTIME_SETTING_KEYS],
    *[(key, "many") for key in RUNTIME_SETTING_KEYS],
    *[(key, None) for key in RUNTIME_SETTING_KEYS],
    ("ingest_password", "short"),
    ("ingest_password", None),
    ("ingest_password", 12345678),
    ("no_such_setting", 1),
]


@pytest.mark.parametrize(("key", "value"), BAD_VALUES)
async def test_put_rejects_bad_values_with_a_422_naming_the_field(
    client: httpx.AsyncClient, admin_headers: dict[str, str], key: str, value: Any
) -> None:
    other = "upload_max_mb" if key != "upload_max_mb" else "slot_concurrency"
    response = await client.put("/api/settings", headers=admin_headers, json={other: 2, key: value})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "validation_error"
    assert [e["field"] for e in body["errors"]] == [key]
    if isinstance(value, str):
        assert value not in response.text  # submitted values are never echoed
    # Nothing was stored: the valid key in the same request did not go through either.
    after = (await client.get("/api/settings", headers=admin_headers)).json()
    assert after[other]["value"] == getattr(RuntimeSettings(), other)


async def test_put_reports_every_bad_field_at_once(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    response = await client.put(
        "/api/settings", headers=admin_headers, json={"result_ttl_hours": 0, "global_concurrency": 100000}
    )
    assert response.status_code == 422
    assert sorted(e["field"] for e in response.json()["errors"]) == ["global_concurrency", "result_ttl_hours"]


async def test_put_without_token_is_401_and_operator_is_403(
    client: httpx.AsyncClient, operator_headers: dict[str, str]
) -> None:
    assert (await client.put("/api/settings", json={"upload_max_mb": 5})).status_code == 401
    forbidden = await client.put("/api/settings", headers=operator_headers, json={"upload_max_mb": 5})
    assert forbidden.status_code == 403
    assert forbidden.json()["code"] == "forbidden"


async def test_uc0_login_then_rotate_the_ingest_password(app: FastAPI, client: httpx.AsyncClient) -> None:
    """UC0: log in at /api/login, PUT a new ingest password, see metadata only; the old one is refused."""
    async with app.state.sessionmaker() as session:
        await settings_service.set_ingest_password(session, "old booth password", actor="test")
        await session.commit()
    await create_user(app, "serg")
    assert (await _upload(client, "old booth password")).status_code == 200
    tokens = await login(client, "serg")
    assert (
        "settings:write"
        in (await client.get("/api/auth/me", headers=bearer(tokens["access_token"]))).json()["permissions"]
    )
    response = await client.put(
        "/api/settings",
        headers=bearer(tokens["access_token"]),
        json={"ingest_password": "new booth password"},
    )
    assert response.status_code == 200, response.text
    meta = response.json()["ingest_password"]
    assert meta["set"] is True
    assert meta["updated_by"] == "serg"
    assert "new booth password" not in response.text

    refused = await _upload(client, "old booth password")
    assert refused.status_code == 401
    assert refused.json()["code"] == "invalid_password"
    assert (await _upload(client, "new booth password")).status_code == 200
    async with app.state.sessionmaker() as session:
        state = await settings_service.ingest_password_state(session)
    assert state.password_hash is not None
    assert await verify_password(state.password_hash, "new booth password")
