"""The Booths page: every booth seen, by the fields DSLR Remote Pro sends, with slots, last shot and result,
wrong-password attempts and version; silent ones highlighted."""

from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import update

from photochanger.core.time import utcnow
from photochanger.models import Job, JobStatus
from photochanger.settings import service as settings_service
from tests.ingest.conftest import booth_fields
from tests.support import images
from tests.support.jobs import add_job

PASSWORD = "booth-pass-booths-1"


async def _shot(client: httpx.AsyncClient, slot_id: str, password: str, **fields: str) -> int:
    response = await client.post(
        f"/api/ingest/{slot_id}",
        data=booth_fields(password, **fields),
        files={"fileToUpload": ("IMG_1.JPG", images.jpeg(64, 48), "image/jpeg")},
    )
    return response.status_code


def _row(html: str, booth: str) -> str:
    return html.split(f'<tr data-booth="{booth}"')[1].split("</tr>")[0]


async def test_booths_page_lists_each_booth_with_its_slots_results_and_wrong_passwords(
    app: FastAPI, admin_ui: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        await settings_service.set_ingest_password(session, PASSWORD, actor="test")
    empty = await admin_ui.get("/admin/booths")
    assert 'id="booths-empty"' in empty.text
    hall = {"name": "BOOTH-HALL", "user_id": "events", "version": "3.30.2"}
    assert await _shot(client, "slot-001", PASSWORD, **hall, id="A1", hash="a" * 40) == 200
    assert await _shot(client, "slot-002", PASSWORD, **hall, id="A2", hash="b" * 40) == 200
    bar = {"name": "BOOTH-BAR", "user_id": "bar", "version": "3.29.0"}
    for _ in range(3):
        assert await _shot(client, "slot-003", "wrong-password!", **bar) == 401

    # A third booth whose last shot was 40 minutes ago: silent at the default 15 minutes.
    job = await add_job(
        app.state.sessionmaker,
        app.state.config.media_root,
        slot_id="slot-004",
        status=JobStatus.failed,
        expires_at=None,
        with_result=False,
        created_at=utcnow() - timedelta(minutes=40),
    )
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(
            update(Job)
            .where(Job.id == job.id)
            .values(failure_reason="provider_refused", booth_meta={"name": "BOOTH-DOOR", "version": "3.28.1"})
        )

    page = await admin_ui.get("/admin/booths")
    assert page.status_code == 200
    order = [page.text.index(f'data-booth="{n}"') for n in ("BOOTH-BAR", "BOOTH-HALL", "BOOTH-DOOR")]
    assert order == sorted(order)
    hall_row = _row(page.text, "BOOTH-HALL")
    assert "user: events" in hall_row
    assert '<td data-role="version">3.30.2</td>' in hall_row
    assert 'href="/admin/slots/slot-001"' in hall_row
    assert 'href="/admin/slots/slot-002"' in hall_row
    assert '<td data-role="shots">2</td>' in hall_row
    assert '<td data-role="result">done</td>' in hall_row
    assert '<td data-role="wrong-passwords">0</td>' in hall_row
    assert 'class="silent"' not in hall_row
    bar_row = _row(page.text, "BOOTH-BAR")
    assert '<td data-role="wrong-passwords" class="o-failed">3</td>' in bar_row
    assert '<td data-role="version">3.29.0</td>' in bar_row
    assert '<td data-role="shots">0</td>' in bar_row
    door_row = _row(page.text, "BOOTH-DOOR")
    assert 'class="silent"' in door_row
    assert "silent for 40 min" in door_row
    assert "The provider refused this photo." in door_row
    # A longer threshold: nobody is silent.
    relaxed = await admin_ui.get("/admin/booths?silent=60")
    assert 'class="silent"' not in relaxed.text
    assert (await admin_ui.get("/admin/booths?silent=7")).status_code == 422
    admin_ui.cookies.set("pc_lang", "ru")
    ru = await admin_ui.get("/admin/booths")
    assert "Неверных паролей" in ru.text
    assert "молчит 40 мин" in ru.text


async def test_the_operator_sees_the_booths_page_in_the_navigation(operator_ui: httpx.AsyncClient) -> None:
    page = await operator_ui.get("/admin")
    assert 'href="/admin/booths"' in page.text
    assert (await operator_ui.get("/admin/booths")).status_code == 200
