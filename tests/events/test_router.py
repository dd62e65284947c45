"""`/api/events`: CRUD with permissions, problem+json errors and audit entries; one open event per slot;
jobs record their event; reuse of an earlier event."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.models import AuditLog, EventSlot, Job, Slot
from tests.events.conftest import create_event, shoot
from tests.support.images import jpeg
from tests.support.templates import frame_png, upload_template


async def _audit(sessionmaker: async_sessionmaker[AsyncSession], target: str) -> list[str]:
    async with sessionmaker() as session:
        rows = await session.execute(
            select(AuditLog.action)
            .where(AuditLog.target == target)
            .order_by(AuditLog.created_at, AuditLog.id)
        )
        return list(rows.scalars())


async def test_admin_creates_edits_closes_reopens_and_deletes_an_event(
    client: httpx.AsyncClient, admin_headers: dict[str, str], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    event = await create_event(client, admin_headers, slots=["slot-001", "slot-002"])
    assert event["status"] == "open"
    assert [s["slot_id"] for s in event["slots"]] == ["slot-001", "slot-002"]
    assert event["gallery_open"] is False
    assert event["gallery_url"] is None
    assert event["branding"]["title"] == "Anna & Ben"
    assert set(event["slot_configs"]) == {"slot-001", "slot-002"}

    patched = await client.patch(
        f"/api/events/{event['id']}",
        json={
            "name": "Anna and Ben",
            "retention_days": 60,
            "branding": {"title": "A+B", "accent_color": "#00AA00"},
        },
        headers=admin_headers,
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert body["name"] == "Anna and Ben"
    assert body["branding"]["accent_color"] == "#00aa00"
    assert body["retention_days"] == 60
    assert body["retain_until"] > event["retain_until"]

    listed = await client.get("/api/events", headers=admin_headers)
    assert [e["id"] for e in listed.json()] == [event["id"]]
    closed = await client.post(f"/api/events/{event['id']}/close", headers=admin_headers)
    assert closed.json()["status"] == "closed"
    reopened = await client.post(f"/api/events/{event['id']}/reopen", headers=admin_headers)
    assert reopened.json()["status"] == "open"
    deleted = await client.delete(f"/api/events/{event['id']}", headers=admin_headers)
    assert deleted.status_code == 204
    missing = await client.get(f"/api/events/{event['id']}", headers=admin_headers)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["code"] == "event_not_found"
    assert await _audit(sessionmaker, f"event:{event['id']}") == [
        "event.create",
        "event.update",
        "event.close",
        "event.reopen",
        "event.delete",
    ]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/events", None),
        (
            "POST",
            "/api/events",
            {"name": "x", "starts_at": "2026-12-01T10:00:00Z", "ends_at": "2026-12-01T11:00:00Z"},
        ),
        ("PATCH", "/api/events/{id}", {"name": "y"}),
        ("POST", "/api/events/{id}/close", None),
        ("POST", "/api/events/{id}/gallery/open", None),
        ("DELETE", "/api/events/{id}", None),
        ("GET", "/api/events/{id}/export.zip", None),
    ],
)
async def test_events_need_the_events_permissions(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    operator_headers: dict[str, str],
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    event = await create_event(client, admin_headers, slots=[])
    url = path.format(id=event["id"])
    nobody = await client.request(method, url, json=body)
    assert nobody.status_code == 401
    assert nobody.json()["code"] == "not_authenticated"
    operator = await client.request(method, url, json=body, headers=operator_headers)
    assert operator.status_code == 403
    assert operator.json()["code"] == "forbidden"


async def test_a_slot_belongs_to_at_most_one_open_event(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    first = await create_event(client, admin_headers, slots=["slot-003"])
    payload = {
        "name": "Party",
        "starts_at": "2026-12-01T10:00:00Z",
        "ends_at": "2026-12-01T11:00:00Z",
        "slots": [{"slot_id": "slot-004"}, {"slot_id": "slot-003"}],
    }
    refused = await client.post("/api/events", json=payload, headers=admin_headers)
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "slot_in_open_event"
    assert refused.json()["slots"] == {"slot-003": first["id"]}
    # Nothing half-done: the refused event does not exist.
    assert len((await client.get("/api/events", headers=admin_headers)).json()) == 1

    await client.post(f"/api/events/{first['id']}/close", headers=admin_headers)
    second = await client.post("/api/events", json=payload, headers=admin_headers)
    assert second.status_code == 201
    again = await client.post(f"/api/events/{first['id']}/reopen", headers=admin_headers)
    assert again.status_code == 409
    assert again.json()["code"] == "slot_in_open_event"
    moved = await client.patch(
        f"/api/events/{second.json()['id']}", json={"slots": [{"slot_id": "slot-004"}]}, headers=admin_headers
    )
    assert moved.status_code == 200
    assert (await client.post(f"/api/events/{first['id']}/reopen", headers=admin_headers)).status_code == 200


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"slots": [{"slot_id": "slot-099"}]}, ["slots", 0, "slot_id"]),
        ({"slots": [{"slot_id": "slot-001"}, {"slot_id": "slot-001"}]}, ["slots", 1, "slot_id"]),
        ({"branding": {"logo_media_id": "no-such-media"}}, ["branding", "logo_media_id"]),
        ({"branding": {"primary_color": "red"}}, ["body", "branding", "primary_color"]),
        ({"ends_at": "2026-11-30T10:00:00Z"}, ["body"]),
        ({"retention_days": 0}, ["body", "retention_days"]),
    ],
)
async def test_invalid_events_are_refused_with_the_field(
    client: httpx.AsyncClient, admin_headers: dict[str, str], body: dict[str, Any], loc: list[Any]
) -> None:
    payload = {"name": "Gala", "starts_at": "2026-12-01T10:00:00Z", "ends_at": "2026-12-01T11:00:00Z", **body}
    response = await client.post("/api/events", json=payload, headers=admin_headers)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert [e["loc"][: len(loc)] for e in problem["errors"]] == [loc]
    assert (await client.get("/api/events", headers=admin_headers)).json() == []


async def test_booth_jobs_record_the_open_event_of_their_slot(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    ingest_password: str,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    before = await shoot(client, "slot-005", 0)
    event = await create_event(client, admin_headers, slots=["slot-005"])
    during = await shoot(client, "slot-005", 1)
    elsewhere = await shoot(client, "slot-006", 2)
    await client.post(f"/api/events/{event['id']}/close", headers=admin_headers)
    after = await shoot(client, "slot-005", 3)
    async with sessionmaker() as session:
        rows: dict[str, str | None] = {
            r.id: r.event_id for r in await session.execute(select(Job.id, Job.event_id))
        }
    assert rows[before.headers["x-job-id"]] is None
    assert rows[during.headers["x-job-id"]] == event["id"]
    assert rows[elsewhere.headers["x-job-id"]] is None
    assert rows[after.headers["x-job-id"]] is None


async def test_an_event_is_created_from_an_earlier_one(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    logo = (await upload_template(client, admin_headers, frame_png())).json()["id"]
    first = await create_event(
        client,
        admin_headers,
        slots=["slot-007"],
        retention_days=21,
        branding={"title": "Summer", "logo_media_id": logo, "primary_color": "#101010", "text": "Thanks!"},
    )
    first = (
        await client.patch(
            f"/api/events/{first['id']}",
            json={"slots": [{"slot_id": "slot-007", "keep_originals": True}]},
            headers=admin_headers,
        )
    ).json()
    # The slot is configured for the event, the event closes (saving that), then the slot is changed.
    async with sessionmaker() as session, session.begin():
        slot = await session.get(Slot, "slot-007")
        assert slot is not None
        slot.display_name = "Summer booth"
    await client.post(f"/api/events/{first['id']}/close", headers=admin_headers)
    async with sessionmaker() as session, session.begin():
        slot = await session.get(Slot, "slot-007")
        assert slot is not None
        slot.display_name = "Something else"

    payload = {
        "name": "Summer 2027",
        "starts_at": "2027-06-01T10:00:00Z",
        "ends_at": "2027-06-01T20:00:00Z",
        "from_event_id": first["id"],
        "apply_slot_configs": True,
    }
    response = await client.post("/api/events", json=payload, headers=admin_headers)
    assert response.status_code == 201, response.text
    reused = response.json()
    assert reused["source_event_id"] == first["id"]
    assert reused["slots"] == [{"slot_id": "slot-007", "keep_originals": True}]
    assert reused["branding"] == first["branding"]
    assert reused["branding"]["logo_media_id"] == logo
    assert reused["retention_days"] == 21
    async with sessionmaker() as session:
        slot = await session.get(Slot, "slot-007")
        assert slot is not None
        assert slot.display_name == "Summer booth"
    assert "slot.update" in await _audit(sessionmaker, "slot:slot-007")
    unknown = await client.post(
        "/api/events", json={**payload, "from_event_id": "0" * 32}, headers=admin_headers
    )
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "event_not_found"


async def test_admin_test_runs_belong_to_no_event(
    client: httpx.AsyncClient, admin_headers: dict[str, str], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await create_event(client, admin_headers, slots=["slot-008"])
    response = await client.post(
        "/api/slots/slot-008/test-run",
        files={"file": ("t.jpg", jpeg(64, 48), "image/jpeg")},
        headers=admin_headers,
    )
    assert response.status_code == 200, response.text
    async with sessionmaker() as session:
        job = (await session.execute(select(Job).where(Job.slot_id == "slot-008"))).scalar_one()
    assert job.source == "ui_test"
    assert job.event_id is None


async def test_an_edit_that_ends_before_the_start_is_refused(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    event = await create_event(client, admin_headers, slots=[])
    response = await client.patch(
        f"/api/events/{event['id']}", json={"ends_at": "2000-01-01T00:00:00Z"}, headers=admin_headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["ends_at"]
    assert (await client.get(f"/api/events/{event['id']}", headers=admin_headers)).json()["ends_at"] == event[
        "ends_at"
    ]


async def test_the_database_itself_keeps_a_slot_in_one_open_event(
    client: httpx.AsyncClient, admin_headers: dict[str, str], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    first = await create_event(client, admin_headers, slots=["slot-010"])
    second = await create_event(client, admin_headers, slots=[])
    async with sessionmaker() as session:
        session.add(EventSlot(event_id=second["id"], slot_id="slot-010", keep_originals=False, open=True))
        with pytest.raises(IntegrityError):
            await session.flush()
    # A closed event's row does not count.
    async with sessionmaker() as session, session.begin():
        session.add(EventSlot(event_id=second["id"], slot_id="slot-010", keep_originals=False, open=False))
    closed = await client.post(f"/api/events/{second['id']}/close", headers=admin_headers)
    assert closed.status_code == 200
    assert (await client.post(f"/api/events/{second['id']}/reopen", headers=admin_headers)).status_code == 409
    assert first["status"] == "open"
