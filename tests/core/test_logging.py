"""Logs: one redacted JSON object per line carrying the request id; secrets fed through every path never
appear, in-process (caplog) or from the real server's stderr."""

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.config import AppConfig
from photochanger.core.db import create_engine, create_sessionmaker
from photochanger.core.logging import JsonFormatter, TextFormatter, redact, redact_text
from photochanger.settings import service as settings_service
from tests.fakes.fixtures import gemini_fake, gemini_server
from tests.fakes.gemini import GeminiFake
from tests.ingest.conftest import INGEST_PASSWORD, configure_slot, upload
from tests.support import images
from tests.support.server import config_env, free_port, running_server

__all__ = ["gemini_fake", "gemini_server"]

SLOT = "slot-006"
ADMIN_PASSWORD = "admin-Pa55word-never-logged"
WRONG_PASSWORD = "wrong-Pa55word-never-logged"
WEBHOOK_SECRET = "whsec-never-logged-0123456789"
METRICS_TOKEN = "metrics-token-never-logged-0123456789"
JWT_SECRET = "jwt-secret-never-logged-" + "j" * 30
QUERY_TOKEN = "query-token-never-logged-42"


def _record(msg: str, **extra: Any) -> logging.LogRecord:
    record = logging.makeLogRecord({"msg": msg, "levelname": "INFO", "name": "t"})
    record.__dict__.update(extra)
    return record


def test_formatter_masks_secret_keys_values_and_payloads() -> None:
    line = JsonFormatter().format(
        _record(
            "calling https://api.example/v1?key=AIzaSyDUMMYDUMMYDUMMYDUMMY1234 with Bearer abc.def.ghi",
            password="hunter2",
            headers={"x-goog-api-key": "k-123456", "Authorization": "Bearer zzz", "accept": "image/png"},
            image="data:image/png;base64," + "QUJD" * 100,
            raw=b"\x89PNG" * 10,
            slot_id="slot-001",
        )
    )
    payload = json.loads(line)
    for secret in ("hunter2", "AIzaSy", "abc.def.ghi", "k-123456", "zzz", "QUJDQUJD", "PNG"):
        assert secret not in line
    assert payload["password"] == "[REDACTED]"
    assert payload["headers"]["accept"] == "image/png"
    assert payload["raw"] == "[40 bytes]"
    assert payload["slot_id"] == "slot-001"
    assert set(payload) >= {"time", "level", "event", "logger"}


def test_text_format_is_plain_and_redacted_too() -> None:
    line = TextFormatter().format(_record("login", password="hunter2", outcome="failed"))
    assert "hunter2" not in line
    assert "outcome=failed" in line
    assert not line.startswith("{")


def test_redaction_of_jwts_cookies_and_nested_values() -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.c2lnbmF0dXJlLXZhbHVl"
    assert jwt not in redact_text(f"token {jwt} seen")
    assert redact({"Cookie": "pc_access=x", "list": [{"api_key": "y"}]}) == {
        "Cookie": "[REDACTED]",
        "list": [{"api_key": "[REDACTED]"}],
    }


async def test_request_id_is_taken_returned_and_on_every_log_line(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.handler.setFormatter(JsonFormatter())
    caplog.set_level(logging.INFO)
    given = await client.post(
        "/api/auth/login",
        json={"username": "nobody", "password": WRONG_PASSWORD},
        headers={"X-Request-ID": "booth-42.abc"},
    )
    assert given.status_code == 401
    assert given.headers["x-request-id"] == "booth-42.abc"
    lines = [json.loads(line) for line in caplog.text.splitlines() if line.startswith("{")]
    login = [line for line in lines if line["event"] == "login attempt"]
    assert login
    assert all(line["request_id"] == "booth-42.abc" for line in login)
    assert WRONG_PASSWORD not in caplog.text

    generated = await client.get("/health/live", headers={"X-Request-ID": "bad id\r\nX-Evil: 1"})
    assert len(generated.headers["x-request-id"]) == 32
    assert "evil" not in generated.headers["x-request-id"].lower()


async def _prepare(config: AppConfig, webhook_port: int) -> None:
    engine = create_engine(config.database_url)
    maker: async_sessionmaker[AsyncSession] = create_sessionmaker(engine)
    try:
        async with maker() as session, session.begin():
            await settings_service.set_ingest_password(session, INGEST_PASSWORD, actor="test")
        await configure_slot(
            maker,
            SLOT,
            provider="gemini",
            operation="edit",
            settings={
                "params": {"prompt": "pop"},
                "webhook_url": f"http://127.0.0.1:{webhook_port}/hook",
                "webhook_secret": WEBHOOK_SECRET,
            },
        )
    finally:
        await engine.dispose()


@pytest.mark.slow
async def test_secrets_fed_through_every_path_never_reach_the_server_log(
    config: AppConfig, tmp_path: Path, gemini_fake: GeminiFake
) -> None:
    webhook_port = free_port()
    await _prepare(config, webhook_port)
    gemini_fake.always(gemini_fake.error(400, "INVALID_ARGUMENT", "API key not valid"))
    env = config_env(
        config,
        PHOTOCHANGER_LOG_FORMAT="json",
        PHOTOCHANGER_LOG_LEVEL="DEBUG",
        PHOTOCHANGER_GEMINI_API_KEY=GeminiFake.api_key,
        PHOTOCHANGER_GEMINI_BASE_URL=gemini_fake.url,
        PHOTOCHANGER_JWT_SECRET=JWT_SECRET,
        PHOTOCHANGER_METRICS_TOKEN=METRICS_TOKEN,
        PHOTOCHANGER_BOOTSTRAP_ADMIN_PASSWORD=ADMIN_PASSWORD,
        PHOTOCHANGER_WEBHOOK_ALLOWED_TARGETS='["127.0.0.1"]',
    )
    with running_server(env, tmp_path / "server.log") as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
            failing = await upload(http, images.jpeg(), slot=SLOT, id="shot-1")
            refused = await upload(http, images.jpeg(), slot=SLOT, password=WRONG_PASSWORD, id="shot-2")
            wrong_login = await http.post(
                "/api/auth/login", json={"username": "admin", "password": WRONG_PASSWORD}
            )
            login = await http.post(
                "/api/auth/login",
                json={"username": "admin", "password": ADMIN_PASSWORD},
                headers={"X-Request-ID": "trace-me-1"},
            )
            tokens = login.json()
            me = await http.get("/api/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
            scraped = await http.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
            query = await http.get(f"/health/live?token={QUERY_TOKEN}")
            await asyncio.sleep(1.5)  # the webhook's first (refused) delivery attempt
        log = server.log()

    assert failing.status_code >= 500, failing.text
    assert (refused.status_code, wrong_login.status_code, login.status_code) == (401, 401, 200)
    assert (me.status_code, scraped.status_code, query.status_code) == (200, 200, 200)
    assert gemini_fake.count() >= 1
    assert gemini_fake.last().headers["x-goog-api-key"] == GeminiFake.api_key
    secrets = {
        "ingest password": INGEST_PASSWORD,
        "wrong password": WRONG_PASSWORD,
        "admin password": ADMIN_PASSWORD,
        "access token": tokens["access_token"],
        "refresh token": tokens["refresh_token"],
        "provider key": GeminiFake.api_key,
        "webhook secret": WEBHOOK_SECRET,
        "metrics token": METRICS_TOKEN,
        "jwt secret": JWT_SECRET,
        "query token": QUERY_TOKEN,
    }
    leaked = [name for name, secret in secrets.items() if secret in log]
    assert not leaked, leaked
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert len(lines) >= 10
    events = {line["event"] for line in lines}
    assert "job failed" in events
    [failed] = [line for line in lines if line["event"] == "job failed"]
    assert (failed["slot_id"], failed["provider"], failed["upstream_status"]) == (SLOT, "gemini", 400)
    assert failed["request_id"]
    access = [line for line in lines if line["logger"] == "uvicorn.access"]
    assert access, "uvicorn's access log goes through the JSON formatter"
    assert any(line.get("request_id") == "trace-me-1" for line in lines)
