"""The gallery for operators: each photo opens full size and has its guest link and QR; the ZIP leaves
test runs out unless asked, and an empty ZIP is a message instead of an empty file."""

import io
import zipfile
from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import select, update

from photochanger.core.time import utcnow
from photochanger.models import AuditLog, Job, JobSource, JobStatus
from tests.admin.conftest import csrf_of
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


async def test_removing_one_photo_ends_its_links_and_files(app: FastAPI, admin_ui: httpx.AsyncClient) -> None:
    job_id = await _done(app, "slot-006")
    assert (await admin_ui.get(f"/public/results/{job_id}")).status_code == 200  # now in the result cache
    page = await admin_ui.get("/admin/slots/slot-006/gallery")
    assert f'action="/admin/results/{job_id}/delete"' in page.text
    removed = await admin_ui.post(f"/admin/results/{job_id}/delete", data={"csrf": csrf_of(page.text)})
    assert (removed.status_code, removed.headers["location"]) == (
        303,
        "/admin/slots/slot-006/gallery?removed=1",
    )
    assert 'id="removed"' in (await admin_ui.get(removed.headers["location"])).text
    assert (await admin_ui.get(f"/public/results/{job_id}")).status_code == 410
    assert (await admin_ui.get(f"/r/{job_id}")).status_code == 410
    media = app.state.config.media_root
    assert not (media / f"results/slot-006/{job_id}.jpg").exists()
    assert not (media / f"previews/slot-006/{job_id}.jpg").exists()
    async with app.state.sessionmaker() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        assert job.cleaned_at is not None
        actions = (await session.execute(select(AuditLog.action))).scalars().all()
    assert "result.delete" in actions
    audit = await admin_ui.get("/admin/audit?action=result.delete")
    assert "ui-admin removed a photo from Slot 6" in audit.text
    again = await admin_ui.post(f"/admin/results/{job_id}/delete", data={"csrf": csrf_of(page.text)})
    assert again.status_code == 404


async def test_an_operator_cannot_remove_a_photo(app: FastAPI, operator_ui: httpx.AsyncClient) -> None:
    job_id = await _done(app, "slot-006")
    page = await operator_ui.get("/admin/slots/slot-006/gallery")
    assert "/delete" not in page.text
    refused = await operator_ui.post(f"/admin/results/{job_id}/delete", data={"csrf": csrf_of(page.text)})
    assert refused.status_code == 403
    assert (await operator_ui.get(f"/public/results/{job_id}")).status_code == 200
