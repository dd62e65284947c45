"""Duplicating a slot copies its whole configuration over another slot, through the same validation,
version guard and audit log as a save; the target keeps its booth URL, on/off state and webhook."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from photochanger.models import AuditLog, Slot
from photochanger.slots import branding, duplicate
from photochanger.slots.exceptions import SlotVersionConflict
from tests.support.actors import first_admin
from tests.support.templates import frame_png, upload_template

SECRET = "s" * 20


async def _configure(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    frame = (await upload_template(client, headers, frame_png(120, 90))).json()["id"]
    body: dict[str, Any] = {
        "display_name": "Wedding booth",
        "provider": "local",
        "operation": "frame",
        "params": {"frame_media_id": frame, "fit": "contain"},
        "is_active": True,
        "size_limit_mb": 7,
        "output_format": "png",
        "on_failure": "original",
        "fallbacks": [{"provider": "local", "operation": "passthrough", "params": {}}],
        "hedge_after_seconds": 4.5,
        "version": 1,
    }
    saved = await client.put("/api/slots/slot-001", json=body, headers=headers)
    assert saved.status_code == 200, saved.text
    return str(frame)


def test_the_copy_name_fits_the_name_column() -> None:
    assert duplicate.copy_name("Wedding", "(copy)") == "Wedding (copy)"
    long = duplicate.copy_name("x" * 120, "(копия)")
    assert len(long) == 120
    assert long.endswith("x (копия)")


async def test_a_duplicate_copies_the_whole_configuration(
    app: FastAPI, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    frame = await _configure(client, admin_headers)
    webhook = {"webhook_url": "https://hooks.example.org/x", "webhook_secret": SECRET}
    target = await client.get("/api/slots/slot-006", headers=admin_headers)
    prepared = await client.put(
        "/api/slots/slot-006",
        json={
            "display_name": "Spare",
            "provider": "local",
            "operation": "passthrough",
            "is_active": False,
            "version": target.json()["version"],
            **webhook,
        },
        headers=admin_headers,
    )
    assert prepared.status_code == 200, prepared.text
    async with app.state.sessionmaker() as session, session.begin():
        await branding.update(
            session,
            "slot-001",
            branding.BrandingUpdate(title="Anna & Ben", accent_color="#aa0000"),
            actor=await first_admin(session),
        )
    async with app.state.sessionmaker() as session, session.begin():
        offered = await duplicate.targets(session, app.state.config, "slot-001")
        assert [t.id for t in offered][:1] == ["slot-006"]  # the switched-off slot first
        assert "slot-001" not in {t.id for t in offered}
        written = await duplicate.duplicate_slot(
            session,
            app.state.config,
            app.state.providers,
            "slot-001",
            "slot-006",
            target_version=2,
            suffix="(copy)",
            actor=await first_admin(session),
        )
    assert written.display_name == "Wedding booth (copy)"
    copy = (await client.get("/api/slots/slot-006", headers=admin_headers)).json()
    assert (copy["provider"], copy["operation"]) == ("local", "frame")
    assert copy["params"] == {"frame_media_id": frame, "fit": "contain"}
    assert (copy["size_limit_mb"], copy["output_format"], copy["on_failure"]) == (7, "png", "original")
    assert copy["fallbacks"] == [{"provider": "local", "operation": "passthrough", "params": {}}]
    assert copy["hedge_after_seconds"] == 4.5
    assert copy["is_active"] is False  # the target's own state
    assert copy["webhook_url"] == webhook["webhook_url"]  # the target's own webhook
    assert copy["ingest_url"].endswith("/api/ingest/slot-006")
    async with app.state.sessionmaker() as session:
        look = await branding.get(session, "slot-006")
        assert (look.title, look.accent_color) == ("Anna & Ben", "#aa0000")
        source = await session.get(Slot, "slot-001")
        assert source is not None
        assert source.display_name == "Wedding booth"
        entries = (await session.execute(select(AuditLog.action, AuditLog.target, AuditLog.changes))).all()
    assert ("slot.duplicate", "slot:slot-006", {"source": "slot-001"}) in [tuple(e) for e in entries]


async def test_a_duplicate_is_refused_onto_itself_or_a_slot_changed_meanwhile(
    app: FastAPI, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await _configure(client, admin_headers)
    async with app.state.sessionmaker() as session:
        with pytest.raises(duplicate.DuplicateOntoItself) as onto:
            await duplicate.duplicate_slot(
                session, app.state.config, app.state.providers, "slot-001", "slot-001",
                target_version=2, suffix="(copy)", actor=await first_admin(session),
            )  # fmt: skip
        assert (onto.value.status_code, onto.value.code) == (422, "duplicate_onto_itself")
        with pytest.raises(SlotVersionConflict):
            await duplicate.duplicate_slot(
                session, app.state.config, app.state.providers, "slot-001", "slot-002",
                target_version=7, suffix="(copy)", actor=await first_admin(session),
            )  # fmt: skip
        await session.rollback()
        untouched = await session.get(Slot, "slot-002")
        assert untouched is not None
        assert (untouched.display_name, untouched.version) == ("Slot 2", 1)
