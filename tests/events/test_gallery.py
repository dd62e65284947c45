"""The event gallery (private in the API, public only while opened, paged, hide and delete), the branded
guest page, and the engagement counted on them."""

import re
from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.core.time import utcnow
from photochanger.models import Event, Job
from tests.events.conftest import create_event, shoot
from tests.support.jobs import add_job
from tests.support.templates import frame_png, upload_template


async def test_public_gallery_is_off_until_opened_and_leaves_hidden_photos_out(
    client: httpx.AsyncClient, admin_headers: dict[str, str], ingest_password: str
) -> None:
    event = await create_event(client, admin_headers, slots=["slot-001"])
    ids = [(await shoot(client, "slot-001", n)).headers["x-job-id"] for n in range(3)]
    qr = await client.get(f"/api/events/{event['id']}/gallery/qr.svg", headers=admin_headers)
    assert qr.status_code == 404

    opened = (await client.post(f"/api/events/{event['id']}/gallery/open", headers=admin_headers)).json()
    assert opened["gallery_open"] is True
    link = opened["gallery_url"].removeprefix("http://booth.test")
    assert re.fullmatch(r"/e/[A-Za-z0-9_-]{32}", link)
    page = await client.get(link)
    assert page.status_code == 200
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert 'name="viewport"' in page.text
    for job_id in ids:
        assert f'src="{link}/photos/{job_id}/preview"' in page.text
    assert (await client.get(f"{link}/photos/{ids[0]}/preview")).headers["content-type"] == "image/jpeg"
    qr = await client.get(f"/api/events/{event['id']}/gallery/qr.svg", headers=admin_headers)
    assert qr.status_code == 200
    assert opened["gallery_url"].encode() in qr.content

    hidden = await client.post(f"/api/events/{event['id']}/photos/{ids[1]}/hide", headers=admin_headers)
    assert hidden.status_code == 204
    page = await client.get(link)
    assert ids[1] not in page.text
    assert (await client.get(f"{link}/photos/{ids[1]}/preview")).status_code == 404
    private = (await client.get(f"/api/events/{event['id']}/photos", headers=admin_headers)).json()
    assert {p["job_id"]: p["hidden"] for p in private["items"]} == {
        ids[0]: False,
        ids[1]: True,
        ids[2]: False,
    }

    removed = await client.delete(f"/api/events/{event['id']}/photos/{ids[2]}", headers=admin_headers)
    assert removed.status_code == 204
    assert (await client.get(f"/r/{ids[2]}")).status_code == 410
    assert ids[2] not in (await client.get(link)).text
    private = (await client.get(f"/api/events/{event['id']}/photos", headers=admin_headers)).json()
    assert private["total"] == 2

    closed = await client.post(f"/api/events/{event['id']}/gallery/close", headers=admin_headers)
    assert closed.json()["gallery_open"] is False
    assert (await client.get(link)).status_code == 404
    assert (await client.get(f"{link}/photos/{ids[0]}/preview")).status_code == 404
    # Reopening keeps the link, so printed QR codes keep working.
    again = (await client.post(f"/api/events/{event['id']}/gallery/open", headers=admin_headers)).json()
    assert again["gallery_url"] == opened["gallery_url"]
    assert (await client.get(link)).status_code == 200
    audit = (
        await client.get("/api/audit", params={"target": f"event:{event['id']}"}, headers=admin_headers)
    ).json()
    actions = [entry["action"] for entry in reversed(audit["items"])]
    assert actions == [
        "event.create",
        "event.gallery_open",
        "event.photo_hide",
        "event.photo_delete",
        "event.gallery_close",
        "event.gallery_open",
    ]


async def test_the_gallery_pages_newest_first(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    ingest_password: str,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    event = await create_event(client, admin_headers, slots=["slot-002"])
    ids = [(await shoot(client, "slot-002", n)).headers["x-job-id"] for n in range(5)]
    async with sessionmaker() as session, session.begin():
        for n, job_id in enumerate(ids):
            job = await session.get(Job, job_id)
            assert job is not None
            job.created_at = utcnow() - timedelta(minutes=10 - n)
    pages = [
        (
            await client.get(f"/api/events/{event['id']}/photos?per_page=2&page={n}", headers=admin_headers)
        ).json()
        for n in (1, 2, 3)
    ]
    assert [[p["job_id"] for p in page["items"]] for page in pages] == [ids[4:2:-1], ids[2:0:-1], ids[:1]]
    assert {page["total"] for page in pages} == {5}


async def test_a_guest_page_of_an_event_photo_carries_the_branding_and_counts_engagement(
    client: httpx.AsyncClient, admin_headers: dict[str, str], ingest_password: str
) -> None:
    logo = (await upload_template(client, admin_headers, frame_png())).json()["id"]
    branding = {
        "title": "Anna & Ben",
        "logo_media_id": logo,
        "primary_color": "#112233",
        "text": "Thank you!",
    }
    event = await create_event(client, admin_headers, slots=["slot-003"], branding=branding)
    done = await shoot(client, "slot-003", 1)
    job_id = done.headers["x-job-id"]
    plain = (await shoot(client, "slot-004", 2)).headers["x-job-id"]

    page = await client.get(f"/r/{job_id}")
    assert page.status_code == 200
    assert "Anna &amp; Ben" in page.text
    assert "Thank you!" in page.text
    assert "--brand: #112233" in page.text
    assert f'src="/public/events/{event["id"]}/logo"' in page.text
    assert "connect-src 'self'" in page.headers["content-security-policy"]
    logo_image = await client.get(f"/public/events/{event['id']}/logo")
    assert logo_image.status_code == 200
    assert logo_image.headers["content-type"] == "image/png"
    assert "Anna" not in (await client.get(f"/r/{plain}")).text

    await client.get(f"/r/{job_id}")
    assert (await client.get(f"/public/results/{job_id}")).status_code == 200
    assert (await client.post(f"/public/results/{job_id}/share")).status_code == 204
    assert (await client.post(f"/public/results/{plain}/share")).status_code == 404
    await client.get(f"/public/results/{plain}")
    report = (await client.get(f"/api/events/{event['id']}/engagement", headers=admin_headers)).json()
    assert report["totals"] == {
        "shots": 1,
        "processed": 1,
        "failed": 0,
        "page_opens": 2,
        "downloads": 1,
        "shares": 1,
    }
    assert len(report["hours"]) == 1
    assert report["hours"][0]["hour"].endswith(":00:00Z")


async def test_disk_usage_is_reported_per_event(
    app: FastAPI, client: httpx.AsyncClient, admin_headers: dict[str, str], ingest_password: str
) -> None:
    event = await create_event(client, admin_headers, slots=[])
    await client.patch(
        f"/api/events/{event['id']}",
        json={"slots": [{"slot_id": "slot-005", "keep_originals": True}]},
        headers=admin_headers,
    )
    job_id = (await shoot(client, "slot-005", 1)).headers["x-job-id"]
    await shoot(client, "slot-006", 2)
    usage = (await client.get(f"/api/events/{event['id']}/usage", headers=admin_headers)).json()
    root = app.state.config.media_root
    sizes = {
        kind: (root / f"{kind}/slot-005/{job_id}.jpg").stat().st_size
        for kind in ("results", "previews", "originals")
    }
    for kind, size in sizes.items():
        assert usage[kind] == {"files": 1, "bytes": size}
    assert usage["bytes"] == sum(sizes.values())
    assert usage["photos"] == 1
    assert usage["guest_links_live"] == 1


async def test_the_public_gallery_pages_by_24_and_counts_its_downloads(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    event = await create_event(client, admin_headers, slots=[])
    ids = []
    for n in range(25):
        job = await add_job(
            sessionmaker,
            app.state.config.media_root,
            expires_at=utcnow() + timedelta(hours=1),
            created_at=utcnow() - timedelta(minutes=n),
        )
        ids.append(job.id)
    async with sessionmaker() as session, session.begin():
        await session.execute(update(Job).where(Job.id.in_(ids)).values(event_id=event["id"]))
    opened = (await client.post(f"/api/events/{event['id']}/gallery/open", headers=admin_headers)).json()
    link = opened["gallery_url"].removeprefix("http://booth.test")
    first = await client.get(link)
    assert first.text.count('loading="lazy"') == 24
    assert f'id="next" href="{link}?page=2"' in first.text
    assert ids[24] not in first.text
    second = await client.get(f"{link}?page=2")
    assert second.text.count('loading="lazy"') == 1
    assert ids[24] in second.text
    assert 'id="prev"' in second.text

    photo = await client.get(f"{link}/photos/{ids[0]}")
    assert photo.status_code == 200
    assert photo.headers["content-disposition"].startswith("attachment;")
    report = (await client.get(f"/api/events/{event['id']}/engagement", headers=admin_headers)).json()
    assert report["totals"]["downloads"] == 1
    # A photo of no event, and files of other events, are not reachable through this gallery.
    stranger = await add_job(
        sessionmaker, app.state.config.media_root, expires_at=utcnow() + timedelta(hours=1)
    )
    assert (await client.get(f"{link}/photos/{stranger.id}")).status_code == 404
    hidden = await client.post(f"/api/events/{event['id']}/photos/{stranger.id}/hide", headers=admin_headers)
    assert hidden.status_code == 404
    assert hidden.json()["code"] == "event_photo_not_found"


async def test_an_event_without_a_logo_serves_none(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    event = await create_event(client, admin_headers, slots=[])
    response = await client.get(f"/public/events/{event['id']}/logo")
    assert response.status_code == 404
    assert response.json()["code"] == "event_not_found"
    assert (await client.get("/public/events/short/logo")).status_code == 404


async def test_past_its_retention_an_event_shows_no_photos_even_before_cleanup(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    event = await create_event(client, admin_headers, slots=[])
    job = await add_job(sessionmaker, app.state.config.media_root, expires_at=utcnow() + timedelta(hours=1))
    async with sessionmaker() as session, session.begin():
        await session.execute(update(Job).where(Job.id == job.id).values(event_id=event["id"]))
        await session.execute(
            update(Event).where(Event.id == event["id"]).values(retain_until=utcnow() - timedelta(seconds=1))
        )
    body = (await client.get(f"/api/events/{event['id']}", headers=admin_headers)).json()
    assert body["status"] == "expired"
    photos = (await client.get(f"/api/events/{event['id']}/photos", headers=admin_headers)).json()
    assert photos["total"] == 0
    served = await client.get(f"/api/events/{event['id']}/photos/{job.id}/result", headers=admin_headers)
    assert served.status_code == 404


async def test_a_download_never_fails_for_its_counter(
    client: httpx.AsyncClient, admin_headers: dict[str, str], ingest_password: str
) -> None:
    event = await create_event(client, admin_headers, slots=["slot-009"])
    job_id = (await shoot(client, "slot-009", 1)).headers["x-job-id"]
    # The first download puts the result in the process's cache, with its event.
    assert (await client.get(f"/public/results/{job_id}")).status_code == 200
    assert (await client.delete(f"/api/events/{event['id']}", headers=admin_headers)).status_code == 204
    again = await client.get(f"/public/results/{job_id}")
    assert again.status_code == 200
    assert again.content[:2] == b"\xff\xd8"
