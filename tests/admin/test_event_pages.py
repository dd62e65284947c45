"""The events pages of the admin UI: list and create (also from an earlier event), the detail page with
its gallery, hide/delete, the public gallery switch and its QR code, and errors rendered as HTML."""

import re
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from photochanger.models import Event, Job
from photochanger.settings import service as settings_service
from tests.admin.conftest import csrf_of
from tests.ingest.conftest import INGEST_PASSWORD, upload
from tests.support.images import jpeg


def _form(csrf: str, **extra: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "csrf": csrf,
        "name": "Gala",
        "starts_at": "2026-12-01T18:00",
        "ends_at": "2026-12-01T23:30",
        "retention_days": "10",
        "title": "Winter gala",
        "logo_media_id": "",
        "primary_color": "#102030",
        "accent_color": "#ff8800",
        "text": "Welcome!",
    }
    form.update(extra)
    return form


async def _events(app: FastAPI) -> list[Event]:
    async with app.state.sessionmaker() as session:
        return list((await session.execute(select(Event))).scalars())


async def test_an_admin_creates_an_event_from_the_form_and_sees_its_page(
    app: FastAPI, admin_ui: httpx.AsyncClient
) -> None:
    page = await admin_ui.get("/admin/booth-events")
    assert page.status_code == 200
    assert 'href="/admin/booth-events" aria-current="page"' in page.text
    created = await admin_ui.post(
        "/admin/booth-events",
        data=_form(csrf_of(page.text), slots=["slot-001", "slot-002"], keep_originals=["slot-002"]),
    )
    assert created.status_code == 303, created.text
    [event] = await _events(app)
    assert created.headers["location"] == f"/admin/booth-events/{event.id}"
    assert event.starts_at.isoformat() == "2026-12-01T18:00:00+00:00"
    assert (event.title, event.primary_color, event.text) == ("Winter gala", "#102030", "Welcome!")
    detail = await admin_ui.get(created.headers["location"])
    assert detail.status_code == 200
    assert "Winter gala" in detail.text
    assert f'href="/api/events/{event.id}/export.zip"' in detail.text
    assert re.search(r'value="slot-002" checked', detail.text)
    listing = await admin_ui.get("/admin/booth-events")
    assert f'data-event="{event.id}"' in listing.text
    # slot-001 is now taken by the open event: offered to no other event.
    assert re.search(r'value="slot-001" disabled', listing.text)


async def test_refused_forms_come_back_with_the_reason(app: FastAPI, admin_ui: httpx.AsyncClient) -> None:
    page = await admin_ui.get("/admin/booth-events")
    csrf = csrf_of(page.text)
    await admin_ui.post("/admin/booth-events", data=_form(csrf, slots=["slot-004"]))
    taken = await admin_ui.post("/admin/booth-events", data=_form(csrf, name="Other", slots=["slot-004"]))
    assert taken.status_code == 409
    assert "A slot is already used by another open event. (slot-004)" in taken.text
    bad = await admin_ui.post("/admin/booth-events", data=_form(csrf, name="Bad", retention_days="0"))
    assert bad.status_code == 422
    assert "Check these fields: retention_days." in bad.text
    assert 'value="Bad"' in bad.text
    no_csrf = await admin_ui.post("/admin/booth-events", data=_form("wrong", name="Sneaky"))
    assert no_csrf.status_code == 403
    assert [e.name for e in await _events(app)] == ["Gala"]


async def test_operators_do_not_reach_the_events_pages(operator_ui: httpx.AsyncClient) -> None:
    page = await operator_ui.get("/admin/booth-events")
    assert page.status_code == 403
    assert "/admin/booth-events" not in (await operator_ui.get("/admin")).text


async def test_the_detail_page_hides_deletes_and_opens_the_public_gallery(
    app: FastAPI, admin_ui: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        await settings_service.set_ingest_password(session, INGEST_PASSWORD, actor="test")
    page = await admin_ui.get("/admin/booth-events")
    csrf = csrf_of(page.text)
    created = await admin_ui.post("/admin/booth-events", data=_form(csrf, slots=["slot-005"]))
    url = created.headers["location"]
    shots = [
        await upload(client, jpeg(80 + n, 60), slot="slot-005", id=f"s{n}", hash=f"h{n}") for n in range(2)
    ]
    ids = [s.headers["x-job-id"] for s in shots]
    detail = await admin_ui.get(url)
    for job_id in ids:
        assert f'data-job="{job_id}"' in detail.text
    assert 'id="gallery-state"' not in detail.text

    hidden = await admin_ui.post(f"{url}/photos/{ids[0]}/hide", data={"csrf": csrf, "page": "1"})
    assert hidden.status_code == 303
    assert 'data-role="show"' in (await admin_ui.get(url)).text
    deleted = await admin_ui.post(f"{url}/photos/{ids[1]}/delete", data={"csrf": csrf, "page": "1"})
    assert deleted.status_code == 303
    async with app.state.sessionmaker() as session:
        job = await session.get(Job, ids[1])
        assert job is not None
        assert job.cleaned_at is not None
    assert f'data-job="{ids[1]}"' not in (await admin_ui.get(url)).text

    opened = await admin_ui.post(f"{url}/gallery-open", data={"csrf": csrf})
    assert opened.status_code == 303
    detail = await admin_ui.get(url)
    link = re.search(r'id="gallery-link">http://booth\.test(/e/[A-Za-z0-9_-]+)<', detail.text)
    assert link is not None
    assert (await admin_ui.get(f"/api/events/{url.rsplit('/', 1)[1]}/gallery/qr.svg")).status_code == 200
    card = await admin_ui.get(f"{url}/card")
    assert "Scan to see and download the photos." in card.text
    public = await client.get(link.group(1))
    assert public.status_code == 200
    assert ids[0] not in public.text, "hidden photos stay out of the public gallery"
    await admin_ui.post(f"{url}/gallery-close", data={"csrf": csrf})
    assert (await client.get(link.group(1))).status_code == 404

    await admin_ui.post(f"{url}/close", data={"csrf": csrf})
    assert "Reopen event" in (await admin_ui.get(url)).text
    gone = await admin_ui.post(f"{url}/delete", data={"csrf": csrf})
    assert gone.status_code == 303
    assert await _events(app) == []
    missing = await admin_ui.get(url)
    assert missing.status_code == 404
    assert "There is no such event." in missing.text


async def test_an_event_is_reused_from_the_form(app: FastAPI, admin_ui: httpx.AsyncClient) -> None:
    page = await admin_ui.get("/admin/booth-events")
    csrf = csrf_of(page.text)
    first = await admin_ui.post("/admin/booth-events", data=_form(csrf, slots=["slot-006"]))
    await admin_ui.post(f"{first.headers['location']}/close", data={"csrf": csrf})
    [source] = await _events(app)
    again = await admin_ui.post(
        "/admin/booth-events",
        data=_form(
            csrf, name="Gala 2027", slots=["slot-006"], from_event_id=source.id, apply_slot_configs="true"
        ),
    )
    assert again.status_code == 303, again.text
    reused = next(e for e in await _events(app) if e.name == "Gala 2027")
    assert reused.source_event_id == source.id


async def test_the_events_pages_speak_russian(admin_ui: httpx.AsyncClient) -> None:
    # Every string of these pages is in the gettext catalogue (tests/i18n checks the catalogue is complete).
    page = await admin_ui.get("/admin/booth-events?lang=ru")
    assert page.status_code == 200
    assert "Создать событие" in page.text
    assert "Оформление гостевых страниц" in page.text
    assert "Create event" not in page.text
