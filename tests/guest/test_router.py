"""Guest routes over HTTP: the page, its error pages, the preview and the QR codes."""

import io
import re
from datetime import timedelta
from pathlib import Path

import httpx
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.core.time import utcnow
from tests.support.jobs import add_job

CSP_NONCE = re.compile(r"script-src 'nonce-([A-Za-z0-9_-]+)'")


def _assert_locked_down_page(response: httpx.Response) -> str:
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-content-type-options"] == "nosniff"
    html = response.text
    # No external assets or trackers: every src/href is a local path.
    for ref in re.findall(r'(?:src|href)="([^"]*)"', html):
        assert ref.startswith("/"), ref
    assert "http://" not in html
    assert "https://" not in html
    nonce = CSP_NONCE.search(csp)
    assert nonce is not None
    return nonce.group(1)


async def test_page_shows_photo_download_and_expiry(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], media_root: Path
) -> None:
    expires = (utcnow() + timedelta(hours=72)).replace(microsecond=0)
    job = await add_job(sessionmaker, media_root, expires_at=expires)
    response = await client.get(f"/r/{job.id}")
    assert response.status_code == 200
    nonce = _assert_locked_down_page(response)
    html = response.text
    # A sharp ~1080 px image, a lighter variant for small screens, the full result one tap away.
    views = f"/public/results/{job.id}/view"
    assert f'src="{views}/1080" srcset="{views}/540 540w, {views}/1080 1080w"' in html
    assert f'<a href="/public/results/{job.id}" id="full"' in html
    assert f'href="/public/results/{job.id}" download="photo-{job.id[:8]}.jpg"' in html
    assert 'id="share" type="button" hidden' in html
    iso = expires.isoformat().replace("+00:00", "Z")
    assert f'<time datetime="{iso}" data-style="datetime">' in html
    assert '<link rel="icon" href="/favicon.svg"' in html
    # Inline code runs only with this response's nonce; a second response gets another one.
    assert html.count(f'nonce="{nonce}"') == 3
    again = await client.get(f"/r/{job.id}")
    assert _assert_locked_down_page(again) != nonce


async def test_page_after_expiry_is_a_friendly_410(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], media_root: Path
) -> None:
    job = await add_job(sessionmaker, media_root, expires_at=utcnow() - timedelta(seconds=1))
    response = await client.get(f"/r/{job.id}")
    assert response.status_code == 410
    _assert_locked_down_page(response)
    assert "no longer available" in response.text
    assert "/public/results/" not in response.text


async def test_page_for_unknown_or_malformed_ids_is_404_html(client: httpx.AsyncClient) -> None:
    for job_id in ["f" * 32, "x", "%3Cscript%3E"]:
        response = await client.get(f"/r/{job_id}")
        assert response.status_code == 404
        _assert_locked_down_page(response)
        assert "could not find this photo" in response.text
        assert "<script>" not in response.text


async def test_preview_has_long_cache_headers_then_410_and_404(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], media_root: Path
) -> None:
    live = await add_job(sessionmaker, media_root, expires_at=utcnow() + timedelta(days=3))
    expired = await add_job(sessionmaker, media_root, expires_at=utcnow() - timedelta(minutes=1))

    response = await client.get(f"/public/results/{live.id}/preview")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    cache = response.headers["cache-control"]
    assert cache.startswith("private, max-age=")
    max_age = int(cache.split("max-age=")[1].split(",")[0])
    assert 3 * 86400 - 60 <= max_age <= 3 * 86400
    with Image.open(io.BytesIO(response.content)) as img:
        assert max(img.size) == 320

    gone = await client.get(f"/public/results/{expired.id}/preview")
    assert gone.status_code == 410
    assert gone.headers["content-type"] == "application/problem+json"
    assert gone.json()["code"] == "result_expired"

    unknown = await client.get(f"/public/results/{'e' * 32}/preview")
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "result_not_found"


async def test_qr_codes_are_served_as_svg_and_png(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], media_root: Path
) -> None:
    job = await add_job(sessionmaker, media_root, expires_at=utcnow() + timedelta(hours=1))
    svg = await client.get(f"/public/results/{job.id}/qr.svg")
    assert svg.status_code == 200
    assert svg.headers["content-type"] == "image/svg+xml"
    assert f"http://booth.test/r/{job.id}".encode() in svg.content
    # The QR code encodes the guest's private link: no shared cache may keep it (issue 15, item 12).
    assert svg.headers["cache-control"].startswith("private, max-age=")
    png = await client.get(f"/public/results/{job.id}/qr.png")
    assert png.status_code == 200
    assert png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG")
    assert png.headers["cache-control"].startswith("private, max-age=")

    expired = await add_job(sessionmaker, media_root, expires_at=utcnow() - timedelta(seconds=5))
    assert (await client.get(f"/public/results/{expired.id}/qr.svg")).status_code == 410
    assert (await client.get(f"/public/results/{'0' * 32}/qr.png")).status_code == 404
