"""The gallery for operators: each photo opens full size and has its guest link and QR; the ZIP leaves
test runs out unless asked, and an empty ZIP is a message instead of an empty file."""

import io
import zipfile
from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import update

from photochanger.core.time import utcnow
from photochanger.models import Job, JobSource, JobStatus
from tests.support.jobs import add_job


async def _done(app: FastAPI, slot_id: str, *, test: bool = False) -> str:
    job = await add_job(
        app.state.sessionmaker,
        app.state.config.media_root,
        slot_id=slot_id,
        status=JobStatus.done,
        created_at=utcnow() - timedelta(minutes=3),
        expires_at=utcnow() + timedelta(hours=1),
    )
    if test:
        async with app.state.sessionmaker() as session, session.begin():
            await session.execute(update(Job).where(Job.id == job.id).values(source=JobSource.ui_test))
    return job.id


async def test_each_photo_opens_full_size_with_its_guest_link_and_qr(
    app: FastAPI, admin_ui: httpx.AsyncClient
) -> None:
    job_id = await _done(app, "slot-002")
    page = await admin_ui.get("/admin/slots/slot-002/gallery")
    tile = page.text.split(f'data-job="{job_id}"')[1].split("</figure>")[0]
    assert f'href="/public/results/{job_id}" target="_blank" rel="noopener" data-role="full"' in tile
    assert f'href="/r/{job_id}" target="_blank" rel="noopener" data-role="guest"' in tile
    assert f'href="/public/results/{job_id}/qr.svg"' in tile
    assert (await admin_ui.get(f"/r/{job_id}")).status_code == 200
    qr = await admin_ui.get(f"/public/results/{job_id}/qr.svg")
    assert (qr.status_code, qr.headers["content-type"]) == (200, "image/svg+xml")


async def test_the_zip_leaves_test_runs_out_unless_asked(app: FastAPI, admin_ui: httpx.AsyncClient) -> None:
    booth = await _done(app, "slot-004")
    await _done(app, "slot-004", test=True)
    page = await admin_ui.get("/admin/slots/slot-004/gallery")
    assert 'name="include_tests" value="true">' in page.text  # unticked by default
    plain = await admin_ui.get("/admin/slots/slot-004/results.zip")
    assert plain.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(plain.content)).namelist()
    assert len(names) == 1
    assert booth in names[0]
    both = await admin_ui.get("/admin/slots/slot-004/results.zip?include_tests=true")
    assert len(zipfile.ZipFile(io.BytesIO(both.content)).namelist()) == 2


async def test_an_empty_zip_says_there_is_nothing_to_download(
    app: FastAPI, admin_ui: httpx.AsyncClient
) -> None:
    await _done(app, "slot-005", test=True)
    response = await admin_ui.get("/admin/slots/slot-005/results.zip")
    assert (response.status_code, response.headers["location"]) == (
        303,
        "/admin/slots/slot-005/gallery?nothing_to_download=1",
    )
    page = await admin_ui.get(response.headers["location"])
    assert 'id="zip-empty"' in page.text
    assert "Nothing to download" in page.text
    assert (await admin_ui.get("/admin/slots/nope/results.zip")).status_code == 404
