"""The audit trail: `record` with redaction, entries for settings and user changes, paging."""

import httpx
from fastapi import FastAPI

from photochanger.audit import service as audit_service
from photochanger.audit.service import REDACTED, ActorRef
from photochanger.auth.permissions import Role
from tests.support.auth import create_user


def test_redact_replaces_secret_values_at_any_depth() -> None:
    changes = {
        "ingest_password": "plain",
        "settings": {"api_key": "k", "prompt": "make it blue", "nested": [{"token": "t", "ok": 1}]},
        "password_hash": "$argon2id$...",
        "display_name": "Slot 1",
    }
    assert audit_service.redact(changes) == {
        "ingest_password": REDACTED,
        "settings": {"api_key": REDACTED, "prompt": "make it blue", "nested": [{"token": REDACTED, "ok": 1}]},
        "password_hash": REDACTED,
        "display_name": "Slot 1",
    }


def test_diff_keeps_only_changed_keys() -> None:
    assert audit_service.diff({"a": 1, "b": 2}, {"a": 1, "b": 3, "c": 4}) == {
        "b": {"old": 2, "new": 3},
        "c": {"old": None, "new": 4},
    }


async def test_record_stores_actor_and_redacted_changes(app: FastAPI) -> None:
    user = await create_user(app, "serg")
    async with app.state.sessionmaker() as session:
        entry = await audit_service.record(
            session,
            ActorRef(user.id, user.username),
            "slot.update",
            "slot:slot-001",
            {"settings": {"old": {"api_key": "a"}, "new": {"api_key": "b"}}},
        )
        await session.commit()
    assert entry.id is not None
    assert entry.actor_id == user.id
    assert entry.actor == "serg"
    assert entry.changes == {"settings": {"old": {"api_key": REDACTED}, "new": {"api_key": REDACTED}}}


async def test_user_and_settings_changes_are_audited_and_paged(
    app: FastAPI, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    igor = await create_user(app, "igor", role=Role.operator)
    await client.put(
        "/api/settings",
        headers=admin_headers,
        json={"result_ttl_hours": 48, "ingest_password": "new booth pass"},
    )
    await client.put(f"/api/users/{igor.id}/role", headers=admin_headers, json={"role": "admin"})
    await client.delete(f"/api/users/{igor.id}", headers=admin_headers)

    first = await client.get("/api/audit", headers=admin_headers, params={"limit": 2})
    assert first.status_code == 200
    page = first.json()
    assert page["limit"] == 2
    assert page["offset"] == 0
    assert page["total"] >= 6  # bootstrap admin, test-admin, igor, settings, role, delete
    assert [e["action"] for e in page["items"]] == ["user.delete", "user.role"]
    delete, role = page["items"]
    assert delete["actor"] == "test-admin"
    assert delete["target"] == f"user:{igor.id}"
    assert role["changes"] == {"role": {"old": "operator", "new": "admin"}}

    second = (await client.get("/api/audit", headers=admin_headers, params={"limit": 2, "offset": 2})).json()
    settings_entry = second["items"][0]
    assert settings_entry["action"] == "settings.update"
    assert settings_entry["changes"] == {
        "result_ttl_hours": {"old": 72, "new": 48},
        "ingest_password": REDACTED,
    }
    assert "new booth pass" not in str(second)

    filtered = (
        await client.get("/api/audit", headers=admin_headers, params={"action": "settings.update"})
    ).json()
    assert filtered["total"] == 1


async def test_entries_outlive_their_actor(
    app: FastAPI, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    temp = await create_user(app, "temp-admin", role=Role.admin)
    async with app.state.sessionmaker() as session:
        await audit_service.record(
            session, ActorRef(temp.id, temp.username), "slot.update", "slot:slot-002", {}
        )
        await session.commit()
    assert (await client.delete(f"/api/users/{temp.id}", headers=admin_headers)).status_code == 204
    items = (await client.get("/api/audit", headers=admin_headers, params={"action": "slot.update"})).json()[
        "items"
    ]
    assert items[0]["actor"] == "temp-admin"
    assert items[0]["actor_id"] is None


async def test_audit_paging_is_validated(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    response = await client.get("/api/audit", headers=admin_headers, params={"limit": 0})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["limit"]
