"""Booth password guessing (issue 15, item 3): throttled per client before the body is read, right password
from elsewhere unaffected, and argon2 for booth guesses kept out of the admin login pool."""

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.config import AppConfig
from photochanger.core import passwords
from photochanger.ingest import password as ingest_password
from photochanger.ingest.password import HashingBusy, IngestPasswordVerifier, WrongPasswordThrottle
from tests.ingest.conftest import booth_fields, upload
from tests.ingest.test_router import assert_nothing_left, assert_problem
from tests.support import images

pytestmark = pytest.mark.usefixtures("ingest_password")


def _client_at(app: FastAPI, host: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(host, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://booth.test")


async def test_wrong_booth_passwords_are_throttled_per_client(
    app: FastAPI, config: AppConfig, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with _client_at(app, "203.0.113.5") as guesser, _client_at(app, "198.51.100.9") as booth:
        codes = [
            (await upload(guesser, images.jpeg(), password=f"guess-{i}")).status_code
            for i in range(ingest_password.FAILURE_LIMIT)
        ]
        assert codes == [401] * ingest_password.FAILURE_LIMIT
        refused = assert_problem(
            await upload(guesser, images.jpeg(), password="guess-x"), 429, "too_many_password_attempts"
        )
        assert "try again" in refused["detail"]
        # The right password from the throttled client is refused too: otherwise 429 vs 200 is an oracle.
        again = await upload(guesser, images.jpeg())
        assert again.status_code == 429
        assert 1 <= int(again.headers["retry-after"]) <= ingest_password.FAILURE_WINDOW_SECONDS
        # A booth elsewhere with the right password is not affected.
        assert (await upload(booth, images.jpeg())).status_code == 200
    async with _client_at(app, "2001:db8:7:7::1") as v6, _client_at(app, "2001:db8:7:7::2") as v6_next:
        for i in range(ingest_password.FAILURE_LIMIT):
            await upload(v6, images.jpeg(), password=f"guess-{i}")
        # Another address of the same /64 is the same client.
        assert (await upload(v6_next, images.jpeg(), password="guess-y")).status_code == 429


async def test_concurrent_wrong_passwords_from_one_client_cannot_overshoot_the_limit(app: FastAPI) -> None:
    async with _client_at(app, "203.0.113.8") as guesser:
        answers = await asyncio.gather(
            *(upload(guesser, images.jpeg(), password=f"guess-{i}") for i in range(30))
        )
    codes = Counter((r.status_code, r.json()["code"]) for r in answers)
    # Exactly the limit is evaluated; the rest are refused (some by admission, `busy`, before their turn).
    assert codes[(401, "invalid_password")] == ingest_password.FAILURE_LIMIT
    assert codes[(429, "too_many_password_attempts")] > 0
    assert (
        codes[(429, "too_many_password_attempts")] + codes[(429, "busy")]
        == 30 - ingest_password.FAILURE_LIMIT
    )


async def test_a_throttled_client_is_refused_before_its_body_is_read(app: FastAPI) -> None:
    async with _client_at(app, "203.0.113.6") as guesser:
        for i in range(ingest_password.FAILURE_LIMIT):
            await upload(guesser, images.jpeg(), password=f"guess-{i}")
        sent: list[int] = []

        async def body() -> AsyncIterator[bytes]:
            for _ in range(64):
                sent.append(1)
                yield b"x" * 65536

        response = await guesser.post(
            "/api/ingest/slot-001",
            content=body(),
            headers={"Content-Type": "multipart/form-data; boundary=b"},
        )
    assert_problem(response, 429, "too_many_password_attempts")
    assert len(sent) <= 1  # at most the first chunk the transport pre-fetches


async def test_a_throttled_attempt_leaves_nothing_behind(
    app: FastAPI, config: AppConfig, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with _client_at(app, "203.0.113.7") as guesser:
        for i in range(ingest_password.FAILURE_LIMIT + 3):
            await guesser.post(
                "/api/ingest/slot-001",
                data=booth_fields(password=f"guess-{i}"),
                files={"fileToUpload": ("a.jpg", images.jpeg(), "image/jpeg")},
            )
    await assert_nothing_left(config, sessionmaker)


def test_the_window_slides() -> None:
    now = [1000.0]
    throttle = WrongPasswordThrottle(limit=3, window_seconds=60, clock=lambda: now[0])
    for _ in range(3):
        throttle.check("a")
        throttle.record_failure("a")
        now[0] += 10
    with pytest.raises(ingest_password.ThrottleRefused) as refused:
        throttle.check("a")
    assert refused.value.retry_after == 30  # the first failure (t=1000) leaves the window at t=1060
    throttle.check("b")
    now[0] = 1060.5
    throttle.check("a")


@pytest.fixture
def costly_hashing() -> Iterator[None]:
    """A profile expensive enough (about 10-30 ms a run) for queueing to show."""
    before = passwords.current_profile()
    passwords.configure(passwords.HashProfile(time_cost=2, memory_kib=16384, parallelism=1))
    yield
    passwords.configure(before)


@pytest.mark.usefixtures("costly_hashing")
async def test_a_flood_of_fresh_guesses_cannot_starve_admin_password_checks() -> None:
    booth_hash = passwords.hash_password_sync("the booth password")
    admin_hash = passwords.hash_password_sync("the admin password")
    verifier = IngestPasswordVerifier()
    flood_done: list[float] = []

    async def guess(i: int) -> str:
        try:
            ok = await verifier.verify(booth_hash, f"fresh guess {i}", client=f"198.51.100.{i}")
        except HashingBusy:
            return "busy"
        flood_done.append(time.monotonic())
        return "ok" if ok else "wrong"

    flood = [asyncio.create_task(guess(i)) for i in range(40)]
    await asyncio.sleep(0)  # every guess is queued for the booth pool now
    assert await passwords.verify_password(admin_hash, "the admin password")
    admin_done = time.monotonic()
    outcomes = Counter(await asyncio.gather(*flood))
    # One thread hashes booth guesses and at most eight wait; the rest are refused at once, not queued.
    assert outcomes == {"wrong": 1 + ingest_password.ARGON2_MAX_WAITING, "busy": 31}
    # The admin check ran in its own pool: it did not wait for the booth queue to drain.
    assert admin_done < max(flood_done)


async def test_known_outcomes_cost_no_argon2_run() -> None:
    booth_hash = passwords.hash_password_sync("the booth password")
    verifier = IngestPasswordVerifier()
    assert await verifier.verify(booth_hash, "the booth password")
    assert not await verifier.verify(booth_hash, "an old password")
    # With the hashing pool unable to take anything, the remembered outcomes still answer at once.
    limiter = verifier._limiter
    await limiter.acquire_on_behalf_of("test")
    try:
        async with asyncio.timeout(1):
            assert await verifier.verify(booth_hash, "the booth password")
            assert not await verifier.verify(booth_hash, "an old password")
    finally:
        limiter.release_on_behalf_of("test")
    # A rotated password (a new hash) forgets both.
    rotated = passwords.hash_password_sync("the new booth password")
    assert not await verifier.verify(rotated, "the booth password")
