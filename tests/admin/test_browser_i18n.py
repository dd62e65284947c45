"""Every guest and admin page in real headless Chromium, in Russian and in English, at 390 px and at desktop
width: the page is in the browser's language, nothing scrolls sideways, no console errors, times are in the
viewer's time zone, and a screenshot of each is kept (under $PHOTOCHANGER_SCREENSHOTS or the test's temp
dir, never in the checkout) for a person to look at."""

# Russian text is Cyrillic on purpose.
# ruff: noqa: RUF001

import os
import re
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, ViewportSize, async_playwright
from playwright.async_api import expect as pw_expect

from photochanger.config import AppConfig
from photochanger.core.db import create_engine, create_sessionmaker
from photochanger.core.time import utcnow
from tests.admin import test_browser as admin_browser
from tests.admin.test_browser import CHROMIUM_ARGS, OLD_INGEST_PASSWORD, Watch, booth_upload, login
from tests.support.jobs import add_job
from tests.support.server import ServerProcess
from tests.support.templates import frame_png

# The admin scenario's server (a real process on a free port, seeded accounts) and browser fixtures.
server = admin_browser.server
server_port = admin_browser.server_port
config_overrides = admin_browser.config_overrides
chromium = admin_browser.chromium

DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}
IPHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)
pytestmark = pytest.mark.slow

# The viewer's language, Accept-Language and time zone per run; texts checked on every page.
RUNS = {
    "ru": {
        "locale": "ru-RU",
        "timezone": "Asia/Yekaterinburg",
        "guest_h1": "Свадьба Анны и Бориса",
        "download": "Скачать",
        "gone": "Это фото больше недоступно",
        "unknown": "Мы не нашли это фото",
        "gallery_note": "Открыто до",
        "slots": "Слоты",
        "no_failures": "ошибок",
        "ios_hint": "На iPhone",
    },
    "en": {
        "locale": "en-US",
        "timezone": "America/New_York",
        "guest_h1": "Wedding of Anna and Boris",
        "download": "Download",
        "gone": "This photo is no longer available",
        "unknown": "We could not find this photo",
        "gallery_note": "Open until",
        "slots": "Slots",
        "no_failures": "failures",
        "ios_hint": "On iPhone",
    },
}
ADMIN_PAGES = (
    ("dashboard", "/admin"),
    ("media", "/admin/media"),
    ("slot-edit", "/admin/slots/slot-003"),
    ("slot-test", "/admin/slots/slot-003/test"),
    ("slot-gallery", "/admin/slots/slot-003/gallery"),
    ("settings", "/admin/settings"),
    ("stats", "/admin/stats"),
    ("users", "/admin/users"),
    ("account", "/admin/account"),
    ("audit", "/admin/audit"),
)


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    where = Path(os.environ.get("PHOTOCHANGER_SCREENSHOTS") or tmp_path / "screenshots")
    where.mkdir(parents=True, exist_ok=True)
    return where


async def settle(page: Page) -> None:
    """The page has loaded and every image it asked for has arrived (leaving earlier aborts them)."""
    await page.wait_for_load_state("load")
    await page.wait_for_function("() => [...document.images].every(img => img.complete)")


async def both_widths(
    page: Page, watch: Watch, shots: Path, name: str, *, allow: tuple[int, ...] = ()
) -> None:
    """Screenshots at desktop and phone width; on the phone nothing may scroll sideways, and no button or
    field may be squeezed narrower than its text."""
    await settle(page)
    for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        await page.set_viewport_size(viewport)
        overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} {label}: {overflow}px of horizontal overflow"
        squeezed = await page.evaluate(
            """() => [...document.querySelectorAll('button, a.button, .button, input:not([type=hidden]), select')]
                .filter(el => el.offsetParent !== null && el.scrollWidth > el.clientWidth + 1 && el.tagName !== 'INPUT')
                .map(el => el.outerHTML.slice(0, 80))"""
        )
        assert squeezed == [], f"{name} {label}: squeezed controls {squeezed}"
        await page.screenshot(path=shots / f"{name}-{label}.png", full_page=True)
    await page.set_viewport_size(DESKTOP)
    watch.check(name, allow=allow)


async def _expired_job(config: AppConfig) -> str:
    engine = create_engine(config.database_url)
    try:
        job = await add_job(
            create_sessionmaker(engine),
            config.media_root,
            slot_id="slot-003",
            expires_at=utcnow() - timedelta(minutes=1),
        )
    finally:
        await engine.dispose()
    return job.id


@pytest.mark.parametrize("lang", ["ru", "en"])
async def test_every_page_in_the_viewers_language_at_phone_and_desktop_width(
    lang: str,
    server: ServerProcess,
    chromium: str,
    config: AppConfig,
    shots: Path,
    tmp_path: Path,
) -> None:
    run = RUNS[lang]
    base = server.base_url
    done = booth_upload(server, "slot-003", OLD_INGEST_PASSWORD, 1)
    assert done.status_code == 200, done.text
    job_id = done.headers["x-job-id"]
    expired_id = await _expired_job(config)
    logo = tmp_path / "logo.png"
    logo.write_bytes(frame_png(240, 80, border=12))

    async with async_playwright() as playwright:
        browser: Browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(
                base_url=base,
                viewport=DESKTOP,
                locale=str(run["locale"]),
                timezone_id=str(run["timezone"]),
                extra_http_headers={"Accept-Language": f"{run['locale']},{lang};q=0.9"},
            )
            page = await context.new_page()
            page.on("dialog", lambda dialog: dialog.accept())
            watch = Watch(page)

            # --- the admin, every page -------------------------------------------------------------
            await page.goto("/admin/login")
            await pw_expect(page.locator("html")).to_have_attribute("lang", lang)
            await both_widths(page, watch, shots, f"{lang}-admin-login")
            await login(page, "ui-admin")
            await pw_expect(page.locator("h1")).to_have_text(str(run["slots"]))
            # Branding for the guest page: a logo from template media, colours, a title and a text.
            await page.goto("/admin/media")
            await page.fill("#media-upload input[name=name]", "Logo")
            await page.set_input_files("#media-upload input[type=file]", str(logo))
            await page.click("#media-upload button[type=submit]")
            await pw_expect(page.locator(".media-item img")).to_have_count(1)
            await settle(page)
            await page.goto("/admin/slots/slot-003")
            await page.fill("input[name=brand_title]", str(run["guest_h1"]))
            await page.fill(
                "textarea[name=brand_text]", "Спасибо, что пришли!" if lang == "ru" else "Thanks!"
            )
            await page.select_option("select[name=brand_logo]", label="Logo")
            await page.check("input[name=brand_colors]")
            await page.fill("input[name=brand_accent]", "#aa3355")
            await page.click("#branding button[type=submit]")
            await pw_expect(page.locator("input[name=brand_title]")).to_have_value(str(run["guest_h1"]))
            await settle(page)
            watch.check("branding saved")
            for name, path in ADMIN_PAGES:
                await page.goto(path)
                await pw_expect(page.locator("html")).to_have_attribute("lang", lang)
                await both_widths(page, watch, shots, f"{lang}-admin-{name}")
            await page.goto("/admin/slots/slot-999")
            await pw_expect(page.locator("[data-code=slot_not_found]")).to_be_visible()
            await both_widths(page, watch, shots, f"{lang}-admin-error", allow=(404,))
            # Live updates keep the plural right (Intl.PluralRules over the catalogue's forms): "0 ошибок".
            await page.goto("/admin")
            await pw_expect(page.locator("#live")).to_be_visible()
            failed = page.locator('article[data-slot="slot-001"] [data-outcome-label="failed"]')
            await pw_expect(failed).to_have_text(str(run["no_failures"]))
            await failed.evaluate("el => { el.textContent = '?'; }")
            assert booth_upload(server, "slot-001", OLD_INGEST_PASSWORD, 2).status_code == 200
            done_count = page.locator('article[data-slot="slot-001"] [data-outcome="done"]')
            await pw_expect(done_count).to_have_text("1", timeout=10_000)
            await pw_expect(failed).to_have_text(str(run["no_failures"]))
            # Times are the viewer's: the audit log shows no UTC stamp once the script has run.
            await page.goto("/admin/audit")
            first_time = page.locator("td time").first
            await pw_expect(first_time).not_to_contain_text("UTC")
            csrf = await page.evaluate("document.body.dataset.csrf")
            opened = await page.request.post("/admin/slots/slot-003/gallery/open", form={"csrf": csrf})
            link = re.search(r'id="public-link">[^<]*?(/g/[A-Za-z0-9_-]+)<', await opened.text())
            assert link is not None

            # --- guest pages -----------------------------------------------------------------------
            await page.goto(f"/r/{job_id}")
            await pw_expect(page.locator("html")).to_have_attribute("lang", lang)
            await pw_expect(page.locator("h1")).to_have_text(str(run["guest_h1"]))
            await pw_expect(page.locator("#download")).to_have_text(str(run["download"]))
            photo = page.locator("#photo")
            await page.wait_for_function("() => document.getElementById('photo').complete")
            assert "/view/" in await photo.evaluate("img => img.currentSrc")
            assert await photo.evaluate("img => img.naturalWidth") > 0
            await pw_expect(page.locator("main time")).not_to_contain_text("UTC")
            await pw_expect(page.locator("img.logo")).to_be_visible()
            await pw_expect(page.locator("#ios-hint")).to_be_hidden()  # not an iPhone
            await both_widths(page, watch, shots, f"{lang}-guest-result")
            # On a 390 px phone the 540 px variant is enough at 1x; the full result is one tap away.
            phone = await browser.new_context(
                base_url=base, viewport=PHONE, device_scale_factor=1, locale=str(run["locale"])
            )
            small = await phone.new_page()
            await small.goto(f"/r/{job_id}")
            await small.wait_for_function("() => document.getElementById('photo').complete")
            assert (await small.locator("#photo").evaluate("img => img.currentSrc")).endswith("/view/540")
            assert await small.locator("#full").get_attribute("href") == f"/public/results/{job_id}"
            await phone.close()

            # Share: headless Chromium on Linux has no Web Share API, so a recording stand-in plays the
            # browser's part (as on a phone, with file sharing); the page hands it the image file.
            sharing = await browser.new_context(
                base_url=base, viewport=PHONE, locale=str(run["locale"]), user_agent=IPHONE_UA
            )
            await sharing.add_init_script(
                """window.__shared = [];
                navigator.canShare = (data) => Boolean(data && data.files);
                navigator.share = async (data) => { window.__shared.push({
                    title: data.title, url: data.url || null,
                    files: (data.files || []).map(f => ({ name: f.name, type: f.type, size: f.size })) }); };"""
            )
            sharer = await sharing.new_page()
            await sharer.goto(f"/r/{job_id}")
            await pw_expect(sharer.locator("#share")).to_be_visible()
            await pw_expect(sharer.locator("#ios-hint")).to_contain_text(str(run["ios_hint"]))
            await sharer.click("#share")
            await sharer.wait_for_function("() => window.__shared.length === 1")
            shared = (await sharer.evaluate("window.__shared"))[0]
            assert shared["title"] == run["guest_h1"]
            assert [(f["name"], f["type"]) for f in shared["files"]] == [
                (f"photo-{job_id[:8]}.jpg", "image/jpeg")
            ]
            assert shared["files"][0]["size"] > 1000
            await sharing.close()

            await page.goto(f"/r/{expired_id}")
            await pw_expect(page.locator("h1")).to_have_text(str(run["gone"]))
            await both_widths(page, watch, shots, f"{lang}-guest-expired", allow=(410,))
            await page.goto(f"/r/{'f' * 32}")
            await pw_expect(page.locator("h1")).to_have_text(str(run["unknown"]))
            await both_widths(page, watch, shots, f"{lang}-guest-unknown", allow=(404,))

            await page.goto(link.group(1))
            await pw_expect(page.locator(".grid img")).to_have_count(1)
            note = page.locator("main p.note").first
            await pw_expect(note).to_contain_text(str(run["gallery_note"]))
            await pw_expect(note).not_to_contain_text("UTC")
            await pw_expect(page.locator("h1")).to_have_text(str(run["guest_h1"]))
            await both_widths(page, watch, shots, f"{lang}-guest-gallery")

            # The switch on a guest page offers the other language and keeps it.
            other = "en" if lang == "ru" else "ru"
            await page.goto(f"/r/{job_id}")
            await page.click(f"a[hreflang={other}]")
            await pw_expect(page.locator("html")).to_have_attribute("lang", other)
            await context.close()
        finally:
            await browser.close()
    async with httpx.AsyncClient(base_url=base) as http:
        assert (await http.get("/favicon.ico")).status_code == 200
