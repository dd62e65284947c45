"""Hiding one photo: off the guest link (a clear page, a 410 problem for the API), the public slot gallery,
the event gallery and the gallery ZIP; still in the admin gallery marked hidden, shown again on request,
and both written to the audit log as sentences."""

import asyncio
import io
import zipfile
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from photochanger.app import create_app
from photochanger.config import AppConfig
from photochanger.core.db import is_sqlite
from photochanger.core.time import utcnow
from photochanger.models import AuditLog, Job, JobStatus
from photochanger.stats import engagement
from tests.admin.conftest import csrf_of
from tests.support.jobs import add_job


async def _done(app: FastAPI, slot_id: str) -> str:
    job = await add_job(
        app.state.sessionmaker,
        app.state.config.media_root,
        slot_id=slot_id,
        status=JobStatus.done,
        created_at=utcnow() - timedelta(minutes=2),
        expires_at=utcnow() + timedelta(hours=1),
    )
    return job.id


async def _hide(ui: httpx.AsyncClient, slot_id: str, job_id: str) -> httpx.Response:
    page = await ui.get(f"/admin/slots/{slot_id}/gallery")
    return await ui.post(f"/admin/results/{job_id}/hide", data={"csrf": csrf_of(page.text)})


async def test_a_hidden_photo_leaves_every_guest_surface_and_stays_in_the_admin(
    app: FastAPI, admin_ui: httpx.AsyncClient
) -> None:
    job_id = await _done(app, "slot-007")
    other = await _done(app, "slot-007")
    # Cached by a first download: the hide must still reach it.
    assert (await admin_ui.get(f"/public/results/{job_id}")).status_code == 200
    response = await _hide(admin_ui, "slot-007", job_id)
    assert (response.status_code, response.headers["location"]) == (
        303,
        "/admin/slots/slot-007/gallery?done=hidden",
    )

    page = await admin_ui.get(f"/r/{job_id}")
    assert page.status_code == 410
    assert 'id="hidden-title"' in page.text
    assert "This photo has been taken down" in page.text
    download = await admin_ui.get(f"/public/results/{job_id}")
    assert download.status_code == 410
    assert download.headers["content-type"] == "application/problem+json"
    assert download.json()["code"] == "result_hidden"
    for suffix in ("preview", "view/540", "qr.svg"):
        refused = await admin_ui.get(f"/public/results/{job_id}/{suffix}")
        assert (refused.status_code, refused.json()["code"]) == (410, "result_hidden"), suffix
    assert (await admin_ui.get(f"/public/results/{other}")).status_code == 200
    await app.state.guest_counts.flush()
    async with app.state.sessionmaker() as session:
        counted = await engagement.totals(session, since=utcnow() - timedelta(hours=1))
    assert counted == {"slot-007": {"page_open": 0, "download": 2}}  # refused requests count nothing

    archive = await admin_ui.get("/admin/slots/slot-007/results.zip")
    names = zipfile.ZipFile(io.BytesIO(archive.content)).namelist()
    assert len(names) == 1
    assert other in names[0]

    gallery = await admin_ui.get("/admin/slots/slot-007/gallery?done=hidden")
    assert 'id="hidden-done"' in gallery.text
    tile = gallery.text.split(f'data-job="{job_id}"')[1].split("</figure>")[0]
    assert tile.startswith(' data-hidden="yes"')
    assert 'data-role="hidden-badge"' in tile
    assert f'action="/admin/results/{job_id}/show"' in tile
    assert f'src="/admin/results/{job_id}/preview"' in tile
    preview = await admin_ui.get(f"/admin/results/{job_id}/preview")
    assert (preview.status_code, preview.headers["content-type"]) == (200, "image/jpeg")
    assert preview.headers["cache-control"] == "private, no-store"
    full = await admin_ui.get(f"/admin/results/{job_id}/file")
    assert (full.status_code, full.headers["content-type"]) == (200, "image/jpeg")
    assert (app.state.config.media_root / f"results/slot-007/{job_id}.jpg").is_file()


async def test_showing_it_again_restores_the_guest_link_and_both_are_audited(
    app: FastAPI, admin_ui: httpx.AsyncClient
) -> None:
    job_id = await _done(app, "slot-008")
    assert (await _hide(admin_ui, "slot-008", job_id)).status_code == 303
    again = await _hide(admin_ui, "slot-008", job_id)  # hiding twice changes nothing
    assert again.status_code == 303
    page = await admin_ui.get("/admin/slots/slot-008/gallery")
    shown = await admin_ui.post(f"/admin/results/{job_id}/show", data={"csrf": csrf_of(page.text)})
    assert (shown.status_code, shown.headers["location"]) == (303, "/admin/slots/slot-008/gallery?done=shown")
    assert (await admin_ui.get(f"/r/{job_id}")).status_code == 200
    assert (await admin_ui.get(f"/public/results/{job_id}")).status_code == 200
    async with app.state.sessionmaker() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        assert job.hidden_at is None
        actions = (await session.execute(select(AuditLog.action).order_by(AuditLog.id))).scalars().all()
    assert [a for a in actions if a.startswith("result.")] == ["result.hide", "result.show"]
    audit = await admin_ui.get("/admin/audit")
    assert "ui-admin hid a photo of Slot 8 from guests" in audit.text
    assert "ui-admin showed a hidden photo of Slot 8 to guests again" in audit.text


async def test_the_public_slot_gallery_leaves_a_hidden_photo_out(
    app: FastAPI, admin_ui: httpx.AsyncClient
) -> None:
    job_id = await _done(app, "slot-009")
    other = await _done(app, "slot-009")
    await _hide(admin_ui, "slot-009", job_id)
    page = await admin_ui.get("/admin/slots/slot-009/gallery")
    opened = await admin_ui.post("/admin/slots/slot-009/gallery/open", data={"csrf": csrf_of(page.text)})
    link = opened.text.split('id="public-link">')[1].split("<")[0]
    public = await admin_ui.get(urlsplit(link).path)
    assert public.status_code == 200
    assert other in public.text
    assert job_id not in public.text


async def test_hiding_needs_the_write_permission_and_a_stored_result(
    app: FastAPI, admin_ui: httpx.AsyncClient, operator_ui: httpx.AsyncClient
) -> None:
    job_id = await _done(app, "slot-010")
    page = await operator_ui.get("/admin/slots/slot-010/gallery")
    assert "/hide" not in page.text
    refused = await operator_ui.post(f"/admin/results/{job_id}/hide", data={"csrf": csrf_of(page.text)})
    assert refused.status_code == 403
    assert (await operator_ui.get(f"/r/{job_id}")).status_code == 200
    missing = await _hide(admin_ui, "slot-010", "A" * 22)
    assert missing.status_code == 404
    assert (await admin_ui.get(f"/admin/results/{'A' * 22}/preview")).status_code == 404
    no_csrf = await admin_ui.post(f"/admin/results/{job_id}/hide", data={})
    assert no_csrf.status_code == 403


async def test_another_worker_forgets_a_hidden_photo_it_had_cached(
    app: FastAPI, admin_ui: httpx.AsyncClient, config: AppConfig
) -> None:
    if is_sqlite(config.database_url):
        pytest.skip("SQLite runs one process; PostgreSQL tells the others through NOTIFY")
    job_id = await _done(app, "slot-011")
    other = create_app(config.model_copy(update={"var_dir": config.var_dir / "worker-2"}))
    async with other.router.lifespan_context(other):
        await other.state.listener.connected.wait()
        transport = httpx.ASGITransport(app=other)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as worker:
            assert (await worker.get(f"/public/results/{job_id}")).status_code == 200  # now cached there
            assert other.state.result_cache.get(job_id) is not None
            assert (await _hide(admin_ui, "slot-011", job_id)).status_code == 303
            deadline = asyncio.get_running_loop().time() + 5
            while other.state.result_cache.get(job_id) is not None:
                assert asyncio.get_running_loop().time() < deadline, "the other worker was never told"
                await asyncio.sleep(0.05)
            refused = await worker.get(f"/public/results/{job_id}")
    assert (refused.status_code, refused.json()["code"]) == (410, "result_hidden")
