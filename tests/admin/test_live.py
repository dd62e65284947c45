"""Live updates: PostgreSQL notifications wake the streams (one listener per process), and a cap on the
streams one admin session may hold open."""

import asyncio
from collections.abc import MutableMapping
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.admin import live
from photochanger.core.db import create_engine, create_sessionmaker, is_sqlite
from photochanger.core.notify import JOBS_CHANNEL, asyncpg_dsn
from photochanger.core.time import utcnow
from photochanger.ingest import ending, repository
from photochanger.models import JobSource, JobStatus
from photochanger.models.job import new_job_id
from tests.support.jobs import add_job


def _needs_postgres(app: FastAPI) -> None:
    if is_sqlite(app.state.config.database_url):
        pytest.skip("notifications are PostgreSQL's; SQLite streams poll")


async def _finish_job_elsewhere(database_url: str, slot_id: str) -> str:
    """A job run to its end by another process (its own engine and connections), as the pipeline does."""
    engine = create_engine(database_url, pool_size=1)
    job_id = new_job_id()
    try:
        maker = create_sessionmaker(engine)
        async with maker() as session, session.begin():
            await repository.insert_pending(
                session,
                id=job_id,
                slot_id=slot_id,
                source=JobSource.ingest,
                mode="sync",
                provider="local",
                operation="identity",
                owner="another-node",
                sha256="0" * 64,
                input_size=1,
                input_type="image/jpeg",
                created_at=utcnow(),
                started_at=utcnow(),
            )
        async with maker() as session, session.begin():
            now = utcnow()
            await ending.finish(
                session,
                job_id,
                status=JobStatus.done,
                finished_at=now,
                duration_ms=10,
                result_path=f"results/{slot_id}/{job_id}.jpg",
                result_type="image/jpeg",
                result_size=1,
                result_expires_at=now + timedelta(hours=1),
                preview_path=f"previews/{slot_id}/{job_id}.jpg",
            )
    finally:
        await engine.dispose()
    return job_id


async def test_a_job_ended_by_another_process_wakes_the_gallery_stream_at_once(app: FastAPI) -> None:
    _needs_postgres(app)
    listener = app.state.listener
    await asyncio.wait_for(listener.connected.wait(), 5)
    config = app.state.config
    reads = 0

    async def build(session: AsyncSession) -> Any:
        nonlocal reads
        reads += 1
        return await live.gallery_state(session, config, "slot-006", limit=5)

    # Polls and backstop reads far apart: only a notification can bring the change within the test.
    events = live.stream(
        app.state.sessionmaker,
        build,
        listener=listener,
        slot_id="slot-006",
        poll_seconds=60,
        idle_seconds=60,
        stream_seconds=30,
    )
    assert await anext(events) == "retry: 2000\n\n"
    first = await anext(events)
    assert first.startswith("event: state")
    assert '"results":[]' in first
    assert listener.subscribers(JOBS_CHANNEL) == 1
    # Another slot's job does not make this gallery re-read.
    await _finish_job_elsewhere(config.database_url, "slot-007")
    job_id = await _finish_job_elsewhere(config.database_url, "slot-006")
    second = await asyncio.wait_for(anext(events), 10)
    assert second.startswith("event: state")
    assert job_id in second
    assert reads == 2
    await events.aclose()
    assert listener.subscribers(JOBS_CHANNEL) == 0


async def test_every_stream_of_a_process_shares_one_listening_connection(app: FastAPI) -> None:
    _needs_postgres(app)
    listener = app.state.listener
    await asyncio.wait_for(listener.connected.wait(), 5)
    config = app.state.config

    async def build(session: AsyncSession) -> Any:
        return await live.dashboard_state(session, config)

    streams = [
        live.stream(app.state.sessionmaker, build, listener=listener, idle_seconds=60, stream_seconds=30)
        for _ in range(3)
    ]
    for events in streams:
        await anext(events)
        await anext(events)
    assert listener.subscribers(JOBS_CHANNEL) == 3
    conn = await asyncpg.connect(asyncpg_dsn(config.database_url))
    try:
        listening = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'"
        )
    finally:
        await conn.close()
    assert listening == 1
    # Every stream hears the same notification.
    await _finish_job_elsewhere(config.database_url, "slot-001")
    for events in streams:
        update = await asyncio.wait_for(anext(events), 5)
        assert update.startswith("event: state")
        await events.aclose()
    assert listener.subscribers(JOBS_CHANNEL) == 0


class _OpenStream:
    """`GET /admin/events` straight through the ASGI app, held open until `close()` (a disconnect)."""

    def __init__(self, app: FastAPI, cookie: str) -> None:
        self.app = app
        self.cookie = cookie
        self.started: asyncio.Future[MutableMapping[str, Any]] = asyncio.get_running_loop().create_future()
        self.body = b""
        self._disconnect = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def open(self) -> int:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": "/admin/events",
            "raw_path": b"/admin/events",
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"testserver"), (b"cookie", self.cookie.encode())],
            "client": ("127.0.0.1", 1),
            "server": ("testserver", 80),
            "state": {},
        }
        sent_request = False

        async def receive() -> dict[str, Any]:
            nonlocal sent_request
            if not sent_request:
                sent_request = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await self._disconnect.wait()
            return {"type": "http.disconnect"}

        async def send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start" and not self.started.done():
                self.started.set_result(message)
            elif message["type"] == "http.response.body":
                self.body += message.get("body", b"")

        self._task = asyncio.create_task(self.app(scope, receive, send))
        start = await asyncio.wait_for(self.started, 10)
        return int(start["status"])

    async def close(self) -> None:
        self._disconnect.set()
        if self._task is not None:
            await asyncio.wait_for(self._task, 10)


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"max_streams_per_session": 2}


@pytest.fixture
async def stream_cookie(admin_ui: httpx.AsyncClient) -> str:
    return "; ".join(f"{name}={value}" for name, value in admin_ui.cookies.items())


async def test_a_session_gets_429_beyond_its_stream_cap_and_a_closed_stream_frees_its_place(
    app: FastAPI, stream_cookie: str
) -> None:
    first, second, third = (_OpenStream(app, stream_cookie) for _ in range(3))
    assert await first.open() == 200
    assert await second.open() == 200
    assert await third.open() == 429
    await third.close()
    assert b"too_many_streams" in third.body
    await first.close()
    fourth = _OpenStream(app, stream_cookie)
    assert await fourth.open() == 200
    for stream in (second, fourth):
        await stream.close()
    assert app.state.streams.total() == 0


def test_the_stream_cap_counts_per_session_key() -> None:
    limiter = live.StreamLimiter(1)
    ticket = limiter.open("session-a")
    with pytest.raises(live.TooManyStreams):
        limiter.open("session-a")
    other = limiter.open("session-b")
    ticket.close()
    ticket.close()  # idempotent
    assert limiter.count("session-a") == 0
    limiter.open("session-a").close()
    other.close()
    assert limiter.count("session-b") == 0


async def test_the_dashboard_reads_every_slot_in_the_same_few_queries(app: FastAPI) -> None:
    """Every stream re-reads the dashboard on each poll: the queries do not grow with the slots or their
    results, and each card still shows its slot's newest done result."""
    config = app.state.config
    now = utcnow()
    newest: dict[str, str] = {}
    for slot_id in ("slot-001", "slot-002", "slot-005"):
        for minutes in (30, 10, 20):
            job = await add_job(
                app.state.sessionmaker,
                config.media_root,
                slot_id=slot_id,
                created_at=now - timedelta(minutes=minutes),
                expires_at=now + timedelta(hours=1),
            )
            if minutes == 10:
                newest[slot_id] = job.id
    await add_job(
        app.state.sessionmaker,
        config.media_root,
        slot_id="slot-001",
        status=JobStatus.failed,
        created_at=now - timedelta(minutes=1),
        expires_at=None,
        with_result=False,
    )
    statements: list[str] = []

    def seen(*args: Any) -> None:
        statements.append(str(args[2]))

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        async with app.state.sessionmaker() as session:
            cards = await live.dashboard_state(session, config, app.state.providers)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(cards) >= 8
    assert len(selects) == 4, selects
    last = {card["slot_id"]: card["last"]["job_id"] if card["last"] else None for card in cards}
    assert {slot_id: last[slot_id] for slot_id in newest} == newest
    assert last["slot-003"] is None
