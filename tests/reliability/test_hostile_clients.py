"""Bad-input corpus, hostile clients (issue 15, items 3, 5, 6, 7, 8, 12): password guessing at the booth and
admin doors, oversized and multipart bodies where none belong, webhook targets in special-purpose ranges, and
what a public id may disclose. Each gets its documented answer and leaves nothing behind."""

import asyncio
import hashlib
from collections import Counter
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from photochanger.config import AppConfig
from photochanger.ingest import password as ingest_password
from photochanger.models import WebhookDelivery
from tests.ingest.conftest import booth_fields, configure_slot
from tests.reliability.conftest import ADMIN_PASSWORD, ADMIN_USER, INGEST_PASSWORD, assert_clean_state
from tests.support import images

pytestmark = pytest.mark.reliability

MIB = 1024 * 1024


def _at(app: FastAPI, host: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(host, 40000)), base_url="http://booth.test"
    )


async def _shot(client: httpx.AsyncClient, password: str, slot: str = "slot-001") -> httpx.Response:
    return await client.post(
        f"/api/ingest/{slot}",
        data=booth_fields(password),
        files={"fileToUpload": ("IMG_0001.JPG", images.jpeg(), "image/jpeg")},
    )


def _code(response: httpx.Response) -> tuple[int, str]:
    assert response.headers["content-type"] == "application/problem+json", response.text[:300]
    return response.status_code, str(response.json()["code"])


# --- item 3: the booth password ------------------------------------------------------------------------


async def test_booth_password_guessing_is_throttled_per_client(app: FastAPI, config: AppConfig) -> None:
    async with _at(app, "203.0.113.66") as guesser, _at(app, "198.51.100.20") as booth:
        answers = [_code(await _shot(guesser, f"guess-{i}")) for i in range(25)]
        real = await _shot(booth, INGEST_PASSWORD)
    limit = ingest_password.FAILURE_LIMIT
    assert answers[:limit] == [(401, "invalid_password")] * limit
    assert answers[limit:] == [(429, "too_many_password_attempts")] * (25 - limit)
    assert real.status_code == 200
    rows = await assert_clean_state(app, config)
    assert [r.status for r in rows] == ["done"]


async def test_booth_guesses_from_a_rotating_ipv6_64_are_one_client(app: FastAPI, config: AppConfig) -> None:
    answers = []
    for i in range(15):
        async with _at(app, f"2001:db8:66:1::{i + 1:x}") as guesser:
            answers.append((await _shot(guesser, f"guess-{i}")).status_code)
    limit = ingest_password.FAILURE_LIMIT
    assert answers == [401] * limit + [429] * (15 - limit)
    assert await assert_clean_state(app, config) == []


# --- item 5: bodies where none belong -------------------------------------------------------------------

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.mark.parametrize(
    ("case", "path", "headers", "body", "expected"),
    [
        ("admin-login-300MB-declared", "/admin/login", {**FORM, "Content-Length": str(300 * MIB)}, None, 413),
        ("admin-logout-2MB-form", "/admin/logout", FORM, b"a=" + b"x" * (2 * MIB), 413),
        ("api-login-2MB-json", "/api/auth/login", {"Content-Type": "application/json"},
         b'{"username":"a","password":"' + b"x" * (2 * MIB) + b'"}', 413),
    ],
)  # fmt: skip
async def test_oversized_bodies_are_413_before_parsing(
    app: FastAPI,
    client: httpx.AsyncClient,
    config: AppConfig,
    case: str,
    path: str,
    headers: dict[str, str],
    body: bytes | None,
    expected: int,
) -> None:
    async def never_sent() -> Any:
        raise AssertionError(f"{case}: the body was read")
        yield b""  # pragma: no cover - makes this an async generator

    content: Any = body if body is not None else never_sent()
    assert _code(await client.post(path, content=content, headers=headers)) == (expected, "payload_too_large")
    assert await assert_clean_state(app, config) == []


@pytest.mark.parametrize("path", ["/admin/login", "/admin/logout", "/admin/settings", "/api/auth/login"])
async def test_a_file_part_where_no_file_is_expected_is_415(
    app: FastAPI, client: httpx.AsyncClient, config: AppConfig, path: str
) -> None:
    files = {"blob": ("blob.bin", b"\0" * (4 * MIB), "application/octet-stream")}
    response = await client.post(path, data={"username": "a"}, files=files)
    assert _code(response) == (415, "unsupported_media_type")
    assert await assert_clean_state(app, config) == []


# --- item 6: racing and sidestepping the login throttle -------------------------------------------------


async def test_150_concurrent_wrong_logins_get_at_most_the_limit_evaluated(app: FastAPI) -> None:
    async with _at(app, "203.0.113.77") as attacker:
        answers = await asyncio.gather(
            *(
                attacker.post("/api/auth/login", json={"username": ADMIN_USER, "password": f"guess {i}"})
                for i in range(150)
            )
        )
    counts = Counter(r.status_code for r in answers)
    assert counts == {401: 10, 429: 140}
    async with _at(app, "198.51.100.30") as admin:
        ok = await admin.post("/api/auth/login", json={"username": ADMIN_USER, "password": ADMIN_PASSWORD})
    assert ok.status_code == 200


async def test_many_addresses_share_one_ceiling_per_account(app: FastAPI) -> None:
    evaluated = 0
    for i in range(60):
        async with _at(app, f"203.0.113.{100 + i % 6}") as attacker:
            response = await attacker.post(
                "/api/auth/login", json={"username": ADMIN_USER, "password": f"guess {i}"}
            )
        evaluated += response.status_code == 401
    assert evaluated == 20


async def test_wrong_current_passwords_on_change_password_are_throttled(app: FastAPI) -> None:
    async with _at(app, "198.51.100.31") as stolen_session:
        token = (
            await stolen_session.post(
                "/api/auth/login", json={"username": ADMIN_USER, "password": ADMIN_PASSWORD}
            )
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        body = {"current_password": "a guess at it", "new_password": "attacker chosen passphrase"}
        codes = [
            (await stolen_session.post("/api/auth/change-password", json=body, headers=headers)).status_code
            for _ in range(12)
        ]
    assert codes == [403] * 10 + [429] * 2


# --- item 7: metrics need their token ------------------------------------------------------------------


@pytest.mark.parametrize("config_overrides", [{"metrics_token": "reliability-metrics-" + "t" * 20}])
async def test_metrics_without_the_token_disclose_nothing(client: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic eDp5"}):
        response = await client.get("/metrics", headers=headers)
        assert response.status_code == 401
        assert "photochanger_" not in response.text


# --- item 8: webhook targets in special-purpose ranges --------------------------------------------------

SPECIAL_TARGETS = [
    "http://[::ffff:127.0.0.1]:9/hook",  # IPv4-mapped loopback
    "http://[::7f00:1]:9/hook",  # IPv4-compatible loopback
    "http://[64:ff9b::a9fe:a9fe]/latest/meta-data/",  # NAT64 of the metadata service
    "http://192.0.0.170/hook",  # IETF protocol assignments
    "http://[fec0::1]/hook",  # site local
    "http://[2002:7f00:1::]/hook",  # 6to4 of loopback
    "http://100.64.0.1/hook",  # carrier-grade NAT
    "http://198.18.0.1/hook",  # benchmarking
    "http://[100::1]/hook",  # discard-only
    "http://0.0.0.0:9/hook",  # reaches the local host on Linux
]


@pytest.mark.parametrize("url", SPECIAL_TARGETS)
async def test_webhooks_to_special_purpose_addresses_are_refused(
    app: FastAPI, client: httpx.AsyncClient, config: AppConfig, url: str
) -> None:
    await configure_slot(
        app.state.sessionmaker,
        "slot-001",
        settings={"webhook_url": url, "webhook_secret": "whsec-reliability-0123456789"},
    )
    assert (await _shot(client, INGEST_PASSWORD)).status_code == 200
    await app.state.webhooks.drain(10)
    async with app.state.sessionmaker() as session:
        rows = list((await session.execute(select(WebhookDelivery))).scalars())
    assert [(r.attempt, r.status_code) for r in rows] == [(1, None)]
    assert rows[0].error is not None
    assert rows[0].error.startswith("refused:")
    await assert_clean_state(app, config)


# --- item 12: what a public id discloses ----------------------------------------------------------------


async def test_public_links_keep_the_slot_and_stay_out_of_shared_caches(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    shot = await _shot(client, INGEST_PASSWORD, slot="slot-004")
    job_id = shot.headers["x-job-id"]
    status = await client.get(f"/api/jobs/{job_id}")
    assert status.status_code == 200
    assert "slot" not in status.text
    for path in ("preview", "qr.svg", "qr.png"):
        response = await client.get(f"/public/results/{job_id}/{path}")
        assert response.status_code == 200
        assert response.headers["cache-control"].startswith("private")


async def test_the_audit_log_keeps_nothing_derived_from_a_webhook_secret(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    token = (
        await client.post("/api/auth/login", json={"username": ADMIN_USER, "password": ADMIN_PASSWORD})
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    slot = (await client.get("/api/slots/slot-002", headers=headers)).json()
    secret = "whsec-reliability-audit-0123456789"
    keys = ("display_name", "provider", "operation", "params", "is_active", "version")
    body = {
        **{k: slot[k] for k in keys},
        "webhook_url": "https://hooks.example.org/x",
        "webhook_secret": secret,
    }
    assert (await client.put("/api/slots/slot-002", headers=headers, json=body)).status_code == 200
    audit = (await client.get("/api/audit?limit=100", headers=headers)).text
    digest = hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in audit
    assert digest[:8] not in audit
    assert '"webhook_signing":"set"' in audit.replace(" ", "")
