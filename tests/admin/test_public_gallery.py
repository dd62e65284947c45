"""Public slot gallery: opened from the admin UI for 15 minutes, `/g/{token}` shows the slot's previews,
closed/expired/unknown links are 404, views are rate limited per client."""

import re
from datetime import timedelta

import httpx
from fastapi import FastAPI

from photochanger.audit.service import ActorRef
from photochanger.core.time import utcnow
from photochanger.guest import gallery
from tests.admin.conftest import csrf_of
from tests.support.auth import create_user
from tests.support.jobs import add_job


async def _done_job(app: FastAPI, slot_id: str) -> str:
    job = await add_job(
        app.state.sessionmaker,
        app.state.config.media_root,
        slot_id=slot_id,
        expires_at=utcnow() + timedelta(hours=1),
    )
    return job.id


async def test_admin_opens_the_gallery_and_the_link_shows_previews_until_closed(
    app: FastAPI, client: httpx.AsyncClient, admin_ui: httpx.AsyncClient
) -> None:
    job_id = await _done_job(app, "slot-010")
    page = await admin_ui.get("/admin/slots/slot-010/gallery")
    assert 'id="public-state"' not in page.text
    opened = await admin_ui.post("/admin/slots/slot-010/gallery/open", data={"csrf": csrf_of(page.text)})
    assert opened.status_code == 200
    assert "The public gallery is open until" in opened.text
    match = re.search(r'id="public-link">http://booth\.test(/g/[A-Za-z0-9_-]+)<', opened.text)
    assert match is not None
    link = match.group(1)

    public = await client.get(link)
    assert public.status_code == 200
    assert f'src="/public/results/{job_id}/preview"' in public.text
    assert f'href="/r/{job_id}"' in public.text
    assert "default-src 'none'" in public.headers["content-security-policy"]
    # Reloading the admin page shows that it is open, but never the link again.
    again = await admin_ui.get("/admin/slots/slot-010/gallery")
    assert 'id="public-state"' in again.text
    assert link not in again.text

    closed = await admin_ui.post("/admin/slots/slot-010/gallery/close", data={"csrf": csrf_of(page.text)})
    assert closed.status_code == 303
    assert (await client.get(link)).status_code == 404
    assert (await client.get("/g/" + "x" * 32)).status_code == 404


async def test_a_gallery_link_dies_when_its_time_is_over_or_it_is_reopened(app: FastAPI) -> None:
    user = await create_user(app, "tester")
    actor = ActorRef(user.id, user.username)
    now = utcnow()
    async with app.state.sessionmaker() as session:
        first = await gallery.open_gallery(session, "slot-011", actor=actor, now=now)
        assert first.expires_at == now + timedelta(minutes=15)
        assert await gallery.find_open(session, first.token, now=now + timedelta(minutes=14)) == (
            "slot-011",
            first.expires_at,
        )
        assert await gallery.find_open(session, first.token, now=now + timedelta(minutes=16)) is None
        second = await gallery.open_gallery(session, "slot-011", actor=actor, now=now)
        assert await gallery.find_open(session, first.token, now=now) is None
        assert await gallery.find_open(session, second.token, now=now) is not None
        await session.rollback()


async def test_operators_cannot_open_a_gallery(operator_ui: httpx.AsyncClient) -> None:
    page = await operator_ui.get("/admin/slots/slot-010/gallery")
    assert 'id="public-open"' not in page.text
    refused = await operator_ui.post("/admin/slots/slot-010/gallery/open", data={"csrf": csrf_of(page.text)})
    assert refused.status_code == 403


def test_views_are_rate_limited_per_client() -> None:
    limiter = gallery.ClientRateLimiter(limit=3, window=60)
    assert all(limiter.allow("10.0.0.1", now=t) for t in (0.0, 1.0, 2.0))
    assert not limiter.allow("10.0.0.1", now=3.0)
    assert limiter.allow("10.0.0.2", now=3.0)
    assert limiter.allow("10.0.0.1", now=61.0)
