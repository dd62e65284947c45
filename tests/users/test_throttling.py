"""Login throttling over HTTP: 429 with Retry-After after 10 failures, another client unaffected."""

import httpx
from fastapi import FastAPI

from tests.support.auth import DEFAULT_PASSWORD, create_user


async def test_eleventh_attempt_is_429_and_another_client_still_logs_in(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await create_user(app, "serg")
    for _ in range(10):
        failed = await client.post("/api/login", json={"username": "serg", "password": "wrong password"})
        assert failed.status_code == 401
    locked = await client.post("/api/login", json={"username": "serg", "password": DEFAULT_PASSWORD})
    assert locked.status_code == 429
    assert locked.json()["code"] == "too_many_attempts"
    assert 880 <= int(locked.headers["retry-after"]) <= 900
    elsewhere = httpx.ASGITransport(app=app, client=("192.0.2.50", 40000))
    async with httpx.AsyncClient(transport=elsewhere, base_url="http://testserver") as other:
        ok = await other.post("/api/login", json={"username": "serg", "password": DEFAULT_PASSWORD})
    assert ok.status_code == 200, ok.text
