"""Failures an operator can see: the unconfigured-slot badge and save warning, each slot's recent problems
(failed jobs with the provider's message, refused uploads with the booth), failed cards in the gallery and
refusals counted on the dashboard and in the stats."""

from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import update

from photochanger.admin import live
from photochanger.core.time import utcnow
from photochanger.models import Job, JobStatus, Slot
from photochanger.settings import service as settings_service
from tests.admin.conftest import csrf_of
from tests.ingest.conftest import booth_fields
from tests.support import images
from tests.support.jobs import add_job

PASSWORD = "booth-pass-problems-1"


async def _set_slot(app: FastAPI, slot_id: str, **values: object) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(update(Slot).where(Slot.id == slot_id).values(**values))


async def _booth_upload(client: httpx.AsyncClient, slot_id: str, password: str) -> httpx.Response:
    return await client.post(
        f"/api/ingest/{slot_id}",
        data=booth_fields(password, name="BOOTH-HALL-A", user_id="events"),
        files={"fileToUpload": ("IMG_1.JPG", images.jpeg(64, 48), "image/jpeg")},
    )


async def _failed_job(app: FastAPI, slot_id: str) -> str:
    job = await add_job(
        app.state.sessionmaker,
        app.state.config.media_root,
        slot_id=slot_id,
        status=JobStatus.failed,
        expires_at=None,
        with_result=False,
        created_at=utcnow() - timedelta(minutes=2),
    )
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(
            update(Job)
            .where(Job.id == job.id)
            .values(
                failure_reason="provider_refused",
                failure_detail="SAFETY: the image was blocked by the safety filter",
                booth_meta={"name": "BOOTH-HALL-B", "user_id": "photo", "version": "3.30.2"},
            )
        )
    return job.id


async def test_a_slot_whose_provider_has_no_key_is_badged_on_the_dashboard(
    app: FastAPI, admin_ui: httpx.AsyncClient
) -> None:
    await _set_slot(app, "slot-002", provider="gemini", operation="edit")
    page = await admin_ui.get("/admin")
    assert page.status_code == 200
    tile = page.text.split('data-slot="slot-002"')[1].split("</article>")[0]
    assert 'data-role="unconfigured"' in tile
    assert "not configured: booths will get errors" in tile
    other = page.text.split('data-slot="slot-001"')[1].split("</article>")[0]
    assert 'data-role="unconfigured"' not in other


async def test_saving_a_slot_with_an_unconfigured_provider_warns(
    app: FastAPI, admin_ui: httpx.AsyncClient
) -> None:
    page = await admin_ui.get("/admin/slots/slot-004?provider=gemini&operation=edit")
    assert 'id="unconfigured-warning"' in page.text
    saved = await admin_ui.post(
        "/admin/slots/slot-004",
        data={
            "csrf": csrf_of(page.text),
            "display_name": "Gemini",
            "provider": "gemini",
            "operation": "edit",
            "param.prompt": "make it gold",
            "is_active": "on",
            "version": "1",
        },
    )
    assert saved.status_code == 303, saved.text
    after = await admin_ui.get(saved.headers["location"])
    assert "Saved." in after.text
    assert 'id="unconfigured-warning"' in after.text
    plain = await admin_ui.get("/admin/slots/slot-001")
    assert 'id="unconfigured-warning"' not in plain.text


async def test_problems_page_lists_failures_with_reason_message_and_booth(
    app: FastAPI, admin_ui: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        await settings_service.set_ingest_password(session, PASSWORD, actor="test")
    await _failed_job(app, "slot-001")
    assert (await _booth_upload(client, "slot-001", "wrong-password-here")).status_code == 401
    page = await admin_ui.get("/admin/slots/slot-001/problems")
    assert page.status_code == 200
    rows = page.text.split("<tbody>")[1].split("</tbody>")[0].split("<tr ")[1:]
    assert len(rows) == 2
    refused, failed = rows
    assert 'data-kind="refused"' in refused
    assert "Wrong ingest password." in refused
    assert "BOOTH-HALL-A / events" in refused
    assert 'data-kind="failed"' in failed
    assert "The provider refused this photo." in failed
    assert "SAFETY: the image was blocked by the safety filter" in failed
    assert "BOOTH-HALL-B / photo" in failed
    empty = await admin_ui.get("/admin/slots/slot-005/problems")
    assert 'id="problems-empty"' in empty.text
    admin_ui.cookies.set("pc_lang", "ru")
    ru = await admin_ui.get("/admin/slots/slot-001/problems")
    assert "Недавние проблемы" in ru.text
    assert "Неверный пароль стойки." in ru.text


async def test_failed_jobs_are_failed_cards_in_the_gallery(app: FastAPI, admin_ui: httpx.AsyncClient) -> None:
    job_id = await _failed_job(app, "slot-003")
    page = await admin_ui.get("/admin/slots/slot-003/gallery")
    assert page.status_code == 200
    card = page.text.split(f'data-failed-job="{job_id}"')[1].split("</figure>")[0]
    assert "The provider refused this photo." in card
    assert "SAFETY: the image was blocked" in card
    assert 'id="failed"' not in (await admin_ui.get("/admin/slots/slot-004/gallery")).text


async def test_refusals_are_counted_on_the_dashboard_and_in_stats(
    app: FastAPI, admin_ui: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        await settings_service.set_ingest_password(session, PASSWORD, actor="test")
    await _set_slot(app, "slot-006", is_active=False)
    for _ in range(2):
        assert (await _booth_upload(client, "slot-006", PASSWORD)).status_code == 409
    assert (await _booth_upload(client, "slot-007", "nope-wrong")).status_code == 401
    dashboard = await admin_ui.get("/admin")
    tile = dashboard.text.split('data-slot="slot-006"')[1].split("</article>")[0]
    assert '<b data-outcome="refused">2</b>' in tile
    stats = await admin_ui.get("/admin/stats?window=1h")
    section = stats.text.split('id="refusals"')[1].split("</section>")[0]
    assert '<span data-role="refused-total">3</span>' in section
    assert (
        '<li data-slot="slot-006"><a href="/admin/slots/slot-006/problems">Slot 6</a>: <b>2</b></li>'
        in section
    )
    latest = section.split('id="refusals-latest"')[1]
    assert latest.count("<tr data-reason=") == 3
    assert latest.index('data-reason="invalid_password"') < latest.index('data-reason="slot_disabled"')


async def test_the_live_dashboard_state_carries_refusals_and_readiness(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await _set_slot(app, "slot-002", provider="gemini", operation="edit")
    await _set_slot(app, "slot-006", is_active=False)
    assert (await _booth_upload(client, "slot-006", PASSWORD)).status_code == 409
    async with app.state.sessionmaker() as session:
        cards = {
            c["slot_id"]: c
            for c in await live.dashboard_state(session, app.state.config, app.state.providers)
        }
    assert cards["slot-002"]["configured"] is False
    assert cards["slot-001"]["configured"] is True
    assert cards["slot-006"]["outcomes"]["refused"] == 1
