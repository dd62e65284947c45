"""Guest pages in the guest's language, the sized views of a result, the favicon and per-slot branding
(edited in the admin, hence here beside the admin fixtures)."""

import io
import re
from datetime import timedelta

import httpx
from fastapi import FastAPI
from PIL import Image
from sqlalchemy import select

from photochanger.core.time import utcnow
from photochanger.guest import service
from photochanger.models import AuditLog, SlotBranding
from tests.admin.conftest import csrf_of
from tests.admin.test_pages import _upload_frame
from tests.support.jobs import add_job, jpeg_bytes


async def test_result_page_follows_accept_language_and_offers_the_other_language(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    job = await add_job(
        app.state.sessionmaker, app.state.config.media_root, expires_at=utcnow() + timedelta(hours=2)
    )
    russian = await client.get(f"/r/{job.id}", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"})
    assert russian.status_code == 200
    assert '<html lang="ru">' in russian.text
    assert "Ваше фото" in russian.text
    assert ">Скачать<" in russian.text
    assert ">Поделиться<" in russian.text
    assert f'href="/r/{job.id}?lang=en" hreflang="en"' in russian.text
    assert "Your photo" not in russian.text
    assert "Accept-Language" in russian.headers["vary"]

    # The switch wins over the browser's language; English is the fallback for other languages.
    switched = await client.get(f"/r/{job.id}?lang=en", headers={"Accept-Language": "ru"})
    assert '<html lang="en">' in switched.text
    assert ">Download<" in switched.text
    assert f'href="/r/{job.id}?lang=ru"' in switched.text
    german = await client.get(f"/r/{job.id}", headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert '<html lang="en">' in german.text


async def test_expired_and_unknown_pages_are_translated(client: httpx.AsyncClient, app: FastAPI) -> None:
    job = await add_job(
        app.state.sessionmaker, app.state.config.media_root, expires_at=utcnow() - timedelta(seconds=1)
    )
    gone = await client.get(f"/r/{job.id}", headers={"Accept-Language": "ru"})
    assert gone.status_code == 410
    assert "Это фото больше недоступно" in gone.text
    unknown = await client.get(f"/r/{'f' * 32}", headers={"Accept-Language": "ru"})
    assert unknown.status_code == 404
    assert "Мы не нашли это фото" in unknown.text
    assert 'hreflang="en"' in unknown.text


async def test_views_are_1080_and_540_px_never_enlarged_and_other_sizes_are_404(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    big = await add_job(
        app.state.sessionmaker,
        app.state.config.media_root,
        expires_at=utcnow() + timedelta(hours=1),
        result=jpeg_bytes(3000, 2000),
    )
    for side, expected in ((1080, (1080, 720)), (540, (540, 360))):
        response = await client.get(f"/public/results/{big.id}/view/{side}")
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/jpeg"
        assert "immutable" in response.headers["cache-control"]
        with Image.open(io.BytesIO(response.content)) as img:
            assert img.size == expected
    small = await add_job(
        app.state.sessionmaker,
        app.state.config.media_root,
        expires_at=utcnow() + timedelta(hours=1),
        result=jpeg_bytes(600, 400),
    )
    with Image.open(io.BytesIO((await client.get(f"/public/results/{small.id}/view/1080")).content)) as img:
        assert img.size == (600, 400)
    odd = await client.get(f"/public/results/{big.id}/view/4000")
    assert odd.status_code == 404
    assert odd.headers["content-type"] == "application/problem+json"
    expired = await add_job(
        app.state.sessionmaker, app.state.config.media_root, expires_at=utcnow() - timedelta(seconds=1)
    )
    assert (await client.get(f"/public/results/{expired.id}/view/1080")).status_code == 410
    assert len(service._VIEW_CACHE) <= service.VIEW_CACHE_ENTRIES


async def test_favicon_is_served_without_external_assets(client: httpx.AsyncClient) -> None:
    for path in ("/favicon.svg", "/favicon.ico"):
        response = await client.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/svg+xml"
        assert response.content.startswith(b"<svg")


async def test_branding_saved_in_the_admin_shows_on_the_guest_page_and_the_gallery(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin_ui: httpx.AsyncClient,
) -> None:
    logo_id = await _upload_frame(admin_ui, "Logo")
    other_id = await _upload_frame(admin_ui, "Private frame")
    editor = await admin_ui.get("/admin/slots/slot-004", headers={"Accept-Language": "ru"})
    assert "Оформление гостевой страницы" in editor.text
    saved = await admin_ui.post(
        "/admin/slots/slot-004/branding",
        data={
            "csrf": csrf_of(editor.text),
            "brand_title": "Wedding of A & B",
            "brand_text": "Thank you for coming!",
            "brand_logo": logo_id,
            "brand_colors": "on",
            "brand_accent": "#AA3355",
            "brand_background": "#101010",
        },
    )
    assert saved.status_code == 303
    async with app.state.sessionmaker() as session:
        row = await session.get(SlotBranding, "slot-004")
        assert row is not None
        assert (row.title, row.accent_color, row.logo_media_id) == ("Wedding of A & B", "#aa3355", logo_id)
        audit = (await session.execute(select(AuditLog).where(AuditLog.action == "slot.branding"))).scalars()
        assert len(list(audit)) == 1

    job = await add_job(
        app.state.sessionmaker,
        app.state.config.media_root,
        slot_id="slot-004",
        expires_at=utcnow() + timedelta(hours=1),
    )
    page = (await client.get(f"/r/{job.id}")).text
    assert "<h1>Wedding of A &amp; B</h1>" in page
    assert "Thank you for coming!" in page
    assert "--accent: #aa3355;" in page
    assert "background: #101010; color: #f5f5f5;" in page  # light text on a dark background
    assert f'<img class="logo" src="/public/slots/logo/{logo_id}"' in page
    logo = await client.get(f"/public/slots/logo/{logo_id}")
    assert logo.status_code == 200
    assert logo.headers["content-type"] == "image/png"
    # Only logos are public: another template stays private.
    private = await client.get(f"/public/slots/logo/{other_id}")
    assert private.status_code == 404
    assert private.headers["content-type"] == "application/problem+json"
    assert private.json()["code"] == "logo_not_found"

    # Clearing the colours and the logo brings the plain page back.
    editor = await admin_ui.get("/admin/slots/slot-004")
    assert 'value="Wedding of A &amp; B"' in editor.text
    await admin_ui.post(
        "/admin/slots/slot-004/branding",
        data={"csrf": csrf_of(editor.text), "brand_title": "", "brand_accent": "#aa3355", "brand_logo": ""},
    )
    page = (await client.get(f"/r/{job.id}")).text
    assert "--accent: #1f6feb;" in page
    assert "/public/slots/logo/" not in page
    assert (await client.get(f"/public/slots/logo/{logo_id}")).status_code == 404


async def test_invalid_branding_is_a_422_and_changes_nothing(
    app: FastAPI, admin_ui: httpx.AsyncClient
) -> None:
    editor = await admin_ui.get("/admin/slots/slot-005")
    for data in (
        {"brand_title": "x" * 81},
        {"brand_colors": "on", "brand_accent": "red"},
        {"brand_logo": "no-such-template"},
    ):
        refused = await admin_ui.post(
            "/admin/slots/slot-005/branding", data={"csrf": csrf_of(editor.text), **data}
        )
        assert refused.status_code == 422
        assert "text/html" in refused.headers["content-type"]
    forged = await admin_ui.post(
        "/admin/slots/slot-005/branding", data={"csrf": "forged", "brand_title": "x"}
    )
    assert forged.status_code == 403
    async with app.state.sessionmaker() as session:
        assert await session.get(SlotBranding, "slot-005") is None


async def test_public_gallery_is_translated_and_shows_its_closing_time_for_the_viewer(
    app: FastAPI, client: httpx.AsyncClient, admin_ui: httpx.AsyncClient
) -> None:
    await add_job(
        app.state.sessionmaker,
        app.state.config.media_root,
        slot_id="slot-006",
        expires_at=utcnow() + timedelta(hours=1),
    )
    page = await admin_ui.get("/admin/slots/slot-006/gallery")
    opened = await admin_ui.post("/admin/slots/slot-006/gallery/open", data={"csrf": csrf_of(page.text)})
    match = re.search(r'id="public-link">http://booth\.test(/g/[A-Za-z0-9_-]+)<', opened.text)
    assert match is not None
    russian = await client.get(match.group(1), headers={"Accept-Language": "ru"})
    assert russian.status_code == 200
    assert "Открыто до" in russian.text
    assert re.search(r'<time datetime="[0-9T:.-]+Z" data-style="time">\d\d:\d\d UTC</time>', russian.text)
    assert "new Intl.DateTimeFormat(document.documentElement.lang" in russian.text
