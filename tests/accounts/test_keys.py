"""`/api/provider-keys`: write-only keys, encrypted at rest, audited, used by the next shot without a restart."""

import asyncio
import logging
import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.accounts.store import REFRESH_SECONDS
from photochanger.app import create_app
from photochanger.config import AppConfig
from photochanger.core.crypto import SecretBox, SecretUnreadable
from photochanger.models import AuditLog, JobStatus, ProviderKey
from tests.fakes.gemini import GeminiFake
from tests.ingest.conftest import configure_slot, jobs, upload
from tests.support import images

GEMINI_SLOT = {"provider": "gemini", "operation": "edit", "settings": {"params": {"prompt": "make it gold"}}}


async def add_key(
    client: httpx.AsyncClient, headers: dict[str, str], key: str, provider: str = "gemini", label: str = ""
) -> httpx.Response:
    return await client.post(
        "/api/provider-keys", json={"provider": provider, "api_key": key, "label": label}, headers=headers
    )


async def test_a_key_added_in_the_api_is_never_returned_and_is_audited(
    client: httpx.AsyncClient, admin_headers: dict[str, str], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    created = await add_key(client, admin_headers, GeminiFake.api_key, label="event account")
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["last4"] == GeminiFake.api_key[-4:]
    assert body["created_by"] == "test-admin"
    assert body["status"] == "ok"
    listed = await client.get("/api/provider-keys", headers=admin_headers)
    assert listed.status_code == 200
    gemini = next(a for a in listed.json() if a["provider"] == "gemini")
    assert gemini["env_key"] is False
    assert [k["id"] for k in gemini["keys"]] == [body["id"]]
    assert "local" not in {a["provider"] for a in listed.json()}
    for response in (created, listed):
        assert GeminiFake.api_key not in response.text
    async with sessionmaker() as session:
        entries = (
            await session.scalars(select(AuditLog).where(AuditLog.action.like("provider_key.%")))
        ).all()
    assert [(e.action, e.actor, e.changes["last4"]) for e in entries] == [
        ("provider_key.add", "test-admin", GeminiFake.api_key[-4:])
    ]
    assert all(GeminiFake.api_key not in str(e.changes) for e in entries)


async def test_replace_and_remove_are_audited_and_unknown_keys_are_404(
    client: httpx.AsyncClient, admin_headers: dict[str, str], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    key_id = (await add_key(client, admin_headers, "first-key-AAAA")).json()["id"]
    replaced = await client.put(
        f"/api/provider-keys/{key_id}", json={"api_key": "second-key-BBBB"}, headers=admin_headers
    )
    assert replaced.status_code == 200
    assert replaced.json()["last4"] == "BBBB"
    assert "second-key-BBBB" not in replaced.text
    removed = await client.delete(f"/api/provider-keys/{key_id}", headers=admin_headers)
    assert removed.status_code == 204
    again = await client.delete(f"/api/provider-keys/{key_id}", headers=admin_headers)
    assert again.status_code == 404
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json()["code"] == "provider_key_not_found"
    async with sessionmaker() as session:
        actions = (
            await session.scalars(
                select(AuditLog.action).where(AuditLog.action.like("provider_key.%")).order_by(AuditLog.id)
            )
        ).all()
        assert (await session.scalars(select(ProviderKey))).all() == []
    assert actions == ["provider_key.add", "provider_key.replace", "provider_key.remove"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"provider": "nope", "api_key": "long-enough-key"}, 404, "provider_not_found"),
        ({"provider": "local", "api_key": "long-enough-key"}, 422, "provider_takes_no_key"),
        ({"provider": "gemini", "api_key": "short"}, 422, "validation_error"),
        ({"provider": "gemini", "api_key": "has a space in it"}, 422, "validation_error"),
    ],
)
async def test_keys_that_cannot_work_are_refused_with_problem_json(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
    body: dict[str, str],
    status: int,
    code: str,
) -> None:
    response = await client.post("/api/provider-keys", json=body, headers=admin_headers)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert body["api_key"] not in response.text
    async with sessionmaker() as session:
        assert (await session.scalars(select(ProviderKey))).all() == []


async def test_operators_cannot_see_or_change_keys(
    client: httpx.AsyncClient, operator_headers: dict[str, str]
) -> None:
    assert (await add_key(client, operator_headers, "operator-key-1234")).status_code == 403
    assert (await client.get("/api/provider-keys", headers=operator_headers)).status_code == 403


async def test_check_answers_ok_or_the_providers_own_text(
    client: httpx.AsyncClient, admin_headers: dict[str, str], gemini_fake: GeminiFake
) -> None:
    good = (await add_key(client, admin_headers, GeminiFake.api_key)).json()["id"]
    bad = (await add_key(client, admin_headers, "revoked-key-9999")).json()["id"]
    ok = await client.post(f"/api/provider-keys/{good}/check", headers=admin_headers)
    assert ok.status_code == 200
    assert ok.json()["ok"] is True
    refused = await client.post(f"/api/provider-keys/{bad}/check", headers=admin_headers)
    assert refused.status_code == 200
    assert refused.json()["ok"] is False
    assert "API key not valid. Please pass a valid API key." in refused.json()["detail"]
    assert [r.headers.get("x-goog-api-key") for r in gemini_fake.received] == [
        GeminiFake.api_key,
        "revoked-key-9999",
    ]
    listed = (await client.get("/api/provider-keys", headers=admin_headers)).json()
    checks = {k["id"]: k["check_ok"] for a in listed for k in a["keys"]}
    assert checks == {good: True, bad: False}


async def test_a_shot_uses_the_key_set_in_the_admin_without_a_restart(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
    ingest_password: str,
    gemini_fake: GeminiFake,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    await configure_slot(sessionmaker, "slot-001", **GEMINI_SLOT)
    before = await upload(client, images.jpeg())
    assert before.status_code == 502
    assert gemini_fake.count("main") == 0
    assert (await add_key(client, admin_headers, GeminiFake.api_key)).status_code == 201
    after = await upload(client, images.jpeg())
    assert after.status_code == 200, after.text
    assert gemini_fake.last("main").headers["x-goog-api-key"] == GeminiFake.api_key
    assert [j.status for j in await jobs(sessionmaker)] == [JobStatus.done]
    assert GeminiFake.api_key not in caplog.text


async def test_keys_survive_a_restart_and_are_unreadable_without_the_secret_key(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    config: AppConfig,
    sessionmaker: async_sessionmaker[AsyncSession],
    ingest_password: str,
    gemini_fake: GeminiFake,
) -> None:
    await configure_slot(sessionmaker, "slot-001", **GEMINI_SLOT)
    key_id = (await add_key(client, admin_headers, GeminiFake.api_key)).json()["id"]
    async with sessionmaker() as session:
        row = await session.get(ProviderKey, uuid.UUID(key_id))
        assert row is not None
        stored = row.ciphertext
    assert GeminiFake.api_key.encode() not in stored
    with pytest.raises(SecretUnreadable):
        SecretBox("some-other-secret-" + "z" * 30).decrypt(stored, context=key_id)
    # Bound to its row: the same ciphertext under another id does not decrypt either.
    with pytest.raises(SecretUnreadable):
        SecretBox(config.resolved_secret_key()).decrypt(stored, context=str(uuid.uuid4()))

    restarted = create_app(config)
    async with restarted.router.lifespan_context(restarted):
        transport = httpx.ASGITransport(app=restarted)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as fresh:
            response = await upload(fresh, images.jpeg())
    assert response.status_code == 200, response.text
    assert gemini_fake.last("main").headers["x-goog-api-key"] == GeminiFake.api_key


async def test_a_provider_with_an_admin_key_is_configured_and_its_check_uses_the_key(
    client: httpx.AsyncClient, admin_headers: dict[str, str], gemini_fake: GeminiFake
) -> None:
    def gemini_configured(catalogue: list[dict[str, object]]) -> object:
        return next(p["configured"] for p in catalogue if p["id"] == "gemini")

    before = (await client.get("/api/providers", headers=admin_headers)).json()
    assert gemini_configured(before) is False
    await add_key(client, admin_headers, GeminiFake.api_key)
    after = (await client.get("/api/providers", headers=admin_headers)).json()
    assert gemini_configured(after) is True
    check = await client.post("/api/providers/gemini/check", headers=admin_headers)
    assert check.json()["ok"] is True
    assert gemini_fake.last("model").headers["x-goog-api-key"] == GeminiFake.api_key


async def test_another_worker_picks_up_a_new_key_within_its_refresh_interval(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    config: AppConfig,
    sessionmaker: async_sessionmaker[AsyncSession],
    ingest_password: str,
    gemini_fake: GeminiFake,
) -> None:
    await configure_slot(sessionmaker, "slot-001", **GEMINI_SLOT)
    other = create_app(config)  # a second worker process on the same database
    async with other.router.lifespan_context(other):
        transport = httpx.ASGITransport(app=other)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as worker:
            assert (await upload(worker, images.jpeg(), id="W1", hash="1" * 40)).status_code == 502
            assert (await add_key(client, admin_headers, GeminiFake.api_key)).status_code == 201
            await asyncio.sleep(REFRESH_SECONDS + 0.2)
            response = await upload(worker, images.jpeg(), id="W2", hash="2" * 40)
    assert response.status_code == 200, response.text
    assert gemini_fake.last("main").headers["x-goog-api-key"] == GeminiFake.api_key
