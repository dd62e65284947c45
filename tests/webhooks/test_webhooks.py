"""Signed job-end webhooks: delivery, signature, retries, the delivery log and the SSRF guard."""

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.webhooks.guard import WebhookTargetRefused, check_target
from tests.fakes.server import FakeUpstream, Handler, Received, Reply
from tests.ingest.conftest import configure_slot, upload
from tests.support import images

SECRET = "whsec-0123456789abcdef"


class Receiver(FakeUpstream):
    def routes(self) -> list[tuple[str, str, list[str], Handler]]:
        return [("main", "/hook", ["POST"], lambda _received: Reply(json={"ok": True}))]


@pytest.fixture(scope="module")
def receiver_server() -> Iterator[Receiver]:
    with Receiver().running() as fake:
        yield fake


@pytest.fixture
def receiver(receiver_server: Receiver) -> Receiver:
    receiver_server.reset()
    return receiver_server


def reference_verify(secret: str, header: str, body: bytes) -> bool:
    """A consumer's own check, written from the documented scheme: HMAC-SHA256 over `{t}.{body}`."""
    fields = dict(part.split("=", 1) for part in header.split(","))
    expected = hmac.new(secret.encode(), f"{fields['t']}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields["v1"]) and abs(time.time() - int(fields["t"])) < 300


async def _hook_slot(sessionmaker: async_sessionmaker[AsyncSession], url: str) -> None:
    await configure_slot(sessionmaker, "slot-007", settings={"webhook_url": url, "webhook_secret": SECRET})


@pytest.mark.usefixtures("ingest_password")
@pytest.mark.parametrize(
    "config_overrides", [{"webhook_allowed_targets": ["127.0.0.1"], "webhook_max_seconds": 5}]
)
async def test_job_end_is_posted_signed_and_logged(
    app: FastAPI,
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    receiver: Receiver,
    admin_headers: dict[str, str],
) -> None:
    await _hook_slot(sessionmaker, f"{receiver.url}/hook")
    receiver.script(Reply(status=503), Reply(status=500))  # two failures, then the default 200
    response = await upload(client, images.jpeg(), slot="slot-007")
    assert response.status_code == 200
    await app.state.webhooks.drain(10)

    assert receiver.count() == 3
    delivered: Received = receiver.last()
    assert reference_verify(SECRET, delivered.headers["x-photochanger-signature"], delivered.raw)
    assert not reference_verify(
        "wrong-secret-000000", delivered.headers["x-photochanger-signature"], delivered.raw
    )
    event: dict[str, Any] = json.loads(delivered.raw)
    job_id = response.headers["x-job-id"]
    assert event["type"] == "job.finished"
    assert (event["job_id"], event["slot_id"], event["status"]) == (job_id, "slot-007", "done")
    assert event["result_url"] == f"http://booth.test/public/results/{job_id}"
    assert event["guest_url"] == f"http://booth.test/r/{job_id}"
    assert event["duration_ms"] >= 0

    log = await client.get("/api/slots/slot-007/webhook-deliveries", headers=admin_headers)
    assert log.status_code == 200
    attempts = sorted((row["attempt"], row["status_code"]) for row in log.json())
    assert attempts == [(1, 503), (2, 500), (3, 200)]
    assert (await client.get("/api/slots/slot-007/webhook-deliveries")).status_code == 401


@pytest.mark.usefixtures("ingest_password")
async def test_loopback_target_is_refused_without_an_allow_list(
    app: FastAPI,
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    receiver: Receiver,
    admin_headers: dict[str, str],
) -> None:
    await _hook_slot(sessionmaker, f"{receiver.url}/hook")
    assert (await upload(client, images.jpeg(), slot="slot-007")).status_code == 200
    await app.state.webhooks.drain(10)
    assert receiver.count() == 0
    [row] = (await client.get("/api/slots/slot-007/webhook-deliveries", headers=admin_headers)).json()
    assert row["status_code"] is None
    assert row["error"].startswith("refused:")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://localhost:9/hook",
        "http://10.0.0.7/hook",
        "http://192.168.1.10/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://0.0.0.0/hook",
        "ftp://8.8.8.8/hook",
        "file:///etc/passwd",
        "http://user:pw@8.8.8.8/hook",
    ],
)
async def test_ssrf_guard_refuses_private_local_and_odd_targets(url: str) -> None:
    with pytest.raises(WebhookTargetRefused):
        await check_target(url, allow=[])


async def test_ssrf_guard_accepts_public_addresses_and_allow_listed_ones() -> None:
    await check_target("https://8.8.8.8/hook", allow=[])
    await check_target("http://127.0.0.1:8080/hook", allow=["127.0.0.0/8"])
    await check_target("http://10.1.2.3/hook", allow=["10.1.2.3"])
    with pytest.raises(WebhookTargetRefused):
        await check_target("http://10.1.2.4/hook", allow=["10.1.2.3"])


async def test_slot_api_sets_validates_and_hides_the_webhook_secret(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    slot = (await client.get("/api/slots/slot-009", headers=admin_headers)).json()
    assert (slot["webhook_url"], slot["webhook_secret_set"]) == (None, False)
    base = {k: slot[k] for k in ("display_name", "provider", "operation", "params", "is_active", "version")}

    bad = await client.put(
        "/api/slots/slot-009", headers=admin_headers, json={**base, "webhook_url": "ftp://x.example/hook"}
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"webhook_url", "webhook_secret"}

    ok = await client.put(
        "/api/slots/slot-009",
        headers=admin_headers,
        json={**base, "webhook_url": "https://hooks.example.org/pc", "webhook_secret": SECRET},
    )
    assert ok.status_code == 200, ok.text
    saved = ok.json()
    assert (saved["webhook_url"], saved["webhook_secret_set"]) == ("https://hooks.example.org/pc", True)
    assert SECRET not in ok.text
    audit = await client.get("/api/audit", headers=admin_headers)
    assert SECRET not in audit.text

    cleared = await client.put(
        "/api/slots/slot-009",
        headers=admin_headers,
        json={**base, "version": saved["version"], "webhook_url": ""},
    )
    assert (cleared.json()["webhook_url"], cleared.json()["webhook_secret_set"]) == (None, False)


async def test_audit_records_only_that_the_webhook_secret_changed(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    slot = (await client.get("/api/slots/slot-009", headers=admin_headers)).json()
    base = {k: slot[k] for k in ("display_name", "provider", "operation", "params", "is_active")}
    url = "https://hooks.example.org/pc"
    other = "whsec-fedcba9876543210"
    steps = [
        ({"webhook_url": url, "webhook_secret": SECRET}, "set"),
        ({"webhook_secret": SECRET}, None),  # the same secret again: nothing changed
        ({"webhook_secret": other}, "changed"),
        ({"webhook_url": ""}, "removed"),
    ]
    version = slot["version"]
    for body, expected in steps:
        response = await client.put(
            "/api/slots/slot-009", headers=admin_headers, json={**base, **body, "version": version}
        )
        assert response.status_code == 200, response.text
        version = response.json()["version"]
        [entry, *_] = (await client.get("/api/audit?target=slot:slot-009", headers=admin_headers)).json()[
            "items"
        ]
        assert entry["changes"].get("webhook_signing") == expected
    audit = (await client.get("/api/audit?limit=100", headers=admin_headers)).text
    # No digest of either secret is kept anywhere in the log.
    for secret in (SECRET, other):
        assert hashlib.sha256(secret.encode()).hexdigest()[:8] not in audit
        assert secret not in audit
