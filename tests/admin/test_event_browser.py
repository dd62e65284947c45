"""Events in real headless Chromium against the real server: create an event and assign slots, booth shots,
the branded guest page on a phone, the public gallery opened and closed, the ZIP export, and
`photochanger cleanup --now` past the TTL (guest links 410, the event keeps its copies) and past the
event's retention (the copies go)."""

import io
import re
import subprocess
import sys
import zipfile
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, async_playwright
from playwright.async_api import expect as pw_expect
from sqlalchemy import update

from photochanger.config import AppConfig
from photochanger.core.db import create_engine, create_sessionmaker
from photochanger.core.time import utcnow
from photochanger.models import Job
from tests.admin.test_browser import (
    CHROMIUM_ARGS,
    DESKTOP,
    OLD_INGEST_PASSWORD,
    PHONE,
    SCREENSHOTS,
    Watch,
    _seed,
    booth_upload,
    login,
    snap,
)
from tests.support.ci import require_tool
from tests.support.server import ServerProcess, config_env, free_port, running_server

pytestmark = pytest.mark.slow
PRIMARY = "#103050"


@pytest.fixture
def server_port() -> int:
    return free_port()


@pytest.fixture
def config_overrides(server_port: int) -> dict[str, Any]:
    return {"public_base_url": f"http://127.0.0.1:{server_port}", "log_format": "json"}


@pytest.fixture
async def server(config: AppConfig, server_port: int, tmp_path: Path) -> AsyncIterator[ServerProcess]:
    await _seed(config)
    with running_server(config_env(config), tmp_path / "server.log", port=server_port) as process:
        yield process


def cleanup(config: AppConfig, now: datetime) -> str:
    """`photochanger cleanup --now …` as the systemd timer runs it."""
    done = subprocess.run(
        [sys.executable, "-m", "photochanger", "cleanup", "--now", now.isoformat()],
        env=config_env(config),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


async def ttl_passes(config: AppConfig, job_ids: list[str]) -> datetime:
    """Let the guest links' TTL run out: move the jobs' expiry into the past, as the hours would."""
    expired = utcnow() - timedelta(minutes=1)
    engine = create_engine(config.database_url)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            await session.execute(update(Job).where(Job.id.in_(job_ids)).values(result_expires_at=expired))
    finally:
        await engine.dispose()
    return expired


def files_of(root: Path, job_ids: list[str]) -> list[Path]:
    return [
        p
        for tree in ("results", "previews", "originals")
        for p in root.glob(f"{tree}/*/*")
        if p.stem in job_ids
    ]


async def test_an_event_from_creation_to_retention_in_chromium(
    server: ServerProcess, config: AppConfig, tmp_path: Path
) -> None:
    chromium = require_tool("chromium", "the events UI is tested in a real browser")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    base = server.base_url
    async with async_playwright() as playwright:
        browser: Browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(
                base_url=base, viewport=DESKTOP, locale="en-US", accept_downloads=True
            )
            await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
            page = await context.new_page()
            page.on("dialog", lambda dialog: dialog.accept())
            watch = Watch(page)
            await page.goto("/admin/login")
            await login(page, "ui-admin")
            await pw_expect(page).to_have_url(f"{base}/admin")

            # --- create the event and assign two slots -------------------------------------------------
            await page.click("nav.nav >> text=Events")
            form = page.locator("#event-create")
            await form.locator("input[name=name]").fill("Anna & Ben")
            await form.locator("input[name=retention_days]").fill("7")
            await form.locator('.slot-pick[data-slot="slot-001"] input[name=slots]').check()
            await form.locator('.slot-pick[data-slot="slot-001"] input[name=keep_originals]').check()
            await form.locator('.slot-pick[data-slot="slot-002"] input[name=slots]').check()
            await form.locator("input[name=title]").fill("Anna & Ben, 12.12")
            await form.locator("input[name=primary_color]").fill(PRIMARY)
            await form.locator("textarea[name=text]").fill("Thank you for coming!")
            await snap(page, watch, "e01-events-new")
            await form.locator("button[type=submit]").click()
            await pw_expect(page).to_have_url(re.compile(r"/admin/booth-events/[0-9a-f]{32}$"))
            event_id = page.url.rsplit("/", 1)[1]
            await pw_expect(page.locator("#event-status")).to_have_text("open")
            await snap(page, watch, "e02-event")

            # --- booth shots -----------------------------------------------------------------------
            shots = [
                booth_upload(server, slot, OLD_INGEST_PASSWORD, n)
                for n, slot in enumerate(("slot-001", "slot-002", "slot-001"))
            ]
            assert all(s.status_code == 200 for s in shots), [s.text for s in shots]
            job_ids = [s.headers["x-job-id"] for s in shots]
            outside = booth_upload(server, "slot-003", OLD_INGEST_PASSWORD, 9)
            await page.reload()
            await pw_expect(page.locator("#event-gallery figure.tile")).to_have_count(3)

            # --- the branded guest page on a phone, shared ------------------------------------------
            guest = await context.new_page()
            guest_watch = Watch(guest)
            await guest.set_viewport_size(PHONE)
            await guest.goto(f"/r/{job_ids[0]}")
            await pw_expect(guest.locator("#event-title")).to_have_text("Anna & Ben, 12.12")
            await pw_expect(guest.locator("#event-text")).to_have_text("Thank you for coming!")
            background = await guest.locator("#event-brand").evaluate(
                "e => getComputedStyle(e).backgroundColor"
            )
            assert background == "rgb(16, 48, 80)"
            await guest.wait_for_function("() => document.querySelector('img.photo').naturalWidth > 0")
            await guest.locator("#share").click()
            await guest.wait_for_function("() => navigator.clipboard.readText().then(t => t.includes('/r/'))")
            await guest.screenshot(path=SCREENSHOTS / "e03-guest-branded-phone.png", full_page=True)
            assert await guest.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
            guest_watch.check("guest page", allow=(404,))

            # --- the public gallery: off by default, opened, then closed -----------------------------
            await pw_expect(page.locator("#gallery-state")).to_have_count(0)
            await page.click("#event-gallery-open button")
            link = page.locator("#gallery-link")
            await pw_expect(link).to_have_text(re.compile(rf"^{re.escape(base)}/e/[A-Za-z0-9_-]+$"))
            gallery_url = await link.inner_text()
            await page.wait_for_function("() => document.querySelector('img.qr').naturalWidth > 0")
            await snap(page, watch, "e04-event-gallery-open")
            await guest.goto(gallery_url)
            await pw_expect(guest.locator("#event-photos img")).to_have_count(3)
            await guest.wait_for_function(
                "() => [...document.querySelectorAll('#event-photos img')].every(i => i.naturalWidth)"
            )
            await guest.screenshot(path=SCREENSHOTS / "e05-public-gallery-phone.png", full_page=True)
            assert await guest.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
            guest_watch.check("public gallery", allow=(404,))
            await page.click("#event-gallery-close button")
            await pw_expect(page.locator("#gallery-state")).to_have_count(0)
            closed = await guest.goto(gallery_url)
            assert closed is not None
            assert closed.status == 404

            # --- the ZIP, with originals ---------------------------------------------------------------
            async with page.expect_download() as info:
                await page.click("#export-zip-originals")
            download = await info.value
            saved = tmp_path / "event.zip"
            await download.save_as(saved)
            with zipfile.ZipFile(io.BytesIO(saved.read_bytes())) as archive:
                names = archive.namelist()
            assert len([n for n in names if not n.startswith("originals/")]) == 3
            assert len([n for n in names if n.startswith("originals/slot-001/")]) == 2

            # --- cleanup past the TTL: guest links 410, the event keeps its copies --------------------
            kept = files_of(config.media_root, job_ids)
            assert len(kept) == 3 * 2 + 2
            await ttl_passes(config, [*job_ids, outside.headers["x-job-id"]])
            report = cleanup(config, utcnow())
            assert "marked cleaned: 1" in report, report
            gone = await guest.goto(f"/r/{job_ids[0]}")
            assert gone is not None
            assert gone.status == 410
            await guest.screenshot(path=SCREENSHOTS / "e06-guest-gone-phone.png", full_page=True)
            async with httpx.AsyncClient(base_url=base) as http:
                assert (await http.get(f"/public/results/{job_ids[1]}")).status_code == 410
            assert all(p.is_file() for p in kept)
            await page.reload()
            await pw_expect(page.locator("#event-gallery figure.tile")).to_have_count(3)
            await pw_expect(
                page.locator("#event-gallery .badge", has_text="guest link expired")
            ).to_have_count(3)
            await pw_expect(page.locator('#engagement-totals [data-metric="shares"]')).to_have_text("1")
            await snap(page, watch, "e07-event-after-ttl")

            # --- cleanup past the event's retention: the copies go ----------------------------------
            event = await (await page.request.get(f"/api/events/{event_id}")).json()
            retain_until = datetime.fromisoformat(event["retain_until"])
            report = cleanup(config, retain_until + timedelta(minutes=1))
            assert "marked cleaned: 3" in report, report
            assert not any(p.exists() for p in kept)
            await page.reload()
            await pw_expect(page.locator("#event-gallery figure.tile")).to_have_count(0)
            guest_watch.check("after cleanup", allow=(404, 410))
            watch.check("event page")
            await context.close()
        finally:
            await browser.close()
