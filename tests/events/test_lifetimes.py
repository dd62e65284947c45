"""Two lifetimes: the guest link ends with the result TTL, the event's copies (results, previews, the
originals it keeps) stay until the event's retention runs out or it is deleted; cleanup honours both."""

from datetime import datetime, timedelta
from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.cleanup.service import run_cleanup
from photochanger.core.time import utcnow
from photochanger.models import EventPhoto, Job
from tests.events.conftest import create_event, shoot
from tests.support.images import jpeg


async def _job(sessionmaker: async_sessionmaker[AsyncSession], job_id: str) -> Job:
    async with sessionmaker() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        return job


def _files(root: Path, job: Job, original: str | None = None) -> list[Path]:
    rels = [job.result_path, job.preview_path, original]
    return [root / rel for rel in rels if rel is not None]


async def test_event_copies_outlive_the_guest_link_until_the_retention_ends(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    ingest_password: str,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    root: Path = app.state.config.media_root
    plain = await shoot(client, "slot-002", 0)
    event = await create_event(client, admin_headers, slots=[], retention_days=3)
    event = (
        await client.patch(
            f"/api/events/{event['id']}",
            json={"slots": [{"slot_id": "slot-001", "keep_originals": True}]},
            headers=admin_headers,
        )
    ).json()
    shot = await shoot(client, "slot-001", 1)
    job = await _job(sessionmaker, shot.headers["x-job-id"])
    other = await _job(sessionmaker, plain.headers["x-job-id"])
    async with sessionmaker() as session:
        state = await session.get(EventPhoto, job.id)
    assert state is not None
    assert state.original_path == f"originals/slot-001/{job.id}.jpg"
    # The shot exactly as the booth sent it (shoot() sends jpeg(64 + n, 48)).
    assert (root / state.original_path).read_bytes() == jpeg(65, 48)
    kept = _files(root, job, state.original_path)
    assert all(p.is_file() for p in kept)
    assert job.result_expires_at is not None

    # The TTL runs out (the link's expiry moved into the past, as time would).
    async with sessionmaker() as session, session.begin():
        for job_id in (job.id, other.id):
            row = await session.get(Job, job_id)
            assert row is not None
            row.result_expires_at = utcnow() - timedelta(minutes=1)
    report = await run_cleanup(app.state.engine, app.state.config, now=utcnow())
    assert report.ok, report.errors
    assert all(p.is_file() for p in kept), "the event keeps its copies past the TTL"
    assert not any(p.exists() for p in _files(root, other)), "a job outside any event goes at its TTL"
    assert (await _job(sessionmaker, job.id)).cleaned_at is None
    assert (await client.get(f"/r/{job.id}")).status_code == 410
    assert (await client.get(f"/public/results/{job.id}")).status_code == 410
    photos = await client.get(f"/api/events/{event['id']}/photos", headers=admin_headers)
    assert [(p["job_id"], p["guest_available"], p["has_original"]) for p in photos.json()["items"]] == [
        (job.id, False, True)
    ]
    served = await client.get(f"/api/events/{event['id']}/photos/{job.id}/result", headers=admin_headers)
    assert served.status_code == 200
    assert served.content == kept[0].read_bytes()

    retain_until = event["retain_until"]
    past_retention = datetime.fromisoformat(retain_until) + timedelta(seconds=1)
    report = await run_cleanup(app.state.engine, app.state.config, now=past_retention)
    assert report.ok, report.errors
    assert report.originals_deleted == 1
    assert not any(p.exists() for p in kept)
    assert (await _job(sessionmaker, job.id)).cleaned_at == past_retention


async def test_deleting_an_event_releases_its_copies_to_the_ttl(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    ingest_password: str,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    root: Path = app.state.config.media_root
    event = await create_event(client, admin_headers, slots=[])
    await client.patch(
        f"/api/events/{event['id']}",
        json={"slots": [{"slot_id": "slot-003", "keep_originals": True}]},
        headers=admin_headers,
    )
    job = await _job(sessionmaker, (await shoot(client, "slot-003", 1)).headers["x-job-id"])
    original = root / f"originals/slot-003/{job.id}.jpg"
    assert original.is_file()
    assert job.result_expires_at is not None
    assert (
        await run_cleanup(
            app.state.engine, app.state.config, now=job.result_expires_at + timedelta(minutes=1)
        )
    ).ok
    assert all(p.is_file() for p in _files(root, job))

    assert (await client.delete(f"/api/events/{event['id']}", headers=admin_headers)).status_code == 204
    assert not original.exists(), "the originals kept for the event go with it"
    assert (await _job(sessionmaker, job.id)).event_id is None
    report = await run_cleanup(
        app.state.engine, app.state.config, now=job.result_expires_at + timedelta(minutes=2)
    )
    assert report.jobs_marked_cleaned == 1
    assert not any(p.exists() for p in _files(root, job))


async def test_cleanup_reports_an_original_without_its_job_and_not_the_ones_kept(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    ingest_password: str,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    root: Path = app.state.config.media_root
    event = await create_event(client, admin_headers, slots=[])
    await client.patch(
        f"/api/events/{event['id']}",
        json={"slots": [{"slot_id": "slot-004", "keep_originals": True}]},
        headers=admin_headers,
    )
    job = await _job(sessionmaker, (await shoot(client, "slot-004", 1)).headers["x-job-id"])
    stray = root / "originals/slot-004/noRowForThisFile0000.jpg"
    stray.write_bytes(b"orphan")
    # Old enough to judge (young files may be being written).
    report = await run_cleanup(app.state.engine, app.state.config, now=utcnow() + timedelta(hours=1))
    assert report.orphan_files == ["originals/slot-004/noRowForThisFile0000.jpg"]
    assert (root / f"originals/slot-004/{job.id}.jpg").is_file()
    assert stray.is_file(), "orphans are reported, never deleted"
