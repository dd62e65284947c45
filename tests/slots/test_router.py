"""Slot admin API: catalogue, reads, validated and version-guarded updates, permissions."""

from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from photochanger.config import AppConfig
from photochanger.core.time import utcnow
from photochanger.models import AuditLog, JobStatus, Slot
from tests.support.jobs import add_job
from tests.support.templates import frame_png, upload_template


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    return body


def error_fields(body: dict[str, Any]) -> list[str]:
    return sorted(err["field"] for err in body["errors"])


async def slot_row(app: FastAPI, slot_id: str) -> Slot:
    async with app.state.sessionmaker() as session:
        slot: Slot | None = await session.get(Slot, slot_id)
        assert slot is not None
        return slot


def update_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "display_name": "Sepia corner",
        "provider": "local",
        "operation": "filter",
        "params": {"name": "sepia"},
        "is_active": True,
        "size_limit_mb": 10,
        "output_format": "png",
        "on_failure": "original",
        "version": 1,
    }
    body.update(overrides)
    return body


async def test_catalogue_lists_every_provider_with_json_schemas(
    client: httpx.AsyncClient, operator_headers: dict[str, str]
) -> None:
    response = await client.get("/api/providers", headers=operator_headers)
    assert response.status_code == 200
    providers = {p["id"]: p for p in response.json()}
    assert {"local", "gemini", "gpt_image", "openrouter", "turbotext"} <= set(providers)
    assert providers["local"]["configured"] is True
    assert providers["gemini"]["configured"] is False  # no API key in the test configuration
    operations = {op["id"]: op for op in providers["local"]["operations"]}
    frame = operations["frame"]
    assert frame["template_fields"] == ["frame_media_id"]
    props = frame["params_schema"]["properties"]
    assert props["frame_media_id"]["x-template-media"] is True
    assert props["fit"]["enum"] == ["cover", "contain"]
    assert props["fit"]["default"] == "cover"
    assert props["fit"]["title"] == "Fit"
    assert frame["params_schema"]["required"] == ["frame_media_id"]
    gemini_edit = {op["id"]: op for op in providers["gemini"]["operations"]}["edit"]
    assert gemini_edit["params_schema"]["properties"]["template_media_ids"]["x-template-media"] is True


async def test_catalogue_needs_a_token(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/api/providers"), 401, "not_authenticated")


async def test_list_slots_has_links_and_last_hour_outcomes(
    app: FastAPI, client: httpx.AsyncClient, config: AppConfig, operator_headers: dict[str, str]
) -> None:
    now = utcnow()
    maker = app.state.sessionmaker
    await add_job(maker, config.media_root, expires_at=now + timedelta(hours=1), created_at=now)
    await add_job(maker, config.media_root, expires_at=None, status=JobStatus.failed, with_result=False)
    await add_job(maker, config.media_root, expires_at=None, created_at=now - timedelta(hours=2))

    response = await client.get("/api/slots", headers=operator_headers)

    assert response.status_code == 200
    slots = response.json()
    assert [s["id"] for s in slots] == [f"slot-{n:03d}" for n in range(1, 16)]
    first = slots[0]
    assert first["ingest_url"] == "http://booth.test/api/ingest/slot-001"
    assert (first["provider"], first["operation"], first["is_active"]) == ("local", "passthrough", True)
    assert first["outcomes_last_hour"] == {"done": 1, "failed": 1, "timeout": 0, "pending": 0}
    assert slots[1]["outcomes_last_hour"] == {"done": 0, "failed": 0, "timeout": 0, "pending": 0}


async def test_get_slot_returns_recent_results_newest_first(
    app: FastAPI, client: httpx.AsyncClient, config: AppConfig, operator_headers: dict[str, str]
) -> None:
    now = utcnow()
    maker = app.state.sessionmaker
    ids = []
    for minutes in (30, 20, 10):
        job = await add_job(
            maker,
            config.media_root,
            expires_at=now + timedelta(hours=1),
            created_at=now - timedelta(minutes=minutes),
        )
        ids.append(job.id)
    expired = await add_job(
        maker, config.media_root, expires_at=now - timedelta(minutes=1), created_at=now - timedelta(minutes=5)
    )

    response = await client.get("/api/slots/slot-001?limit=2", headers=operator_headers)

    assert response.status_code == 200
    body = response.json()
    assert body["params"] == {}
    assert (body["output_format"], body["on_failure"], body["version"]) == ("jpeg", "error", 1)
    results = body["recent_results"]
    assert [r["job_id"] for r in results] == [expired.id, ids[2]]
    assert results[0]["available"] is False
    assert results[1]["available"] is True
    assert results[1]["result_url"] == f"http://booth.test/public/results/{ids[2]}"
    assert results[1]["preview_url"] == f"http://booth.test/public/results/{ids[2]}/preview"
    assert (await client.get(results[1]["preview_url"].removeprefix("http://booth.test"))).status_code == 200
    default = (await client.get("/api/slots/slot-001", headers=operator_headers)).json()
    assert len(default["recent_results"]) == 4


async def test_get_unknown_slot_is_404(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    assert_problem(await client.get("/api/slots/slot-016", headers=admin_headers), 404, "slot_not_found")


async def test_update_saves_bumps_version_and_audits(
    app: FastAPI, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    response = await client.put("/api/slots/slot-002", headers=admin_headers, json=update_body())

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["version"] == 2
    assert body["updated_by"] == "test-admin"
    assert (body["display_name"], body["operation"], body["params"]) == (
        "Sepia corner",
        "filter",
        {"name": "sepia"},
    )
    assert (body["size_limit_mb"], body["output_format"], body["on_failure"]) == (10, "png", "original")
    slot = await slot_row(app, "slot-002")
    assert slot.version == 2
    assert slot.settings["params"] == {"name": "sepia"}
    assert slot.settings["on_failure"] == "original"
    assert (await client.get("/api/slots/slot-002", headers=admin_headers)).json()[
        "display_name"
    ] == "Sepia corner"

    async with app.state.sessionmaker() as session:
        [entry] = (await session.execute(select(AuditLog).where(AuditLog.action == "slot.update"))).scalars()
    assert entry.target == "slot:slot-002"
    assert entry.actor == "test-admin"
    assert entry.changes["operation"] == {"old": "passthrough", "new": "filter"}
    assert entry.changes["params"] == {"old": {}, "new": {"name": "sepia"}}
    assert entry.changes["on_failure"] == {"old": "error", "new": "original"}
    assert "is_active" not in entry.changes


async def test_on_failure_left_out_keeps_the_current_policy(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    assert (
        await client.put("/api/slots/slot-002", headers=admin_headers, json=update_body())
    ).status_code == 200
    second = update_body(version=2)
    del second["on_failure"]
    response = await client.put("/api/slots/slot-002", headers=admin_headers, json=second)
    assert response.status_code == 200
    assert response.json()["on_failure"] == "original"


async def test_stale_version_is_409_and_keeps_the_first_save(
    app: FastAPI, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    first = await client.put("/api/slots/slot-003", headers=admin_headers, json=update_body(display_name="A"))
    assert first.status_code == 200
    second = await client.put(
        "/api/slots/slot-003", headers=admin_headers, json=update_body(display_name="B")
    )
    body = assert_problem(second, 409, "version_conflict")
    assert body["current_version"] == 2
    slot = await slot_row(app, "slot-003")
    assert (slot.display_name, slot.version) == ("A", 2)


async def test_parameters_are_validated_per_field(
    app: FastAPI, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    response = await client.put(
        "/api/slots/slot-001",
        headers=admin_headers,
        json=update_body(operation="green_screen", params={"tolerance": 300, "key_color": "red", "bogus": 1}),
    )
    body = assert_problem(response, 422, "validation_error")
    assert error_fields(body) == [
        "params.background_media_id",
        "params.bogus",
        "params.key_color",
        "params.tolerance",
    ]
    assert all(err["loc"][:2] == ["body", "params"] for err in body["errors"])
    assert (await slot_row(app, "slot-001")).version == 1


async def test_unknown_provider_and_operation_are_422(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    unknown_provider = await client.put(
        "/api/slots/slot-001", headers=admin_headers, json=update_body(provider="dalle")
    )
    assert error_fields(assert_problem(unknown_provider, 422, "validation_error")) == ["provider"]
    unknown_operation = await client.put(
        "/api/slots/slot-001", headers=admin_headers, json=update_body(operation="explode")
    )
    assert error_fields(assert_problem(unknown_operation, 422, "validation_error")) == ["operation"]


async def test_body_fields_are_validated(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    response = await client.put(
        "/api/slots/slot-001",
        headers=admin_headers,
        json=update_body(display_name="", size_limit_mb=0, output_format="gif", on_failure="retry"),
    )
    body = assert_problem(response, 422, "validation_error")
    assert error_fields(body) == ["display_name", "on_failure", "output_format", "size_limit_mb"]


async def test_unknown_template_media_is_422(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    real = (await upload_template(client, admin_headers, frame_png())).json()["id"]
    frame = await client.put(
        "/api/slots/slot-001",
        headers=admin_headers,
        json=update_body(operation="frame", params={"frame_media_id": "0b9c7c56-missing"}),
    )
    assert error_fields(assert_problem(frame, 422, "validation_error")) == ["params.frame_media_id"]
    gemini = await client.put(
        "/api/slots/slot-001",
        headers=admin_headers,
        json=update_body(
            provider="gemini", operation="edit", params={"prompt": "x", "template_media_ids": [real, "gone"]}
        ),
    )
    assert error_fields(assert_problem(gemini, 422, "validation_error")) == ["params.template_media_ids.1"]
    ok = await client.put(
        "/api/slots/slot-001",
        headers=admin_headers,
        json=update_body(operation="frame", params={"frame_media_id": real}),
    )
    assert ok.status_code == 200, ok.text


async def test_update_unknown_slot_is_404(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    assert_problem(
        await client.put("/api/slots/slot-099", headers=admin_headers, json=update_body()),
        404,
        "slot_not_found",
    )


async def test_permissions(
    client: httpx.AsyncClient, admin_headers: dict[str, str], operator_headers: dict[str, str]
) -> None:
    assert_problem(await client.get("/api/slots"), 401, "not_authenticated")
    assert_problem(await client.get("/api/slots/slot-001"), 401, "not_authenticated")
    assert_problem(await client.put("/api/slots/slot-001", json=update_body()), 401, "not_authenticated")
    assert_problem(
        await client.put("/api/slots/slot-001", headers=operator_headers, json=update_body()),
        403,
        "forbidden",
    )
    assert (await client.get("/api/slots/slot-001", headers=operator_headers)).status_code == 200
    assert (
        await client.put("/api/slots/slot-001", headers=admin_headers, json=update_body())
    ).status_code == 200
