"""The process's one LISTEN connection: fan-out to subscribers, and a resync after it drops."""

import asyncio

import asyncpg
import pytest
from sqlalchemy import text

from photochanger.core.db import create_engine, create_sessionmaker, is_sqlite
from photochanger.core.notify import (
    JOBS_CHANNEL,
    PERMITS_CHANNEL,
    PgListener,
    Subscription,
    asyncpg_dsn,
    notify,
)


@pytest.fixture
def pg_url(database_url: str) -> str:
    if is_sqlite(database_url):
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    return database_url


async def _send(url: str, channel: str, payload: str) -> None:
    engine = create_engine(url, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            await notify(session, channel, payload)
    finally:
        await engine.dispose()


async def test_subscribers_hear_their_channel_only_and_a_filter_drops_other_payloads(pg_url: str) -> None:
    listener = PgListener(pg_url)
    await listener.start()
    try:
        await asyncio.wait_for(listener.connected.wait(), 5)
        heard: list[str] = []
        listener.subscribe(JOBS_CHANNEL, heard.append)
        mine = Subscription(listener, JOBS_CHANNEL, lambda payload: payload == "slot-001")
        await _send(pg_url, PERMITS_CHANNEL, "ignored")
        await _send(pg_url, JOBS_CHANNEL, "slot-002")
        assert not await mine.wait(0.3)
        await _send(pg_url, JOBS_CHANNEL, "slot-001")
        assert await mine.wait(5)
        assert heard == ["slot-002", "slot-001"]
        mine.close()
        assert listener.subscribers(JOBS_CHANNEL) == 1
    finally:
        await listener.stop()


async def test_a_dropped_connection_is_reopened_and_every_subscriber_told_to_resync(pg_url: str) -> None:
    listener = PgListener(pg_url, reconnect_seconds=0.1)
    await listener.start()
    try:
        await asyncio.wait_for(listener.connected.wait(), 5)
        subscription = Subscription(listener, JOBS_CHANNEL, lambda payload: payload == "slot-001")
        conn = await asyncpg.connect(asyncpg_dsn(pg_url))
        try:
            killed = await conn.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND query LIKE 'LISTEN%'"
            )
        finally:
            await conn.close()
        assert killed == 1
        # Notifications sent while it was away are lost: the reconnect wakes the subscriber (empty payload).
        assert await subscription.wait(10)
        await asyncio.wait_for(listener.connected.wait(), 5)
        await _send(pg_url, JOBS_CHANNEL, "slot-001")
        assert await subscription.wait(5)
        subscription.close()
    finally:
        await listener.stop()


async def test_notify_is_a_no_op_on_sqlite(database_url: str) -> None:
    if not is_sqlite(database_url):
        pytest.skip("SQLite only")
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            await notify(session, JOBS_CHANNEL, "slot-001")
            assert (await session.execute(text("SELECT 1"))).scalar_one() == 1
    finally:
        await engine.dispose()
