"""Engagement per event and UTC hour: shots, processed and failed from the event's booth jobs (test runs and
other events' jobs left out), guest actions from the server's own counters."""

from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.core.time import utcnow
from photochanger.eventpage import engagement
from photochanger.eventpage.engagement import Metric
from photochanger.models import Job, JobSource, JobStatus
from tests.events.conftest import create_event
from tests.support.jobs import add_job


async def test_engagement_is_reported_per_hour(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    event = await create_event(client, admin_headers, slots=[])
    other = await create_event(client, admin_headers, slots=[])
    ten = utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(hours=5)
    rows = [
        (ten + timedelta(minutes=5), JobStatus.done, event["id"], JobSource.ingest),
        (ten + timedelta(minutes=50), JobStatus.failed, event["id"], JobSource.ingest),
        (ten + timedelta(hours=2, minutes=1), JobStatus.timeout, event["id"], JobSource.ingest),
        (ten + timedelta(hours=2, minutes=2), JobStatus.done, event["id"], JobSource.ui_test),
        (ten + timedelta(hours=2, minutes=3), JobStatus.done, other["id"], JobSource.ingest),
    ]
    for created, status, event_id, source in rows:
        job = await add_job(
            sessionmaker, app.state.config.media_root, expires_at=utcnow(), status=status, created_at=created,
            with_result=status == JobStatus.done,
        )  # fmt: skip
        async with sessionmaker() as session, session.begin():
            await session.execute(
                update(Job).where(Job.id == job.id).values(event_id=event_id, source=source)
            )
    async with sessionmaker() as session, session.begin():
        for metric, minutes in ((Metric.page_open, 10), (Metric.page_open, 20), (Metric.download, 125)):
            await engagement.count(session, event["id"], metric, now=ten + timedelta(minutes=minutes))
        await engagement.count(session, other["id"], Metric.share, now=ten)

    report = (await client.get(f"/api/events/{event['id']}/engagement", headers=admin_headers)).json()
    hours = {h["hour"]: {k: v for k, v in h.items() if k != "hour" and v} for h in report["hours"]}
    stamp = "%Y-%m-%dT%H:00:00Z"
    assert hours == {
        ten.strftime(stamp): {"shots": 2, "processed": 1, "failed": 1, "page_opens": 2},
        (ten + timedelta(hours=2)).strftime(stamp): {"shots": 1, "failed": 1, "downloads": 1},
    }
    assert report["totals"] == {
        "shots": 3,
        "processed": 1,
        "failed": 2,
        "page_opens": 2,
        "downloads": 1,
        "shares": 0,
    }
