"""The operator flows of issue 20 in real headless Chromium, in English and in Russian: the setup checklist
ticking itself, a trial run of unsaved settings, the unconfigured-slot badge, a failure listed with its
reason, a booth appearing, the generated ingest password shown once, and post/redirect/get after a failed
post followed by the language switch."""

import re
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Dialog, async_playwright
from playwright.async_api import expect as pw_expect

from tests.admin import test_browser as browser_suite
from tests.admin.test_browser import (
    CHROMIUM_ARGS,
    DESKTOP,
    OLD_INGEST_PASSWORD,
    PHONE,
    SCREENSHOTS,
    Watch,
    login,
    snap,
)
from tests.ingest.conftest import booth_fields
from tests.support import images
from tests.support.server import ServerProcess
from tests.support.templates import frame_png

pytestmark = pytest.mark.slow
# The real server, its seeded accounts and Chromium, as the end-to-end suite sets them up.
server_port = browser_suite.server_port
config_overrides = browser_suite.config_overrides
server = browser_suite.server
chromium = browser_suite.chromium
FRAME_SIZE = (300, 200)
PHONE_HEADER_MAX_PX = 130

TEXT = {
    "en": {
        "locale": "en-US",
        "unconfigured": "not configured: booths will get errors",
        "provider_error": "The provider failed.",
        "wrong_password": "Wrong ingest password.",
        "saved": "Saved.",
        "not_saved": "Not saved yet",
        "mismatch": "The two passwords differ.",
        "other": "ru",
        "settings_other": "Настройки",
    },
    "ru": {
        "locale": "ru-RU",
        "unconfigured": "не настроен: стойки получат ошибки",
        "provider_error": "Ошибка провайдера.",
        "wrong_password": "Неверный пароль стойки.",
        "saved": "Сохранено.",
        "not_saved": "Пока не сохранено",
        "mismatch": "Пароли не совпадают.",
        "other": "en",
        "settings_other": "Settings",
    },
}


def _upload(server: ServerProcess, slot_id: str, password: str, shot: int, name: str) -> httpx.Response:
    fields = booth_fields(password, id=f"OP-{shot:05d}", hash=f"{shot:040x}", name=name, user_id="events")
    return httpx.post(
        f"{server.base_url}/api/ingest/{slot_id}",
        data=fields,
        files={"fileToUpload": (f"IMG_{shot}.JPG", images.jpeg(640, 480), "image/jpeg")},
        timeout=60,
    )


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_operator_flows_in_chromium(
    server: ServerProcess, chromium: str, tmp_path: Path, lang: str
) -> None:
    text = TEXT[lang]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    base = server.base_url
    frame_file = tmp_path / "gold-frame.png"
    frame_file.write_bytes(frame_png(*FRAME_SIZE, border=24))
    photo_file = tmp_path / "guest.jpg"
    photo_file.write_bytes(images.jpeg(800, 600, color=(60, 140, 220)))
    booth = f"BOOTH-{lang.upper()}"

    async with async_playwright() as playwright:
        browser: Browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(base_url=base, viewport=DESKTOP, locale=text["locale"])
            await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
            page = await context.new_page()
            dialogs: list[str] = []

            async def on_dialog(dialog: Dialog) -> None:
                dialogs.append(dialog.type)
                await dialog.accept()

            page.on("dialog", on_dialog)
            watch = Watch(page)
            await page.goto("/admin/login")
            await pw_expect(page.locator("html")).to_have_attribute("lang", lang)
            await login(page, "ui-admin")
            await pw_expect(page).to_have_url(f"{base}/admin")

            # --- the checklist ticks itself: a booth shot arrives while the dashboard is open ----------
            steps = page.locator("#setup li")
            await pw_expect(steps).to_have_count(4)
            for step in ("template", "slot", "booth", "shot"):
                await pw_expect(page.locator(f'#setup [data-step="{step}"]')).to_have_attribute(
                    "data-done", "no"
                )
            await snap(page, watch, f"op-{lang}-01-checklist")
            assert _upload(server, "slot-001", OLD_INGEST_PASSWORD, 1, booth).status_code == 200
            await pw_expect(page.locator('#setup [data-step="shot"]')).to_have_attribute(
                "data-done", "yes", timeout=10_000
            )
            await pw_expect(page.locator('#setup [data-step="booth"]')).to_have_attribute("data-done", "yes")
            await pw_expect(page.locator('#setup [data-step="template"]')).to_have_attribute(
                "data-done", "no"
            )
            await page.click('#setup [data-step="template"] a')
            await page.fill("#media-upload input[name=name]", "Gold frame")
            await page.set_input_files("#media-upload input[type=file]", str(frame_file))
            await page.click("#media-upload button[type=submit]")
            await pw_expect(page.locator(".media-item img")).to_have_count(1)
            await page.goto("/admin")
            await pw_expect(page.locator('#setup [data-step="template"]')).to_have_attribute(
                "data-done", "yes"
            )
            watch.check("checklist")

            # --- slot editor: a trial run of unsaved settings, then save ------------------------------
            await page.goto("/admin/slots/slot-003")
            await page.select_option("select[name=provider]", "local")
            await page.select_option("select[name=operation]", "frame")
            await pw_expect(page).to_have_url(re.compile(r"operation=frame"))
            await page.fill("input[name=display_name]", "Wedding frame")
            await page.click(".media-choice:has-text('Gold frame')")
            await page.set_input_files("#trial input[type=file]", str(photo_file))
            await page.click("#trial-run")
            outcome = page.locator("#trial-outcome")
            await pw_expect(outcome).to_have_attribute("data-ok", "true")
            await pw_expect(page.locator("#trial-time")).to_contain_text(text["not_saved"])
            await page.wait_for_load_state("load")
            after = await page.locator("#trial-after").evaluate(
                "img => [img.naturalWidth, img.naturalHeight]"
            )
            assert tuple(after) == FRAME_SIZE
            assert await page.locator("#trial-before").evaluate("img => img.naturalWidth") == 640
            await pw_expect(page.locator("input[name=display_name]")).to_have_value("Wedding frame")
            await snap(page, watch, f"op-{lang}-02-trial")
            await page.click("#slot-form button.primary")
            await pw_expect(page.locator(".banner.ok")).to_have_text(text["saved"])
            await pw_expect(page.locator("input[name=display_name]")).to_have_value("Wedding frame")
            await page.goto("/admin")
            await pw_expect(page.locator("#setup")).to_have_count(0)
            watch.check("trial and save")

            # --- an unconfigured provider: warning on save, badge on the tile -------------------------
            await page.goto("/admin/slots/slot-002")
            await page.fill("input[name=display_name]", "Gold booth")
            await page.select_option("select[name=provider]", "gemini")
            await pw_expect(page).to_have_url(re.compile(r"provider=gemini"))
            await pw_expect(page.locator("#unconfigured-warning")).to_be_visible()
            # The switch kept the typed name, and asked nothing (the edits travelled with it).
            await pw_expect(page.locator("input[name=display_name]")).to_have_value("Gold booth")
            assert "beforeunload" not in dialogs
            await page.fill("textarea[name='param.prompt']", "Make it gold")
            await page.click("#slot-form button.primary")
            await pw_expect(page.locator(".banner.ok")).to_have_text(text["saved"])
            await pw_expect(page.locator("#unconfigured-warning")).to_be_visible()
            # Leaving with unsaved edits asks first.
            await page.fill("input[name=display_name]", "Not kept")
            await page.click('nav.nav a[href="/admin"]')
            await pw_expect(page).to_have_url(f"{base}/admin")
            assert dialogs.count("beforeunload") == 1
            badge = page.locator('article[data-slot="slot-002"] [data-role="unconfigured"]')
            await pw_expect(badge).to_have_text(text["unconfigured"])
            await pw_expect(
                page.locator('article[data-slot="slot-001"] [data-role="unconfigured"]')
            ).to_have_count(0)
            await snap(page, watch, f"op-{lang}-03-dashboard-badge")

            # --- failures listed with their reason; refusals counted live on the tile -----------------
            assert _upload(server, "slot-002", OLD_INGEST_PASSWORD, 2, booth).status_code == 502
            await pw_expect(
                page.locator('article[data-slot="slot-002"] [data-outcome="refused"]')
            ).to_have_text("1", timeout=10_000)
            assert _upload(server, "slot-002", "not-the-password", 3, booth).status_code == 401
            await page.click('article[data-slot="slot-002"] a[href$="/problems"]')
            rows = page.locator("#problems tbody tr")
            await pw_expect(rows).to_have_count(2)
            await pw_expect(rows.nth(0)).to_contain_text(text["wrong_password"])
            await pw_expect(rows.nth(1)).to_contain_text(text["provider_error"])
            await pw_expect(rows.nth(1).locator("[data-role=message]")).to_contain_text("not configured")
            await pw_expect(rows.nth(1)).to_contain_text(f"{booth} / events")
            await snap(page, watch, f"op-{lang}-04-problems")

            # --- the booth appears on the Booths page ---------------------------------------------------
            await page.click('nav.nav a[href="/admin/booths"]')
            row = page.locator(f'#booths tr[data-booth="{booth}"]')
            await pw_expect(row).to_have_count(1)
            await pw_expect(row.locator("[data-role=version]")).to_have_text("3.30.2")
            await pw_expect(row.locator("[data-role=wrong-passwords]")).to_have_text("1")
            await pw_expect(row.locator("[data-role=shots]")).to_have_text("1")
            await snap(page, watch, f"op-{lang}-05-booths")
            # On a phone the header (brand, one scrollable row of links, tools) stays compact.
            await page.set_viewport_size(PHONE)
            header = await page.evaluate(
                "document.querySelector('header.top').getBoundingClientRect().height"
            )
            await page.set_viewport_size(DESKTOP)
            assert header <= PHONE_HEADER_MAX_PX, f"the header takes {header} px of a 844 px phone screen"
            # The skip link is the first thing the keyboard reaches, and it lands on the content.
            await page.keyboard.press("Tab")
            await pw_expect(page.locator("a.skip")).to_be_focused()

            # --- post/redirect/get: a failed post, then the language switch -----------------------------
            await page.goto("/admin/settings")
            await page.fill("input[name=new_password]", "first-password-1")
            await page.fill("input[name=repeat_password]", "other-password-2")
            await page.check("#ingest-password form[action$='ingest-password'] input[name=confirm]")
            await page.click("#ingest-password form[action$='ingest-password'] button[type=submit]")
            await pw_expect(page.locator("#ingest-password .banner.error")).to_have_text(text["mismatch"])
            watch.check("failed post", allow=(422,))
            await page.click(f"a[hreflang={text['other']}]")
            await pw_expect(page).to_have_url(f"{base}/admin/settings")
            await pw_expect(page.locator("html")).to_have_attribute("lang", text["other"])
            await pw_expect(page.locator("h1")).to_have_text(text["settings_other"])
            await page.click(f"a[hreflang={lang}]")
            await pw_expect(page.locator("html")).to_have_attribute("lang", lang)
            watch.check("language switch after a failed post")

            # --- the generated ingest password: shown once, copied, accepted by booths ------------------
            await page.check("#ingest-generate input[name=confirm]")
            await page.click("#ingest-generate button[type=submit]")
            generated = page.locator("#generated-password")
            await pw_expect(generated).to_be_visible()
            password = await generated.input_value()
            assert re.fullmatch(r"[A-Za-z0-9_-]{24}", password)
            await page.click("#ingest-generated button[data-copy]")
            assert await page.evaluate("navigator.clipboard.readText()") == password
            await snap(page, watch, f"op-{lang}-06-generated")
            assert _upload(server, "slot-001", password, 4, booth).status_code == 200
            assert _upload(server, "slot-001", OLD_INGEST_PASSWORD, 5, booth).status_code == 401
            await page.goto("/admin/settings")
            await pw_expect(page.locator("#generated-password")).to_have_count(0)
            assert password not in await page.content()
            watch.check("generated password")
            await context.close()
        finally:
            await browser.close()
