"""Template media API: upload checks, listing, private content, and the delete guard."""

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from photochanger.config import AppConfig
from photochanger.models import AuditLog, MediaObject
from photochanger.settings import service as settings_service
from tests.support import images
from tests.support.templates import frame_png, upload_template


def files_under(config: AppConfig, *parts: str) -> list[str]:
    root = config.media_root.joinpath(*parts)
    return sorted(p.name for p in root.rglob("*") if p.is_file()) if root.exists() else []


async def media_rows(app: FastAPI) -> list[MediaObject]:
    async with app.state.sessionmaker() as session:
        return list((await session.execute(select(MediaObject))).scalars())


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    return body


async def test_png_with_alpha_is_stored_privately_and_listed(
    app: FastAPI, client: httpx.AsyncClient, config: AppConfig, admin_headers: dict[str, str]
) -> None:
    data = frame_png(120, 90)
    response = await upload_template(client, admin_headers, data, name="  Gold   frame ")

    assert response.status_code == 201, response.text
    created = response.json()
    assert created["name"] == "Gold frame"
    assert (created["content_type"], created["width"], created["height"]) == ("image/png", 120, 90)
    assert created["has_alpha"] is True
    assert created["size"] == len(data)
    media_id = created["id"]
    assert (config.media_root / "templates" / f"{media_id}.png").read_bytes() == data
    assert files_under(config, "temp") == []

    listing = await client.get("/api/template-media", headers=admin_headers)
    assert listing.status_code == 200
    [item] = listing.json()
    assert item["id"] == media_id
    assert item["used_by"] == []
    assert item["created_by"] == "test-admin"

    content = await client.get(f"/api/template-media/{media_id}/content", headers=admin_headers)
    assert content.status_code == 200
    assert content.content == data
    assert content.headers["content-type"] == "image/png"

    thumb = await client.get(f"/api/template-media/{media_id}/thumbnail", headers=admin_headers)
    assert thumb.status_code == 200
    assert thumb.headers["content-type"] == "image/png"
    assert max(images.decode(thumb.content).size) <= 320

    async with app.state.sessionmaker() as session:
        actions = list((await session.execute(select(AuditLog.action))).scalars())
    assert "template_media.create" in actions


async def test_jpeg_without_name_is_named_after_its_file(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    response = await upload_template(
        client, admin_headers, images.jpeg(), name=None, filename="bg.jpg", content_type="image/jpeg"
    )
    assert response.status_code == 201
    assert response.json()["name"] == "bg.jpg"
    assert response.json()["has_alpha"] is False


async def test_content_and_thumbnail_need_authentication(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    media_id = (await upload_template(client, admin_headers, frame_png())).json()["id"]
    for suffix in ("content", "thumbnail"):
        assert_problem(await client.get(f"/api/template-media/{media_id}/{suffix}"), 401, "not_authenticated")
    assert_problem(await client.get("/api/template-media"), 401, "not_authenticated")


async def test_operator_may_read_but_not_upload_or_delete(
    client: httpx.AsyncClient, admin_headers: dict[str, str], operator_headers: dict[str, str]
) -> None:
    media_id = (await upload_template(client, admin_headers, frame_png())).json()["id"]
    assert_problem(await upload_template(client, operator_headers, frame_png()), 403, "forbidden")
    assert_problem(
        await client.delete(f"/api/template-media/{media_id}", headers=operator_headers), 403, "forbidden"
    )
    listing = await client.get("/api/template-media", headers=operator_headers)
    assert [item["id"] for item in listing.json()] == [media_id]


async def test_gif_is_415_and_leaves_nothing(
    app: FastAPI, client: httpx.AsyncClient, config: AppConfig, admin_headers: dict[str, str]
) -> None:
    response = await upload_template(
        client, admin_headers, images.gif(), filename="a.png", content_type="image/png"
    )
    assert_problem(response, 415, "unsupported_media_type")
    assert await media_rows(app) == []
    assert files_under(config, "templates") == []
    assert files_under(config, "temp") == []


async def test_truncated_png_is_422_and_leaves_nothing(
    app: FastAPI, client: httpx.AsyncClient, config: AppConfig, admin_headers: dict[str, str]
) -> None:
    data = frame_png(300, 300)
    response = await upload_template(client, admin_headers, data[: len(data) // 2])
    assert_problem(response, 422, "invalid_image")
    assert await media_rows(app) == []
    assert files_under(config, "templates") == []
    assert files_under(config, "temp") == []


async def test_file_over_the_runtime_cap_is_413(
    app: FastAPI, client: httpx.AsyncClient, config: AppConfig, admin_headers: dict[str, str]
) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        await settings_service.update(session, {"upload_max_mb": 1}, actor="test")
    response = await upload_template(
        client, admin_headers, images.noisy_jpeg(1.6), filename="big.jpg", content_type="image/jpeg"
    )
    assert_problem(response, 413, "payload_too_large")
    assert await media_rows(app) == []
    assert files_under(config, "temp") == []


async def test_missing_file_part_is_400(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    response = await client.post("/api/template-media", headers=admin_headers, data={"name": "x"}, files={})
    assert response.status_code == 400


async def test_unknown_id_is_404(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    for path in ("/api/template-media/nope/content", "/api/template-media/nope/thumbnail"):
        assert_problem(await client.get(path, headers=admin_headers), 404, "template_media_not_found")
    assert_problem(
        await client.delete("/api/template-media/nope", headers=admin_headers),
        404,
        "template_media_not_found",
    )


async def test_delete_is_refused_while_a_slot_uses_it(
    app: FastAPI, client: httpx.AsyncClient, config: AppConfig, admin_headers: dict[str, str]
) -> None:
    media_id = (await upload_template(client, admin_headers, frame_png())).json()["id"]
    slot = (await client.get("/api/slots/slot-004", headers=admin_headers)).json()
    body = {
        "display_name": "Frames",
        "provider": "local",
        "operation": "frame",
        "params": {"frame_media_id": media_id},
        "is_active": True,
        "version": slot["version"],
    }
    saved = await client.put("/api/slots/slot-004", headers=admin_headers, json=body)
    assert saved.status_code == 200, saved.text

    refused = assert_problem(
        await client.delete(f"/api/template-media/{media_id}", headers=admin_headers),
        409,
        "template_media_in_use",
    )
    assert refused["used_by"] == ["slot-004"]
    assert "slot-004" in refused["detail"]
    listing = (await client.get("/api/template-media", headers=admin_headers)).json()
    assert listing[0]["used_by"] == ["slot-004"]
    assert [m.id for m in await media_rows(app)] == [media_id]

    body.update(operation="passthrough", params={}, version=saved.json()["version"])
    assert (await client.put("/api/slots/slot-004", headers=admin_headers, json=body)).status_code == 200
    deleted = await client.delete(f"/api/template-media/{media_id}", headers=admin_headers)
    assert deleted.status_code == 204
    assert await media_rows(app) == []
    assert files_under(config, "templates") == []
