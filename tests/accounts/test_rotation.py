"""Several keys per provider: taken in turn, a rate-limited key rests while the others carry on, a refused
key is marked broken for every worker; the fault figures of issue 18 for one of two keys hitting quota."""

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.models import JobStatus, KeyStatus, ProviderKey
from photochanger.settings import service as settings_service
from tests.accounts.test_keys import GEMINI_SLOT, add_key
from tests.fakes.gemini import GeminiFake
from tests.ingest.conftest import configure_slot, jobs, upload
from tests.support import images

SECOND = "second-project-key-2222"
SHOTS = 20


_shots = iter(range(1_000_000))


async def shot(client: httpx.AsyncClient) -> httpx.Response:
    """One booth shot with its own id and hash (a repeat would join the earlier job)."""
    n = next(_shots)
    return await upload(client, images.jpeg(), id=f"SHOT-{n:05d}", hash=f"{n:040x}")


def _keys_sent(fake: GeminiFake) -> list[str | None]:
    return [r.headers.get("x-goog-api-key") for r in fake.received if r.route == "main"]


async def test_keys_are_used_in_turn(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
    ingest_password: str,
    gemini_fake: GeminiFake,
) -> None:
    gemini_fake.extra_keys = {SECOND}
    await configure_slot(sessionmaker, "slot-001", **GEMINI_SLOT)
    await add_key(client, admin_headers, GeminiFake.api_key)
    await add_key(client, admin_headers, SECOND)
    for _ in range(4):
        assert (await shot(client)).status_code == 200
    assert _keys_sent(gemini_fake) == [GeminiFake.api_key, SECOND, GeminiFake.api_key, SECOND]


async def test_one_of_two_keys_hitting_quota_fails_no_shot(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
    ingest_password: str,
    gemini_fake: GeminiFake,
) -> None:
    gemini_fake.extra_keys = {SECOND}
    gemini_fake.exhausted_keys = {GeminiFake.api_key}
    await configure_slot(sessionmaker, "slot-001", **GEMINI_SLOT)
    await add_key(client, admin_headers, GeminiFake.api_key)
    await add_key(client, admin_headers, SECOND)
    statuses = [(await shot(client)).status_code for _ in range(SHOTS)]
    assert statuses == [200] * SHOTS
    sent = _keys_sent(gemini_fake)
    # The exhausted key answered 429 once, then rested (its RetryInfo says 20 s) while the other carried on.
    assert sent.count(GeminiFake.api_key) == 1
    assert sent.count(SECOND) == SHOTS
    assert {j.status for j in await jobs(sessionmaker)} == {JobStatus.done}
    listed = (await client.get("/api/provider-keys", headers=admin_headers)).json()
    assert {k["status"] for a in listed for k in a["keys"]} == {"ok"}


async def test_a_refused_key_is_marked_broken_and_skipped_while_the_shot_succeeds(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
    ingest_password: str,
    gemini_fake: GeminiFake,
) -> None:
    await configure_slot(sessionmaker, "slot-001", **GEMINI_SLOT)
    revoked = (await add_key(client, admin_headers, "revoked-key-0000")).json()["id"]
    await add_key(client, admin_headers, GeminiFake.api_key)
    for _ in range(3):
        assert (await shot(client)).status_code == 200
    assert _keys_sent(gemini_fake) == ["revoked-key-0000"] + [GeminiFake.api_key] * 3
    async with sessionmaker() as session:
        rows = {str(r.id): r for r in (await session.scalars(select(ProviderKey))).all()}
    assert rows[revoked].status == KeyStatus.broken
    assert "API key not valid" in (rows[revoked].status_detail or "")


async def test_every_key_resting_answers_503_with_retry_after(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
    ingest_password: str,
    gemini_fake: GeminiFake,
) -> None:
    gemini_fake.exhausted_keys = {GeminiFake.api_key}
    await configure_slot(sessionmaker, "slot-001", **GEMINI_SLOT)
    # A deadline too short to wait out Google's 20 s RetryInfo: the one key's 429 ends the first shot.
    async with sessionmaker() as session, session.begin():
        await settings_service.update(session, {"t_sync_response_seconds": 10}, actor="test")
    await add_key(client, admin_headers, GeminiFake.api_key)
    first = await shot(client)
    assert first.status_code == 503
    second = await shot(client)
    assert second.status_code == 503
    assert second.headers["content-type"] == "application/problem+json"
    assert 1 <= int(second.headers["retry-after"]) <= 20
    # The second shot did not reach Google at all: the key was resting.
    assert len(_keys_sent(gemini_fake)) == 1
    assert [j.status for j in await jobs(sessionmaker)] == [JobStatus.failed, JobStatus.failed]
